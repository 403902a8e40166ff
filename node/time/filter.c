/*
 * Per-source regression filter. See filter.h for the model; the numbers:
 * - weights w_i = s0^2 / (s0^2 + D_i^2 / 12), D_i = delay_i - min delay:
 *   an offset measured over a path with extra delay D is off by at most
 *   D/2 (RFC 5905 section 8: the error is bounded by half the round trip),
 *   uniform on [-D/2, D/2] has variance D^2/12; s0 (a fifth of the median
 *   extra delay on the same scale, at least 1 us) keeps the weights from
 *   collapsing onto a single lucky sample.
 * - weighted least squares for offset and frequency; their covariance
 *   gives the standard error of the extrapolated offset.
 * - Wald-Wolfowitz runs test on the residual signs: too few runs means the
 *   oldest samples no longer fit one line; drop the oldest quarter and
 *   refit, keeping at least FILTER_MIN_KEEP samples.
 */
#include "node/time/filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_MIN_KEEP 6
#define FILTER_PREC 1e-6        /* s: floor of the sample deviation */
#define FILTER_WORST_FREQ 1e-3  /* s/s: frequency bound with < 3 samples */
#define FILTER_PHI 15e-6        /* RFC 5905 frequency tolerance */
#define FILTER_RUNS_Z 2.33      /* one-sided 1 % */
/* s0 as a share of the median extra delay's deviation: measured on
 * simulated exponential jitter (10 ms base, 3 ms mean each way), 0.15-0.25
 * gave the smallest mean error for 8 to 64 samples. */
#define FILTER_S0_MEDIAN 0.2
#define FILTER_PATH_ERR 0.2     /* x median extra delay / sqrt(n) */

struct filter {
	struct filter_sample s[FILTER_MAX];
	double w[FILTER_MAX];  /* weights of the last fit, by logical index */
	int head; /* index of the oldest sample */
	int n;
	/* fit, referenced to the newest sample's time */
	int fit_n;
	double a, b, var_a, var_b, cov_ab, jitter;
	int best; /* logical index of the sample with the smallest distance */
	double path; /* smallest root distance of the samples, not aged */
	double path_err; /* how far above the path's floor that may still be */
};

static struct filter_sample *at(struct filter *f, int i)
{
	return &f->s[(f->head + i) % FILTER_MAX];
}

static const struct filter_sample *cat(const struct filter *f, int i)
{
	return &f->s[(f->head + i) % FILTER_MAX];
}

struct filter *filter_new(void)
{
	return calloc(1, sizeof(struct filter));
}

void filter_free(struct filter *f)
{
	free(f);
}

void filter_reset(struct filter *f)
{
	memset(f, 0, sizeof(*f));
}

