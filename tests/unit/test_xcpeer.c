/*
 * One member's samples (node/crosscheck/xcpeer.h): a reply turned into
 * offset and delay from four timestamps; replies that are not the
 * member's, not the answer, unsynchronized or impossible refused; the
 * min-delay filter over the last three checks; our own correction steps
 * taken out of old samples.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/crosscheck/xcpeer.h"
#include "node/ntp/ntp.h"

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC)

static uint8_t key[PMAC_KEY_LEN];

/* The peer's reply: its clock `off` s ahead of ours, `fwd`/`ret` s of
 * path, `hold` s between receive and transmit. */
static void reply(uint8_t *b, const struct xcp_request *rq, double off,
		  double fwd, double hold, int li, int stratum)
{
	struct ntp_hdr h;
	int64_t t2 = rq->t1_ns + (int64_t)((fwd + off) * 1e9);

	memset(&h, 0, sizeof(h));
	h.leap = (uint8_t)li;
	h.version = 4;
	h.mode = NTP_MODE_SERVER;
	h.stratum = (uint8_t)stratum;
	h.precision = -20;
	h.root_delay = ntp_short_from_s(0.002);
	h.root_disp = ntp_short_from_s(0.001);
	h.org = rq->cookie;
	h.rec = ntp_ts_from_ns(t2);
	h.xmt = ntp_ts_from_ns(t2 + (int64_t)(hold * 1e9));
	ntp_encode(&h, b);
	pmac_sign(b, 77, key);
}

static void parse_reply(void **state)
{
	struct xcp_request rq = { 0x1122334455667788ULL, T0, 5, 1 };
	uint8_t b[PMAC_LEN], other[PMAC_KEY_LEN];
	struct xcp_sample s;
	int64_t t4;

	(void)state;
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	/* 20 ms ahead, 30 ms out, 10 ms back, 1 ms held: offset 20 + (30 -
	 * 10) / 2 = 30 ms, delay 40 ms */
	reply(b, &rq, 0.020, 0.030, 0.001, 0, 2);
	t4 = T0 + (int64_t)(0.041 * 1e9);
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0.5,
					 -20, &s), XCP_OK);
	assert_true(fabs(s.offset - 0.030) < 1e-6);
	assert_true(fabs(s.delay - 0.040) < 1e-6);
	assert_true(fabs(s.root_dist - 0.002) < 1e-4);
	assert_int_equal(s.check, 5);
	assert_int_equal(s.stratum, 2);
	assert_true(s.corr == 0.5);
	/* the request is answered: the same reply again is stale */
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0,
					 -20, &s), XCP_ESTALE);
	rq.pending = 1;
	/* another key, another sender, a flipped bit, a short packet */
	assert_int_equal(xcp_parse_reply(b, sizeof(b), other, 77, &rq, t4, 0,
					 -20, &s), XCP_EAUTH);
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 78, &rq, t4, 0,
					 -20, &s), XCP_EAUTH);
	b[30] ^= 1;
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0,
					 -20, &s), XCP_EAUTH);
	b[30] ^= 1;
	assert_int_equal(xcp_parse_reply(b, NTP_HDR_LEN, key, 77, &rq, t4, 0,
					 -20, &s), XCP_EAUTH);
	assert_true(rq.pending);
	/* an answer to another request */
	rq.cookie++;
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0,
					 -20, &s), XCP_ESTALE);
	/* unsynchronized peers claim nothing */
	reply(b, &rq, 0, 0.001, 0, 3, 2);
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0,
					 -20, &s), XCP_EUNSYNC);
	rq.pending = 1;
	reply(b, &rq, 0, 0.001, 0, 0, 0);
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0,
					 -20, &s), XCP_EUNSYNC);
	/* held longer than the round trip took: lies */
	rq.pending = 1;
	reply(b, &rq, 0, 0.001, 0.5, 0, 2);
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq, t4, 0,
					 -20, &s), XCP_EBOGUS);
	/* a wildly wrong clock is a sample (its interval says so) */
	rq.pending = 1;
	reply(b, &rq, 3600.0, 0.001, 0, 0, 2);
	assert_int_equal(xcp_parse_reply(b, sizeof(b), key, 77, &rq,
					 T0 + 2000000, 0, -20, &s), XCP_OK);
	assert_true(fabs(s.offset - 3600.0) < 1e-3);
}

static struct xcp_sample mk(int64_t check, double off, double delay)
{
	struct xcp_sample s;

	memset(&s, 0, sizeof(s));
	s.check = check;
	s.t_ns = T0 + check * SEC;
	s.offset = off;
	s.delay = delay;
	s.disp = 2e-6;
	s.root_dist = 0.001;
	return s;
}

static void min_delay_filter(void **state)
{
	struct xcp_peer p = { 0 };
	struct xcp_sample s;
	double off, half, delay;

	(void)state;
	assert_int_equal(xcp_best(&p, 1, T0, 0, &off, &half, &delay), -1);
	s = mk(1, 0.010, 0.005);
	xcp_add(&p, &s);
	s = mk(2, 0.020, 0.001);
	xcp_add(&p, &s);
	s = mk(3, 0.030, 0.009);
	xcp_add(&p, &s);
	assert_int_equal(xcp_best(&p, 3, T0 + 3 * SEC, 0, &off, &half,
				  &delay), 0);
	assert_true(off == 0.020 && delay == 0.001);
	/* half width: delay/2 + dispersion grown for 1 s + root distance */
	assert_true(fabs(half - (0.0005 + 2e-6 + 15e-6 + 0.001)) < 1e-9);
	/* check 5: only check 3 is in the window */
	assert_int_equal(xcp_best(&p, 5, T0 + 5 * SEC, 0, &off, &half,
				  &delay), 0);
	assert_true(off == 0.030);
	/* a fourth sample replaces the oldest */
	s = mk(4, 0.040, 0.002);
	xcp_add(&p, &s);
	assert_int_equal(xcp_best(&p, 4, T0 + 4 * SEC, 0, &off, &half,
				  &delay), 0);
	assert_true(off == 0.020);
	assert_int_equal(xcp_best(&p, 5, T0 + 5 * SEC, 0, &off, &half,
				  &delay), 0);
	assert_true(off == 0.040);
	/* gone after three checks without an answer */
	assert_int_equal(xcp_best(&p, 7, T0 + 7 * SEC, 0, &off, &half,
				  &delay), -1);
}

/* Our correction stepped by +30 ms since a sample: the peer is 30 ms
 * further behind us now, whatever the sample said then. */
static void own_steps(void **state)
{
	struct xcp_peer p = { 0 };
	struct xcp_sample s = mk(1, -0.030, 0.001);
	double off, half, delay;

	(void)state;
	s.corr = -0.030;
	xcp_add(&p, &s);
	assert_int_equal(xcp_best(&p, 1, T0 + SEC, 0.0, &off, &half, &delay),
			 0);
	assert_true(fabs(off - (-0.060)) < 1e-12);
	assert_int_equal(xcp_best(&p, 1, T0 + SEC, -0.030, &off, &half,
				  &delay), 0);
	assert_true(fabs(off - (-0.030)) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_reply),
		cmocka_unit_test(min_delay_filter),
		cmocka_unit_test(own_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
