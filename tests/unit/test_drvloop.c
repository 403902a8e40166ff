/* drl: the driver on a real libuv loop: a lone voter elects itself,
 * applies what is submitted, and the handles close cleanly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <uv.h>

#include "raft/driver.h"
#include "raft/drvloop.h"
#include "raft/fsm.h"
#include "storage/st.h"

struct ctx {
	uv_loop_t loop;
	struct drv *d;
	struct drl *l;
	uv_timer_t work, stop;
	int submitted, applied, failed;
};

static int no_send(struct rtr *t, raft_id id, const char *address,
		   const struct raft_message *msg)
{
	return 0;
}

static void on_apply(void *data, uint64_t index, uint64_t term,
		     const void *buf, size_t len, int result)
{
	struct ctx *c = data;

	assert_int_equal(result, FSM_OK);
	c->applied++;
}

static void on_fail(void *data, int reason)
{
	((struct ctx *)data)->failed = reason;
}

static void on_work(uv_timer_t *t)
{
	struct ctx *c = t->data;
	uint64_t index, term;
	void *buf;
	size_t len;

	if (raft_state(drv_raft(c->d)) != RAFT_LEADER)
		return;
	assert_int_equal(fsm_cmd_config_set("k", "v", uv_now(&c->loop), &buf,
					    &len), 0);
	assert_int_equal(drv_submit(c->d, buf, len, &index, &term), 0);
	free(buf);
	if (++c->submitted == 5)
		uv_timer_stop(t);
}

static void on_stop(uv_timer_t *t)
{
	struct ctx *c = t->data;

	drl_stop(c->l);
	uv_close((uv_handle_t *)&c->work, NULL);
	uv_close((uv_handle_t *)&c->stop, NULL);
}

static void test_loop(void **state)
{
	char dir[] = "/tmp/ntpmc-drl-XXXXXX", cmd[64];
	struct drv_config cfg;
	struct rtr tr;
	struct fsm *fsm;
	struct st *st;
	struct ctx c;

	memset(&c, 0, sizeof(c));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(drv_bootstrap(st, 1, "127.0.0.1:7000"), 0);
	assert_int_equal(drv_has_state(st), 1);
	assert_int_equal(uv_loop_init(&c.loop), 0);
	fsm = fsm_new();
	memset(&tr, 0, sizeof(tr));
	tr.send = no_send;
	memset(&cfg, 0, sizeof(cfg));
	cfg.id = 1;
	cfg.address = "127.0.0.1:7000";
	cfg.st = st;
	cfg.tr = &tr;
	cfg.fsm = fsm;
	cfg.now = drl_now;
	cfg.now_data = &c.loop;
	cfg.seed = drl_seed();
	cfg.on_apply = on_apply;
	cfg.cb_data = &c;
	assert_int_equal(drv_open(&c.d, &cfg), 0);
	assert_int_equal(drl_start(&c.l, &c.loop, c.d, on_fail, &c), 0);
	uv_timer_init(&c.loop, &c.work);
	uv_timer_init(&c.loop, &c.stop);
	c.work.data = &c;
	c.stop.data = &c;
	uv_timer_start(&c.work, on_work, 10, 10);
	uv_timer_start(&c.stop, on_stop, 300, 0);
	assert_int_equal(uv_run(&c.loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(c.submitted, 5);
	assert_int_equal(c.applied, 5);
	assert_int_equal(c.failed, 0);
	assert_int_equal(raft_state(drv_raft(c.d)), RAFT_LEADER);
	{
		uint64_t lag = 99;

		assert_int_equal(drv_member_lag(c.d, 1, &lag), 0);
		assert_int_equal(lag, 0);
		assert_int_equal(drv_member_lag(c.d, 7, &lag), RAFT_BADID);
	}
	drv_close(c.d);
	fsm_free(fsm);
	st_close(st);
	assert_int_equal(uv_loop_close(&c.loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
