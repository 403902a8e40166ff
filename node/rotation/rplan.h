/*
 * rplan: which members the rotation wants running, and why. Pure: the
 * members, their windows, their hours this month, min-serving and the
 * allowances in; a plan out. The reconciler asks it about now, `rotation
 * plan` and `rotation set` about the days ahead (rplan_sim).
 *
 * At time t, in this order:
 *  1. the schedule: a member's windows (its own entry, else its
 *     provider's; none: always) say on or off;
 *  2. allowances (per provider, per UTC month): at 100 % of an allowance
 *     every member of that provider is planned off; from 80 %, while the
 *     hours used plus what the schedule still plans this month exceed the
 *     allowance, the planned-on member of that provider with the most
 *     hours goes off, then the next;
 *  3. min-serving: while fewer than min(min-serving, members) members
 *     that can run are planned on, one more is held on: first one whose
 *     provider is not short of hours, then one that runs now, then the
 *     fewest hours, then the lowest id. Holding one that step 2 took off
 *     breaks an allowance: the plan says so (alert) instead of breaking
 *     min-serving.
 * A member that cannot run (no hook, no instance id, a start that failed)
 * keeps its plan but does not count toward min-serving.
 */
#ifndef NTPMC_RPLAN_H
#define NTPMC_RPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "node/rotation/rwin.h"

#define RPLAN_MAX 64               /* members */
#define RPLAN_NAME_MAX 64

struct rplan_member {
	uint64_t id;
	char name[RPLAN_NAME_MAX + 1];
	char provider[16];
	const struct rwin *win;    /* NULL: always */
	int running;               /* running or starting now */
	int can_run;               /* running, or can be started */
	int64_t used_ms;           /* running time this month */
};

struct rplan_allow {
	char provider[16];
	int64_t hours;             /* per month; */
	int vms;                   /* or, when > 0, vms x the hours of the
				    * month (gcp's always-free e2-micro: 1) */
};

struct rplan {
	struct rplan_member m[RPLAN_MAX];
	size_t n;
	int min_serving;
	struct rplan_allow allow[8];
	size_t n_allow;
};

enum rplan_why {
	RPLAN_SCHED_ON,            /* scheduled on */
	RPLAN_SCHED_OFF,           /* scheduled off */
	RPLAN_ALLOW_OFF,           /* off to keep its provider's allowance */
	RPLAN_HELD,                /* on for min-serving */
};

struct rplan_out {
	int on;
	int why;                   /* enum rplan_why */
	int alert;                 /* held although its provider is over
				    * (or heading over) its allowance */
	int64_t since;             /* RPLAN_SCHED_*: the schedule's state began
				    * (INT64_MIN: it never changes) */
	int pct;                   /* RPLAN_ALLOW_OFF and alerts: % used */
};

/* The plan at t for p's members (out[0..p->n-1]). */
void rplan_at(const struct rplan *p, int64_t t, struct rplan_out *out);
/* The allowance of provider in ms for the month holding t; -1: none. */
int64_t rplan_allowance_ms(const struct rplan *p, const char *provider,
			   int64_t t);
/* The reason for out as the status says it: "scheduled on", "scheduled
 * off from thu 00:00", "held: min-serving 2", "off: aws allowance 100%
 * used (750 of 750 h)" ... */
void rplan_reason(const struct rplan *p, const struct rplan_out *o,
		  const struct rplan_member *m, char *buf, size_t len);

/*
 * Simulates the plan from `from` to `to`: members planned on (and able to
 * run) accumulate hours, a new UTC month starts them at 0, each member
 * runs exactly when planned. fn(arg, t, i, out) for every member at
 * `from` (first = 1) and whenever member i's plan changes; a non-zero
 * return stops the simulation. hours_ms (p->n entries, may be NULL): each
 * member's running time at `to` in the month of the last instant before
 * `to` (so `to` = a month's end gives that month's total).
 */
typedef int (*rplan_step_fn)(void *arg, int64_t t, size_t i,
			     const struct rplan_out *out, int first);
void rplan_sim(const struct rplan *p, int64_t from, int64_t to,
	       rplan_step_fn fn, void *arg, int64_t *hours_ms);

/*
 * The check of `rotation set` and `config set min-serving`: the schedule
 * alone (step 1, every member able to run) over [from, from + span): the
 * first moment fewer than min(min-serving, members) members are planned
 * on, and how many are, or INT64_MAX when there is none.
 */
int64_t rplan_first_short(const struct rplan *p, int64_t from, int64_t span,
			  int *planned);

#endif
