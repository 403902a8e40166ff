/*
 * cplace: which member should lead, by egress, a pure function so that
 * every case is unit-tested without a cluster.
 *
 * The leader sends about twice what a follower sends (docs/cost.md), and
 * what costs money on the fleet's VMs is bytes out, so the leader belongs
 * on a member the rotation keeps on and, among those, on the one with the
 * most egress allowance to spare this month (its provider's allowance
 * shared by that provider's members the plan runs, less what they used).
 * It moves there only when the difference matters: the best member has
 * more than twice the leader's spare and at least CPLACE_MIN_GAIN more.
 * Members whose provider has no allowance (`other`, or a provider whose
 * allowance is 0) take no part: they are never chosen, and a leader on
 * one stays. A leader the rotation does not keep on moves to the best
 * eligible member whatever the allowances.
 *
 * Eligible: a reachable voter, caught up with the leader's log, planned
 * on, not drained.
 */
#ifndef NTPMC_CPLACE_H
#define NTPMC_CPLACE_H

#include <stddef.h>
#include <stdint.h>

/* 100 MB: what one member may send in a month under the wan profile. */
#define CPLACE_MIN_GAIN 100000000LL

struct cplace_member {
	uint64_t id;
	int voter, reachable, caught_up, drained;
	int planned_on;           /* the rotation keeps it on */
	int has_allowance;        /* its provider has an egress allowance */
	long long spare;          /* bytes of it left this month (may be < 0) */
};

/* The member to hand leadership to, or 0 to stay where it is. */
uint64_t cplace_choose(const struct cplace_member *m, size_t n,
		       uint64_t leader);

#endif
