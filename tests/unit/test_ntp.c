/* NTP codec: round trips, malformed input, era arithmetic, reply rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/ntp/ntp.h"

#define NS 1000000000LL
/* 2036-02-07T06:28:16Z: NTP era 0 ends. */
#define ERA1_UNIX 2085978496LL

static uint64_t rnd64(void)
{
	return (uint64_t)random() << 42 ^ (uint64_t)random() << 21 ^
	       (uint64_t)random();
}

static void req_init(uint8_t *b, int version, int mode)
{
	memset(b, 0, 128);
	b[0] = (uint8_t)(version << 3 | mode);
}

static void test_roundtrip(void **state)
{
	struct ntp_hdr h, g;
	uint8_t buf[NTP_HDR_LEN], buf2[NTP_HDR_LEN];
	int i, j;

	srandom(1);
	for (i = 0; i < 10000; i++) {
		for (j = 0; j < NTP_HDR_LEN; j++)
			buf[j] = (uint8_t)random();
		memset(&h, 0, sizeof(h)); /* padding compared below */
		memset(&g, 0, sizeof(g));
		ntp_decode(buf, &h);
		ntp_encode(&h, buf2);
		assert_memory_equal(buf, buf2, NTP_HDR_LEN);
		ntp_decode(buf2, &g);
		assert_memory_equal(&h, &g, sizeof(h));
	}
	memset(&h, 0, sizeof(h));
	h.leap = 2;
	h.version = 4;
	h.mode = 4;
	h.stratum = 2;
	h.poll = -6;
	h.precision = -20;
	h.refid = 0x7f000001;
	h.xmt = 0x0102030405060708ull;
	ntp_encode(&h, buf);
	assert_int_equal(buf[0], 2 << 6 | 4 << 3 | 4);
	assert_int_equal(buf[2], 0xfa);
	assert_int_equal(buf[12], 0x7f);
	assert_int_equal(buf[15], 0x01);
	assert_int_equal(buf[40], 0x01);
	assert_int_equal(buf[47], 0x08);
}

static void test_lengths(void **state)
{
	uint8_t b[128];
	size_t len;
	enum ntp_class c;

	/* A v4 client request followed by len-48 zero bytes. */
	for (len = 0; len <= 100; len++) {
		req_init(b, 4, 3);
		c = ntp_classify(b, len);
		if (len < 48)
			assert_int_equal(c, NTP_DROP_SHORT);
		else if (len == 48)
			assert_int_equal(c, NTP_CLIENT);
		else if (len == 68 || len == 72)
			assert_int_equal(c, NTP_DROP_AUTH);
		else /* zero ext field length: malformed */
			assert_int_equal(c, NTP_DROP_SHORT);
	}
	/* Same for v3: no ext fields, only MACs. */
	for (len = 0; len <= 100; len++) {
		req_init(b, 3, 3);
		c = ntp_classify(b, len);
		if (len < 48)
			assert_int_equal(c, NTP_DROP_SHORT);
		else if (len == 48)
			assert_int_equal(c, NTP_CLIENT);
		else if (len == 68 || len == 72)
			assert_int_equal(c, NTP_DROP_AUTH);
		else
			assert_int_equal(c, NTP_DROP_SHORT);
	}
}

static void test_versions_modes(void **state)
{
	uint8_t b[128];
	int v, m;
	enum ntp_class c;

	for (v = 0; v < 8; v++) {
		for (m = 0; m < 8; m++) {
			req_init(b, v, m);
			c = ntp_classify(b, 48);
			if (m == 6 || m == 7)
				assert_int_equal(c, NTP_DROP_CONTROL);
			else if (v == 0 || v > 4)
				assert_int_equal(c, NTP_DROP_VERSION);
			else if (m == 3 || (v == 1 && m == 0))
				assert_int_equal(c, NTP_CLIENT);
			else
				assert_int_equal(c, NTP_DROP_MODE);
		}
	}
}

static void put_ef(uint8_t *p, unsigned type, unsigned len)
{
	p[0] = type >> 8;
	p[1] = type & 0xff;
	p[2] = len >> 8;
	p[3] = len & 0xff;
}

