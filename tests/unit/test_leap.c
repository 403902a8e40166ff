/* leap-seconds.list parser: good, expired and malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/time/leap.h"

#define NTP_UNIX 2208988800LL

/* The IERS list (all 28 entries); expiry 28 June 2035 (NTP 4275763200). */
static const char good[] =
	"#\tUpdated through IERS Bulletin C\n"
	"#$\t 3913697179\n"
	"#@\t 4275763200\n"
	"#\n"
	"2272060800\t10\t# 1972-01-01\n"
	"2287785600\t11\t# 1972-07-01\n"
	"2303683200\t12\t# 1973-01-01\n"
	"2335219200\t13\t# 1974-01-01\n"
	"2366755200\t14\t# 1975-01-01\n"
	"2398291200\t15\t# 1976-01-01\n"
	"2429913600\t16\t# 1977-01-01\n"
	"2461449600\t17\t# 1978-01-01\n"
	"2492985600\t18\t# 1979-01-01\n"
	"2524521600\t19\t# 1980-01-01\n"
	"2571782400\t20\t# 1981-07-01\n"
	"2603318400\t21\t# 1982-07-01\n"
	"2634854400\t22\t# 1983-07-01\n"
	"2698012800\t23\t# 1985-07-01\n"
	"2776982400\t24\t# 1988-01-01\n"
	"2840140800\t25\t# 1990-01-01\n"
	"2871676800\t26\t# 1991-01-01\n"
	"2918937600\t27\t# 1992-07-01\n"
	"2950473600\t28\t# 1993-07-01\n"
	"2982009600\t29\t# 1994-07-01\n"
	"3029443200\t30\t# 1996-01-01\n"
	"3076704000\t31\t# 1997-07-01\n"
	"3124137600\t32\t# 1999-01-01\n"
	"3345062400\t33\t# 2006-01-01\n"
	"3439756800\t34\t# 2009-01-01\n"
	"3550089600\t35\t# 2012-07-01\n"
	"3644697600\t36\t# 2015-07-01\n"
	"3692217600\t37\t# 2017-01-01\n"
	"#h\t16edd0f0 3666784f 37db6bdd e74ced87 59af48f1\n";

static void test_good(void **st)
{
	struct leap_list *l;
	char err[128];
	int64_t leap2016 = 3692217600LL - NTP_UNIX; /* 2017-01-01 00:00 */

	(void)st;
	assert_int_equal(leap_parse(good, strlen(good), &l, err, sizeof(err)), 0);
	assert_int_equal(leap_expiry(l), 4275763200LL - NTP_UNIX);
	/* the last day of 2016 announces an insertion, all of that day */
	assert_int_equal(leap_indicator(l, leap2016 - 1), 1);
	assert_int_equal(leap_indicator(l, leap2016 - 86400), 1);
	assert_int_equal(leap_indicator(l, leap2016 - 86401), 0);
	assert_int_equal(leap_indicator(l, leap2016), 0);
	assert_int_equal(leap_tai_offset(l, leap2016 - 1), 36);
	assert_int_equal(leap_tai_offset(l, leap2016), 37);
	assert_int_equal(leap_tai_offset(l, 2272060800LL - NTP_UNIX + 86400), 10);
	assert_int_equal(leap_tai_offset(l, 0), -1);
	/* the smear window: 12 h either side, also after the leap */
	assert_int_equal(leap_near(l, leap2016 - 43200, 43200), 1);
	assert_int_equal(leap_near(l, leap2016 - 43201, 43200), 0);
	assert_int_equal(leap_near(l, leap2016 + 43199, 43200), 1);
	assert_int_equal(leap_near(l, leap2016 + 43200, 43200), 0);
	/* 1972-01-01 starts the table: not a leap */
	assert_int_equal(leap_near(l, 2272060800LL - NTP_UNIX, 43200), 0);
	leap_free(l);
}

static void test_expired(void **st)
{
	struct leap_list *l;
	char err[128];
	int64_t exp = 4275763200LL - NTP_UNIX;

	(void)st;
	assert_int_equal(leap_parse(good, strlen(good), &l, err, sizeof(err)), 0);
	assert_int_equal(leap_indicator(l, exp - 1), 0);
	assert_int_equal(leap_indicator(l, exp), -1);
	assert_int_equal(leap_tai_offset(l, exp + 1), -1);
	leap_free(l);
}

static void test_deletion(void **st)
{
	static const char del[] = "#@ 4275763200\n"
				  "3692217600 37\n"
				  "3755289600 36\n"; /* 1 Jan 2019, made up */
	struct leap_list *l;
	char err[128];

	(void)st;
	assert_int_equal(leap_parse(del, strlen(del), &l, err, sizeof(err)), 0);
	assert_int_equal(leap_indicator(l, 3755289600LL - NTP_UNIX - 10), 2);
	leap_free(l);
}

static void test_malformed(void **st)
{
	static const char *bad[] = {
		"2272060800 10\n",                       /* no expiry */
		"#@ 4275763200\n",                       /* no entries */
		"#@ 4275763200\n2272060800\n",           /* no offset */
		"#@ 4275763200\n2272060800 10 junk\n",   /* trailing junk */
		"#@ 4275763200\n2272060801 10\n",        /* not midnight */
		"#@ 4275763200\n2287785600 11\n2272060800 10\n", /* order */
		"#@ 4275763200\n2272060800 10\n2287785600 13\n", /* +3 */
		"#@ x\n2272060800 10\n",                 /* bad expiry */
		"#@ 4275763200\n99999999999999999 10\n", /* overflow */
		"#@ 2272060800\n2287785600 11\n2303683200 12\n", /* expiry */
		"#@ 4275763200\n-2272060800 10\n",
	};
	struct leap_list *l;
	char err[128];

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(leap_parse(bad[i], strlen(bad[i]), &l, err,
					    sizeof(err)), -1);
		assert_null(l);
		assert_true(strlen(err) > 0);
	}
	/* embedded NUL */
	assert_int_equal(leap_parse("#@ 4275763200\n22720\0" "60800 10\n", 30,
				    &l, err, sizeof(err)), -1);
}

static void test_load(void **st)
{
	char path[] = "/tmp/leaptestXXXXXX", err[256];
	struct leap_list *l;
	int fd = mkstemp(path);

	(void)st;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	assert_int_equal(leap_load(path, &l, err, sizeof(err)), 0);
	leap_free(l);
	unlink(path);
	assert_int_equal(leap_load(path, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_deletion),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
