/*
 * cpace: how slow the leader may send its heartbeat, a pure function so
 * that every case is unit-tested without a cluster.
 *
 * The heartbeat the keys ask for (the target) is safe only once the voters
 * wait long enough before standing: a follower whose election timeout
 * runs out between two heartbeats starts an election. So a leader slows
 * its heartbeat only as far as the election timeouts its voters reported
 * allow (at most half of each, the rule `config set` enforces between the
 * two keys), and speeds it up at once. Going to wan, every voter
 * lengthens its election timeout and says so (its status carries the
 * timeout in force) before the leader slows down; going to lan, the
 * leader's heartbeat speeds up first, since it applies the change before
 * any follower can learn that it is committed.
 *
 * A reachable voter that has not reported yet holds the heartbeat where
 * it is. An unreachable voter is skipped, provided a majority of the
 * voters (the leader included) reported: raft's pre-vote and its rule
 * that a voter with a live leader refuses votes (libraft
 * recv_request_vote.c, thesis 4.2.3) keep such a voter from deposing the
 * leader when it comes back with a short timeout; it follows the next
 * heartbeat, applies the change and reports.
 */
#ifndef NTPMC_CPACE_H
#define NTPMC_CPACE_H

#include <stddef.h>

struct cpace_voter {
	int reachable;            /* heard from lately */
	unsigned election_ms;     /* its election timeout in force; 0 unknown */
};

/*
 * The heartbeat (ms) the leader may use now: target (what the keys say)
 * where every voter allows it, else less, never more than in_force where
 * a reachable voter is unknown. v[] are the voters other than the leader,
 * n of them.
 */
unsigned cpace_heartbeat(unsigned target, unsigned in_force,
			 const struct cpace_voter *v, size_t n);

#endif
