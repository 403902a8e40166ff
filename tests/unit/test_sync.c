/*
 * The engine on a real libuv loop against in-process fake servers on
 * 127.0.0.1: three truechimers 200 ms ahead of the system clock and one
 * falseticker 500 ms ahead. The published state must become synchronized
 * (stratum 2, refid 127.0.0.1) with the correction on the truechimers,
 * the falseticker marked, and stop must free everything (ASan). A plain
 * upstream name whose server stays silent is resolved again from a hosts
 * file whose content changes, and follows the server to its new address.
 * A server whose distance was beyond the combine limit is held out for 16
 * of its samples after it came back within it.
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
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "node/ntp/clk.h"
#include "node/ntp/ntp.h"
#include "node/time/sync.h"
#include "node/ntp/tstate.h"
#include "fakentp.h"

#define NSRV 4

static struct fakentp srv[NSRV + 1];
static double saved_freq;
static int saves, loads;

static int p_load(void *arg, double *f)
{
	(void)arg;
	loads++;
	if (!saves)
		return -2;
	*f = saved_freq;
	return 0;
}

static int p_save(void *arg, double f)
{
	(void)arg;
	saved_freq = f;
	saves++;
	return 0;
}

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void test_engine(void **st)
{
	uv_loop_t loop;
	uv_timer_t stop;
	struct sync_conf c;
	struct sync *sy;
	struct tstate ts;
	struct sync_tracking_view tv;
	struct sync_persist persist = { p_load, p_save, NULL };
	int i, false_seen = 0, used = 0;

	(void)st;
	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&c, 0, sizeof(c));
	c.discipline = DISC_VIRTUAL;
	c.minsources = 1;
	c.maxdistance = 3;
	c.maxslewrate = 500;
	c.makestep = 1;
	c.makestep_limit = 3;
	c.holdover = 3600;
	for (i = 0; i <= NSRV; i++) {
		srv[i].offset = i == 3 ? 0.5 : 0.2;
		srv[i].spoof = i == NSRV;
		strcpy(c.up[i].host, "127.0.0.1");
		c.up[i].port = fakentp_start(&srv[i], &loop);
		c.up[i].minpoll = -3;
		c.up[i].maxpoll = -3;
		c.up[i].iburst = 1;
	}
	c.n_up = NSRV + 1;
	sy = sync_start(&loop, &c, &persist, NULL);
	assert_non_null(sy);
	assert_int_equal(loads, 1);
	uv_timer_init(&loop, &stop);
	uv_timer_start(&stop, stop_cb, 2500, 0);
	uv_run(&loop, UV_RUN_DEFAULT);

	tstate_read(&ts);
	assert_int_equal(ts.stratum, 2);
	assert_int_equal(ts.leap, 0);
	assert_int_equal(ts.refid, 0x7f000001u);
	/* served - raw now: the truechimers' +200 ms */
	assert_true(fabs(tstate_served_ns(&ts, clk_raw_ns()) - clk_raw_ns() -
			 0.2e9) < 1e6);
	for (i = 0; i < sync_n_sources(sy); i++) {
		struct sync_source_view v;

		sync_source(sy, i, &v);
		if (i == 3) {
			assert_string_equal(v.state, "falseticker");
			false_seen = 1;
		} else if (i == NSRV) {
			/* only spoofed replies: never reached, never used */
			assert_int_equal(v.reach, 0);
			assert_int_equal(v.good, 0);
			assert_true(v.bad > 0);
			assert_string_equal(v.state, "unreachable");
		} else {
			assert_true(!strcmp(v.state, "selected") ||
				    !strcmp(v.state, "combined"));
			used++;
		}
	}
	assert_true(false_seen);
	assert_int_equal(used, 3);
	sync_tracking(sy, &tv);
	assert_true(tv.synced);
	assert_int_equal(tv.agree, 3);
	assert_int_equal(tv.configured, 5);
	assert_true(fabs(tv.correction - 0.2) < 1e-3);
	assert_int_equal(tv.steps, 1);

	sync_stop(sy);
	assert_true(saves >= 1);
	for (i = 0; i <= NSRV; i++)
		fakentp_close(&srv[i]);
	uv_close((uv_handle_t *)&stop, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Plain upstream names are resolved again when their server is silent. */
static char hosts_path[64];
static int moved_port;

static void write_hosts(const char *addr)
{
	FILE *f = fopen(hosts_path, "w");

	assert_non_null(f);
	fprintf(f, "# test_sync\n%s moving.test\n", addr);
	assert_int_equal(fclose(f), 0);
}

struct watch {
	struct sync *sy;
	int ticks;
	int still_seen;         /* old address kept after the first refresh */
	int moved;
};

static void watch_cb(uv_timer_t *t)
{
	struct watch *w = t->data;
	struct sync_source_view v;
	char want[64];

	w->ticks++;
	sync_source(w->sy, 0, &v);
	snprintf(want, sizeof(want), "127.0.0.2:%d", moved_port);
	/* The first refresh (8 silent polls, ~1 s) finds the same address:
	 * it is kept, and the reason says the name was resolved again. Only
	 * then does the name move. */
	if (!w->still_seen) {
		assert_string_equal(v.addr, want);
		if (strstr(v.reason, "name resolved again 1 times")) {
			w->still_seen = 1;
			write_hosts("127.0.0.1");
		}
	}
	snprintf(want, sizeof(want), "127.0.0.1:%d", moved_port);
	if (w->still_seen && !strcmp(v.addr, want) && v.reach &&
	    !strcmp(v.state, "selected")) {
		w->moved = 1;
		uv_stop(t->loop);
	}
	if (w->ticks >= 100)
		uv_stop(t->loop);
}

static void test_name_moves(void **st)
{
	uv_loop_t loop;
	uv_timer_t tick;
	struct sync_conf c;
	struct watch w;
	struct tstate ts;
	int fd;

	(void)st;
	snprintf(hosts_path, sizeof(hosts_path), "/tmp/test_sync-hosts-XXXXXX");
	fd = mkstemp(hosts_path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(uv_loop_init(&loop), 0);
	/* The server on 127.0.0.1; the name first points at 127.0.0.2,
	 * where nothing listens on that port. */
	memset(&srv[0], 0, sizeof(srv[0]));
	srv[0].offset = 0.2;
	moved_port = fakentp_start(&srv[0], &loop);
	write_hosts("127.0.0.2");

	memset(&c, 0, sizeof(c));
	c.discipline = DISC_VIRTUAL;
	c.minsources = 1;
	c.maxdistance = 3;
	c.maxslewrate = 500;
	c.makestep = 1;
	c.makestep_limit = 3;
	c.holdover = 3600;
	snprintf(c.hostsfile, sizeof(c.hostsfile), "%s", hosts_path);
	strcpy(c.up[0].host, "moving.test");
	c.up[0].port = (uint16_t)moved_port;
	c.up[0].minpoll = -3;
	c.up[0].maxpoll = -3;
	c.n_up = 1;
	memset(&w, 0, sizeof(w));
	w.sy = sync_start(&loop, &c, NULL, NULL);
	assert_non_null(w.sy);
	uv_timer_init(&loop, &tick);
	tick.data = &w;
	uv_timer_start(&tick, watch_cb, 100, 100);
	uv_run(&loop, UV_RUN_DEFAULT);

	assert_true(w.still_seen);
	/* Second refresh after 16 more silent polls (~2 s): moved. */
	assert_true(w.moved);
	tstate_read(&ts);
	assert_int_equal(ts.stratum, 2);
	assert_int_equal(ts.refid, 0x7f000001u);
	assert_true(srv[0].answered > 0);

	sync_stop(w.sy);
	fakentp_close(&srv[0]);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(hosts_path);
}

/*
 * Three servers announcing a 2 ms root delay, the third 100 ms (distance
 * about 50 ms against the others' 1 ms). Once it is out of the
 * combination, its root delay drops to 4 ms (within 3x the best, but not
 * the best, which is always combined): it must stay out ("held") until
 * 16 of its samples came within the limit, then be combined.
 */
struct hold_watch {
	struct sync *sy;
	int phase, ticks;
	int answered_at_change, answered_when_held, answered_when_back;
};

static void hold_cb(uv_timer_t *t)
{
	struct hold_watch *w = t->data;
	struct sync_source_view v;
	int since;

	w->ticks++;
	sync_source(w->sy, 2, &v);
	since = srv[2].answered - w->answered_at_change;
	if (w->phase == 0 && !strcmp(v.state, "candidate") &&
	    strstr(v.reason, "above 3x the best")) {
		srv[2].root_delay = 0.004;
		w->answered_at_change = srv[2].answered;
		w->phase = 1;
	} else if (w->phase == 1 && since >= 6) {
		assert_string_equal(v.state, "candidate");
		assert_non_null(strstr(v.reason, "held out"));
		w->answered_when_held = since;
		w->phase = 2;
	} else if (w->phase == 2 && (!strcmp(v.state, "combined") ||
				     !strcmp(v.state, "selected"))) {
		w->answered_when_back = since;
		w->phase = 3;
		uv_stop(t->loop);
	}
	if (w->ticks >= 120)
		uv_stop(t->loop);
}

static void test_distant_held(void **st)
{
	uv_loop_t loop;
	uv_timer_t tick;
	struct sync_conf c;
	struct hold_watch w;
	int i;

	(void)st;
	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&c, 0, sizeof(c));
	c.discipline = DISC_VIRTUAL;
	c.minsources = 1;
	c.maxdistance = 3;
	c.maxslewrate = 500;
	c.makestep = 1;
	c.makestep_limit = 3;
	c.holdover = 3600;
	for (i = 0; i < 3; i++) {
		memset(&srv[i], 0, sizeof(srv[i]));
		srv[i].offset = 0.2;
		srv[i].root_delay = i == 2 ? 0.1 : 0.002;
		strcpy(c.up[i].host, "127.0.0.1");
		c.up[i].port = fakentp_start(&srv[i], &loop);
		c.up[i].minpoll = -3;
		c.up[i].maxpoll = -3;
		c.up[i].iburst = 1;
	}
	c.n_up = 3;
	memset(&w, 0, sizeof(w));
	w.sy = sync_start(&loop, &c, NULL, NULL);
	assert_non_null(w.sy);
	uv_timer_init(&loop, &tick);
	tick.data = &w;
	uv_timer_start(&tick, hold_cb, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);

	assert_int_equal(w.phase, 3);
	assert_true(w.answered_when_held >= 6);
	/* 16 samples within the limit, the first of which may have been
	 * counted when the root delay changed */
	assert_true(w.answered_when_back >= 15);
	assert_true(w.answered_when_back <= 20);

	sync_stop(w.sy);
	for (i = 0; i < 3; i++)
		fakentp_close(&srv[i]);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_name_moves),
		cmocka_unit_test(test_distant_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
