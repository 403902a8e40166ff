/*
 * Leap seconds through the whole engine on a real libuv loop: the
 * test-only clock error puts the node's raw clock a few seconds before a
 * midnight that a leap file (written here) ends with a leap; three
 * in-process fake servers on 127.0.0.1 insert (or delete) the leap at
 * their midnight.
 * Virtual: the published correction steps back (insert) or forward
 * (delete) by exactly 1 s once, LI 1/2 before and 0 after, and stays there (no slew back from the samples);
 * replies next to the leap are dropped. Kernel (fake adjtimex): STA_INS
 * is set before midnight and cleared after. Smearing sources: unusable
 * within 12 h of a leap, used outside.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "node/ntp/clk.h"
#include "node/ntp/ntp.h"
#include "node/time/sync.h"
#include "node/ntp/tstate.h"
#include "fakentp.h"

#define NSRV 3
#define S 1000000000LL
#define MS 1000000LL
#define M (1798761600LL * S) /* 2027-01-01T00:00:00Z, ends a leap day */

static struct fakentp srv[NSRV + 1];
static char leap_path[64];

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* li 1: TAI-UTC 10 -> 11 at M (insert); 2: 10 -> 9 (delete). */
static void write_leapfile_li(int li)
{
	FILE *f;
	int fd;

	snprintf(leap_path, sizeof(leap_path), "/tmp/test_sync_leap-XXXXXX");
	fd = mkstemp(leap_path);
	assert_true(fd >= 0);
	close(fd);
	f = fopen(leap_path, "w");
	assert_non_null(f);
	/* NTP seconds: 1972-01-01 (the table's start) and M; expiry M + 1 y */
	fprintf(f, "#@ %lld\n2272060800 10\n%lld %d\n",
		M / S + 2208988800LL + 365 * 86400LL, M / S + 2208988800LL,
		li == 2 ? 9 : 11);
	assert_int_equal(fclose(f), 0);
}

static void write_leapfile(void)
{
	write_leapfile_li(1);
}

/* The node's raw clock reads `before` ns before M from now on. */
static void clock_before_m(int64_t before)
{
	struct timespec ts;
	int64_t sys;

	clock_gettime(CLOCK_REALTIME, &ts);
	sys = (int64_t)ts.tv_sec * S + ts.tv_nsec;
	clk_set_error((double)(M - before - sys) * 1e-9, 0);
}

static void base_conf(struct sync_conf *c, uv_loop_t *loop, int n, double off)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->discipline = DISC_VIRTUAL;
	c->minsources = 1;
	c->maxdistance = 3;
	c->maxslewrate = 500;
	c->makestep = 1;
	c->makestep_limit = 3;
	c->holdover = 3600;
	snprintf(c->leapfile, sizeof(c->leapfile), "%s", leap_path);
	for (i = 0; i < n; i++) {
		memset(&srv[i], 0, sizeof(srv[i]));
		srv[i].offset = off;
		srv[i].leap_at = M; /* inserts the leap itself */
		strcpy(c->up[i].host, "127.0.0.1");
		c->up[i].port = fakentp_start(&srv[i], loop);
		c->up[i].minpoll = -3;
		c->up[i].maxpoll = -3;
		c->up[i].iburst = 1;
	}
	c->n_up = n;
}

