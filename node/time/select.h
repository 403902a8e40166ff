/*
 * Source selection (RFC 5905 section 11.2 with chrony's majority rule):
 * Marzullo intersection of the correctness intervals [offset - distance,
 * offset + distance], falsetickers outside the largest intersection, then
 * a weighted combination of the survivors within the combine limit.
 * Pure: the caller says which sources are usable and reachable, and which
 * it still holds out of the combination (see select_in.distant).
 */
#ifndef NTPMC_SELECT_H
#define NTPMC_SELECT_H

#define SELECT_MAX 64

struct select_in {
	int usable;        /* has an estimate and passes the caller's checks */
	int reachable;     /* counts for the majority (reach != 0, no KoD) */
	int prefer;
	double offset;     /* estimated offset now, s */
	double distance;   /* half-width of the correctness interval, s */
	double weight_dist; /* root distance for combining (0: distance) */
	double path_dist;  /* the path's bound, not aged (0: weight_dist) */
	double path_err;   /* its uncertainty, s */
	double freq;       /* s/s */
	double freq_sd;    /* s/s; >= 1e-4 means no usable frequency */
	int leap;          /* LI; -1: no vote (a smearing source hides leaps) */
	int stratum;
	int distant;       /* > 0: held out of the combination: it was beyond
			      the combine limit recently (the caller counts
			      its samples down, see select_out.best_dist) */
};

enum select_state {
	SELECT_UNUSABLE,   /* the caller's reason applies */
	SELECT_FALSETICKER,
	SELECT_CANDIDATE,  /* truechimer, not combined (estimate outside the
			      intervals of most truechimers, or beyond the
			      combine limit now or lately) */
	SELECT_COMBINED,   /* truechimer used in the combination */
	SELECT_SELECTED,   /* the system peer (also combined) */
};

enum select_result {
	SELECT_OK,
	SELECT_NO_SOURCES,   /* nothing usable */
	SELECT_WAITING,      /* first claim: too few sources answered yet */
	SELECT_NO_MAJORITY,  /* agreement is not a strict majority */
	SELECT_TOO_FEW,      /* fewer than minsources agree */
};

struct select_params {
	int minsources;     /* chrony's minsources, >= 1 */
	int min_usable;     /* first-claim wait: usable sources needed */
	double combinelimit; /* combine sources with distance <= this x best */
	int prev_sys;       /* previous system peer index or -1 (stickiness) */
};

struct select_out {
	enum select_result result;
	int agree;          /* sources in the largest intersection */
	int reachable;      /* sources counted for the majority */
	int sys;            /* system peer index, -1 if none */
	int ncombined;
	double best_dist;   /* smallest weighting distance of the survivors:
			       the combine limit is combinelimit x this */
	double best_path;   /* smallest path bound of the survivors */
	double best_path_err; /* that one's uncertainty */
	double lo, hi;      /* the intersection */
	double offset;      /* combined offset, s */
	double freq;        /* combined frequency, s/s */
	int freq_ok;        /* some combined source had a usable frequency */
	double jitter;      /* selection jitter of the combined set, s */
	int leap;           /* majority of the combined sources' LI votes */
};

/*
 * A survivor's combining weight: the inverse of the variance of the error
 * its path can put into its offset (out: the run's best_path).
 * - What its delay does not show: the asymmetry of its own path, taken
 *   as a standard deviation of 5 % of its root distance (weight_dist),
 *   so equally long paths weigh alike.
 * - What its delay shows: its path bound exceeds the shortest survivor's
 *   by e, counted beyond what the two bounds may still be off by
 *   (path_err: few samples, jittery paths). Extra delay on a longer route
 *   (a detour, a slower link) usually lies in one direction and moves the
 *   offset by up to e: uniform in [-e, e], variance e^2 / 3. The higher
 *   delay is the only visible hint of that asymmetry.
 * chrony and RFC 5905 weight by 1 / root distance.
 */
double select_weight(const struct select_in *s, const struct select_out *out);

const char *select_result_str(enum select_result r);
const char *select_state_str(enum select_state s);

/* n <= SELECT_MAX; fills out and state[n]. */
void select_run(const struct select_in *in, int n,
		const struct select_params *p, struct select_out *out,
		enum select_state *state);

#endif