static void test_ext_fields(void **state)
{
	uint8_t b[256];

	req_init(b, 4, 3);
	memset(b + 48, 0, sizeof(b) - 48);
	put_ef(b + 48, 0x0104, 16);
	assert_int_equal(ntp_classify(b, 64), NTP_CLIENT);
	put_ef(b + 48, 0x0104, 28);
	assert_int_equal(ntp_classify(b, 76), NTP_CLIENT);
	/* Two fields. */
	put_ef(b + 76, 0x0204, 32);
	assert_int_equal(ntp_classify(b, 108), NTP_CLIENT);
	/* Field + MAC (MD5 and SHA-1 sizes). */
	assert_int_equal(ntp_classify(b, 76 + 20), NTP_DROP_AUTH);
	assert_int_equal(ntp_classify(b, 76 + 24), NTP_DROP_AUTH);
	/* Lengths: not a multiple of 4, too small, past the end. */
	put_ef(b + 48, 0x0104, 30);
	assert_int_equal(ntp_classify(b, 78), NTP_DROP_SHORT);
	put_ef(b + 48, 0x0104, 12);
	assert_int_equal(ntp_classify(b, 60), NTP_DROP_SHORT);
	put_ef(b + 48, 0x0104, 64);
	assert_int_equal(ntp_classify(b, 76), NTP_DROP_SHORT);
	put_ef(b + 48, 0x0104, 0xfffc);
	assert_int_equal(ntp_classify(b, 76), NTP_DROP_SHORT);
	/* Trailing garbage after a good field. */
	put_ef(b + 48, 0x0104, 28);
	assert_int_equal(ntp_classify(b, 76 + 8), NTP_DROP_SHORT);
	/* NTS authenticator: we cannot verify it. */
	put_ef(b + 48, 0x0404, 28);
	assert_int_equal(ntp_classify(b, 76), NTP_DROP_AUTH);
	/* v3 with an extension field: not allowed. */
	req_init(b, 3, 3);
	put_ef(b + 48, 0x0104, 28);
	assert_int_equal(ntp_classify(b, 76), NTP_DROP_SHORT);
}

static void test_era(void **state)
{
	int64_t pivot = (ERA1_UNIX + 86400) * NS;
	uint64_t ts;
	int i;

	/* Last second of era 0 and the first of era 1. */
	ts = ntp_ts_from_ns((ERA1_UNIX - 1) * NS);
	assert_true(ts >> 32 == 0xffffffffu);
	ts = ntp_ts_from_ns(ERA1_UNIX * NS);
	assert_true(ts >> 32 == 0);
	ts = ntp_ts_from_ns((ERA1_UNIX + 5) * NS + 250000000);
	assert_true(ts >> 32 == 5);
	assert_true((ts & 0xffffffffu) == 0x40000000u);
	assert_true(ntp_ts_to_ns(ts, pivot) == (ERA1_UNIX + 5) * NS + 250000000);
	/* Same wire value, a pivot in 2030: still nearest is 2036. */
	assert_true(ntp_ts_to_ns(ts, 1900000000LL * NS) ==
		    (ERA1_UNIX + 5) * NS + 250000000);
	/* A 2035 timestamp read with a 2036 pivot stays in era 0. */
	ts = ntp_ts_from_ns((ERA1_UNIX - 1000) * NS);
	assert_true(ntp_ts_to_ns(ts, pivot) == (ERA1_UNIX - 1000) * NS);
	/* 1900-01-01 and 1970-01-01. */
	ts = ntp_ts_from_ns(-NTP_UNIX_OFFSET * NS);
	assert_true(ts == 0);
	assert_true(ntp_ts_to_ns(ts, -NTP_UNIX_OFFSET * NS) ==
		    -NTP_UNIX_OFFSET * NS);
	ts = ntp_ts_from_ns(0);
	assert_true(ts >> 32 == (uint64_t)NTP_UNIX_OFFSET);
	assert_true(ntp_ts_to_ns(ts, 0) == 0);
	assert_true(ntp_ts_from_ns(-1) >> 32 == (uint64_t)NTP_UNIX_OFFSET - 1);
	/* Exact ns round trips for any time within 60 years of its pivot,
	 * from 1900 to 2150. */
	srandom(2);
	for (i = 0; i < 200000; i++) {
		int64_t t = -NTP_UNIX_OFFSET * NS +
			    (int64_t)(rnd64() % (uint64_t)(250LL * 365 * 86400 * NS));
		int64_t d = (int64_t)(rnd64() % (uint64_t)(120LL * 365 * 86400 * NS)) -
			    60LL * 365 * 86400 * NS;

		assert_true(ntp_ts_to_ns(ntp_ts_from_ns(t), t + d) == t);
	}
}

