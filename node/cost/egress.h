/*
 * egress: what this member sends, by class, at the IP layer (IP header +
 * UDP/TCP header + payload; WireGuard's outer packet for overlay traffic;
 * node/base/wirelen.h), the unit providers bill. The classes:
 *   ntp         public NTP replies (KoD included) from the serving threads
 *   crosscheck  cross-check requests to members and replies to theirs
 *   cluster     the member transport: raft, status, joins (an estimate:
 *               one IP + TCP header per full-size segment per write)
 *   other       requests to upstream NTP servers
 *
 * The subsystems keep their own monotonic counters (the serving threads'
 * with relaxed atomics, never a lock); the daemon reads them into a
 * struct egress_counts, and an egress_meter folds those readings into
 * totals that survive a source starting over (a reopened transport).
 */
#ifndef NTPMC_COST_EGRESS_H
#define NTPMC_COST_EGRESS_H

#include <stdint.h>

enum egress_class {
	EGRESS_NTP,
	EGRESS_CROSSCHECK,
	EGRESS_CLUSTER,
	EGRESS_OTHER,
	EGRESS_NCLASS
};

struct egress_counts {
	uint64_t bytes[EGRESS_NCLASS];
};

/* "ntp", "crosscheck", "cluster", "other"; "?" out of range. */
const char *egress_class_name(int c);
/* Sum over the classes. */
uint64_t egress_sum(const struct egress_counts *c);

/* Totals from successive readings of counters that only grow, except
 * when a source starts over: a class whose reading went down counts its
 * new reading as the increase. Zero it to start. */
struct egress_meter {
	int have;
	struct egress_counts last;      /* the previous reading */
	struct egress_counts total;
};

/* Folds a reading in; returns the increase by class in *delta (may be
 * NULL). */
void egress_meter_fold(struct egress_meter *m, const struct egress_counts *raw,
		       struct egress_counts *delta);

#endif
