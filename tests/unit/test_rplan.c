/*
 * rplan: the planner on table cases, simulated: the usual fleet shape
 * (aws-a mon-wed, aws-b thu-sun, gcp-a always) over a month; allowances at
 * 80 % and 100 % (the plan changes, or min-serving keeps a member on and
 * the plan alerts); min-serving conflicts found with their first moment;
 * a member that never comes up; windows that wrap over the weekend or
 * cross midnight. And the hours ledger's arithmetic (rledger).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/rotation/rcal.h"
#include "node/rotation/rledger.h"
#include "node/rotation/rplan.h"

#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define JAN1 1735689600000LL     /* 2025-01-01 00:00 UTC, a wednesday */
#define FEB1 1738368000000LL
#define MON6 1736121600000LL     /* 2025-01-06, a monday */

static struct rwin win[8];
static struct rplan p;

static void member(size_t i, const char *name, const char *provider,
		   const char *windows)
{
	char canon[RWIN_TEXT_MAX + 1], err[200];

	memset(&p.m[i], 0, sizeof(p.m[i]));
	p.m[i].id = i + 1;
	snprintf(p.m[i].name, sizeof(p.m[i].name), "%s", name);
	snprintf(p.m[i].provider, sizeof(p.m[i].provider), "%s", provider);
	p.m[i].can_run = 1;
	p.m[i].running = 1;
	if (windows) {
		assert_int_equal(rwin_parse(windows, &win[i], canon, err,
					    sizeof(err)), 0);
		p.m[i].win = &win[i];
	}
	if (i >= p.n)
		p.n = i + 1;
}

/* The usual shape: aws-a, aws-b alternate, gcp-a always; min-serving 2;
 * the default allowances (aws 750 h, gcp every hour of the month). */
static void fleet(void)
{
	memset(&p, 0, sizeof(p));
	member(0, "aws-a", "aws", "mon-wed");
	member(1, "aws-b", "aws", "thu-sun");
	member(2, "gcp-a", "gcp", NULL);
	p.min_serving = 2;
	p.n_allow = 2;
	snprintf(p.allow[0].provider, 16, "aws");
	p.allow[0].hours = 750;
	snprintf(p.allow[1].provider, 16, "gcp");
	p.allow[1].vms = 1;
}

/* What a simulation saw. */
struct seen {
	int on[8], why[8];
	int64_t t;               /* the time whose changes are being read */
	int min_on;              /* fewest members on (and able) at any time */
	int changes, held, allow_off, alerts;
	int64_t first_alert;
};

static void settle(struct seen *s)
{
	size_t i;
	int cnt = 0;

	for (i = 0; i < p.n; i++)
		cnt += s->on[i] && p.m[i].can_run;
	if (cnt < s->min_on)
		s->min_on = cnt;
}

static int on_step(void *arg, int64_t t, size_t i, const struct rplan_out *o,
		   int first)
{
	struct seen *s = arg;

	if (t != s->t) {
		settle(s);     /* every change at the last time is in */
		s->t = t;
	}
	s->on[i] = o->on;
	s->why[i] = o->why;
	s->changes += !first;
	s->held += o->why == RPLAN_HELD;
	s->allow_off += o->why == RPLAN_ALLOW_OFF;
	if (o->alert && !s->alerts++)
		s->first_alert = t;
	return 0;
}

static void sim(int64_t from, int64_t to, struct seen *s, int64_t *hours)
{
	memset(s, 0, sizeof(*s));
	s->min_on = 1000;
	s->t = from;
	rplan_sim(&p, from, to, on_step, s, hours);
	settle(s);
}

static void usual_fleet_month(void **state)
{
	struct rplan_out out[RPLAN_MAX];
	int64_t h[RPLAN_MAX];
	char why[200];
	struct seen s;

	(void)state;
	fleet();
	sim(JAN1, FEB1, &s, h);
	assert_int_equal(s.min_on, 2);        /* two serve at every moment */
	assert_int_equal(s.held + s.allow_off + s.alerts, 0);
	/* January 2025: 13 days mon-wed, 18 days thu-sun: 744 h of 750 */
	assert_int_equal(h[0], 13 * DAY);
	assert_int_equal(h[1], 18 * DAY);
	assert_int_equal(h[2], 31 * DAY);
	/* a swap at every thu 00:00 and mon 00:00: 2 changes each */
	assert_int_equal(s.changes, 2 * 9);

	/* thursday noon: aws-a off since thu 00:00, aws-b on */
	rplan_at(&p, MON6 + 3 * DAY + 12 * HOUR, out);
	assert_false(out[0].on);
	assert_true(out[1].on);
	assert_true(out[2].on);
	rplan_reason(&p, &out[0], &p.m[0], why, sizeof(why));
	assert_string_equal(why, "scheduled off from thu 00:00");
	rplan_reason(&p, &out[1], &p.m[1], why, sizeof(why));
	assert_string_equal(why, "scheduled on");
	assert_int_equal(rplan_first_short(&p, JAN1, 31 * DAY, NULL),
			 INT64_MAX);
}

/* From 80 % of an allowance, the member with the most hours goes off
 * while the schedule would go over; min-serving 1 lets it. */
