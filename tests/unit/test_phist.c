/*
 * The pool-check history (node/metrics/phist.c) in a real store, and the
 * judgement (node/metrics/pchk.c) on synthetic histories.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/metrics/pchk.h"
#include "node/metrics/phist.h"
#include "storage/st.h"

#define T0 (29000040LL)         /* a Unix minute in 2025, on the hour */

static struct phist_sample good(int64_t minute)
{
	struct phist_sample s = {
		.minute = minute, .synced = 1, .stratum = 2, .sources = 4,
		.reachable = 4, .offset = 0.0004, .jitter = 0.0002,
		.freq_ppm = -3.25, .peer_offset = NAN,
	};
	return s;
}

static void test_codec(void **state)
{
	static struct phist_block b, d;
	uint8_t buf[PHIST_BLOCK_LEN];

	memset(&b, 0, sizeof(b));
	b.hour = T0 / 60;
	b.s[0] = good(T0);
	b.s[59] = good(T0 + 59);
	b.s[59].synced = 0;
	b.s[59].offset = NAN;
	b.present = 1 | (uint64_t)1 << 59;
	phist_encode(&b, buf);
	assert_int_equal(phist_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.hour, b.hour);
	assert_true(d.present == b.present);
	assert_int_equal(d.s[0].minute, T0);
	assert_int_equal(d.s[0].stratum, 2);
	assert_true(fabs(d.s[0].offset - 0.0004) < 1e-9);
	assert_true(fabs(d.s[0].freq_ppm + 3.25) < 1e-6);
	assert_true(isnan(d.s[0].peer_offset));
	assert_false(d.s[59].synced);
	assert_true(isnan(d.s[59].offset));
	/* damaged records are refused, never half-read */
	assert_int_equal(phist_decode(buf, sizeof(buf) - 1, &d), -EINVAL);
	buf[0] = 'X';
	assert_int_equal(phist_decode(buf, sizeof(buf), &d), -EINVAL);
	buf[0] = 'N';
	buf[12] = 0x80;         /* unknown flag */
	assert_int_equal(phist_decode(buf, sizeof(buf), &d), -EINVAL);
	buf[12] = 3;
	buf[13] = 17;           /* stratum */
	assert_int_equal(phist_decode(buf, sizeof(buf), &d), -EINVAL);
	buf[13] = 2;
	memset(buf + 4, 0, 8);  /* hour 0 */
	assert_int_equal(phist_decode(buf, sizeof(buf), &d), -EINVAL);
}

static void test_store(void **state)
{
	char dir[] = "/tmp/test_phist.XXXXXX", cmd[64];
	struct phist_sample *s;
	struct st *st;
	int64_t first, m;
	unsigned bad;
	size_t n;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(st_open(&st, dir, 0), 0);
	/* three hours and a bit, every minute but one */
	for (m = T0; m < T0 + 200; m++) {
		struct phist_sample x = good(m);

		if (m == T0 + 100)
			continue;
		assert_int_equal(phist_record(st, &x), 0);
	}
	assert_int_equal(phist_load(st, T0 + 50, T0 + 150, &s, &n, &first,
				    &bad), 0);
	assert_int_equal(n, 99);
	assert_int_equal(first, T0);
	assert_int_equal(bad, 0);
	assert_int_equal(s[0].minute, T0 + 50);
	assert_int_equal(s[98].minute, T0 + 149);
	free(s);
	/* the slot of an hour PHIST_HOURS later is the same record: the
	 * old hour is dropped, the history stays bounded */
	{
		struct phist_sample x = good(T0 + PHIST_HOURS * 60);

		assert_int_equal(phist_record(st, &x), 0);
	}
	assert_int_equal(phist_load(st, 0, T0 + 1000000, &s, &n, &first,
				    &bad), 0);
	assert_true(first > T0);
	assert_true(n < 200);
	free(s);
	/* an unreadable record is skipped and counted */
	assert_int_equal(st_local_put(st, "metrics/hist/05", "junk", 4), 0);
	assert_int_equal(phist_load(st, 0, T0 + 1000000, &s, &n, &first,
				    &bad), 0);
	assert_int_equal(bad, 1);
	free(s);
	st_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A window of hours ending at now, every minute sampled by fn. */
static struct phist_sample *history(int hours, int64_t now, size_t *n)
{
	struct phist_sample *s = calloc((size_t)hours * 60, sizeof(*s));
	int64_t m;

	*n = 0;
	for (m = now - hours * 60; m < now; m++)
		s[(*n)++] = good(m);
	return s;
}

static const struct pchk_line *find(const struct pchk_result *r,
				    const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->l[i].name, name))
			return &r->l[i];
	fail_msg("no line %s", name);
	return NULL;
}

