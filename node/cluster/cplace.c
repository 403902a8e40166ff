#include "node/cluster/cplace.h"

static int eligible(const struct cplace_member *m, uint64_t leader)
{
	return m->id != leader && m->voter && m->reachable && m->caught_up &&
	       m->planned_on && !m->drained;
}

/* The eligible member with the most to spare (ties: lowest id); with
 * any_ok, one without an allowance counts too (after all that have one). */
static const struct cplace_member *best(const struct cplace_member *m,
					size_t n, uint64_t leader, int any_ok)
{
	const struct cplace_member *b = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct cplace_member *c = &m[i];

		if (!eligible(c, leader) || (!c->has_allowance && !any_ok))
			continue;
		if (!b || (c->has_allowance && !b->has_allowance) ||
		    (c->has_allowance == b->has_allowance &&
		     (c->spare > b->spare ||
		      (c->spare == b->spare && c->id < b->id))))
			b = c;
	}
	return b;
}

uint64_t cplace_choose(const struct cplace_member *m, size_t n,
		       uint64_t leader)
{
	const struct cplace_member *self = NULL, *b;
	long long have;
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].id == leader)
			self = &m[i];
	if (!self)
		return 0;
	if (!self->planned_on) {
		b = best(m, n, leader, 1);
		return b ? b->id : 0;
	}
	if (!self->has_allowance)
		return 0;
	b = best(m, n, leader, 0);
	if (!b)
		return 0;
	have = self->spare > 0 ? self->spare : 0;
	if (b->spare > 2 * have && b->spare - self->spare >= CPLACE_MIN_GAIN)
		return b->id;
	return 0;
}
