/* ntpsim's model: draws keyed by time slot (common to every client), loss
 * and jitter statistics, the truth and server clocks, and rejection of bad
 * scenario text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "tools/sim.h"

static void test_draws_are_keyed(void **state)
{
	struct sim_server s;
	int differ_seed = 0, differ_slot = 0, differ_sub = 0;

	(void)state;
	assert_int_equal(sim_parse_server(&s, "127.0.0.2,delay=10ms,"
					  "jitter=3ms,loss=5", "t"), 0);
	for (uint64_t i = 0; i < 1000; i++) {
		struct sim_key k = { .seed = 42, .stream = 2, .slot = i };
		struct sim_key other_seed = k, next_slot = k, next_sub = k;
		struct sim_draw x, y, z, w, v;

		other_seed.seed = 43;
		next_slot.slot = i + 1;
		next_sub.sub = 1;
		sim_path_draw(&s, &k, &x);
		sim_path_draw(&s, &k, &y);
		sim_path_draw(&s, &other_seed, &z);
		sim_path_draw(&s, &next_slot, &w);
		sim_path_draw(&s, &next_sub, &v);
		/* a pure function of the key */
		assert_true(x.fwd == y.fwd && x.ret == y.ret);
		assert_int_equal(x.req_lost, y.req_lost);
		assert_int_equal(x.reply_lost, y.reply_lost);
		differ_seed += x.fwd != z.fwd;
		differ_slot += x.fwd != w.fwd;
		differ_sub += x.ret != v.ret;
	}
	assert_true(differ_seed > 990);
	assert_true(differ_slot > 990);
	assert_true(differ_sub > 990);
}

static struct sockaddr_storage client(uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	in->sin_addr.s_addr = htonl(0x7f000001);
	return ss;
}

struct client_run {
	struct sim_draw d[400];
	int n;
};

/* One request as ntpsim handles it: key from the send time and the
 * client's count in that slot. */
static void request(struct sim_slots *t, const struct sim_server *s,
		    uint16_t port, double at, struct client_run *run)
{
	struct sockaddr_storage a = client(port);
	struct sim_key k = { .seed = 7, .stream = 1 };

	k.slot = sim_slot_of(at, 1.0);
	k.sub = sim_slots_next(t, &a, sizeof(struct sockaddr_in), k.slot);
	sim_path_draw(s, &k, &run->d[run->n++]);
}

static void test_interleavings_share_draws(void **state)
{
	struct sim_server s;
	struct sim_slots one, two;
	struct client_run a1 = { .n = 0 }, b1 = { .n = 0 };
	struct client_run a2 = { .n = 0 }, b2 = { .n = 0 };
	int lost = 0, fresh = 0;

	(void)state;
	assert_int_equal(sim_parse_server(&s, "127.0.0.2,fwd=12ms,ret=10ms,"
					  "jitter=2ms,loss=10", "t"), 0);
	memset(&one, 0, sizeof(one));
	memset(&two, 0, sizeof(two));
	/* Run 1: A polls at 0.2 s into each slot, B at 0.9 s, and B sends
	 * a second request 0.05 s later (a burst). Run 2: B first, at 0.1 s,
	 * A at 0.7 s, and the many random ports of a chronyd-like third
	 * client in between. Same slot, same first-request draw. */
	for (int j = 0; j < 200; j++) {
		request(&one, &s, 1000, j + 0.2, &a1);
		request(&one, &s, 2000, j + 0.9, &b1);
		request(&one, &s, 2000, j + 0.95, &b1);
	}
	for (int j = 0; j < 200; j++) {
		struct client_run junk = { .n = 0 };

		request(&two, &s, 2000, j + 0.1, &b2);
		request(&two, &s, 2000, j + 0.15, &b2);
		for (int r = 0; r < 40; r++)
			request(&two, &s, (uint16_t)(30000 + 40 * j + r),
				j + 0.3, &junk);
		request(&two, &s, 1000, j + 0.7, &a2);
	}
	for (int j = 0; j < 200; j++) {
		const struct sim_draw *x = &a1.d[j], *y = &a2.d[j];
		const struct sim_draw *bx = &b1.d[2 * j], *by = &b2.d[2 * j];

		assert_true(x->fwd == y->fwd && x->ret == y->ret);
		assert_int_equal(x->req_lost, y->req_lost);
		assert_int_equal(x->reply_lost, y->reply_lost);
		/* A's and B's first requests in a slot: one network */
		assert_true(x->fwd == bx->fwd && x->ret == bx->ret);
		assert_int_equal(x->req_lost, by->req_lost);
		/* B's second request in the slot: its own draw, both runs */
		assert_true(b1.d[2 * j + 1].fwd == b2.d[2 * j + 1].fwd);
		fresh += b1.d[2 * j + 1].fwd != bx->fwd;
		lost += x->req_lost || x->reply_lost;
	}
	assert_true(fresh > 195);
	/* 1 - 0.9^2 = 19 % of 200 exchanges */
	assert_true(lost > 15 && lost < 65);
}

static void test_loss_and_jitter_statistics(void **state)
{
	struct sim_server s;
	struct sim_slots t;
	double sum_fwd = 0, sum_ret = 0, min_ret = 1, sq_fwd = 0;
	int lost_req = 0, lost_rep = 0, n = 200000;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(sim_parse_server(&s, "::1,fwd=10ms,ret=12ms,"
					  "fwdjitter=3ms,retjitter=1ms,"
					  "fwdloss=5%,retloss=20", "t"), 0);
	/* Two clients, one request each per 1 s slot, over many slots: the
	 * draws the scenario sees must follow its parameters. */
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage a = client((uint16_t)(1000 + i % 2));
		struct sim_key k = { .seed = 1, .stream = 3 };
		struct sim_draw d;

		k.slot = sim_slot_of(i / 2 + 0.5, 1.0);
		k.sub = sim_slots_next(&t, &a, sizeof(struct sockaddr_in),
				       k.slot);
		assert_int_equal(k.sub, 0);
		k.slot += (uint64_t)n * (i % 2); /* independent halves */
		sim_path_draw(&s, &k, &d);
		lost_req += d.req_lost;
		lost_rep += d.reply_lost;
		sum_fwd += d.fwd;
		sq_fwd += (d.fwd - 0.013) * (d.fwd - 0.013);
		sum_ret += d.ret;
		if (d.ret < min_ret)
			min_ret = d.ret;
	}
	/* binomial sd: 0.0005 and 0.0009; exponential mean sd: 7 us */
	assert_true(fabs((double)lost_req / n - 0.05) < 0.003);
	assert_true(fabs((double)lost_rep / n - 0.20) < 0.005);
	assert_true(fabs(sum_fwd / n - 0.013) < 0.00005);
	assert_true(fabs(sum_ret / n - 0.013) < 0.00002);
	/* exponential: sd equals the mean (3 ms) */
	assert_true(fabs(sqrt(sq_fwd / n) - 0.003) < 0.00005);
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
		cmocka_unit_test(test_draws_are_keyed),
		cmocka_unit_test(test_interleavings_share_draws),
		cmocka_unit_test(test_loss_and_jitter_statistics),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_bad_specs_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