static void test_short(void **state)
{
	assert_int_equal(ntp_short_from_s(0), 0);
	assert_int_equal(ntp_short_from_s(-1), 0);
	assert_int_equal(ntp_short_from_s(1.0), 0x10000);
	assert_int_equal(ntp_short_from_s(1e-9), 1); /* rounded up */
	assert_true(ntp_short_from_s(1e9) == 0xffffffffu);
	assert_true(ntp_short_to_s(0x18000) == 1.5);
}

static void check_reply_echo(const uint8_t *req, const uint8_t *rep)
{
	assert_int_equal(rep[0] & 7, NTP_MODE_SERVER);
	assert_int_equal((rep[0] >> 3) & 7, (req[0] >> 3) & 7);
	assert_int_equal(rep[2], req[2]);
	assert_memory_equal(rep + 24, req + 40, 8);
}

static void test_reply(void **state)
{
	struct tstate st;
	struct ntp_hdr h;
	uint8_t req[128], rep[128];
	int64_t rx = 1790000000LL * NS + 123456789;
	size_t len;
	int i, j;

	/* Unsynchronized default: still answered, LI 3, stratum 0, refid 0. */
	tstate_unsynced(&st);
	srandom(3);
	for (i = 0; i < 1000; i++) {
		int v = 1 + (int)(random() % 4);

		for (j = 0; j < 128; j++)
			req[j] = (uint8_t)random();
		req[0] = (uint8_t)(req[0] & 0xc0) | v << 3 |
			 (v == 1 && (i & 1) ? 0 : 3);
		memset(rep, 0xee, sizeof(rep));
		len = ntp_build_reply(req, &st, rx, rep);
		assert_int_equal(len, NTP_HDR_LEN);
		assert_int_equal(rep[48], 0xee); /* nothing written past 48 */
		check_reply_echo(req, rep);
		ntp_decode(rep, &h);
		assert_int_equal(h.leap, 3);
		assert_int_equal(h.stratum, 0);
		assert_int_equal(h.refid, 0);
		assert_true(ntp_ts_to_ns(h.rec, rx) == rx);
		assert_true(h.xmt == 0);
		ntp_set_xmt(rep, rx + 5000);
		ntp_decode(rep, &h);
		assert_true(ntp_ts_to_ns(h.xmt, rx) == rx + 5000);
	}

	/* A synchronized state: fields copied, dispersion grown by PHI. */
	memset(&st, 0, sizeof(st));
	st.leap = 1;
	st.stratum = 2;
	st.precision = -22;
	st.refid = 0xc0000201;
	st.root_delay = 0.010;
	st.root_disp = 0.001;
	st.ref_ns = rx - 100 * NS;
	req_init(req, 4, 3);
	req[2] = 10;
	ntp_build_reply(req, &st, rx, rep);
	ntp_decode(rep, &h);
	assert_int_equal(h.leap, 1);
	assert_int_equal(h.stratum, 2);
	assert_int_equal(h.precision, -22);
	assert_true(h.refid == 0xc0000201);
	assert_int_equal(h.poll, 10);
	assert_true(h.root_delay == ntp_short_from_s(0.010));
	assert_true(h.root_disp == ntp_short_from_s(0.001 + 100 * 15e-6));
	assert_true(ntp_ts_to_ns(h.ref, rx) == rx - 100 * NS);

	/* Local stratum: reference "now", dispersion not grown. */
	memset(&st, 0, sizeof(st));
	st.stratum = 10;
	st.refid = TSTATE_REFID_LOCAL;
	st.local = 1;
	ntp_build_reply(req, &st, rx, rep);
	ntp_decode(rep, &h);
	assert_int_equal(h.leap, 0);
	assert_int_equal(h.stratum, 10);
	assert_true(h.root_disp == 0);
	assert_true(ntp_ts_to_ns(h.ref, rx) == rx);
}

static void test_kod(void **state)
{
	struct tstate st;
	struct ntp_hdr h;
	uint8_t req[128], rep[64];

	tstate_unsynced(&st);
	st.stratum = 2;
	st.leap = 0;
	req_init(req, 3, 3);
	req[2] = 6;
	memcpy(req + 40, "ABCDEFGH", 8);
	assert_int_equal(ntp_build_kod(req, &st, 1, rep), NTP_HDR_LEN);
	check_reply_echo(req, rep);
	ntp_decode(rep, &h);
	assert_int_equal(h.leap, 3);
	assert_int_equal(h.stratum, 0);
	assert_true(h.refid == NTP_KOD_RATE);
	assert_memory_equal(rep + 12, "RATE", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_versions_modes),
		cmocka_unit_test(test_ext_fields),
		cmocka_unit_test(test_era),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_kod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
