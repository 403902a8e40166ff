/*
 * Reply validation: every spoof and malformed case is dropped and counted,
 * never reaches the filter; KoD only with our cookie; RATE backs off, DENY
 * stops. Also checks the offset/delay arithmetic and the poll schedule.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/time/filter.h"
#include "node/ntp/ntp.h"
#include "node/time/source.h"

#define S 1000000000LL
#define T0 (1800000000LL * S) /* 2027 */

static const struct source_params params = {
	.minpoll = 0, .maxpoll = 4, .iburst = 0,
};

/* A well-formed reply to req: server 5 ms ahead, 2 ms each way. */
static void make_reply(const uint8_t *req, uint8_t *out, int64_t t1)
{
	struct ntp_hdr q, h;

	ntp_decode(req, &q);
	memset(&h, 0, sizeof(h));
	h.leap = 0;
	h.version = 4;
	h.mode = NTP_MODE_SERVER;
	h.stratum = 1;
	h.precision = -20;
	h.root_delay = ntp_short_from_s(0.001);
	h.root_disp = ntp_short_from_s(0.001);
	h.refid = 0x47505300; /* "GPS" */
	h.org = q.xmt;
	h.rec = ntp_ts_from_ns(t1 + 2000000 + 5000000);
	h.xmt = ntp_ts_from_ns(t1 + 2000000 + 5000000 + 100000);
	h.ref = h.rec;
	ntp_encode(&h, out);
}

static int64_t t4_of(int64_t t1)
{
	return t1 + 4000000 + 100000;
}

static void test_good_reply(void **st)
{
	struct source *s = source_new(&params);
	uint8_t req[48], rep[48];
	struct filter_est e;
	struct source_info info;

	(void)st;
	source_request(s, req, T0);
	make_reply(req, rep, T0);
	assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL), SOURCE_OK);
	filter_estimate(source_filter(s), T0, &e);
	assert_int_equal(e.n, 1);
	assert_true(fabs(e.last_offset - 0.005) < 1e-8);
	assert_true(fabs(e.last_delay - 0.004) < 1e-8);
	source_get_info(s, &info);
	assert_int_equal(info.reach, 1);
	assert_int_equal(info.stratum, 1);
	/* the same reply again is a duplicate */
	assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL),
			 SOURCE_UNEXPECTED);
	source_free(s);
}

typedef void (*mutate_fn)(struct ntp_hdr *h);

static void m_origin(struct ntp_hdr *h) { h->org ^= 1; }
static void m_mode(struct ntp_hdr *h) { h->mode = 3; }
static void m_mode5(struct ntp_hdr *h) { h->mode = 5; }
static void m_version(struct ntp_hdr *h) { h->version = 0; }
static void m_version5(struct ntp_hdr *h) { h->version = 5; }
static void m_zero_rec(struct ntp_hdr *h) { h->rec = 0; }
static void m_zero_xmt(struct ntp_hdr *h) { h->xmt = 0; }
static void m_stratum0(struct ntp_hdr *h) { h->stratum = 0; h->refid = 0x58585858; }
static void m_stratum16(struct ntp_hdr *h) { h->stratum = 16; }
static void m_unsync(struct ntp_hdr *h) { h->leap = 3; }
static void m_rootdist(struct ntp_hdr *h) { h->root_disp = ntp_short_from_s(20.0); }
static void m_rootdelay(struct ntp_hdr *h) { h->root_delay = 0xffffffffu; }
static void m_backwards(struct ntp_hdr *h) { h->xmt = h->rec - (1ULL << 32); }
static void m_kod_spoofed(struct ntp_hdr *h)
{
	h->org ^= 0x100;
	h->stratum = 0;
	h->leap = 3;
	h->refid = 0x44454e59; /* DENY */
}
static void m_rate_spoofed(struct ntp_hdr *h)
{
	h->org = 0;
	h->stratum = 0;
	h->leap = 3;
	h->refid = 0x52415445; /* RATE */
}

