/* Selection: falsetickers rejected, majority rule, first-claim wait, and
 * how the survivors are weighted and limited. */
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
		.freq = 0, .freq_sd = 1e-3, .stratum = 1,
	};
	return s;
}

/* The combining weight's model (select.h), computed here on its own. */
static double model_weight(double dist, double path, double best_path)
{
	double h = 0.05 * dist, e = path - best_path;

	return 1.0 / (h * h + e * e / 3.0);
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
		src(0.001, 0.005), src(0.003, 0.005), src(0.0015, 0.005),
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
	 * the others' intervals: not combined */
	assert_int_equal(s[3], SELECT_CANDIDATE);
	assert_true(fabs(o.best_dist - 0.001) < 1e-15);
	assert_true(fabs(o.best_path - 0.001) < 1e-15);
	{
		double w0 = model_weight(0.001, 0.001, 0.001);
		double w2 = model_weight(0.0025, 0.0025, 0.001);

		assert_true(fabs(o.offset - (w0 * 0.004 + w2 * 0.0015) /
				 (2 * w0 + w2)) < 1e-12);
		/* the longer path counts for less than 1/300 of a short one */
		assert_true(w2 * 300 < w0);
	}
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

/*
 * Two short paths and two paths 2 ms longer one way (each reads 1 ms
 * high), as ntpctl showed them on the simulated internet (offsets in ms;
 * jitters 1.31, 1.61, 1.44 and 1.90 ms; root distances 10.3 and 11.3 ms,
 * path bounds 10.2 and 11.2 ms). All four are combined, and the longer
 * ones get much less weight than their distances alone would give them.
 * The RFC 5905 cluster step used to prune the first short one here (its
 * selection jitter, 1.40 ms, exceeds the smallest source jitter, 1.31 ms),
 * giving the long pair two thirds of the weight.
 */
static void test_longer_paths_weigh_less(void **st)
{
	static const double off[4] = { -52.660, -51.914, -50.961, -51.112 };
	static const double rd[4] = { 10.3, 10.3, 11.3, 11.3 };
	struct select_in in[4];
	enum select_state s[4];
	struct select_out o;
	double w = 0, sum = 0, w1 = 0, sum1 = 0, w2 = 0, sum2 = 0;

	(void)st;
	for (int i = 0; i < 4; i++) {
		double m = model_weight(rd[i], rd[i] - 0.1, 10.2);

		in[i] = src(off[i] * 1e-3, (rd[i] + 0.5) * 1e-3);
		in[i].weight_dist = rd[i] * 1e-3;
		in[i].path_dist = (rd[i] - 0.1) * 1e-3;
		w += m;
		sum += m * off[i];
		w1 += 1 / rd[i];
		sum1 += off[i] / rd[i];
		w2 += 1 / (rd[i] * rd[i]);
		sum2 += off[i] / (rd[i] * rd[i]);
	}
	select_run(in, 4, &defp, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(o.ncombined, 4);
	for (int i = 0; i < 4; i++)
		assert_true(s[i] == SELECT_COMBINED || s[i] == SELECT_SELECTED);
	assert_true(fabs(o.offset - sum / w * 1e-3) < 1e-12);
	/* the long pair's share: 0.29 (1/distance: 0.48, 1/distance^2:
	 * 0.46); the short pair's mean is -52.287 */
	assert_true(o.offset < sum1 / w1 * 1e-3 - 200e-6);
	assert_true(o.offset < sum2 / w2 * 1e-3 - 150e-6);
	assert_true(o.offset > -52.287e-3);
	/* the system peer is a short one */
	assert_true(o.sys == 0 || o.sys == 1);
}

/*
 * A path bound that exceeds the shortest one by less than the two bounds
 * may still be off by (few samples, jittery paths) does not count as a
 * longer path: e = 1 ms, uncertainties 0.8 ms each (1.13 together).
 */
static void test_path_uncertainty(void **st)
{
	struct select_in in[2] = { src(0.0, 0.011), src(0.001, 0.011) };
	enum select_state s[2];
	struct select_out o;

	(void)st;
	in[0].weight_dist = in[1].weight_dist = 0.0103;
	in[0].path_dist = 0.0102;
	in[1].path_dist = 0.0112;
	in[0].path_err = in[1].path_err = 0.0008;
	select_run(in, 2, &defp, &o, s);
	assert_int_equal(o.ncombined, 2);
	assert_true(fabs(o.best_path_err - 0.0008) < 1e-15);
	assert_true(fabs(o.offset - 0.0005) < 1e-12);
	/* known well, the same 1 ms counts */
	in[0].path_err = in[1].path_err = 0.00005;
	select_run(in, 2, &defp, &o, s);
	{
		double w0 = model_weight(10.3, 10.2, 10.2);
		double e = 1.0 - sqrt(2) * 0.05;
		double w1 = 1.0 / (0.515 * 0.515 + e * e / 3);

		assert_true(fabs(o.offset - 0.001 * w1 / (w0 + w1)) < 1e-12);
		assert_true(o.offset < 0.00035);
	}
}

/*
 * A source the caller still holds out (it was beyond the combine limit
 * lately) is not combined even when within the limit now, unless it is
 * the best one.
 */
static void test_distant_hold(void **st)
{
	struct select_in in[3] = {
		src(0.0, 0.004), src(0.001, 0.004), src(0.002, 0.004),
	};
	enum select_state s[3];
	struct select_out o;

	(void)st;
	in[0].weight_dist = 0.001;
	in[1].weight_dist = 0.002;
	in[2].weight_dist = 0.0025;
	select_run(in, 3, &defp, &o, s);
	assert_int_equal(o.ncombined, 3);
	in[2].distant = 5;
	select_run(in, 3, &defp, &o, s);
	assert_int_equal(o.ncombined, 2);
	assert_int_equal(s[2], SELECT_CANDIDATE);
	{
		double w0 = model_weight(0.001, 0.001, 0.001);
		double w1 = model_weight(0.002, 0.002, 0.001);

		assert_true(fabs(o.offset - 0.001 * w1 / (w0 + w1)) < 1e-12);
	}
	/* the best survivor is always combined */
	in[0].distant = 5;
	select_run(in, 3, &defp, &o, s);
	assert_true(s[0] == SELECT_COMBINED || s[0] == SELECT_SELECTED);
	assert_int_equal(s[2], SELECT_CANDIDATE);
	assert_true(fabs(o.best_dist - 0.001) < 1e-15);
}

/*
 * A source in the middle of a step: its estimate is 100 ms off, its
 * interval wide enough to reach the two agreeing ones, its root distance
 * as small as theirs. Its interval's edge cuts the intersection down to
 * [0.2, 0.5] ms, where neither good estimate lies; it must still not be
 * combined (it would move the result by about 33 ms).
 */
static void test_wide_interval_cutting_in(void **st)
{
	struct select_in in[3] = {
		src(0.0, 0.0005), src(0.0001, 0.0005), src(0.100, 0.0998),
	};
	enum select_state s[3];
	struct select_out o;

	(void)st;
	for (int i = 0; i < 3; i++)
		in[i].weight_dist = 0.0005;
	select_run(in, 3, &defp, &o, s);
	assert_int_equal(o.result, SELECT_OK);
	assert_int_equal(o.agree, 3);
	assert_true(o.lo > 0.00015 && o.hi < 0.00055);
	assert_int_equal(s[2], SELECT_CANDIDATE);
	assert_int_equal(o.ncombined, 2);
	assert_true(fabs(o.offset - 0.00005) < 1e-9);
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
	/* stickiness: the previous system peer stays while combined with
	 * a weight comparable to the best one's (1/1.44 of it here) */
	in[2].prefer = 0;
	in[2].distance = 0.0021;
	p.prev_sys = 2;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.sys, 2);
	p.prev_sys = -1;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.sys, 0);
	assert_int_equal(s[0], SELECT_SELECTED);
	/* ... but yields to a much better one (1/36 of its weight) */
	in[2].distance = 0.003;
	p.prev_sys = 2;
	select_run(in, 3, &p, &o, s);
	assert_int_equal(o.sys, 0);
	assert_int_equal(s[2], SELECT_COMBINED);
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
		cmocka_unit_test(test_longer_paths_weigh_less),
		cmocka_unit_test(test_path_uncertainty),
		cmocka_unit_test(test_distant_hold),
		cmocka_unit_test(test_wide_interval_cutting_in),
		cmocka_unit_test(test_freq_and_leap_and_prefer),
		cmocka_unit_test(test_nothing_usable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