static void allowance_keeps(void **state)
{
	int64_t h[RPLAN_MAX];
	struct seen s;

	(void)state;
	fleet();
	p.allow[0].hours = 600;
	p.min_serving = 1;
	sim(JAN1, FEB1, &s, h);
	assert_true(s.allow_off > 0);
	assert_int_equal(s.alerts, 0);
	/* kept within the hour of the simulation's resolution */
	assert_true(h[0] + h[1] <= 600 * HOUR + HOUR);
	assert_true(h[0] + h[1] >= 590 * HOUR);
	assert_int_equal(h[2], 31 * DAY);
	assert_int_equal(s.min_on, 1);
}

/* The same with min-serving 2: an aws member must stay on, so the plan
 * holds it and alerts instead of breaking min-serving. */
static void allowance_alerts(void **state)
{
	struct rplan_out out[RPLAN_MAX];
	int64_t h[RPLAN_MAX];
	char why[200];
	struct seen s;

	(void)state;
	fleet();
	p.allow[0].hours = 600;
	sim(JAN1, FEB1, &s, h);
	assert_int_equal(s.min_on, 2);
	assert_true(s.alerts > 0);
	/* 80 % of 600 h is reached on the 21st (20 days of one VM) */
	assert_true(s.first_alert >= JAN1 + 20 * DAY &&
		    s.first_alert <= JAN1 + 21 * DAY);
	assert_true(h[0] + h[1] > 600 * HOUR);

	/* at 100 %: every aws member off; min-serving holds the one that
	 * runs, with an alert */
	fleet();
	p.m[0].used_ms = 400 * HOUR;
	p.m[1].used_ms = 350 * HOUR;
	p.m[1].running = 0;                   /* monday: aws-b is off */
	rplan_at(&p, MON6 + 12 * HOUR, out);
	assert_false(out[1].on);
	assert_int_equal(out[1].why, RPLAN_SCHED_OFF);
	assert_true(out[0].on);
	assert_int_equal(out[0].why, RPLAN_HELD);
	assert_true(out[0].alert);
	rplan_reason(&p, &out[0], &p.m[0], why, sizeof(why));
	assert_string_equal(why, "held: min-serving 2 (aws allowance at "
			    "100%: alert)");
	p.min_serving = 1;
	rplan_at(&p, MON6 + 12 * HOUR, out);
	assert_false(out[0].on);
	assert_int_equal(out[0].why, RPLAN_ALLOW_OFF);
	rplan_reason(&p, &out[0], &p.m[0], why, sizeof(why));
	assert_string_equal(why, "off: aws allowance used up (100%)");
	assert_false(out[1].on);
	assert_true(out[2].on);
}

/* A schedule that leaves too few on: the first such moment is named;
 * the plan itself holds members on. */
static void conflicts(void **state)
{
	struct rplan_out out[RPLAN_MAX];
	int planned = -1;
	int64_t t;

	(void)state;
	fleet();
	member(1, "aws-b", "aws", "thu-sat");
	t = rplan_first_short(&p, MON6, 7 * DAY, &planned);
	assert_int_equal(t, MON6 + 6 * DAY);           /* sunday 00:00 */
	assert_int_equal(planned, 1);
	rplan_at(&p, MON6 + 6 * DAY + HOUR, out);
	assert_int_equal(out[0].on + out[1].on + out[2].on, 2);
	/* the held one: running, then fewest hours, then lowest id */
	p.m[0].running = 0;
	rplan_at(&p, MON6 + 6 * DAY + HOUR, out);
	assert_int_equal(out[1].why, RPLAN_HELD);
	p.m[0].running = 1;
	p.m[0].used_ms = 10 * HOUR;
	rplan_at(&p, MON6 + 6 * DAY + HOUR, out);
	assert_int_equal(out[1].why, RPLAN_HELD);
	p.m[1].used_ms = 20 * HOUR;
	rplan_at(&p, MON6 + 6 * DAY + HOUR, out);
	assert_int_equal(out[0].why, RPLAN_HELD);
	/* min-serving 1: no conflict */
	p.min_serving = 1;
	assert_int_equal(rplan_first_short(&p, MON6, 7 * DAY, NULL),
			 INT64_MAX);
	/* more than members: min(min-serving, members) */
	p.min_serving = 5;
	member(0, "aws-a", "aws", NULL);
	member(1, "aws-b", "aws", NULL);
	assert_int_equal(rplan_first_short(&p, MON6, 7 * DAY, NULL),
			 INT64_MAX);
	/* a conflict now is at the start */
	member(2, "gcp-a", "gcp", "never");
	t = rplan_first_short(&p, MON6 + 5, 7 * DAY, &planned);
	assert_int_equal(t, MON6 + 5);
	assert_int_equal(planned, 2);
}

/* aws-b never comes up: on thursday aws-a is held for min-serving, it
 * runs the whole week. */
