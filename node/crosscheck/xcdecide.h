/*
 * xcdecide: the self-suspicion rule, pure (no clock, no sockets), so that
 * every case is a table row in tests/unit/test_xcdecide.c.
 *
 * One check: n = 1 + the peers that answered in the last 3 checks. Each
 * peer's correctness interval is its offset from us +- (delay/2 +
 * dispersion + its root distance); ours is 0 +- our root distance. The
 * largest set of intervals that share a point (Marzullo's algorithm, as in
 * RFC 5905 selection) decides:
 *   ok         our interval is in such a set of more than n/2,
 *   candidate  such a majority set exists and ours is in none of them,
 *   unknown    otherwise, and always with n < 3 (two members are not a
 *              majority of three; a member that measures one peer decides
 *              nothing).
 * Intervals, never a bare threshold on offsets: a peer behind a slow,
 * asymmetric path has a wide interval, which still holds the truth.
 *
 * Over checks (xcd_step): a member becomes a suspect at its 2nd
 * consecutive candidate check and claims sync again only after 3
 * consecutive ok checks; unknown never clears a suspicion.
 */
#ifndef NTPMC_XCDECIDE_H
#define NTPMC_XCDECIDE_H

#include <stdint.h>

#define XCD_MAX_PEERS 64
#define XCD_SUSPECT_AFTER 2     /* consecutive candidate checks */
#define XCD_CLEAR_AFTER 3       /* consecutive ok checks */

enum xcd_result { XCD_UNKNOWN, XCD_OK, XCD_CANDIDATE };

/* A peer that answered: its offset from us (peer minus us, s) and the
 * half width of its correctness interval (s). */
struct xcd_peer {
	uint64_t id;
	double offset;
	double half;
};

struct xcd_decision {
	enum xcd_result result;
	int n;                  /* 1 + peers */
	int best;               /* intervals in the largest intersecting set */
	double lo, hi;          /* where they intersect (offsets from us) */
	/* The peers of that set (ours is in it iff result is ok). */
	int n_with;
	uint64_t with[XCD_MAX_PEERS];
	/* Us minus the median of the peers' offsets, s (n > 1). */
	double from_median;
};

/* own_half: our root distance (s); p: the peers, at most XCD_MAX_PEERS
 * (more are ignored). Non-finite values make that peer count as not
 * answered. */
void xcd_decide(double own_half, const struct xcd_peer *p, int np,
		struct xcd_decision *out);

/* The member's state across checks. */
struct xcd_state {
	int suspect;
	int cand_run;           /* consecutive candidate checks */
	int ok_run;             /* consecutive ok checks while suspect */
};

enum xcd_verdict { XCD_V_UNKNOWN, XCD_V_OK, XCD_V_SUSPECT };

/* Folds one check into st; returns the verdict now: suspect while st
 * says so, else ok or unknown from this check (a first candidate check
 * shows as unknown). *changed is set when suspect began or ended. */
enum xcd_verdict xcd_step(struct xcd_state *st, enum xcd_result r,
			  int *changed);

const char *xcd_result_name(enum xcd_result r);

#endif
