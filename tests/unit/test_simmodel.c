/* ntpsim's model: repeatable draws, loss and jitter statistics, the truth
 * and server clocks, and rejection of bad scenario text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "tools/sim.h"

static void test_draws_repeat_per_seed(void **state)
{
	struct sim_server s;
	struct sim_rng a, b, c;
	int differ = 0;

	(void)state;
	assert_int_equal(sim_parse_server(&s, "127.0.0.2,delay=10ms,"
					  "jitter=3ms,loss=5", "t"), 0);
	sim_rng_seed(&a, 42, 0);
	sim_rng_seed(&b, 42, 0);
	sim_rng_seed(&c, 43, 0);
	for (int i = 0; i < 1000; i++) {
		struct sim_draw x, y, z;

		sim_path_draw(&s, &a, &x);
		sim_path_draw(&s, &b, &y);
		sim_path_draw(&s, &c, &z);
		assert_true(x.fwd == y.fwd && x.ret == y.ret);
		assert_int_equal(x.req_lost, y.req_lost);
		assert_int_equal(x.reply_lost, y.reply_lost);
		differ += x.fwd != z.fwd;
	}
	assert_true(differ > 990);
}

static void test_loss_and_jitter_statistics(void **state)
{
	struct sim_server s;
	struct sim_rng r;
	double sum_fwd = 0, sum_ret = 0, min_ret = 1;
	int lost_req = 0, lost_rep = 0, n = 200000;

	(void)state;
	assert_int_equal(sim_parse_server(&s, "::1,fwd=10ms,ret=12ms,"
					  "fwdjitter=3ms,retjitter=1ms,"
					  "fwdloss=5%,retloss=20", "t"), 0);
	sim_rng_seed(&r, 1, 3);
	for (int i = 0; i < n; i++) {
		struct sim_draw d;

		sim_path_draw(&s, &r, &d);
		lost_req += d.req_lost;
		lost_rep += d.reply_lost;
		sum_fwd += d.fwd;
		sum_ret += d.ret;
		if (d.ret < min_ret)
			min_ret = d.ret;
	}
	assert_true(fabs((double)lost_req / n - 0.05) < 0.005);
	assert_true(fabs((double)lost_rep / n - 0.20) < 0.01);
	assert_true(fabs(sum_fwd / n - 0.013) < 0.0001);
	assert_true(fabs(sum_ret / n - 0.013) < 0.0001);
	assert_true(min_ret >= 0.012);
}

static void test_clocks(void **state)
{
	struct sim_truth t = { .t0_ns = 1000000000000000000LL,
			       .offset = 0.5, .drift_ppm = 20 };
	struct sim_server s;
	int64_t at = t.t0_ns + 100 * (int64_t)1000000000;

	(void)state;
	/* 100 s after t0: 0.5 s + 20 ppm * 100 s = 0.502 s */
	assert_int_equal(sim_truth_ns(&t, at) - at, 502000000);
	assert_int_equal(sim_parse_server(&s, "127.0.0.3,offset=-90ms,"
					  "drift=-10,step=50:500ms,"
					  "down=10:20", "t"), 0);
	/* -90 ms - 1 ms + 500 ms on top of truth */
	assert_int_equal(sim_server_ns(&t, &s, at) - sim_truth_ns(&t, at),
			 409000000);
	assert_int_equal(sim_server_ns(&t, &s, t.t0_ns) -
				 sim_truth_ns(&t, t.t0_ns), -90000000);
	assert_true(sim_server_down(&t, &s, t.t0_ns + 15 * 1000000000LL));
	assert_false(sim_server_down(&t, &s, at));
}

static void test_bad_specs_rejected(void **state)
{
	static const char *bad[] = {
		"", "localhost", "127.0.0.1,", "127.0.0.1,delay",
		"127.0.0.1,delay=-1ms", "127.0.0.1,loss=101",
		"127.0.0.1,stratum=17", "127.0.0.1,li=4", "127.0.0.1,port=70000",
		"127.0.0.1,refid=TOOLONG", "127.0.0.1,step=5", "127.0.0.1,down=5:1",
		"127.0.0.1,offset=1parsec", "127.0.0.1,kod=rate",
		"127.0.0.1,drift=nan", "127.0.0.1,nosuchkey=1",
	};
	struct sim_server s;
	double d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sim_parse_server(&s, bad[i], "t"), -1);
	assert_int_equal(sim_parse_duration("250us", &d), 0);
	assert_true(fabs(d - 250e-6) < 1e-15);
	assert_int_equal(sim_parse_duration("1e400", &d), -1);
	assert_int_equal(sim_parse_server(&s, "127.0.0.1,refid=10.0.0.1,"
					  "kod=RATE,li=1", "t"), 0);
	assert_int_equal(s.refid, 0x0a000001u);
	assert_string_equal(s.kod, "RATE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draws_repeat_per_seed),
		cmocka_unit_test(test_loss_and_jitter_statistics),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_bad_specs_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