int filter_count(const struct filter *f)
{
	return f->n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct fit {
	double a, b, var_a, var_b, cov_ab, jitter, med;
	int runs_ok;
	double w[FILTER_MAX];
};

/* Weighted fit of samples [start, n). */
static void fit_range(const struct filter *f, int start, struct fit *r)
{
	double x[FILTER_MAX], y[FILTER_MAX], w[FILTER_MAX], d[FILTER_MAX];
	double dmin = INFINITY, s0, W = 0, xm = 0, ym = 0, sxx = 0, sxy = 0;
	double ss = 0, uss = 0, s2, med;
	int64_t tl = cat(f, f->n - 1)->t;
	int i, m = f->n - start, npos = 0, nneg = 0, runs = 0, last = 0;

	for (i = 0; i < m; i++) {
		const struct filter_sample *s = cat(f, start + i);

		x[i] = (double)(s->t - tl) * 1e-9;
		y[i] = s->offset;
		if (s->delay < dmin)
			dmin = s->delay;
	}
	for (i = 0; i < m; i++)
		d[i] = cat(f, start + i)->delay - dmin;
	memcpy(w, d, sizeof(double) * (size_t)m);
	qsort(w, (size_t)m, sizeof(double), cmp_double);
	med = (m % 2) ? w[m / 2] : 0.5 * (w[m / 2 - 1] + w[m / 2]);
	r->med = med;
	s0 = FILTER_S0_MEDIAN * med / sqrt(12.0);
	if (s0 < FILTER_PREC)
		s0 = FILTER_PREC;
	for (i = 0; i < m; i++) {
		w[i] = s0 * s0 / (s0 * s0 + d[i] * d[i] / 12.0);
		r->w[i] = w[i];
		W += w[i];
		xm += w[i] * x[i];
		ym += w[i] * y[i];
	}
	xm /= W;
	ym /= W;
	for (i = 0; i < m; i++) {
		sxx += w[i] * (x[i] - xm) * (x[i] - xm);
		sxy += w[i] * (x[i] - xm) * (y[i] - ym);
	}
	/* Two samples determine no usable frequency: keep it at zero. */
	r->b = (m >= 3 && sxx > 0) ? sxy / sxx : 0.0;
	r->a = ym - r->b * xm;
	for (i = 0; i < m; i++) {
		double res = y[i] - (r->a + r->b * x[i]);
		int sign = res > 0 ? 1 : res < 0 ? -1 : 0;

		ss += w[i] * res * res;
		uss += res * res;
		if (sign) {
			if (sign != last)
				runs++;
			last = sign;
			if (sign > 0)
				npos++;
			else
				nneg++;
		}
	}
	/* RFC 5905's peer jitter is the plain RMS of the offsets' spread:
	 * the scale the cluster step compares the sources' disagreement
	 * with (a weighted RMS would make asymmetric paths look like
	 * outliers and prune them, losing the averaging of their biases). */
	r->jitter = sqrt(uss / m);
	if (m >= 3) {
		s2 = ss / (m - 2);
	} else if (m == 2) {
		s2 = ss;
	} else {
		s2 = s0 * s0;
	}
	if (s2 < 1e-14)
		s2 = 1e-14;
	if (m >= 3 && sxx > 0) {
		r->var_b = s2 / sxx;
		r->var_a = s2 * (1.0 / W + xm * xm / sxx);
		r->cov_ab = -s2 * xm / sxx;
	} else {
		r->var_b = FILTER_WORST_FREQ * FILTER_WORST_FREQ;
		r->var_a = s2 / W;
		r->cov_ab = 0;
	}
	r->runs_ok = 1;
	if (npos && nneg) {
		double nn = npos + nneg;
		double e = 1.0 + 2.0 * npos * nneg / nn;
		double v = 2.0 * npos * nneg * (2.0 * npos * nneg - nn) /
			   (nn * nn * (nn - 1.0));

		if (v > 0 && runs < e - FILTER_RUNS_Z * sqrt(v))
			r->runs_ok = 0;
	}
}

static double sample_path(const struct filter_sample *s)
{
	return 0.5 * (s->root_delay + s->delay) + s->root_disp + s->disp;
}

static double sample_distance(const struct filter_sample *s, int64_t now)
{
	return sample_path(s) + FILTER_PHI * fabs((double)(now - s->t) * 1e-9);
}

static void refit(struct filter *f)
{
	struct fit r;
	int start = 0, i;
	int64_t tl;
	double bd = INFINITY;

	for (;;) {
		fit_range(f, start, &r);
		if (r.runs_ok || f->n - start <= FILTER_MIN_KEEP)
			break;
		i = (f->n - start) / 4;
		if (i < 1)
			i = 1;
		if (f->n - start - i < FILTER_MIN_KEEP)
			i = f->n - start - FILTER_MIN_KEEP;
		start += i;
	}
	/* Samples that no longer fit are gone for good. */
	f->head = (f->head + start) % FILTER_MAX;
	f->n -= start;
	f->fit_n = f->n;
	f->a = r.a;
	f->b = r.b;
	f->var_a = r.var_a;
	f->var_b = r.var_b;
	f->cov_ab = r.cov_ab;
	f->jitter = r.jitter;
	memcpy(f->w, r.w, sizeof(double) * (size_t)f->n);
	tl = at(f, f->n - 1)->t;
	f->path = INFINITY;
	for (i = 0; i < f->n; i++) {
		double dist = sample_distance(at(f, i), tl);

		if (dist < bd) {
			bd = dist;
			f->best = i;
		}
		if (sample_path(at(f, i)) < f->path)
			f->path = sample_path(at(f, i));
	}
	/*
	 * The fastest of n exchanges is still above the path's floor by
	 * something that grows with the delay jitter and shrinks with n. With
	 * exponential jitter of scale T each way the round trip's excess near
	 * 0 has density x / T^2, so the fastest of n is above the floor by a
	 * Rayleigh amount of scale T / sqrt(n) (mean 1.25, sd 0.66 of that);
	 * the median extra delay is about 1.7 T. In path bound units (half
	 * the round trip) one sd is about 0.2 x median / sqrt(n).
	 */
	f->path_err = FILTER_PATH_ERR * r.med / sqrt((double)f->n);
}

void filter_add(struct filter *f, const struct filter_sample *s)
{
	if (f->n && s->t <= at(f, f->n - 1)->t)
		filter_reset(f);
	if (f->n == FILTER_MAX) {
		f->head = (f->head + 1) % FILTER_MAX;
		f->n--;
	}
	*at(f, f->n) = *s;
	f->n++;
	refit(f);
}

void filter_shift(struct filter *f, double delta)
{
	int i;

	if (!f->n)
		return;
	for (i = 0; i < f->n; i++)
		at(f, i)->offset += delta;
	refit(f);
}

int filter_offset_at_freq(const struct filter *f, int64_t now, double freq,
			  double *offset)
{
	double W = 0, sum = 0;
	int i;

	if (!f->n)
		return -1;
	for (i = 0; i < f->n; i++) {
		const struct filter_sample *s = cat(f, i);

		W += f->w[i];
		sum += f->w[i] * (s->offset + freq * (double)(now - s->t) * 1e-9);
	}
	*offset = sum / W;
	return 0;
}

void filter_estimate(const struct filter *f, int64_t now,
		     struct filter_est *o)
{
	const struct filter_sample *last, *best;
	double dt, var;

	memset(o, 0, sizeof(*o));
	if (!f->n)
		return;
	last = cat(f, f->n - 1);
	best = cat(f, f->best);
	dt = (double)(now - last->t) * 1e-9;
	var = f->var_a + dt * dt * f->var_b + 2.0 * dt * f->cov_ab;
	if (var < 0)
		var = 0;
	o->n = f->fit_n;
	o->t = now;
	o->offset = f->a + f->b * dt;
	o->offset_sd = sqrt(var);
	o->freq = f->b;
	o->freq_sd = sqrt(f->var_b);
	o->jitter = f->jitter;
	o->root_delay = best->root_delay + best->delay;
	o->root_disp = best->root_disp + best->disp +
		       FILTER_PHI * fabs((double)(now - best->t) * 1e-9);
	/*
	 * The interval must hold the true offset: the best sample's own bound
	 * (half the root delay plus root dispersion, aged) around the
	 * estimate, widened by its statistical uncertainty.
	 */
	o->root_dist = sample_distance(best, now);
	o->path_dist = f->path;
	o->path_err = f->path_err;
	o->distance = o->root_dist + 2.0 * o->offset_sd +
		      fabs(o->offset - (best->offset + f->b * (double)(now -
						best->t) * 1e-9));
	o->last_offset = last->offset;
	o->last_delay = last->delay;
	o->last_t = last->t;
	o->stratum = last->stratum;
	o->leap = last->leap;
}
