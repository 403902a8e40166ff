#include "node/time/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_NMIN 3           /* RFC 5905 NMIN: survivors kept by cluster */
#define SELECT_FREQ_UNUSABLE 1e-4

const char *select_result_str(enum select_result r)
{
	switch (r) {
	case SELECT_OK:
		return "synchronized";
	case SELECT_NO_SOURCES:
		return "no usable sources";
	case SELECT_WAITING:
		return "waiting for a majority of the configured sources";
	case SELECT_NO_MAJORITY:
		return "agreeing sources are not a strict majority of reachable ones";
	case SELECT_TOO_FEW:
		return "fewer than minsources sources agree";
	}
	return "?";
}

const char *select_state_str(enum select_state s)
{
	switch (s) {
	case SELECT_UNUSABLE:
		return "unusable";
	case SELECT_FALSETICKER:
		return "falseticker";
	case SELECT_CANDIDATE:
		return "candidate";
	case SELECT_COMBINED:
		return "combined";
	case SELECT_SELECTED:
		return "selected";
	}
	return "?";
}

struct endpoint {
	double v;
	int type; /* -1 low end, +1 high end */
};

static int cmp_endpoint(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	/* At equal values, open intervals before closing them: touching
	 * intervals intersect. */
	return x->type - y->type;
}

/*
 * Marzullo: sweep the sorted endpoints, tracking how many intervals are
 * open; the first region of maximum depth is the intersection.
 */
static int intersect(const struct select_in *in, int n, double *lo,
		     double *hi)
{
	struct endpoint ep[2 * SELECT_MAX];
	int i, m = 0, depth = 0, best = 0;

	for (i = 0; i < n; i++) {
		if (!in[i].usable)
			continue;
		ep[m].v = in[i].offset - in[i].distance;
		ep[m++].type = -1;
		ep[m].v = in[i].offset + in[i].distance;
		ep[m++].type = 1;
	}
	qsort(ep, (size_t)m, sizeof(ep[0]), cmp_endpoint);
	for (i = 0; i < m; i++) {
		depth -= ep[i].type;
		if (ep[i].type < 0 && depth > best) {
			best = depth;
			*lo = ep[i].v;
			*hi = ep[i + 1].v; /* the next endpoint closes the region */
		}
	}
	return best;
}

/*
 * Combining weight: the root distance (as chrony and RFC 5905 11.2.3 use),
 * not the interval half-width, which also carries the estimate's own
 * statistical spread and would let the noisiest moment decide the weights.
 */
static double wdist(const struct select_in *s)
{
	return s->weight_dist > 0 ? s->weight_dist : s->distance;
}

void select_run(const struct select_in *in, int n,
		const struct select_params *p, struct select_out *out,
		enum select_state *state)
{
	int idx[SELECT_MAX], ns = 0, nusable = 0, i, j, best_i = -1;
	double bestd = INFINITY, minjit = INFINITY, wsum = 0, fw = 0;
	int leap1 = 0, leap2 = 0, voters = 0;

