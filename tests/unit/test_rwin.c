/* rwin: the windows syntax (canonical forms, refusals with reasons) and
 * the week it describes: wrapping days, ranges across midnight, 24:00,
 * next change, since when, on-time over an interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/rotation/rwin.h"

#define MIN 60000LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
/* 2025-01-06 00:00 UTC, a monday */
#define MON 1736121600000LL

static struct rwin w;

static const char *canon(const char *text)
{
	static char c[RWIN_TEXT_MAX + 1];
	char err[256];

	if (rwin_parse(text, &w, c, err, sizeof(err)) < 0)
		fail_msg("'%s' refused: %s", text, err);
	return c;
}

static void syntax(void **state)
{
	static const char *good[][2] = {
		{ "always", "always" },
		{ " Never ", "never" },
		{ "mon-wed", "mon-wed" },
		{ "THU-Sun", "thu-sun" },
		{ "fri-mon", "fri-mon" },
		{ "mon - fri 06:00 - 22:00", "mon-fri 06:00-22:00" },
		{ "22:00-06:00", "22:00-06:00" },
		{ "sat 00:00-24:00", "sat 00:00-24:00" },
		{ "mon-wed,fri 10:00-12:00", "mon-wed, fri 10:00-12:00" },
		{ "mon , tue", "mon, tue" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_string_equal(canon(good[i][0]), good[i][1]);
}

static void refusals(void **state)
{
	static const char *bad[][2] = {
		{ "", "empty window" },
		{ "mon-xyz", "a day range is DAY-DAY" },
		{ "funday", "unknown day 'funday'" },
		{ "mon 25:00-26:00", "a time is HH:MM" },
		{ "mon 06:00", "a time range is HH:MM-HH:MM" },
		{ "10:00-10:00", "an empty time range" },
		{ "24:00-06:00", "24:00 only as an end" },
		{ "mon 6:00-7:00", "a time is HH:MM" },
		{ "mon-wed,", "empty window" },
		{ ",mon", "empty window" },
		{ "mon tue", "expected DAYS" },
		{ "always, mon", "unknown day 'always'" },
		{ "mon 06:00-07:00 x", "expected DAYS" },
		{ "mon 06:60-07:00", "a time is HH:MM" },
	};
	char c[RWIN_TEXT_MAX + 1], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (rwin_parse(bad[i][0], &w, c, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i][0]);
		if (!strstr(err, bad[i][1]))
			fail_msg("'%s': '%s' lacks '%s'", bad[i][0], err,
				 bad[i][1]);
	}
	/* more windows than the canonical text holds */
	{
		char big[2048] = "";

		for (i = 0; i < 60; i++)
			strcat(big, "mon 01:00-02:00,");
		strcat(big, "tue");
		assert_int_equal(rwin_parse(big, &w, c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "more windows"));
	}
}

static void week(void **state)
{
	char s[32];

	(void)state;
	rwin_fmt(MON, s, sizeof(s));
	assert_string_equal(s, "mon 00:00");
	rwin_fmt(MON + 3 * DAY + 14 * HOUR + 5 * MIN, s, sizeof(s));
	assert_string_equal(s, "thu 14:05");
	assert_int_equal(rwin_minute(0), 3 * 1440);  /* 1970: a thursday */

	canon("mon-wed");
	assert_true(rwin_on(&w, MON));
	assert_true(rwin_on(&w, MON + 3 * DAY - 1));
	assert_false(rwin_on(&w, MON + 3 * DAY));
	assert_int_equal(rwin_next(&w, MON + HOUR), MON + 3 * DAY);
	assert_int_equal(rwin_next(&w, MON + 3 * DAY), MON + 7 * DAY);
	assert_int_equal(rwin_since(&w, MON + 5 * DAY), MON + 3 * DAY);
	assert_int_equal(rwin_since(&w, MON + HOUR), MON);
	assert_int_equal(rwin_on_ms(&w, MON, MON + 14 * DAY), 6 * DAY);

	/* fri-mon wraps over the weekend: fri, sat, sun, mon */
	canon("fri-mon");
	assert_true(rwin_on(&w, MON + 4 * DAY));
	assert_true(rwin_on(&w, MON + 7 * DAY + 23 * HOUR));
	assert_false(rwin_on(&w, MON + DAY));
	assert_int_equal(rwin_on_ms(&w, MON, MON + 7 * DAY), 4 * DAY);
	assert_int_equal(rwin_since(&w, MON + 2 * HOUR), MON - 3 * DAY);

	/* 22:00-06:00 crosses midnight, every day */
	canon("22:00-06:00");
	assert_true(rwin_on(&w, MON + 23 * HOUR));
	assert_true(rwin_on(&w, MON + DAY + 5 * HOUR));
	assert_false(rwin_on(&w, MON + 12 * HOUR));
	assert_int_equal(rwin_on_ms(&w, MON, MON + 7 * DAY), 7 * 8 * HOUR);
	/* sunday 22:00 runs into monday 06:00 (the week wraps) */
	assert_true(rwin_on(&w, MON + 2 * HOUR));

	/* 24:00 ends a range; several windows add up */
	canon("sat 18:00-24:00, mon-fri 06:00-22:00");
	assert_int_equal(rwin_on_ms(&w, MON, MON + 7 * DAY),
			 6 * HOUR + 5 * 16 * HOUR);
	assert_int_equal(rwin_next(&w, MON + 5 * DAY), MON + 5 * DAY +
			 18 * HOUR);

	canon("always");
	assert_true(rwin_on(&w, MON + 12345));
	assert_int_equal(rwin_next(&w, MON), INT64_MAX);
	assert_int_equal(rwin_since(&w, MON), INT64_MIN);
	assert_int_equal(rwin_on_ms(&w, MON, MON + DAY), DAY);
	canon("never");
	assert_false(rwin_on(&w, MON));
	assert_int_equal(rwin_on_ms(&w, MON, MON + DAY), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syntax),
		cmocka_unit_test(refusals),
		cmocka_unit_test(week),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
