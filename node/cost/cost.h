/*
 * cost: the cost guard on the control-plane loop (docs/cost.md).
 *  - Once a second it folds this process's egress counters (read through
 *    the daemon's callback: node/cost may not reach the serving threads)
 *    into totals and hands them to the cluster, which reports them to
 *    the leader every 10 s.
 *  - The leader commits each member's monthly ledger entry (raft/fsm.h
 *    struct fsm_ledger) at most every `ledger-interval`.
 *  - The egress governor (every member, every 10 s): its provider's
 *    governor key on and an allowance, it paces the public replies so
 *    that its share lasts the month (governor.h).
 *  - Alerts (the leader): when the month's used ratio (costview.h)
 *    crosses 50, 80 or 100 %, a warning line, the crossing recorded in
 *    the replicated state (so the audit trail has it and a new leader
 *    does not repeat it), then the alert hook with the event as JSON on
 *    stdin, once per crossing.
 *  - `ntpctl cost status` (answered by the leader, or by a member from its
 *    own view when no leader answers): the committed ledger plus what
 *    members reported since, projected and priced (costview.h).
 */
#ifndef NTPMC_COST_H
#define NTPMC_COST_H

#include <limits.h>
#include <uv.h>

#include "node/cost/egress.h"

/* `alert-hook PATH [timeout SECONDS]` (docs/cost.md); zero: none. */
struct cost_conf {
	char alert_hook[PATH_MAX];      /* "" none */
	unsigned alert_timeout_ms;      /* 0: CHILD_TIMEOUT_MS */
	/* test-only `test-egress-limit B/S`: a fixed governor rate for the
	 * serving threads of a standalone node (benchmarks); 0 none */
	uint64_t test_limit;
};

struct cluster;
struct ctl;
struct cost;

/* What node/cost needs of the serving threads and the other counters,
 * wired by the daemon (node/cost may not reach them). */
struct cost_hooks {
	/* This process's egress so far (monotonic per source). */
	void (*read)(void *arg, struct egress_counts *out);
	/* The governor's rate for public replies, B/s; 0: no limit. */
	void (*set_limit)(void *arg, uint64_t bytes_per_s);
	/* Public requests the governor dropped so far. */
	uint64_t (*governor_drops)(void *arg);
	void *arg;
};

/* cl may be NULL (standalone: counts, no ledger, no governor). conf and
 * hooks must outlive c. NULL on ENOMEM. */
struct cost *cost_start(uv_loop_t *loop, struct cluster *cl,
			const struct cost_conf *conf,
			const struct cost_hooks *hooks);
/* Registers `cost status` (a member of a cluster only); 0 or -1. */
int cost_register(struct cost *c, struct ctl *ctl);
/* The month's used ratio as this member last computed it (every 10 s):
 * 0 when not known yet (no budget, no allowance, not a member). */
int cost_used_ratio(const struct cost *c, double *ratio);
/* This member's governor: "off", "on", "limiting", and its rate (B/s,
 * 0 none). */
const char *cost_governor(const struct cost *c, uint64_t *rate);
/* Bytes the members of provider sent this month (UTC, by the served
 * time) as the replicated ledger holds them: what leader placement
 * (node/cluster/cplace.h) charges against the provider's allowance. 0
 * outside a cluster or before the first entry. */
uint64_t cost_provider_used(const struct cost *c, const char *provider);
/* Stops the timer; c is freed once the loop has closed it. */
void cost_stop(struct cost *c);

#endif
