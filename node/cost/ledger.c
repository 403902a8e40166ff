/* ledger: the monthly egress ledger's arithmetic; see ledger.h. */
#include "node/cost/ledger.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void ledger_month(uint64_t unix_ms, char out[8])
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 8, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u);
}

static int parse_month(const char *m, int *y, int *mo)
{
	if (!m || sscanf(m, "%4d-%2d", y, mo) != 2 || strlen(m) != 7 ||
	    *mo < 1 || *mo > 12 || *y < 1970)
		return -1;
	return 0;
}

static uint64_t utc_ms(int y, int mo)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = 1;
	return (uint64_t)timegm(&tm) * 1000;
}

uint64_t ledger_month_start_ms(const char *month)
{
	int y, mo;

	return parse_month(month, &y, &mo) < 0 ? 0 : utc_ms(y, mo);
}

uint64_t ledger_month_end_ms(const char *month)
{
	int y, mo;

	if (parse_month(month, &y, &mo) < 0)
		return 0;
	return mo == 12 ? utc_ms(y + 1, 1) : utc_ms(y, mo + 1);
}

uint64_t ledger_total(const uint64_t bytes[FSM_LEDGER_CLASSES])
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < FSM_LEDGER_CLASSES; i++)
		s += bytes[i];
	return s;
}

void ledger_delta(const struct fsm_ledger *last,
		  const struct ledger_report *r,
		  uint64_t delta[FSM_LEDGER_CLASSES])
{
	int i, same = last && r->boot && last->boot == r->boot;

	for (i = 0; i < FSM_LEDGER_CLASSES; i++) {
		if (!r->boot)
			delta[i] = 0;
		else if (!same || r->bytes[i] < last->base[i])
			/* a new process (or a counter that started over):
			 * all of it is new */
			delta[i] = r->bytes[i];
		else
			delta[i] = r->bytes[i] - last->base[i];
	}
}

int ledger_fold(const struct fsm_ledger *cur, const struct fsm_ledger *last,
		const struct ledger_report *r, const char *month, uint64_t id,
		const char *provider, uint64_t now_ms, struct fsm_ledger *out)
{
	uint64_t delta[FSM_LEDGER_CLASSES], total;
	int i, changed = 0;

	if (cur) {
		*out = *cur;
	} else {
		memset(out, 0, sizeof(*out));
		snprintf(out->month, sizeof(out->month), "%s", month);
		out->id = id;
		out->first_ms = now_ms;
		out->mark_ms = now_ms;
		/* the rate is the rate: the month before's carries over */
		if (last)
			out->day_bytes = last->day_bytes;
		changed = 1;
	}
	if (strcmp(out->provider, provider) != 0) {
		snprintf(out->provider, sizeof(out->provider), "%s", provider);
		changed = 1;
	}
	if (!r->boot)
		return changed;
	ledger_delta(last, r, delta);
	for (i = 0; i < FSM_LEDGER_CLASSES; i++) {
		out->bytes[i] += delta[i];
		changed |= delta[i] != 0 || out->base[i] != r->bytes[i];
		out->base[i] = r->bytes[i];
	}
	changed |= out->boot != r->boot;
	out->boot = r->boot;
	total = ledger_total(out->bytes);
	if (now_ms > out->mark_ms && now_ms - out->mark_ms >= LEDGER_DAY_MS) {
		out->day_bytes = (uint64_t)((double)(total - out->mark_total) *
					    (double)LEDGER_DAY_MS /
					    (double)(now_ms - out->mark_ms));
		out->mark_ms = now_ms;
		out->mark_total = total;
		changed = 1;
	}
	if (changed)
		out->updated_ms = now_ms;
	return changed;
}

uint64_t ledger_projected(const struct fsm_ledger *e, uint64_t actual,
			  uint64_t now_ms)
{
	uint64_t end = ledger_month_end_ms(e->month);

	if (!e->day_bytes || !end || now_ms >= end)
		return actual;
	return actual + (uint64_t)((double)e->day_bytes *
				   (double)(end - now_ms) /
				   (double)LEDGER_DAY_MS);
}