static void test_spoofed_and_malformed(void **st)
{
	static const struct {
		mutate_fn fn;
		enum source_verdict want;
	} cases[] = {
		{ m_origin, SOURCE_BAD_ORIGIN },
		{ m_mode, SOURCE_BAD_MODE },
		{ m_mode5, SOURCE_BAD_MODE },
		{ m_version, SOURCE_BAD_VERSION },
		{ m_version5, SOURCE_BAD_VERSION },
		{ m_zero_rec, SOURCE_ZERO_TS },
		{ m_zero_xmt, SOURCE_ZERO_TS },
		{ m_stratum0, SOURCE_BAD_KOD },
		{ m_stratum16, SOURCE_BAD_STRATUM },
		{ m_unsync, SOURCE_UNSYNC },
		{ m_rootdist, SOURCE_BAD_DISTANCE },
		{ m_rootdelay, SOURCE_BAD_DISTANCE },
		{ m_backwards, SOURCE_BAD_TIMES },
		{ m_kod_spoofed, SOURCE_BAD_ORIGIN },
		{ m_rate_spoofed, SOURCE_BAD_ORIGIN },
	};
	struct source *s = source_new(&params);
	uint8_t req[48], rep[48];
	struct ntp_hdr h;
	struct source_info info;
	size_t i;

	(void)st;
	source_request(s, req, T0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_reply(req, rep, T0);
		ntp_decode(rep, &h);
		cases[i].fn(&h);
		ntp_encode(&h, rep);
		assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL),
				 cases[i].want);
		/* nothing reached the filter, the source is not reached */
		assert_int_equal(filter_count(source_filter(s)), 0);
		source_get_info(s, &info);
		assert_int_equal(info.reach, 0);
		assert_int_equal(info.denied, 0);
	}
	/* short datagrams */
	make_reply(req, rep, T0);
	assert_int_equal(source_reply(s, rep, 47, t4_of(T0), NULL),
			 SOURCE_BAD_LENGTH);
	assert_int_equal(source_reply(s, rep, 0, t4_of(T0), NULL),
			 SOURCE_BAD_LENGTH);
	source_get_info(s, &info);
	assert_int_equal(info.bad[SOURCE_BAD_ORIGIN], 3);
	assert_int_equal(info.bad[SOURCE_BAD_LENGTH], 2);
	/* the genuine reply still works afterwards */
	assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL), SOURCE_OK);
	source_free(s);
}

/* A reply with no request outstanding (e.g. KoD from a non-source). */
static void test_unsolicited(void **st)
{
	struct source *s = source_new(&params);
	uint8_t req[48] = { 0 }, rep[48];

	(void)st;
	make_reply(req, rep, T0);
	assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL),
			 SOURCE_UNEXPECTED);
	source_free(s);
}

static void kod(const uint8_t *req, uint8_t *rep, uint32_t code)
{
	struct ntp_hdr h;

	make_reply(req, rep, T0);
	ntp_decode(rep, &h);
	h.stratum = 0;
	h.leap = 3;
	h.refid = code;
	ntp_encode(&h, rep);
}

static void test_kod_rate_backs_off(void **st)
{
	struct source *s = source_new(&params);
	uint8_t req[48], rep[48];
	struct source_info info;
	int64_t iv;

	(void)st;
	source_request(s, req, T0);
	kod(req, rep, 0x52415445);
	assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL),
			 SOURCE_KOD_RATE);
	source_get_info(s, &info);
	assert_int_equal(info.poll, 1);
	assert_int_equal(info.denied, 0);
	iv = source_request(s, req, T0 + S);
	assert_true(iv >= 18 * S / 10 && iv <= 22 * S / 10);
	source_free(s);
}

static void test_kod_deny_stops(void **st)
{
	struct source *s = source_new(&params);
	uint8_t req[48], rep[48];
	struct source_info info;

	(void)st;
	source_request(s, req, T0);
	kod(req, rep, 0x52535452); /* RSTR */
	assert_int_equal(source_reply(s, rep, 48, t4_of(T0), NULL),
			 SOURCE_KOD_DENY);
	source_get_info(s, &info);
	assert_int_equal(info.denied, 1);
	assert_int_equal(filter_count(source_filter(s)), 0);
	source_free(s);
}

static void test_poll_schedule(void **st)
{
	struct source_params p = { .minpoll = -2, .maxpoll = -2, .iburst = 1 };
	struct source *s = source_new(&p);
	uint8_t req[48];
	int64_t iv;
	int i;

	(void)st;
	/* iburst: 4 requests at half the minpoll interval */
	for (i = 0; i < 4; i++) {
		iv = source_request(s, req, T0 + i * S);
		assert_true(iv >= 112500000 && iv <= 137500000);
	}
	iv = source_request(s, req, T0 + 5 * S);
	assert_true(iv >= 225000000 && iv <= 275000000);
	source_free(s);
	/* unanswered polls shift zeros into reach */
	s = source_new(&params);
	for (i = 0; i < 10; i++)
		source_request(s, req, T0 + i * S);
	{
		struct source_info info;

		source_get_info(s, &info);
		assert_int_equal(info.reach, 0);
		assert_int_equal(info.sent, 10);
	}
	source_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_reply),
		cmocka_unit_test(test_spoofed_and_malformed),
		cmocka_unit_test(test_unsolicited),
		cmocka_unit_test(test_kod_rate_backs_off),
		cmocka_unit_test(test_kod_deny_stops),
		cmocka_unit_test(test_poll_schedule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
