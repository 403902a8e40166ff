/*
 * xcpeer: what we measured of one member. A sample comes from one
 * authenticated four-timestamp exchange (RFC 5905 8: offset
 * ((T2-T1)+(T3-T4))/2, delay (T4-T1)-(T3-T2)); a member keeps the samples
 * of its last XCP_WINDOW checks and the one with the smallest delay
 * stands for it (the min-delay filter of RFC 5905 10 over at most three
 * samples, so a fault shows within three checks). Pure.
 */
#ifndef NTPMC_XCPEER_H
#define NTPMC_XCPEER_H

#include <stddef.h>
#include <stdint.h>

#include "node/ntp/pmac.h"

#define XCP_WINDOW 3            /* checks a sample counts for */
/* A root distance above this is no claim at all (chrony's maxdistance). */
#define XCP_MAX_ROOT_DIST 3.0

/* Why a reply is not a sample (counted per member). */
enum xcp_err {
	XCP_OK = 0,
	XCP_EAUTH = -1,         /* length, key id or tag: not the member's */
	XCP_ESTALE = -2,        /* not the answer to our outstanding request */
	XCP_EUNSYNC = -3,       /* LI 3 or stratum 0: it claims nothing */
	XCP_EBOGUS = -4,        /* impossible timestamps or root distance */
};

struct xcp_sample {
	int64_t check;          /* the check it was sent in */
	int64_t t_ns;           /* our served time when it came back */
	double offset;          /* peer minus us, s, at t_ns */
	double corr;            /* our correction (served - raw) then, s */
	double delay;           /* round trip without the peer's time, s */
	double disp;            /* both precisions, s */
	double root_dist;       /* the peer's root delay/2 + dispersion, s */
	int stratum;
};

/* The request we sent and are waiting for. */
struct xcp_request {
	uint64_t cookie;        /* our transmit field, echoed as origin */
	int64_t t1_ns;          /* our served time when it left */
	int64_t check;
	int pending;
};

/*
 * A reply to req: checks the tag with key and that the sender is want_id,
 * then the exchange (our t4_ns, served, and corr = served - raw then);
 * precision: ours, log2 s. Returns XCP_OK and fills out, or why not. The
 * request is done with whatever the answer (a second reply is stale).
 */
int xcp_parse_reply(const uint8_t *buf, size_t len,
		    const uint8_t key[PMAC_KEY_LEN], uint32_t want_id,
		    struct xcp_request *req, int64_t t4_ns, double corr,
		    int precision, struct xcp_sample *out);

struct xcp_peer {
	struct xcp_sample s[XCP_WINDOW];
	int n;
};

void xcp_add(struct xcp_peer *p, const struct xcp_sample *s);
/*
 * The sample that stands for the peer at check `check` (samples from
 * checks check-2 .. check): the smallest delay. Its offset is moved by our
 * own correction change since (our steps and slews are not the peer's),
 * its dispersion grown at 15 ppm for its age. Returns 0 and the offset and
 * the interval's half width (delay/2 + dispersion + root distance), -1
 * when the peer did not answer in the window.
 */
int xcp_best(const struct xcp_peer *p, int64_t check, int64_t now_ns,
	     double corr_now, double *offset, double *half, double *delay);

#endif
