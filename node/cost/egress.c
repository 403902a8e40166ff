/* egress: class names and the meter; see egress.h. */
#include "node/cost/egress.h"

#include <string.h>

static const char *const names[EGRESS_NCLASS] = {
	"ntp", "crosscheck", "cluster", "other",
};

const char *egress_class_name(int c)
{
	return c >= 0 && c < EGRESS_NCLASS ? names[c] : "?";
}

uint64_t egress_sum(const struct egress_counts *c)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < EGRESS_NCLASS; i++)
		s += c->bytes[i];
	return s;
}

void egress_meter_fold(struct egress_meter *m, const struct egress_counts *raw,
		       struct egress_counts *delta)
{
	struct egress_counts d;
	int i;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < EGRESS_NCLASS; i++) {
		uint64_t now = raw->bytes[i], prev = m->have ? m->last.bytes[i] : 0;

		/* Went down: the source started over from zero. */
		d.bytes[i] = now >= prev ? now - prev : now;
		m->total.bytes[i] += d.bytes[i];
	}
	m->last = *raw;
	m->have = 1;
	if (delta != NULL)
		*delta = d;
}