	memset(out, 0, sizeof(*out));
	out->sys = -1;
	for (i = 0; i < n; i++) {
		state[i] = SELECT_UNUSABLE;
		if (in[i].reachable)
			out->reachable++;
		if (in[i].usable)
			nusable++;
	}
	if (!nusable) {
		out->result = SELECT_NO_SOURCES;
		return;
	}
	out->agree = intersect(in, n, &out->lo, &out->hi);
	for (i = 0; i < n; i++) {
		if (!in[i].usable)
			continue;
		if (in[i].offset + in[i].distance < out->lo ||
		    in[i].offset - in[i].distance > out->hi) {
			state[i] = SELECT_FALSETICKER;
			continue;
		}
		/* Overlapping the intersection makes a truechimer (chrony);
		 * only those whose estimate (midpoint) lies inside it survive
		 * to be combined (RFC 5905 11.2.1): a source in the middle of
		 * a step has a wide interval but a wild estimate. */
		state[i] = SELECT_CANDIDATE;
		if (in[i].offset >= out->lo && in[i].offset <= out->hi)
			idx[ns++] = i;
	}
	/* Degenerate intersection (intervals that merely touch): every
	 * truechimer survives. */
	if (!ns)
		for (i = 0; i < n; i++)
			if (state[i] == SELECT_CANDIDATE)
				idx[ns++] = i;
	if (nusable < p->min_usable) {
		out->result = SELECT_WAITING;
		return;
	}
	if (out->agree < p->minsources) {
		out->result = SELECT_TOO_FEW;
		return;
	}
	/* Strict majority of the reachable sources. */
	if (2 * out->agree <= out->reachable) {
		out->result = SELECT_NO_MAJORITY;
		return;
	}
	if (!ns) {
		out->result = SELECT_NO_MAJORITY;
		return;
	}
	/*
	 * Cluster (RFC 5905 11.2.2): drop the survivor with the largest
	 * selection jitter while more than NMIN remain and that jitter
	 * exceeds the smallest source jitter.
	 */
	while (ns > SELECT_NMIN) {
		double maxphi = -1, minpsi = INFINITY;
		int worst = 0;

		for (i = 0; i < ns; i++) {
			double phi = 0;

			for (j = 0; j < ns; j++) {
				double d = in[idx[i]].offset - in[idx[j]].offset;
				phi += d * d;
			}
			phi = sqrt(phi / (ns - 1));
			if (phi > maxphi) {
				maxphi = phi;
				worst = i;
			}
			if (in[idx[i]].jitter < minpsi)
				minpsi = in[idx[i]].jitter;
		}
		if (maxphi <= minpsi)
			break;
		idx[worst] = idx[--ns];
	}
	for (i = 0; i < ns; i++) {
		if (wdist(&in[idx[i]]) < bestd) {
			bestd = wdist(&in[idx[i]]);
			best_i = idx[i];
		}
		if (in[idx[i]].jitter < minjit)
			minjit = in[idx[i]].jitter;
	}
	/* Combine (RFC 5905 11.2.3, weights 1/distance) the survivors within
	 * combinelimit of the best; frequency weighted by 1/variance. */
	out->offset = 0;
	for (i = 0; i < ns; i++) {
		const struct select_in *s = &in[idx[i]];
		double w;

		if (wdist(s) > p->combinelimit * bestd)
			continue;
		state[idx[i]] = SELECT_COMBINED;
		out->ncombined++;
		w = 1.0 / wdist(s);
		wsum += w;
		out->offset += w * s->offset;
		if (s->freq_sd < SELECT_FREQ_UNUSABLE) {
			double fwi = 1.0 / (s->freq_sd * s->freq_sd + 1e-24);

			fw += fwi;
			out->freq += fwi * s->freq;
		}
		if (s->leap >= 0)
			voters++;
		if (s->leap == 1)
			leap1++;
		else if (s->leap == 2)
			leap2++;
	}
	out->offset /= wsum;
	if (fw > 0) {
		out->freq /= fw;
		out->freq_ok = 1;
	}
	for (i = 0; i < n; i++) {
		double d;

		if (state[i] != SELECT_COMBINED)
			continue;
		d = in[i].offset - out->offset;
		out->jitter += d * d;
	}
	out->jitter = sqrt(out->jitter / out->ncombined);
	out->leap = 2 * leap1 > voters ? 1 : 2 * leap2 > voters ? 2 : 0;
	/* System peer: keep the previous one while it is still combined
	 * (no clock hopping); else a combined prefer source; else the best. */
	out->sys = best_i;
	for (i = 0; i < n; i++)
		if (state[i] == SELECT_COMBINED && in[i].prefer) {
			out->sys = i;
			break;
		}
	if (p->prev_sys >= 0 && p->prev_sys < n &&
	    state[p->prev_sys] == SELECT_COMBINED)
		out->sys = p->prev_sys;
	state[out->sys] = SELECT_SELECTED;
	out->result = SELECT_OK;
}
