/*
 * Per-source sample filter: a delay-weighted linear regression of the
 * measured offsets over time (offset and frequency of the local clock
 * against the source), in the spirit of chrony's sourcestats but our own
 * model. A sample's offset error is bounded by half its extra round-trip
 * delay, so its variance is modelled as s0^2 + (delay - min delay)^2 / 12:
 * late or delayed replies get little weight and cannot pull the estimate.
 * A runs test on the residuals drops old samples once they no longer fit
 * one line (frequency change, step), down to a small minimum.
 */
#ifndef NTPMC_FILTER_H
#define NTPMC_FILTER_H

#include <stdint.h>

#define FILTER_MAX 64

struct filter_sample {
	int64_t t;          /* local (uncorrected) time of the exchange, ns */
	double offset;      /* reference - local, s */
	double delay;       /* round-trip delay, s (>= 0) */
	double disp;        /* sample dispersion: precisions + PHI * (T4-T1) */
	double root_delay;  /* server's, s */
	double root_disp;   /* server's, s */
	int stratum;
	int leap;
};

struct filter_est {
	int n;              /* samples in the regression; 0 = no estimate */
	int64_t t;          /* time the estimate refers to, ns */
	double offset;      /* estimated offset at t, s */
	double offset_sd;   /* its standard error, s */
	double freq;        /* d offset / dt, s/s (0 when n < 3) */
	double freq_sd;     /* standard error of freq, s/s */
	double jitter;      /* rms of the residuals (RFC 5905 peer jitter), s */
	double distance;    /* half-width of the correctness interval, s */
	double root_dist;   /* the best sample's root distance, aged, s */
	double path_dist;   /* the path's bound: the smallest root distance
			       of the samples, not aged, s */
	double path_err;    /* how far path_dist may still be above the
			       path's floor (few samples, jitter), s */
	double root_delay;  /* server's root delay + our delay (best sample) */
	double root_disp;   /* server's root dispersion + sample disp + ageing */
	double last_offset; /* newest raw sample */
	double last_delay;
	int64_t last_t;
	int stratum;
	int leap;
};

struct filter;

struct filter *filter_new(void);
void filter_free(struct filter *f);
void filter_reset(struct filter *f);
/* Adds a sample (older than the newest: history reset). Re-fits. */
void filter_add(struct filter *f, const struct filter_sample *s);
int filter_count(const struct filter *f);
/* The reference's scale stepped (a leap second applied to the virtual
 * correction): every stored offset moves by delta s, and the fit. */
void filter_shift(struct filter *f, double delta);
/*
 * Offset at now given a frequency known better than this source alone can
 * tell (the combined frequency of all agreeing sources: the local clock's
 * frequency error is common to them): the weighted mean of the samples
 * moved along that frequency. Its error is the mean's, not the larger one
 * of a regression line's end point. Returns -1 without samples.
 */
int filter_offset_at_freq(const struct filter *f, int64_t now, double freq,
			  double *offset);
/* The estimate extrapolated to time now (ns). */
void filter_estimate(const struct filter *f, int64_t now,
		     struct filter_est *out);

#endif
