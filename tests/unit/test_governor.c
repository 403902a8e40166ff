/* governor: a simulated month of pool load against a member's share of
 * the allowance, paced by gov_rate() every 10 s through a token bucket
 * like the serving threads' (a second's worth of burst). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "node/cost/governor.h"

#define DAY 86400
#define MONTH (30 * DAY)       /* November */
#define REPLY 76

struct sim {
	double demand_avg;     /* requests a second, on average */
	double swing;          /* diurnal swing, fraction of the average */
	uint64_t other_bps;    /* cluster and upstream traffic, never limited */
	uint64_t share;
	uint64_t used, served, wanted;
};

/* One month, one-second steps. */
static void run(struct sim *s)
{
	struct gov_in in;
	double tokens = 0, owed = 0;
	uint64_t rate = 0, t;

	memset(&in, 0, sizeof(in));
	in.enabled = 1;
	in.share = s->share;
	in.end_ms = (uint64_t)MONTH * 1000;
	in.other_bps = s->other_bps;
	for (t = 0; t < MONTH; t++) {
		double want;
		uint64_t n, can;

		if (t % 10 == 0) {
			in.used = s->used;
			in.now_ms = t * 1000;
			rate = gov_rate(&in);
		}
		tokens = fmin(tokens + (double)rate, (double)rate);
		want = s->demand_avg *
		       (1 + s->swing * sin(2 * M_PI * (double)t / DAY));
		owed += want;
		n = (uint64_t)owed;
		owed -= (double)n;
		s->wanted += n;
		can = (uint64_t)(tokens / REPLY);
		if (n > can)
			n = can;
		tokens -= (double)(n * REPLY);
		s->served += n;
		s->used += n * REPLY + s->other_bps;
	}
}

/* Pool load well above what 1 GiB a month pays for (about 5.4 replies a
 * second): the month ends within 1 % of the share. */
static void over(void **state)
{
	struct sim s = { .demand_avg = 20, .swing = 0.8, .other_bps = 60,
			 .share = 1ULL << 30 };
	double err;

	(void)state;
	run(&s);
	err = fabs((double)s.used - (double)s.share) / (double)s.share;
	printf("over: wanted %llu served %llu used %llu share %llu (%.3f %%)\n",
	       (unsigned long long)s.wanted, (unsigned long long)s.served,
	       (unsigned long long)s.used, (unsigned long long)s.share,
	       err * 100);
	assert_true(err < 0.01);
	assert_true(s.served < s.wanted);
}

/* Load that fits: nothing is dropped. */
static void under(void **state)
{
	struct sim s = { .demand_avg = 2, .swing = 0.5, .other_bps = 60,
			 .share = 1ULL << 30 };

	(void)state;
	run(&s);
	assert_int_equal(s.served, s.wanted);
	assert_true(s.used < s.share);
}

static void edges(void **state)
{
	struct gov_in in;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.share = 1000;
	in.now_ms = 0;
	in.end_ms = 10000;
	assert_int_equal(gov_rate(&in), 0);             /* not enabled */
	in.enabled = 1;
	assert_int_equal(gov_rate(&in), 100);           /* 1000 B, 10 s */
	in.other_bps = 40;
	assert_int_equal(gov_rate(&in), 60);
	in.used = 2000;                                 /* spent: all but */
	assert_int_equal(gov_rate(&in), 1);             /* nothing */
	in.share = 0;
	assert_int_equal(gov_rate(&in), 0);             /* no allowance */
	assert_string_equal(gov_state_name(GOV_LIMITING), "limiting");
	assert_string_equal(gov_state_name(GOV_OFF), "off");
	assert_string_equal(gov_state_name(GOV_ON), "on");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(over),
		cmocka_unit_test(under),
		cmocka_unit_test(edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
