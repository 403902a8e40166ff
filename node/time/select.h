/*
 * Source selection (RFC 5905 section 11.2 with chrony's majority rule):
 * Marzullo intersection of the correctness intervals [offset - distance,
 * offset + distance], falsetickers outside the largest intersection,
 * clustering, then a weighted combination of the survivors.
 * Pure: the caller says which sources are usable and reachable.
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
	double jitter;     /* s */
	double freq;       /* s/s */
	double freq_sd;    /* s/s; >= 1e-4 means no usable frequency */
	int leap;          /* LI; -1: no vote (a smearing source hides leaps) */
	int stratum;
};

enum select_state {
	SELECT_UNUSABLE,   /* the caller's reason applies */
	SELECT_FALSETICKER,
	SELECT_CANDIDATE,  /* truechimer, not combined (cluster/limit) */
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
	double lo, hi;      /* the intersection */
	double offset;      /* combined offset, s */
	double freq;        /* combined frequency, s/s */
	int freq_ok;        /* some combined source had a usable frequency */
	double jitter;      /* selection jitter of the combined set, s */
	int leap;           /* majority of the combined sources' LI votes */
};

const char *select_result_str(enum select_result r);
const char *select_state_str(enum select_state s);

/* n <= SELECT_MAX; fills out and state[n]. */
void select_run(const struct select_in *in, int n,
		const struct select_params *p, struct select_out *out,
		enum select_state *state);

#endif
