/* vmhours: instance and IPv4 hours of a member; see vmhours.h. */
#include "node/cost/vmhours.h"

#include <ctype.h>

static uint64_t clamp(uint64_t t, uint64_t lo, uint64_t hi)
{
	return t < lo ? lo : t > hi ? hi : t;
}

/* The member's running time in month: the record keeps its latest two
 * months. */
static uint64_t running(const struct fsm_hours *h, uint32_t month)
{
	if (!h)
		return 0;
	if (h->month == month)
		return h->ms;
	if (h->prev_month == month)
		return h->prev_ms;
	return 0;
}

void vmhours_member(const struct vmhours_in *in, struct vmhours *out)
{
	uint64_t span = in->end_ms - in->start_ms;
	uint64_t from, asof, now, seen;

	out->vm_ms = running(in->h, in->month);
	if (out->vm_ms > span)
		out->vm_ms = span;
	out->vm_proj_ms = out->vm_ms;
	from = clamp(in->first_ms, in->start_ms, in->end_ms);
	asof = clamp(in->asof_ms, in->start_ms, in->end_ms);
	now = clamp(in->now_ms, in->start_ms, in->end_ms);
	/* the rate over what the ledger has counted, on to the end */
	if (!in->removed && asof >= from + VMHOURS_HOUR_MS) {
		seen = asof - from;
		out->vm_proj_ms += (uint64_t)((double)out->vm_ms *
					      (double)(in->end_ms - asof) /
					      (double)seen);
		if (out->vm_proj_ms > in->end_ms - from)
			out->vm_proj_ms = in->end_ms - from;
		if (out->vm_proj_ms < out->vm_ms)
			out->vm_proj_ms = out->vm_ms;
	}
	out->ip_ms = out->vm_ms;
	out->ip_proj_ms = out->vm_proj_ms;
	/* a static address costs every hour the member exists, running or
	 * not; when it was first seen is not known, only its running time
	 * is counted */
	if (in->static_ip && !in->removed && in->first_ms) {
		if (now > from && now - from > out->ip_ms)
			out->ip_ms = now - from;
		if (in->end_ms - from > out->ip_proj_ms)
			out->ip_proj_ms = in->end_ms - from;
	}
}

uint32_t vmhours_month(const char *m)
{
	unsigned y, mo;
	int i;

	for (i = 0; i < 7; i++)
		if (i == 4 ? m[i] != '-' : !isdigit((unsigned char)m[i]))
			return 0;
	if (m[7])
		return 0;
	y = (unsigned)((m[0] - '0') * 1000 + (m[1] - '0') * 100 +
		       (m[2] - '0') * 10 + (m[3] - '0'));
	mo = (unsigned)((m[5] - '0') * 10 + (m[6] - '0'));
	return mo >= 1 && mo <= 12 ? y * 100 + mo : 0;
}