static void never_up(void **state)
{
	struct rplan_out out[RPLAN_MAX];
	int64_t h[RPLAN_MAX];
	char why[200];
	struct seen s;

	(void)state;
	fleet();
	p.m[1].can_run = 0;
	p.m[1].running = 0;
	rplan_at(&p, MON6 + 3 * DAY + HOUR, out);
	assert_true(out[1].on);               /* still wanted */
	assert_true(out[0].on);
	assert_int_equal(out[0].why, RPLAN_HELD);
	rplan_reason(&p, &out[0], &p.m[0], why, sizeof(why));
	assert_string_equal(why, "held: min-serving 2");
	sim(MON6, MON6 + 7 * DAY, &s, h);
	assert_int_equal(s.min_on, 2);
	assert_int_equal(h[0], 7 * DAY);
	assert_int_equal(h[1], 0);
}

/* Windows that wrap over the weekend and cross midnight. */
static void wrapping(void **state)
{
	int64_t h[RPLAN_MAX];
	struct seen s;

	(void)state;
	fleet();
	member(0, "aws-a", "aws", "fri-mon");
	member(1, "aws-b", "aws", "tue-thu");
	sim(MON6, MON6 + 14 * DAY, &s, h);
	assert_int_equal(s.min_on, 2);
	assert_int_equal(s.held, 0);
	assert_int_equal(h[0], 8 * DAY);
	assert_int_equal(h[1], 6 * DAY);
	/* night and day */
	member(0, "night", "aws", "22:00-06:00");
	member(1, "day", "aws", "06:00-22:00");
	sim(MON6 + 3 * HOUR, MON6 + 7 * DAY + 3 * HOUR, &s, h);
	assert_int_equal(s.min_on, 2);
	assert_int_equal(s.held, 0);
	assert_int_equal(h[0], 7 * 8 * HOUR);
	assert_int_equal(h[1], 7 * 16 * HOUR);
	assert_int_equal(s.changes, 2 * 14);
}

/* A new UTC month starts the hours again: a plan that went off at 100 %
 * in one month is on again in the next. */
static void month_resets(void **state)
{
	int64_t h[RPLAN_MAX];
	struct seen s;

	(void)state;
	fleet();
	p.min_serving = 1;
	p.allow[0].hours = 100;
	sim(JAN1 + 20 * DAY, FEB1 + 2 * DAY, &s, h);
	assert_true(s.allow_off > 0);
	assert_int_equal(h[0] + h[1], 2 * DAY);  /* feb 1-2: sat, sun */
	assert_int_equal(rcal_month(FEB1), 202502);
	assert_int_equal(rcal_month(FEB1 - 1), 202501);
	assert_int_equal(rcal_month_start(JAN1 + 5 * DAY), JAN1);
	assert_int_equal(rcal_month_end(JAN1 + 5 * DAY), FEB1);
	assert_int_equal(rplan_allowance_ms(&p, "gcp", FEB1), 28 * DAY);
	assert_int_equal(rplan_allowance_ms(&p, "fake", FEB1), -1);
}

static void ledger(void **state)
{
	struct rledger_member m[3];
	struct fsm_hours_item it[8];
	size_t n;

	(void)state;
	memset(m, 0, sizeof(m));
	/* counted to 10:00, seen at 11:30: 1.5 h */
	m[0] = (struct rledger_member){ 1, JAN1, JAN1 + 11 * HOUR + HOUR / 2,
					JAN1 + 10 * HOUR };
	/* restarted at 12:00 after being counted to 10:00: from 12:00 */
	m[1] = (struct rledger_member){ 2, JAN1 + 12 * HOUR,
					JAN1 + 13 * HOUR, JAN1 + 10 * HOUR };
	/* across a month: jan 31 23:00 .. feb 1 01:00 */
	m[2] = (struct rledger_member){ 3, FEB1 - 5 * HOUR, FEB1 + HOUR,
					FEB1 - HOUR };
	n = rledger_items(m, 3, it, 8);
	assert_int_equal(n, 4);
	assert_int_equal(it[0].add_ms, 90 * 60000);
	assert_int_equal(it[0].month, 202501);
	assert_int_equal(it[0].counted_to, JAN1 + 11 * HOUR + HOUR / 2);
	assert_int_equal(it[1].add_ms, HOUR);
	assert_int_equal(it[2].id, 3);
	assert_int_equal(it[2].month, 202501);
	assert_int_equal(it[2].add_ms, HOUR);
	assert_int_equal(it[3].month, 202502);
	assert_int_equal(it[3].add_ms, HOUR);
	/* nothing new: left out; first count starts at the start */
	m[0].counted_to = m[0].last_seen;
	m[1] = (struct rledger_member){ 2, JAN1 + HOUR, JAN1 + 3 * HOUR, 0 };
	n = rledger_items(m, 2, it, 8);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].id, 2);
	assert_int_equal(it[0].add_ms, 2 * HOUR);
	/* room for fewer items than needed: cut, never overrun */
	assert_int_equal(rledger_items(&m[2], 1, it, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usual_fleet_month),
		cmocka_unit_test(allowance_keeps),
		cmocka_unit_test(allowance_alerts),
		cmocka_unit_test(conflicts),
		cmocka_unit_test(never_up),
		cmocka_unit_test(wrapping),
		cmocka_unit_test(month_resets),
		cmocka_unit_test(ledger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
