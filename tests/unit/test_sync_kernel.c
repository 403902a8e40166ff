/*
 * The kernel discipline's sync status, end to end through the engine on a
 * real libuv loop against in-process fake servers, with a fake adjtimex
 * (the real one is never called with changes by tests). What the fake
 * holds is what the rest of the system would read (test_disc.c says who
 * reads what): not synchronized at start, synchronized with maxerror and
 * esterror from the claim once the sources agree, unsynchronized while
 * the cross-check holds the clock suspect and again once holdover runs
 * out after the sources fell silent.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <cmocka.h>
#include <uv.h>

#include "node/time/sync.h"
#include "node/ntp/tstate.h"
#include "fakentp.h"

#define NSRV 3

static struct fakentp srv[NSRV];

static struct {
	int status;
	long freq, maxerror, esterror; /* scaled ppm, us, us */
} kern;

static int fake_adjtimex(struct timex *tx)
{
	if (tx->modes & ADJ_STATUS)
		kern.status = tx->status;
	if (tx->modes & ADJ_FREQUENCY)
		kern.freq = tx->freq;
	if (tx->modes & ADJ_MAXERROR)
		kern.maxerror = tx->maxerror;
	if (tx->modes & ADJ_ESTERROR)
		kern.esterror = tx->esterror;
	tx->status = kern.status;
	tx->freq = kern.freq;
	tx->maxerror = kern.maxerror;
	tx->esterror = kern.esterror;
	return TIME_OK;
}

static int kernel_synced(void)
{
	return !(kern.status & STA_UNSYNC);
}

/* Runs the loop until cond() holds or ms pass; returns cond(). */
static uv_timer_t poll_t;

static int (*want)(void);

static void poll_cb(uv_timer_t *t)
{
	if (want())
		uv_stop(t->loop);
}

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static int run_until(uv_loop_t *loop, int (*cond)(void), uint64_t ms)
{
	uv_timer_t limit;

	want = cond;
	uv_timer_init(loop, &limit);
	uv_timer_start(&limit, stop_cb, ms, 0);
	uv_timer_start(&poll_t, poll_cb, 10, 10);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_timer_stop(&poll_t);
	uv_close((uv_handle_t *)&limit, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return cond();
}

static int kernel_unsynced(void)
{
	return !kernel_synced();
}

static void test_kernel_status(void **st)
{
	uv_loop_t loop;
	struct sync_conf c;
	struct sync *sy;
	struct tstate ts;
	struct sync_tracking_view tv;
	int i;

	(void)st;
	memset(&kern, 0, sizeof(kern));   /* left "synchronized" */
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &poll_t);
	memset(&c, 0, sizeof(c));
	c.discipline = DISC_KERNEL;
	c.minsources = 1;
	c.maxdistance = 3;
	c.maxslewrate = 500;
	c.makestep = 1;
	c.makestep_limit = 3;
	c.holdover = 1;
	for (i = 0; i < NSRV; i++) {
		memset(&srv[i], 0, sizeof(srv[i]));
		strcpy(c.up[i].host, "127.0.0.1");
		c.up[i].port = fakentp_start(&srv[i], &loop);
		c.up[i].minpoll = -3;
		c.up[i].maxpoll = -3;
		c.up[i].iburst = 1;
	}
	c.n_up = NSRV;
	sy = sync_start(&loop, &c, NULL, fake_adjtimex);
	assert_non_null(sy);
	/* at start: whatever was left, not synchronized */
	assert_false(kernel_synced());
	assert_int_equal(kern.maxerror, 16000000);

	/* the sources agree: synchronized, errors from the claim */
	assert_true(run_until(&loop, kernel_synced, 5000));
	sync_tracking(sy, &tv);
	assert_true(tv.synced);
	assert_true(kern.maxerror > 0 && kern.maxerror < 100000);
	assert_true(kern.esterror >= 0 && kern.esterror <= kern.maxerror);
	/* maxerror is the root distance the node serves (to the us) */
	tstate_read(&ts);
	assert_true(fabs((ts.root_delay / 2 + ts.root_disp) * 1e6 -
			 (double)kern.maxerror) < 2.0);

	/* the cross-check's verdict: suspect, then cleared */
	sync_set_suspect(sy, 1);
	assert_false(kernel_synced());
	assert_int_equal(kern.maxerror, 16000000);
	tstate_read(&ts);
	assert_int_equal(ts.leap, 3);
	sync_tracking(sy, &tv);
	assert_false(tv.synced);
	assert_string_equal(tv.state, "suspect");
	/* new samples meanwhile change nothing of that */
	run_until(&loop, kernel_synced, 500);
	assert_false(kernel_synced());
	sync_set_suspect(sy, 0);
	assert_true(kernel_synced());
	tstate_read(&ts);
	assert_int_equal(ts.leap, 0);
	assert_int_equal(ts.stratum, 2);

	/* the sources fall silent: holdover (1 s), then unsynchronized */
	for (i = 0; i < NSRV; i++)
		srv[i].silent = 1;
	assert_true(run_until(&loop, kernel_unsynced, 10000));
	sync_tracking(sy, &tv);
	assert_string_equal(tv.state, "unsynchronized");
	assert_int_equal(kern.maxerror, 16000000);
	assert_int_equal(kern.esterror, 16000000);
	tstate_read(&ts);
	assert_int_equal(ts.leap, 3);

	sync_stop(sy);
	for (i = 0; i < NSRV; i++)
		fakentp_close(&srv[i]);
	uv_close((uv_handle_t *)&poll_t, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
