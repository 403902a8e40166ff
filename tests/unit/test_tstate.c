/* Published time state: default, set_local, correction maths, and a
 * writer + readers smoke test (readers never see a torn state). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/ntp/clk.h"
#include "node/ntp/tstate.h"

#define NS 1000000000LL

static void test_default_and_local(void **state)
{
	struct tstate s;

	/* Must run first: nothing published yet. */
	tstate_read(&s);
	assert_int_equal(s.leap, 3);
	assert_int_equal(s.stratum, 0);
	assert_true(s.refid == 0);
	tstate_set_local(10);
	tstate_read(&s);
	assert_int_equal(s.leap, 0);
	assert_int_equal(s.stratum, 10);
	assert_true(s.refid == TSTATE_REFID_LOCAL);
	assert_int_equal(s.local, 1);
}

/* A withdrawn claim: readers see an unsynchronized node with the
 * correction kept; the claim stays readable; later publishes stay
 * withdrawn until it is given back. */
static void test_withdraw(void **state)
{
	struct tstate s, r, c;
	int synced;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.leap = 1;
	s.stratum = 3;
	s.precision = -20;
	s.refid = 0x0a000001;
	s.root_delay = 0.01;
	s.root_disp = 0.002;
	s.ref_ns = 1000;
	s.corr_offset = 0.5;
	s.corr_freq = 1e-6;
	s.corr_base_ns = 7;
	tstate_publish(&s);
	tstate_withdraw(1);
	tstate_read(&r);
	assert_int_equal(r.leap, 3);
	assert_int_equal(r.stratum, 0);
	assert_int_equal(r.refid, 0);
	assert_true(r.root_delay == 0 && r.root_disp == 0 && r.ref_ns == 0);
	assert_true(r.corr_offset == 0.5 && r.corr_freq == 1e-6 &&
		    r.corr_base_ns == 7);
	assert_int_equal(r.withdrawn, 1);
	tstate_now_ns(&synced);
	assert_int_equal(synced, 0);
	tstate_read_claim(&c);
	assert_int_equal(c.leap, 1);
	assert_int_equal(c.stratum, 3);
	assert_true(c.root_delay == 0.01);
	s.stratum = 4;
	tstate_publish(&s);
	tstate_read(&r);
	assert_int_equal(r.stratum, 0);
	tstate_withdraw(0);
	tstate_read(&r);
	assert_int_equal(r.stratum, 4);
	assert_int_equal(r.leap, 1);
	assert_int_equal(r.withdrawn, 0);
	tstate_now_ns(&synced);
	assert_int_equal(synced, 1);
	tstate_set_local(10);
	tstate_withdraw(1);
	tstate_read(&r);
	assert_int_equal(r.local, 0);
	assert_int_equal(r.leap, 3);
	tstate_withdraw(0);
	tstate_read(&r);
	assert_int_equal(r.local, 1);
	assert_int_equal(r.stratum, 10);
}

static void test_maths(void **state)
{
	struct tstate s;

	memset(&s, 0, sizeof(s));
	assert_true(tstate_served_ns(&s, 12345) == 12345);
	s.corr_offset = 0.5;
	s.corr_freq = 1e-6;
	s.corr_base_ns = 1000 * NS;
	assert_true(tstate_served_ns(&s, 1000 * NS) == 1000 * NS + NS / 2);
	assert_true(tstate_served_ns(&s, 2000 * NS) ==
		    2000 * NS + NS / 2 + 1000 * 1000);
	s.root_disp = 0.002;
	assert_true(tstate_root_disp_at(&s, 5 * NS) == 0.002); /* never set */
	s.ref_ns = 100 * NS;
	assert_true(tstate_root_disp_at(&s, 50 * NS) == 0.002);
	assert_float_equal(tstate_root_disp_at(&s, 1100 * NS),
			   0.002 + 1000 * 15e-6, 1e-12);
}

static void test_clk(void **state)
{
	struct timespec ts = { .tv_sec = 100, .tv_nsec = 5 };
	int64_t a, b;

	assert_true(clk_raw_from_kernel(&ts) == 100 * NS + 5);
	a = clk_raw_ns();
	clk_set_error(2.0, 0);
	b = clk_raw_ns();
	assert_true(b - a >= 2 * NS && b - a < 3 * NS);
	assert_true(clk_raw_from_kernel(&ts) == 102 * NS + 5);
	clk_set_error(0, 0);
	assert_true(clk_raw_from_kernel(&ts) == 100 * NS + 5);
}

static atomic_int stop;
static atomic_int started;
static atomic_long reads;

/* Every published state has all fields derived from one counter k. */
static void make(struct tstate *s, uint32_t k)
{
	memset(s, 0, sizeof(*s));
	s->leap = k & 3;
	s->stratum = (uint8_t)(k * 7);
	s->refid = k;
	s->root_delay = k * 0.5;
	s->root_disp = k * 0.25;
	s->ref_ns = (int64_t)k * 3;
	s->corr_offset = -(double)k;
	s->corr_base_ns = (int64_t)k << 20;
}

static void *reader(void *arg)
{
	struct tstate s, want;
	long n = 0;

	while (!atomic_load(&stop)) {
		tstate_read(&s);
		make(&want, s.refid);
		if (memcmp(&s, &want, sizeof(s)) != 0)
			return (void *)1;
		if (n++ == 0)
			atomic_fetch_add(&started, 1);
	}
	atomic_fetch_add(&reads, n);
	return NULL;
}

static void test_concurrency(void **state)
{
	pthread_t th[3];
	struct tstate s;
	uint32_t k;
	void *ret;
	int i;

	make(&s, 1);
	tstate_publish(&s);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	/* On a loaded machine the readers may start late: overlap on purpose. */
	while (atomic_load(&started) < 3)
		sched_yield();
	for (k = 2; k < 300000; k++) {
		make(&s, k);
		tstate_publish(&s);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	assert_true(atomic_load(&reads) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_and_local),
		cmocka_unit_test(test_maths),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_clk),
		cmocka_unit_test(test_concurrency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
