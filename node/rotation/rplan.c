/* rplan: the rotation's plan (rplan.h). */
#include "node/rotation/rplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/rotation/rcal.h"

static int sched_on(const struct rplan_member *m, int64_t t)
{
	return m->win ? rwin_on(m->win, t) : 1;
}

/* Planned-on ms of m's schedule in [a, b). */
static int64_t sched_ms(const struct rplan_member *m, int64_t a, int64_t b)
{
	if (b <= a)
		return 0;
	return m->win ? rwin_on_ms(m->win, a, b) : b - a;
}

int64_t rplan_allowance_ms(const struct rplan *p, const char *provider,
			   int64_t t)
{
	size_t i;

	for (i = 0; i < p->n_allow; i++) {
		const struct rplan_allow *a = &p->allow[i];

		if (strcmp(a->provider, provider) != 0)
			continue;
		if (a->vms > 0)
			return a->vms * (rcal_month_end(t) -
					 rcal_month_start(t));
		return a->hours * RCAL_HOUR_MS;
	}
	return -1;
}

static int min_needed(const struct rplan *p)
{
	return p->min_serving < (int)p->n ? p->min_serving : (int)p->n;
}

static int pct_of(int64_t used, int64_t allow)
{
	return allow > 0 ? (int)(used * 100 / allow) : 100;
}

/* 2. One provider's allowance; short[i] marks its members when it is
 * (or is heading) over. */
static void allowance(const struct rplan *p, const struct rplan_allow *a,
		      int64_t t, struct rplan_out *out, int *short_)
{
	int64_t allow = rplan_allowance_ms(p, a->provider, t);
	int64_t used = 0, proj, end = rcal_month_end(t);
	size_t i;
	int pct;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->m[i].provider, a->provider) == 0)
			used += p->m[i].used_ms;
	pct = pct_of(used, allow);
	if (used >= allow) {
		for (i = 0; i < p->n; i++) {
			if (strcmp(p->m[i].provider, a->provider) != 0)
				continue;
			short_[i] = 1;
			out[i].pct = pct;
			if (out[i].on) {
				out[i].on = 0;
				out[i].why = RPLAN_ALLOW_OFF;
			}
		}
		return;
	}
	if (used * 5 < allow * 4)
		return;
	proj = used;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->m[i].provider, a->provider) == 0 &&
		    p->m[i].can_run)
			proj += sched_ms(&p->m[i], t, end);
	while (proj > allow) {
		const struct rplan_member *best = NULL;
		size_t b = 0;

		for (i = 0; i < p->n; i++) {
			const struct rplan_member *m = &p->m[i];

			if (strcmp(m->provider, a->provider) != 0 ||
			    !out[i].on || !m->can_run)
				continue;
			if (!best || m->used_ms > best->used_ms ||
			    (m->used_ms == best->used_ms && m->id < best->id)) {
				best = m;
				b = i;
			}
		}
		if (!best)
			break;
		out[b].on = 0;
		out[b].why = RPLAN_ALLOW_OFF;
		out[b].pct = pct;
		proj -= sched_ms(best, t, end);
		for (i = 0; i < p->n; i++)
			if (strcmp(p->m[i].provider, a->provider) == 0) {
				short_[i] = 1;
				if (!out[i].pct)
					out[i].pct = pct;
			}
	}
}

/* 3. The better member to hold on: provider not short, running now,
 * fewest hours, lowest id. */
static int hold_better(const struct rplan_member *a, int a_short,
		       const struct rplan_member *b, int b_short)
{
	if (a_short != b_short)
		return !a_short;
	if (a->running != b->running)
		return a->running;
	if (a->used_ms != b->used_ms)
		return a->used_ms < b->used_ms;
	return a->id < b->id;
}

void rplan_at(const struct rplan *p, int64_t t, struct rplan_out *out)
{
	int short_[RPLAN_MAX];
	size_t i;
	int cnt = 0;

	memset(short_, 0, sizeof(short_));
	for (i = 0; i < p->n; i++) {
		const struct rplan_member *m = &p->m[i];

		memset(&out[i], 0, sizeof(out[i]));
		out[i].on = sched_on(m, t);
		out[i].why = out[i].on ? RPLAN_SCHED_ON : RPLAN_SCHED_OFF;
		out[i].since = m->win ? rwin_since(m->win, t) : INT64_MIN;
	}
	for (i = 0; i < p->n_allow; i++)
		allowance(p, &p->allow[i], t, out, short_);
	for (i = 0; i < p->n; i++)
		cnt += out[i].on && p->m[i].can_run;
	while (cnt < min_needed(p)) {
		size_t b = p->n;

		for (i = 0; i < p->n; i++)
			if (!out[i].on && p->m[i].can_run &&
			    (b == p->n || hold_better(&p->m[i], short_[i],
						      &p->m[b], short_[b])))
				b = i;
		if (b == p->n)
			break;
		out[b].on = 1;
		out[b].why = RPLAN_HELD;
		out[b].alert = short_[b];
		cnt++;
	}
}

