/* raft/driver: a command proposed from the apply callback (as the cluster glue
 * does: a join's member record after its token use) is applied once, and
 * the entry being applied is not applied again (regression: the leader's
 * FSM then differed from the followers' at the same index). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft/driver.h"

static raft_time clock_ms;
static raft_time now_fn(void *data)
{
	(void)data;
	return clock_ms;
}

static int stub_send(struct rtr *t, raft_id id, const char *address,
		     const struct raft_message *msg)
{
	(void)t, (void)id, (void)address, (void)msg;
	return 0;
}

struct ctx {
	struct drv *d;
	unsigned applied, nested;
};

static void on_apply(void *data, uint64_t index, uint64_t term,
		     const void *buf, size_t len, int result)
{
	struct ctx *c = data;
	uint64_t i, t;
	void *b;
	size_t l;

	(void)index, (void)term, (void)buf, (void)len, (void)result;
	c->applied++;
	if (c->nested++ < 3) {	/* each apply proposes one more */
		assert_int_equal(fsm_cmd_config_set("budget-usd", "2.00", 1,
						    &b, &l), 0);
		assert_int_equal(drv_submit(c->d, b, l, &i, &t), 0);
		free(b);
	}
}

static void test_propose_from_apply(void **state)
{
	char dir[64], cmd[96];
	struct drv_config dc;
	struct ctx c = { 0 };
	struct rtr tr;
	struct fsm *fsm = fsm_new();
	struct st *st;
	uint64_t i, t;
	void *b;
	size_t l;
	int k;

	(void)state;
	strcpy(dir, "/tmp/ntpmc-drvapply-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(drv_bootstrap(st, 1, "a:1"), 0);
	memset(&tr, 0, sizeof(tr));
	tr.send = stub_send;
	memset(&dc, 0, sizeof(dc));
	dc.id = 1;
	dc.address = "a:1";
	dc.st = st;
	dc.tr = &tr;
	dc.fsm = fsm;
	dc.now = now_fn;
	dc.on_apply = on_apply;
	dc.cb_data = &c;
	assert_int_equal(drv_open(&c.d, &dc), 0);
	for (k = 0; k < 50 && raft_state(drv_raft(c.d)) != RAFT_LEADER; k++) {
		clock_ms += 100;
		assert_int_equal(drv_tick(c.d), 0);
	}
	assert_int_equal(raft_state(drv_raft(c.d)), RAFT_LEADER);
	assert_int_equal(fsm_cmd_config_set("budget-usd", "1.00", 1, &b, &l),
			 0);
	assert_int_equal(drv_submit(c.d, b, l, &i, &t), 0);
	free(b);
	for (k = 0; k < 10; k++) {
		clock_ms += 100;
		assert_int_equal(drv_tick(c.d), 0);
	}
	/* 1 + 3 proposed from callbacks: 4 commands, each applied once */
	assert_int_equal(c.applied, 4);
	assert_int_equal(fsm_audit_count(fsm), 4);
	assert_int_equal(drv_applied(c.d), raft_commit_index(drv_raft(c.d)));
	drv_close(c.d);
	fsm_free(fsm);
	st_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_propose_from_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
