/* The self-suspicion rule: see xcdecide.h. */
#include "node/crosscheck/xcdecide.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *xcd_result_name(enum xcd_result r)
{
	switch (r) {
	case XCD_OK:
		return "ok";
	case XCD_CANDIDATE:
		return "suspect-candidate";
	default:
		return "unknown";
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Intervals holding point x (closed: touching counts as sharing). */
static int depth(const double *lo, const double *hi, int n, double x)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += lo[i] <= x && x <= hi[i];
	return k;
}

void xcd_decide(double own_half, const struct xcd_peer *p, int np,
		struct xcd_decision *out)
{
	double lo[XCD_MAX_PEERS + 1], hi[XCD_MAX_PEERS + 1];
	double off[XCD_MAX_PEERS];
	uint64_t id[XCD_MAX_PEERS + 1];
	int i, n = 1, k, best = 0, best_self = 0;
	double at = 0, at_self = 0, x;

	memset(out, 0, sizeof(*out));
	/* index 0 is us */
	own_half = isfinite(own_half) && own_half > 0 ? own_half : 0;
	lo[0] = -own_half;
	hi[0] = own_half;
	id[0] = 0;
	for (i = 0; i < np && n <= XCD_MAX_PEERS; i++) {
		if (!isfinite(p[i].offset) || !isfinite(p[i].half) ||
		    p[i].half < 0)
			continue;
		lo[n] = p[i].offset - p[i].half;
		hi[n] = p[i].offset + p[i].half;
		id[n] = p[i].id;
		off[n - 1] = p[i].offset;
		n++;
	}
	out->n = n;
	/* Us minus the median of the others. */
	if (n > 1) {
		int m = n - 1;

		qsort(off, (size_t)m, sizeof(off[0]), cmp_double);
		out->from_median = -(m % 2 ? off[m / 2] :
				     (off[m / 2 - 1] + off[m / 2]) / 2);
	}
	/* Marzullo: the deepest point is some interval's low end; the
	 * deepest point inside our interval is too (the low end of the set
	 * that holds it, of which we are one). O(n^2), n <= 65. */
	for (i = 0; i < n; i++) {
		x = lo[i];
		k = depth(lo, hi, n, x);
		if (k > best || (k == best && fabs(x) < fabs(at))) {
			best = k;
			at = x;
		}
		if (lo[0] <= x && x <= hi[0] &&
		    (k > best_self || (k == best_self && fabs(x) < fabs(at_self)))) {
			best_self = k;
			at_self = x;
		}
	}
	out->best = best;
	if (n < 3 || 2 * best <= n) {
		out->result = XCD_UNKNOWN;
	} else if (best_self == best) {
		out->result = XCD_OK;
		at = at_self;
	} else {
		out->result = XCD_CANDIDATE;
	}
	/* The set at the chosen point, and where it intersects. */
	out->lo = -INFINITY;
	out->hi = INFINITY;
	for (i = 0; i < n; i++) {
		if (!(lo[i] <= at && at <= hi[i]))
			continue;
		if (lo[i] > out->lo)
			out->lo = lo[i];
		if (hi[i] < out->hi)
			out->hi = hi[i];
		if (i > 0)
			out->with[out->n_with++] = id[i];
	}
}

enum xcd_verdict xcd_step(struct xcd_state *st, enum xcd_result r,
			  int *changed)
{
	*changed = 0;
	if (!st->suspect) {
		st->cand_run = r == XCD_CANDIDATE ? st->cand_run + 1 : 0;
		if (st->cand_run >= XCD_SUSPECT_AFTER) {
			st->suspect = 1;
			st->ok_run = 0;
			*changed = 1;
		}
	} else {
		st->ok_run = r == XCD_OK ? st->ok_run + 1 : 0;
		if (st->ok_run >= XCD_CLEAR_AFTER) {
			st->suspect = 0;
			st->cand_run = 0;
			*changed = 1;
		}
	}
	if (st->suspect)
		return XCD_V_SUSPECT;
	return r == XCD_OK ? XCD_V_OK : XCD_V_UNKNOWN;
}
