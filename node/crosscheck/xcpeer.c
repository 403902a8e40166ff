/* One member's samples and the min-delay filter: see xcpeer.h. */
#include "node/crosscheck/xcpeer.h"

#include <math.h>
#include <string.h>

#include "node/ntp/ntp.h"
#include "node/ntp/tstate.h"

int xcp_parse_reply(const uint8_t *buf, size_t len,
		    const uint8_t key[PMAC_KEY_LEN], uint32_t want_id,
		    struct xcp_request *req, int64_t t4_ns, double corr,
		    int precision, struct xcp_sample *out)
{
	struct ntp_hdr h;
	int64_t t2, t3;
	double d1, d2, rd;

	if (len != PMAC_LEN || pmac_peek_id(buf, len) != want_id ||
	    pmac_verify(buf, len, key) < 0)
		return XCP_EAUTH;
	ntp_decode(buf, &h);
	if (h.mode != NTP_MODE_SERVER || !req->pending || h.org != req->cookie)
		return XCP_ESTALE;
	req->pending = 0;
	if (h.leap == NTP_LEAP_UNSYNC || h.stratum == 0 || h.stratum >= 16)
		return XCP_EUNSYNC;
	/* The peer's time in the era nearest ours: within 68 years. */
	t2 = ntp_ts_to_ns(h.rec, req->t1_ns);
	t3 = ntp_ts_to_ns(h.xmt, req->t1_ns);
	rd = ntp_short_to_s(h.root_delay) / 2 + ntp_short_to_s(h.root_disp);
	if (t4_ns < req->t1_ns || t3 < t2 || rd > XCP_MAX_ROOT_DIST ||
	    h.precision > 0 || h.precision < -32)
		return XCP_EBOGUS;
	/* In doubles of differences: the peer may be far off, never
	 * overflowing. */
	d1 = (double)(t2 - req->t1_ns) / 1e9;   /* T2 - T1 */
	d2 = (double)(t3 - t4_ns) / 1e9;        /* T3 - T4 */
	memset(out, 0, sizeof(*out));
	out->check = req->check;
	out->t_ns = t4_ns;
	out->offset = (d1 + d2) / 2;
	out->delay = (double)(t4_ns - req->t1_ns) / 1e9 -
		     (double)(t3 - t2) / 1e9;
	out->disp = ldexp(1.0, precision) + ldexp(1.0, h.precision);
	/* A peer that says it held the request longer than the round trip
	 * took lies about its timestamps. */
	if (out->delay < -out->disp)
		return XCP_EBOGUS;
	/* RFC 5905 8: a delay below the precision is the precision */
	if (out->delay < out->disp)
		out->delay = out->disp;
	out->corr = corr;
	out->root_dist = rd;
	out->stratum = h.stratum;
	return XCP_OK;
}

void xcp_add(struct xcp_peer *p, const struct xcp_sample *s)
{
	int i, old = 0;

	if (p->n < XCP_WINDOW) {
		p->s[p->n++] = *s;
		return;
	}
	for (i = 1; i < p->n; i++)
		if (p->s[i].check < p->s[old].check)
			old = i;
	p->s[old] = *s;
}

int xcp_best(const struct xcp_peer *p, int64_t check, int64_t now_ns,
	     double corr_now, double *offset, double *half, double *delay)
{
	const struct xcp_sample *b = NULL;
	double age;
	int i;

	for (i = 0; i < p->n; i++) {
		const struct xcp_sample *s = &p->s[i];

		if (s->check <= check - XCP_WINDOW || s->check > check)
			continue;
		if (!b || s->delay < b->delay)
			b = s;
	}
	if (!b)
		return -1;
	age = (double)(now_ns - b->t_ns) / 1e9;
	if (age < 0)
		age = 0;
	/* Our correction moved by c since: the peer is c further behind. */
	*offset = b->offset - (corr_now - b->corr);
	*delay = b->delay;
	*half = b->delay / 2 + b->disp + TSTATE_PHI * age + b->root_dist;
	return 0;
}