void rplan_reason(const struct rplan *p, const struct rplan_out *o,
		  const struct rplan_member *m, char *buf, size_t len)
{
	char when[32];

	switch (o->why) {
	case RPLAN_SCHED_ON:
		snprintf(buf, len, "scheduled on");
		break;
	case RPLAN_SCHED_OFF:
		if (o->since == INT64_MIN) {
			snprintf(buf, len, "scheduled off (never on)");
			break;
		}
		rwin_fmt(o->since, when, sizeof(when));
		snprintf(buf, len, "scheduled off from %s", when);
		break;
	case RPLAN_ALLOW_OFF:
		if (o->pct >= 100)
			snprintf(buf, len, "off: %s allowance used up (%d%%)",
				 m->provider, o->pct);
		else
			snprintf(buf, len, "off: %s at %d%% of its allowance, "
				 "the schedule would go over (most hours "
				 "first)", m->provider, o->pct);
		break;
	case RPLAN_HELD:
		if (o->alert)
			snprintf(buf, len, "held: min-serving %d (%s "
				 "allowance at %d%%: alert)", p->min_serving,
				 m->provider, o->pct);
		else
			snprintf(buf, len, "held: min-serving %d",
				 p->min_serving);
		break;
	default:
		snprintf(buf, len, "?");
	}
}

void rplan_sim(const struct rplan *p, int64_t from, int64_t to,
	       rplan_step_fn fn, void *arg, int64_t *hours_ms)
{
	struct rplan *q = malloc(sizeof(*q));
	struct rplan_out cur[RPLAN_MAX], nw[RPLAN_MAX];
	int64_t t = from, next, e, month_end;
	size_t i;
	int stop = 0;

	if (!q)
		return;
	*q = *p;
	rplan_at(q, t, cur);
	for (i = 0; i < q->n && !stop; i++)
		stop = fn && fn(arg, t, i, &cur[i], 1);
	while (t < to && !stop) {
		month_end = rcal_month_end(t);
		/* the next window edge, month, hour or the end */
		next = (t / RCAL_HOUR_MS + 1) * RCAL_HOUR_MS;
		if (month_end < next)
			next = month_end;
		if (to < next)
			next = to;
		for (i = 0; i < q->n; i++) {
			if (!q->m[i].win)
				continue;
			e = rwin_next(q->m[i].win, t);
			if (e < next)
				next = e;
		}
		for (i = 0; i < q->n; i++) {
			if (cur[i].on && q->m[i].can_run)
				q->m[i].used_ms += next - t;
			q->m[i].running = cur[i].on && q->m[i].can_run;
		}
		t = next;
		if (t >= to)
			break;     /* [from, to): the plan at `to` is not asked */
		if (t == month_end)
			for (i = 0; i < q->n; i++)
				q->m[i].used_ms = 0;
		rplan_at(q, t, nw);
		for (i = 0; i < q->n && !stop; i++)
			if (nw[i].on != cur[i].on || nw[i].why != cur[i].why)
				stop = fn && fn(arg, t, i, &nw[i], 0);
		memcpy(cur, nw, sizeof(cur[0]) * q->n);
	}
	for (i = 0; hours_ms && i < q->n; i++)
		hours_ms[i] = q->m[i].used_ms;
	free(q);
}

int64_t rplan_first_short(const struct rplan *p, int64_t from, int64_t span,
			  int *planned)
{
	int64_t t = from, end = from + span, next, e;
	size_t i;
	int cnt;

	while (t < end) {
		cnt = 0;
		for (i = 0; i < p->n; i++)
			cnt += sched_on(&p->m[i], t);
		if (cnt < min_needed(p)) {
			if (planned)
				*planned = cnt;
			return t;
		}
		next = INT64_MAX;
		for (i = 0; i < p->n; i++) {
			if (!p->m[i].win)
				continue;
			e = rwin_next(p->m[i].win, t);
			if (e < next)
				next = e;
		}
		t = next;
	}
	return INT64_MAX;
}
