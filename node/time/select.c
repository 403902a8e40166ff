#include "node/time/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_FREQ_UNUSABLE 1e-4
/* The hidden asymmetry of a path as a share of its root distance (sd).
 * Chosen on a replay outside the repository (not reproducible from this
 * tree; tests/bench/accuracy.sh measures the daemon): the tools/ntpsim
 * path model, 4 servers at 1 s polls, 2-3 ms exponential jitter, 200
 * seeds, median error. With every path 20 ms
 * long and asymmetries of -0.8 to +1 ms, 0.03 to 1000 all gave 88-89 us;
 * with two of four paths 2 ms longer one way, 0.05 cut it from 457 us
 * (1000, i.e. 1 / distance^2) to 310 us, 0.03 to 200 us, 0.1 to 409 us.
 * The price when the shortest path is the asymmetric one (20 ms, +1 ms,
 * among symmetric 20-22 ms ones): 352 us instead of 279 us. */
#define SELECT_ASYM_SHARE 0.05

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
 * Combining distance: the root distance (as chrony and RFC 5905 11.2.3 use),
 * not the interval half-width, which also carries the estimate's own
 * statistical spread and would let the noisiest moment decide the weights.
 */
static double wdist(const struct select_in *s)
{
	return s->weight_dist > 0 ? s->weight_dist : s->distance;
}

static double pdist(const struct select_in *s)
{
	return s->path_dist > 0 ? s->path_dist : wdist(s);
}

double select_weight(const struct select_in *s, const struct select_out *out)
{
	double h = SELECT_ASYM_SHARE * wdist(s), e = pdist(s) - out->best_path;
	double var;

	e -= sqrt(s->path_err * s->path_err +
		  out->best_path_err * out->best_path_err);
	if (e < 0)
		e = 0;
	var = h * h + e * e / 3.0;
	if (var < 1e-18)
		var = 1e-18;
	return 1.0 / var;
}

void select_run(const struct select_in *in, int n,
		const struct select_params *p, struct select_out *out,
		enum select_state *state)
{
	int idx[SELECT_MAX], ns = 0, nusable = 0, ntrue = 0, i, j, best_i = -1;
	int top;
	double bestd = INFINITY, wsum = 0, fw = 0;
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
		/* Overlapping the intersection makes a truechimer (chrony). */
		state[i] = SELECT_CANDIDATE;
		ntrue++;
	}
	/*
	 * Only truechimers whose estimate lies inside the intervals of at
	 * least half of the truechimers survive to be combined: a source in
	 * the middle of a step has a wide interval but a wild estimate. RFC
	 * 5905 11.2.1 asks for the midpoint inside the intersection, but our
	 * intervals widen with the estimate's own uncertainty, and one wide
	 * interval whose edge cuts into the agreeing ones shrinks the
	 * intersection to that edge, where no midpoint lies.
	 */
	for (i = 0; i < n; i++) {
		int c = 0;

		if (state[i] != SELECT_CANDIDATE)
			continue;
		for (j = 0; j < n; j++)
			if (state[j] == SELECT_CANDIDATE &&
			    fabs(in[i].offset - in[j].offset) <= in[j].distance)
				c++;
		if (2 * c >= ntrue)
			idx[ns++] = i;
	}
	/* None (pathological intervals): every truechimer survives. */
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
	 * No RFC 5905 cluster step (chrony has none either): it prunes the
	 * survivor farthest from the others while more than 3 remain, and
	 * with two short paths against two longer asymmetric ones it threw
	 * out one of the short ones in 7 of 30 ntpctl snapshots, handing
	 * the longer paths two thirds of the weight. Falsetickers
	 * are the intersection's job; the weights below deal with the rest.
	 */
	out->best_path = INFINITY;
	for (i = 0; i < ns; i++) {
		if (wdist(&in[idx[i]]) < bestd) {
			bestd = wdist(&in[idx[i]]);
			best_i = idx[i];
		}
		if (pdist(&in[idx[i]]) < out->best_path) {
			out->best_path = pdist(&in[idx[i]]);
			out->best_path_err = in[idx[i]].path_err;
		}
	}
	out->best_dist = bestd;
	/* Combine the survivors within combinelimit of the best (chrony's
	 * combinelimit; one recently beyond it stays out while the caller
	 * holds it, chrony's "distant" penalty, so that a source near the
	 * limit does not flicker in and out with its weight), offsets
	 * weighted by select_weight(), frequency by 1/variance. */
	out->offset = 0;
	for (i = 0; i < ns; i++) {
		const struct select_in *s = &in[idx[i]];
		double w;

		if (idx[i] != best_i &&
		    (wdist(s) > p->combinelimit * bestd || s->distant > 0))
			continue;
		state[idx[i]] = SELECT_COMBINED;
		out->ncombined++;
		w = select_weight(s, out);
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
	/* System peer: the previous one while it is still combined with at
	 * least half the largest weight (no clock hopping between equals);
	 * else a combined prefer source; else the one with the largest
	 * weight. */
	top = best_i;
	for (i = 0; i < n; i++)
		if (state[i] == SELECT_COMBINED &&
		    select_weight(&in[i], out) > select_weight(&in[top], out))
			top = i;
	out->sys = top;
	for (i = 0; i < n; i++)
		if (state[i] == SELECT_COMBINED && in[i].prefer) {
			out->sys = i;
			break;
		}
	if (p->prev_sys >= 0 && p->prev_sys < n &&
	    state[p->prev_sys] == SELECT_COMBINED &&
	    2 * select_weight(&in[p->prev_sys], out) >=
	    select_weight(&in[top], out))
		out->sys = p->prev_sys;
	state[out->sys] = SELECT_SELECTED;
	out->result = SELECT_OK;
}