static void finish(uv_loop_t *loop, struct sync *sy, uv_timer_t *t, int n)
{
	int i;

	sync_stop(sy);
	for (i = 0; i < n; i++)
		fakentp_close(&srv[i]);
	uv_close((uv_handle_t *)t, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
	clk_set_error(0, 0);
}

/* What the watch timer saw of the published state, every 20 ms. */
struct watch {
	struct sync *sy;
	int64_t end_raw;
	int synced_li;          /* LI while synchronized before the jump */
	int jumps;
	double jump, prev_corr;
	int li_after;
	double after;           /* the correction expected after the leap */
	double worst_after;     /* |corr - after| once 2 s past M */
	double worst_remaining; /* |offset still to slew| after the leap */
	int kern_ins_before, kern_ins_after;
};

static struct {
	int status;
	long freq;
} kern;

static void watch_cb(uv_timer_t *t)
{
	struct watch *w = t->data;
	struct tstate ts;
	int64_t raw = clk_raw_ns();
	double corr;

	tstate_read(&ts);
	corr = (double)(tstate_served_ns(&ts, raw) - raw) * 1e-9;
	if (ts.stratum && w->prev_corr != 0 && fabs(corr - w->prev_corr) > 0.5) {
		w->jumps++;
		w->jump = corr - w->prev_corr;
	}
	if (ts.stratum) {
		if (!w->jumps && raw < M - S)
			w->synced_li = ts.leap;
		if (w->jumps)
			w->li_after = ts.leap;
		w->prev_corr = corr;
	}
	if (w->jumps && raw > M + 2 * S && fabs(corr - w->after) > w->worst_after)
		w->worst_after = fabs(corr - w->after);
	if (w->jumps) {
		struct sync_tracking_view tv;

		sync_tracking(w->sy, &tv);
		if (fabs(tv.remaining) > w->worst_remaining)
			w->worst_remaining = fabs(tv.remaining);
	}
	if (ts.stratum && raw < M - 100 * MS && (kern.status & STA_INS))
		w->kern_ins_before = 1;
	if (raw > M + 300 * MS && (kern.status & STA_INS))
		w->kern_ins_after = 1;
	if (raw > w->end_raw)
		uv_stop(t->loop);
}

/* li 1: insert, 2: delete; the servers do the same at their midnight. */
static void run_virtual(int li)
{
	uv_loop_t loop;
	uv_timer_t tick;
	struct sync_conf c;
	struct watch w;
	struct sync_tracking_view tv;
	int i;

	write_leapfile_li(li);
	assert_int_equal(uv_loop_init(&loop), 0);
	base_conf(&c, &loop, NSRV, 0.2);
	for (i = 0; i < NSRV; i++)
		srv[i].leap_li = li;
	clock_before_m(3500 * MS);
	memset(&w, 0, sizeof(w));
	w.after = li == 1 ? 0.2 - 1.0 : 0.2 + 1.0;
	w.sy = sync_start(&loop, &c, NULL, NULL);
	assert_non_null(w.sy);
	w.end_raw = M + 5 * S;
	uv_timer_init(&loop, &tick);
	tick.data = &w;
	uv_timer_start(&tick, watch_cb, 20, 20);
	uv_run(&loop, UV_RUN_DEFAULT);

	assert_int_equal(w.synced_li, li);
	assert_int_equal(w.jumps, 1);
	assert_true(fabs(w.jump - (li == 1 ? -1.0 : 1.0)) < 2e-3);
	assert_int_equal(w.li_after, 0);
	/* the samples after the leap did not pull the correction back */
	print_message("after the leap: worst |correction - (%+.1f s)| %.6f s, "
		      "worst |still to slew| %.6f s\n", w.after, w.worst_after,
		      w.worst_remaining);
	assert_true(w.worst_after < 1e-3);
	assert_true(w.worst_remaining < 1e-3);
	sync_tracking(w.sy, &tv);
	assert_true(tv.synced);
	assert_int_equal(tv.leap, 0);
	assert_int_equal(tv.leap_inserted, li == 1);
	assert_int_equal(tv.leap_deleted, li == 2);
	assert_int_equal(tv.leap_last_end, M / S);
	assert_int_equal(tv.leap_pending, 0);
	assert_true(fabs(tv.remaining) < 1e-3);
	for (i = 0; i < NSRV; i++) {
		struct sync_source_view v;

		sync_source(w.sy, i, &v);
		assert_true(v.bad > 0); /* replies next to the leap dropped */
		assert_true(!strcmp(v.state, "selected") ||
			    !strcmp(v.state, "combined"));
	}
	finish(&loop, w.sy, &tick, NSRV);
	unlink(leap_path);
}

static void test_virtual_insert(void **st)
{
	(void)st;
	run_virtual(1);
}

static void test_virtual_delete(void **st)
{
	(void)st;
	run_virtual(2);
}

static int fake_adjtimex(struct timex *tx)
{
	if (tx->modes & ADJ_STATUS)
		kern.status = tx->status;
	if (tx->modes & ADJ_FREQUENCY)
		kern.freq = tx->freq;
	tx->status = kern.status;
	tx->freq = kern.freq;
	/* the kernel inserts at its midnight while STA_INS is set */
	if (kern.status & STA_INS)
		return clk_raw_ns() >= M ? TIME_WAIT : TIME_INS;
	return TIME_OK;
}

static void test_kernel_insert(void **st)
{
	uv_loop_t loop;
	uv_timer_t tick;
	struct sync_conf c;
	struct watch w;
	struct sync_tracking_view tv;

	(void)st;
	write_leapfile();
	memset(&kern, 0, sizeof(kern));
	assert_int_equal(uv_loop_init(&loop), 0);
	base_conf(&c, &loop, NSRV, 0.0);
	c.discipline = DISC_KERNEL;
	clock_before_m(2 * S);
	memset(&w, 0, sizeof(w));
	w.sy = sync_start(&loop, &c, NULL, fake_adjtimex);
	assert_non_null(w.sy);
	w.end_raw = M + S;
	uv_timer_init(&loop, &tick);
	tick.data = &w;
	uv_timer_start(&tick, watch_cb, 20, 20);
	uv_run(&loop, UV_RUN_DEFAULT);

	assert_true(w.kern_ins_before);
	assert_false(w.kern_ins_after);
	assert_int_equal(kern.status & (STA_INS | STA_DEL), 0);
	/* the kernel steps the clock, not the correction */
	assert_int_equal(w.jumps, 0);
	sync_tracking(w.sy, &tv);
	assert_int_equal(tv.leap_inserted, 1);
	assert_int_equal(tv.leap_pending, 0);
	finish(&loop, w.sy, &tick, NSRV);
	unlink(leap_path);
}

/*
 * A `smearing` source (index NSRV) next to three plain ones: within 12 h
 * of the leap (known from the leap file, or else from the announced LI)
 * it is unusable with its reason; 13 h before, it is used like the rest.
 */
static int truechimer(const char *state)
{
	return !strcmp(state, "selected") || !strcmp(state, "combined") ||
	       !strcmp(state, "candidate");
}

static void run_smearing(int64_t before, int leapfile, int want_used)
{
	uv_loop_t loop;
	uv_timer_t stop;
	struct sync_conf c;
	struct sync *sy;
	struct sync_source_view v;
	struct sync_tracking_view tv;
	int i;

	write_leapfile();
	assert_int_equal(uv_loop_init(&loop), 0);
	base_conf(&c, &loop, NSRV + 1, 0.2);
	c.up[NSRV].smearing = 1;
	srv[NSRV].leap_at = 0; /* hides the leap, as smearing servers do */
	if (!leapfile)
		c.leapfile[0] = '\0';
	clock_before_m(before);
	sy = sync_start(&loop, &c, NULL, NULL);
	assert_non_null(sy);
	uv_timer_init(&loop, &stop);
	uv_timer_start(&stop, stop_cb, 2000, 0);
	uv_run(&loop, UV_RUN_DEFAULT);

	sync_tracking(sy, &tv);
	assert_true(tv.synced);
	assert_int_equal(tv.leap, 1); /* the leap day, from 00:00 */
	/* with 4 truechimers the cluster step may leave one a candidate */
	for (i = 0; i < NSRV; i++) {
		sync_source(sy, i, &v);
		assert_true(truechimer(v.state));
	}
	sync_source(sy, NSRV, &v);
	assert_true(v.smearing);
	assert_true(v.reach != 0);
	if (want_used) {
		assert_true(truechimer(v.state));
		assert_string_equal(v.reason[0] && strstr(v.reason, "smearing") ?
				    v.reason : "", "");
		assert_int_equal(tv.agree, NSRV + 1);
	} else {
		assert_string_equal(v.state, "unusable");
		assert_string_equal(v.reason, "smearing source in a leap window");
		/* not counted for the majority: the others still agree 3/3 */
		assert_int_equal(tv.agree, NSRV);
		assert_int_equal(tv.reachable, NSRV);
	}
	finish(&loop, sy, &stop, NSRV + 1);
	unlink(leap_path);
}

static void test_smearing(void **st)
{
	(void)st;
	run_smearing(6 * 3600 * S, 1, 0);   /* leap file: in the window */
	run_smearing(6 * 3600 * S, 0, 0);   /* announced LI: in the window */
	run_smearing(13 * 3600 * S, 1, 1);  /* before the window: used */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual_insert),
		cmocka_unit_test(test_virtual_delete),
		cmocka_unit_test(test_kernel_insert),
		cmocka_unit_test(test_smearing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