static void eval(struct phist_sample *s, size_t n, const char *up,
		 struct pchk_result *r)
{
	const char *ups[] = { up, "ntp2.example" };
	struct pchk_in in = {
		.s = s, .n = n, .now = T0, .hours = 48,
		.first = n ? s[0].minute : 0, .upstreams = ups, .n_up = 2,
	};

	pchk_eval(&in, r);
}

static void test_pchk(void **state)
{
	struct pchk_result r;
	struct phist_sample *s;
	size_t n, i;
	char *t;

	s = history(48, T0, &n);
	eval(s, n, "ntp1.example", &r);
	assert_true(r.ready);
	assert_int_equal(find(&r, "history")->status, PCHK_PASS);
	assert_int_equal(find(&r, "availability")->status, PCHK_PASS);
	assert_int_equal(find(&r, "stratum")->status, PCHK_PASS);
	assert_int_equal(find(&r, "offset")->status, PCHK_PASS);
	assert_true(fabs(find(&r, "offset")->value - 0.4) < 1e-3);
	assert_int_equal(find(&r, "peers")->status, PCHK_UNKNOWN);
	t = pchk_text(&r);
	assert_non_null(strstr(t, "meets the pool's entry conditions"));
	free(t);
	t = pchk_json(&r);
	assert_non_null(strstr(t, "\"ready\":true"));
	free(t);

	/* a pool upstream */
	eval(s, n, "2.debian.pool.ntp.org", &r);
	assert_false(r.ready);
	assert_int_equal(find(&r, "upstreams")->status, PCHK_FAIL);
	/* 40 minutes unsynchronized: 98.6 % */
	for (i = 100; i < 140; i++)
		s[i].synced = 0;
	eval(s, n, "ntp1.example", &r);
	assert_false(r.ready);
	assert_int_equal(find(&r, "availability")->status, PCHK_FAIL);
	for (i = 100; i < 140; i++)
		s[i].synced = 1;
	/* minutes missing (the member was down) count as down too */
	eval(s + 40, n - 40, "ntp1.example", &r);
	assert_int_equal(find(&r, "availability")->status, PCHK_PASS);
	{
		struct phist_sample *gap = s;

		memmove(gap + 100, gap + 140, (n - 140) * sizeof(*gap));
		eval(gap, n - 40, "ntp1.example", &r);
		assert_int_equal(find(&r, "availability")->status, PCHK_FAIL);
		free(s);
		s = history(48, T0, &n);
	}
	/* stratum 3: above the target; 4: critical */
	s[10].stratum = 3;
	eval(s, n, "ntp1.example", &r);
	assert_int_equal(find(&r, "stratum")->status, PCHK_WARN);
	assert_true(r.ready);
	s[10].stratum = 4;
	eval(s, n, "ntp1.example", &r);
	assert_int_equal(find(&r, "stratum")->status, PCHK_FAIL);
	s[10].stratum = 2;
	/* offsets: over 1 % of minutes above 50 ms fail, a few do not */
	for (i = 0; i < 20; i++)
		s[i * 100].offset = -0.060;
	eval(s, n, "ntp1.example", &r);
	assert_int_equal(find(&r, "offset")->status, PCHK_PASS);
	for (i = 0; i < 40; i++)
		s[i * 70].offset = -0.060;
	eval(s, n, "ntp1.example", &r);
	assert_int_equal(find(&r, "offset")->status, PCHK_FAIL);
	/* frequency */
	for (i = 0; i < n; i++)
		s[i].freq_ppm = 7;
	eval(s, n, "ntp1.example", &r);
	assert_int_equal(find(&r, "frequency")->status, PCHK_WARN);
	/* 10 hours of history only */
	eval(s + n - 600, 600, "ntp1.example", &r);
	assert_int_equal(find(&r, "history")->status, PCHK_FAIL);
	assert_false(r.ready);
	free(s);
	/* nothing at all */
	eval(NULL, 0, "ntp1.example", &r);
	assert_int_equal(find(&r, "history")->status, PCHK_FAIL);
	assert_int_equal(find(&r, "availability")->status, PCHK_UNKNOWN);
}

static void test_pool_names(void **state)
{
	assert_true(pchk_is_ntp_pool("pool.ntp.org"));
	assert_true(pchk_is_ntp_pool("0.pool.ntp.org"));
	assert_true(pchk_is_ntp_pool("2.Debian.POOL.ntp.org."));
	assert_false(pchk_is_ntp_pool("mypool.ntp.org"));
	assert_false(pchk_is_ntp_pool("time.cloudflare.com"));
	assert_false(pchk_is_ntp_pool("ntp.org"));
	assert_false(pchk_is_ntp_pool(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_pchk),
		cmocka_unit_test(test_pool_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
