/*
 * cpol: the leader's role policy, a pure function so that
 * every case is unit-tested without a cluster.
 *
 * A joiner enters as spare; the leader makes a reachable spare a standby
 * (it starts receiving the log), asks raft to catch it up (RAFT_CATCH_UP),
 * and promotes it to voter once raft_catch_up() says FINISHED, until the
 * voter count reaches the target: min(members, 3), or 5 once 5 or more
 * members are caught up. An even count is allowed only while growing (the
 * next promotion is on its way); when shrinking, the leader demotes a voter
 * to restore the target and with it an odd count. Raft changes one
 * configuration entry at a time, so cpol returns one action at a time and
 * the caller asks again once the previous change is committed.
 *
 * A drained member (ntpctl node drain) is never promoted; when it still
 * votes or stands by, the policy first lets a replacement come up (if one
 * is on its way), then moves leadership away when the drained member is
 * the leader (CPOL_TRANSFER, to the successor) and demotes it to spare
 * (never below a reachable majority of the voters that remain). A member
 * the rotation parked (node/rotation: stopping or stopped on purpose) is
 * treated the same way, through its own flag: the operator's drain and
 * the rotation never undo each other.
 *
 * A leader that the cross-check (node/crosscheck) found a suspect hands
 * leadership to a reachable voter whose own verdict is ok, before
 * anything else: the leader stamps commands with its clock.
 *
 * Every change that adds or removes a voter waits until a majority of the
 * voters before it and a majority of those after it are reachable and not
 * lagging: a single-server change is safe when the old and the new
 * majorities overlap (Ongaro's thesis, 4.1), and it commits promptly only
 * when both can answer.
 */
#ifndef NTPMC_CPOL_H
#define NTPMC_CPOL_H

#include <stddef.h>
#include <stdint.h>

enum cpol_role { CPOL_STANDBY, CPOL_VOTER, CPOL_SPARE }; /* = RAFT_* codes */

enum cpol_catch_up { CPOL_CU_NONE, CPOL_CU_RUNNING, CPOL_CU_ABORTED,
		     CPOL_CU_FINISHED };             /* = RAFT_CATCH_UP_* */

struct cpol_member {
	uint64_t id;
	int role;          /* enum cpol_role */
	int reachable;     /* heard from within the election timeout */
	int catch_up;      /* enum cpol_catch_up, leader's view */
	int drained;       /* ntpctl node drain: never promoted */
	int parked;        /* the rotation's: never promoted either */
	uint64_t match;    /* leader's match index: who is most up to date */
	int lagging;       /* the log is well behind the leader's */
	int suspect;       /* the cross-check says this member is a suspect */
	int check_ok;      /* its own cross-check verdict is ok */
};

enum cpol_kind { CPOL_NONE, CPOL_CATCH_UP, CPOL_SET_ROLE, CPOL_TRANSFER };

struct cpol_action {
	enum cpol_kind kind;
	uint64_t id;
	int role;          /* CPOL_SET_ROLE: the new role */
};

/* Why a drain is refused (cpol_drain_check). */
enum cpol_drain { CPOL_DRAIN_OK, CPOL_DRAIN_LAST_VOTER, CPOL_DRAIN_QUORUM };

/* The voter count the policy aims at for this membership. */
int cpol_target_voters(const struct cpol_member *m, size_t n);

/* The next step for leader `self`; kind CPOL_NONE when nothing is to do. */
struct cpol_action cpol_next(const struct cpol_member *m, size_t n,
			     uint64_t self);

/* The voter to hand leadership to: reachable, not drained or parked, not
 * self, the highest match index (then the lowest id); NULL when there is
 * none. */
const struct cpol_member *cpol_successor(const struct cpol_member *m,
					 size_t n, uint64_t self);

/* A suspect leader's successor: as cpol_successor, among the voters
 * whose verdict is ok; NULL when there is none. */
const struct cpol_member *cpol_check_successor(const struct cpol_member *m,
					       size_t n, uint64_t self);

/* Whether draining member id leaves voters with a reachable majority
 * (a reachable member that is neither drained nor voting counts as the
 * replacement the policy would promote). */
enum cpol_drain cpol_drain_check(const struct cpol_member *m, size_t n,
				 uint64_t id);

#endif
