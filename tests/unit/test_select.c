/* Selection: falsetickers rejected, majority rule, first-claim wait. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/time/select.h"

static struct select_in src(double off, double dist)
{
	struct select_in s = {
		.usable = 1, .reachable = 1, .offset = off, .distance = dist,
		.jitter = dist / 10, .freq = 0, .freq_sd = 1e-3, .stratum = 1,
	};
	return s;
}

static const struct select_params defp = {
	.minsources = 1, .min_usable = 0, .combinelimit = 3, .prev_sys = -1,
};

static void test_three_true_one_false(void **st)
{
	struct select_in in[4] = {
		src(0.001, 0.005), src(-0.001, 0.005), src(0.002, 0.006),
		src(0.180, 0.005),
	};
	enum select_state s[4];
	struct select_out o;

	(void)st;
	select_run(in, 4, &defp, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(o.agree, 3);
	assert_int_equal(s[3], SELECT_FALSETICKER);
	for (int i = 0; i < 3; i++)
		assert_true(s[i] == SELECT_COMBINED || s[i] == SELECT_SELECTED);
	assert_true(fabs(o.offset) < 0.003);
	assert_true(o.sys >= 0 && o.sys < 3);
}

/* Two falsetickers that agree with each other are still outvoted. */
static void test_byzantine_pair(void **st)
{
	struct select_in in[5] = {
		src(0.000, 0.008), src(0.001, 0.008), src(-0.001, 0.008),
		src(0.180, 0.008), src(-0.090, 0.008),
	};
	enum select_state s[5];
	struct select_out o;

	(void)st;
	select_run(in, 5, &defp, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(s[3], SELECT_FALSETICKER);
	assert_int_equal(s[4], SELECT_FALSETICKER);
	assert_true(fabs(o.offset) < 0.002);
}

/* 2 vs 2: no strict majority, no sync. */
static void test_no_majority(void **st)
{
	struct select_in in[4] = {
		src(0.000, 0.002), src(0.001, 0.002), src(0.100, 0.002),
		src(0.101, 0.002),
	};
	enum select_state s[4];
	struct select_out o;

	(void)st;
	select_run(in, 4, &defp, &o, s);
	assert_int_equal(o.result, SELECT_NO_MAJORITY);
	assert_int_equal(o.sys, -1);
	/* an unreachable third opinion does not count; a reachable one that
	 * is unusable does */
	in[0].usable = 0;
	select_run(in, 4, &defp, &o, s);
	assert_int_equal(o.result, SELECT_NO_MAJORITY);
	in[0].reachable = 0;
	select_run(in, 4, &defp, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(s[1], SELECT_FALSETICKER);
}

static void test_minsources(void **st)
{
	struct select_in in[2] = { src(0.0, 0.002), src(0.001, 0.002) };
	struct select_params p = defp;
	enum select_state s[2];
	struct select_out o;

	(void)st;
	p.minsources = 3;
	select_run(in, 2, &p, &o, s);
	assert_int_equal(o.result, SELECT_TOO_FEW);
	p.minsources = 2;
	select_run(in, 2, &p, &o, s);
	assert_int_equal(o.result, SELECT_OK);
}

/*
 * First claim: with 4 configured sources the falseticker answering first
 * alone must not be followed; the caller asks for 3 usable sources.
 */
static void test_first_claim_wait(void **st)
{
	struct select_in in[4] = {
		src(0.180, 0.002), src(0.0, 0.004), src(0.001, 0.004),
		src(-0.001, 0.004),
	};
	struct select_params p = defp;
	enum select_state s[4];
	struct select_out o;

	(void)st;
	p.min_usable = 3;
	in[1].usable = in[2].usable = in[3].usable = 0;
	in[1].reachable = in[2].reachable = in[3].reachable = 0;
	select_run(in, 4, &p, &o, s);
	assert_int_equal(o.result, SELECT_WAITING);
	in[1].usable = in[1].reachable = 1;
	select_run(in, 4, &p, &o, s);
	assert_int_equal(o.result, SELECT_WAITING);
	in[2].usable = in[2].reachable = 1;
	select_run(in, 4, &p, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(s[0], SELECT_FALSETICKER);
	assert_true(fabs(o.offset) < 0.002);
	/* without the wait the lone falseticker would have won */
	p.min_usable = 0;
	in[1].usable = in[2].usable = in[1].reachable = in[2].reachable = 0;
	select_run(in, 4, &p, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(o.sys, 0);
}

static void test_combine_weights_and_limit(void **st)
{
	struct select_in in[4] = {
		src(0.001, 0.005), src(0.003, 0.005), src(0.002, 0.005),
		src(0.030, 0.0255),
	};
	enum select_state s[4];
	struct select_out o;
	struct select_params p = defp;

	(void)st;
	in[0].weight_dist = 0.001;
	in[1].weight_dist = 0.001;
	in[2].weight_dist = 0.0025;
	in[3].weight_dist = 0.001;
	select_run(in, 4, &p, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(o.agree, 4);
	/* the wide one overlaps (a truechimer) but its estimate lies outside
	 * the intersection: not combined */
	assert_int_equal(s[3], SELECT_CANDIDATE);
	/* 1/root-distance weights: (1000*.001 + 1000*.003 + 400*.002) / 2400 */
	assert_true(fabs(o.offset - (1 + 3 + 0.8) / 2400.0) < 1e-12);
	p.combinelimit = 2;
	select_run(in, 4, &p, &o, s);
	assert_int_equal(s[2], SELECT_CANDIDATE);
	assert_true(fabs(o.offset - 0.002) < 1e-12);
	/* intervals that merely touch: everyone survives */
	{
		struct select_in t[2] = { src(0.0, 0.001), src(0.002, 0.001) };

		select_run(t, 2, &defp, &o, s);
		assert_int_equal(o.result, SELECT_OK);
		assert_int_equal(o.ncombined, 2);
	}
}

static void test_freq_and_leap_and_prefer(void **st)
{
	struct select_in in[3] = {
		src(0.0, 0.002), src(0.0005, 0.002), src(-0.0005, 0.003),
	};
	enum select_state s[3];
	struct select_out o;
	struct select_params p = defp;

	(void)st;
	in[0].freq = 10e-6;
	in[0].freq_sd = 1e-7;
	in[1].freq = 20e-6;
	in[1].freq_sd = 1e-7;
	in[0].leap = in[1].leap = 1;
	in[2].prefer = 1;
	select_run(in, 3, &p, &o, s);
	assert_true(o.freq_ok);
	assert_true(fabs(o.freq - 15e-6) < 1e-12);
	assert_int_equal(o.leap, 1);
	assert_int_equal(o.sys, 2);
	/* 1 of 3 announces: no majority; the two others abstaining
	 * (smearing sources, leap -1): 1 of 1 */
	in[1].leap = 0;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.leap, 0);
	in[1].leap = in[2].leap = -1;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.leap, 1);
	in[1].leap = 1;
	in[2].leap = 0;
	/* stickiness: the previous system peer stays while combined */
	in[2].prefer = 0;
	p.prev_sys = 2;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.sys, 2);
	p.prev_sys = -1;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.sys, 0);
	assert_int_equal(s[0], SELECT_SELECTED);
}

static void test_nothing_usable(void **st)
{
	struct select_in in[2] = { src(0, 1), src(0, 1) };
	enum select_state s[2];
	struct select_out o;

	(void)st;
	in[0].usable = in[1].usable = 0;
	select_run(in, 2, &defp, &o, s);
	assert_int_equal(o.result, SELECT_NO_SOURCES);
	select_run(in, 0, &defp, &o, s);
	assert_int_equal(o.result, SELECT_NO_SOURCES);
	assert_non_null(select_result_str(o.result));
	assert_string_equal(select_state_str(SELECT_FALSETICKER), "falseticker");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_true_one_false),
		cmocka_unit_test(test_byzantine_pair),
		cmocka_unit_test(test_no_majority),
		cmocka_unit_test(test_minsources),
		cmocka_unit_test(test_first_claim_wait),
		cmocka_unit_test(test_combine_weights_and_limit),
		cmocka_unit_test(test_freq_and_leap_and_prefer),
		cmocka_unit_test(test_nothing_usable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
