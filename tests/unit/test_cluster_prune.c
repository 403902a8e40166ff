/*
 * The clean-up after `ntpnode recover` (node/cluster/cluster_backup.c), in
 * one process (tests/unit/clmem.h), real recover on the members' stores:
 *
 * - once_only: two voters recovered together; the first leader cleans up
 *   and commits recovered-at; the follower deletes its flag too, so when it
 *   leads later it does not clean up again (which revoked every live token
 *   and cleared drains made since).
 * - drained_voter_kept: a voter whose drained flag committed before quorum
 *   was lost is named again; the role policy waits for the clean-up to
 *   clear the flag instead of demoting it in the same pass.
 * - failed_proposals_retried: every proposal fails for a while (drv_submit
 *   is wrapped: -Wl,--wrap=drv_submit); the clean-up retries once they
 *   work again instead of staying stuck.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/cluster/offline/recover.h"
#include "tests/unit/clmem.h"

/* ---- drv_submit, wrapped: fails while fail_submits is set ---- */

static int fail_submits;
static unsigned failed_submits;

int __real_drv_submit(struct drv *d, const void *buf, size_t len,
		      uint64_t *index, uint64_t *term);
int __wrap_drv_submit(struct drv *d, const void *buf, size_t len,
		      uint64_t *index, uint64_t *term);

int __wrap_drv_submit(struct drv *d, const void *buf, size_t len,
		      uint64_t *index, uint64_t *term)
{
	if (fail_submits) {
		failed_submits++;
		return RAFT_NOSPACE;
	}
	return __real_drv_submit(d, buf, len, index, term);
}

/* ---- helpers ---- */

static int flag_present(int i)
{
	void *buf = NULL;
	size_t len = 0;
	int rc = st_local_get(nodes[i].cl->st, CLUSTER_K_PRUNE, &buf, &len);

	free(buf);
	return rc == 0;
}

static void idle(int ms)
{
	uint64_t end = uv_now(&loop) + (uint64_t)ms;

	while (uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
}

static int up3(void *arg)
{
	struct want w = { *(int *)arg, 3, 3 };

	return roles_are(&w);
}

/* Three voters n1..n3; returns the leader's index. */
static int three_voters(void)
{
	char *tok;
	int i, l;

	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	for (i = 1; i < 3; i++) {
		tok = new_token(0);
		assert_int_equal(node_start(i, CLUSTER_JOIN, tok), 0);
		free(tok);
		assert_true(run_until(ready_set, &nodes[i], 10000));
		assert_int_equal(nodes[i].ready, 1);
	}
	l = 0;
	assert_true(run_until(up3, &l, 10000));
	idle(300);
	return leader_index();
}

/* "INDEX:TERM" of the last entry in member i's (stopped) store. */
static void last_of(int i, char *out, size_t len)
{
	struct rcv_info info;
	struct st *st;

	assert_int_equal(st_open(&st, nodes[i].dir, 0), 0);
	assert_int_equal(rcv_inspect(st, &info), 0);
	snprintf(out, len, "%" PRIu64 ":%" PRIu64, info.last_index,
		 info.last_term);
	rcv_info_close(&info);
	st_close(st);
}

/* recover --voters NAMES on the stopped members a and b (--at checked). */
static void recover2(int a, int b)
{
	char at_a[48], at_b[48], names[32];

	last_of(a, at_a, sizeof(at_a));
	last_of(b, at_b, sizeof(at_b));
	assert_string_equal(at_a, at_b);
	snprintf(names, sizeof(names), "n%d,n%d", a + 1, b + 1);
	assert_int_equal(recover_run(&nodes[a].conf, "test", 0, names, at_a),
			 0);
	assert_int_equal(recover_run(&nodes[b].conf, "test", 0, names, at_b),
			 0);
}

static void start_both(int a, int b)
{
	assert_int_equal(node_start(a, CLUSTER_RUN, NULL), 0);
	assert_int_equal(node_start(b, CLUSTER_RUN, NULL), 0);
	assert_true(run_until(ready_set, &nodes[a], 10000));
	assert_true(run_until(ready_set, &nodes[b], 10000));
	assert_true(run_until(has_leader, NULL, 5000));
}

static int pair[2];

static int both_flags_gone(void *arg)
{
	(void)arg;
	return !flag_present(pair[0]) && !flag_present(pair[1]);
}

static void wipe_all(void)
{
	int i;

	for (i = 0; i < MAXN; i++) {
		if (nodes[i].cl)
			node_stop(i);
		if (nodes[i].dir[0])
			node_wipe(i);
	}
	uv_run(&loop, UV_RUN_NOWAIT);
}

/* The live token id's state in node i's `token list`. */
static int token_live(int i, const char *id)
{
	struct ctl_call *c = cmd(i, "token list", 0, NULL);
	char want[64];
	int live;

	snprintf(want, sizeof(want), "\"id\":\"%s\"", id);
	live = c->json && strstr(c->json, want) &&
	       strstr(strstr(c->json, want), "\"state\":\"live\"") ==
		       strstr(strstr(c->json, want), "\"state\":");
	call_free(c);
	return live;
}

/* ---- the tests ---- */

static void once_only(void **state)
{
	struct ctl_call *c;
	char id[17], name[16];
	const char *p;
	int l, f;

	(void)state;
	l = three_voters();
	assert_true(l >= 0);
	node_stop(2);
	node_stop(1);
	node_stop(0);
	recover2(0, 1);
	start_both(0, 1);
	pair[0] = 0;
	pair[1] = 1;
	/* The leader's clean-up, then the follower's flag goes too. */
	assert_true(run_until(both_flags_gone, NULL, 5000));
	l = leader_index();
	f = 1 - l;
	c = cmd(f, "config get", 1, (const char *[]){ "recovered-at" });
	assert_null(strstr(c->text, "recovered-at 0 "));
	assert_non_null(strstr(c->text, "(replicated)"));
	call_free(c);

	/* A token made after the clean-up survives the follower leading. */
	c = cmd(l, "token create", 0, NULL);
	assert_int_equal(c->status, 0);
	p = strstr(c->json, "\"id\":\"");
	assert_non_null(p);
	snprintf(id, sizeof(id), "%.16s", p + 6);
	call_free(c);
	assert_true(token_live(l, id));
	snprintf(name, sizeof(name), "n%d", f + 1);
	c = cmd(l, "leader transfer", 1, (const char *[]){ name });
	assert_int_equal(c->status, 0);
	call_free(c);
	assert_true(run_until(has_leader, NULL, 3000));
	assert_int_equal(leader_index(), f);
	idle(1000);
	assert_true(token_live(f, id));
	wipe_all();
}

/* Member d's role as node i's configuration says; -1 not in it. */
static int role_in(int i, uint64_t d)
{
	return cl_conf_role(nodes[i].cl, d);
}

static uint64_t watched;
static int demoted;

/* Runs for the whole wait: d's role in both members' committed
 * configuration, every loop turn (a demotion may go voter -> spare ->
 * standby within one commit). */
static int watching(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2; i++)
		if (nodes[pair[i]].cl) {
			int r = role_in(pair[i], watched);

			/* -1: a restarted follower has no committed
			 * configuration yet */
			if (r >= 0 && r != RAFT_VOTER)
				demoted = 1;
		}
	return 0;
}

static int drained_on(void *arg)
{
	int i = *(int *)arg;
	const struct fsm_member *m =
		fsm_member_find(nodes[i].cl->fsm, nodes[i].cl->self);

	return m && m->drained;
}

static uint64_t gone_id;
static int gone_from;

static int unreachable(void *arg)
{
	(void)arg;
	return !cl_reachable(nodes[gone_from].cl, gone_id);
}

static void drained_voter_kept(void **state)
{
	struct fsm_member m;
	void *buf;
	size_t len;
	int l, d, o;

	(void)state;
	l = three_voters();
	assert_true(l >= 0);
	d = (l + 1) % 3;
	o = (l + 2) % 3;
	/* o goes away; then d's drained flag commits, but without o the
	 * policy cannot demote d (no reachable majority without it). */
	gone_id = nodes[o].cl->self;
	gone_from = l;
	node_stop(o);
	assert_true(run_until(unreachable, NULL, 3000));
	watched = nodes[d].cl->self;
	m = *fsm_member_find(nodes[l].cl->fsm, watched);
	m.drained = 1;
	assert_int_equal(fsm_cmd_member_put(&m, cl_wall_ms(), &buf, &len), 0);
	assert_int_equal(cl_propose(nodes[l].cl, buf, len, NULL, NULL, NULL),
			 0);
	assert_true(run_until(drained_on, &d, 3000));
	idle(300);
	assert_int_equal(role_in(l, watched), RAFT_VOTER);

	/* Quorum lost: recover l and d; d votes again, by the operator's
	 * choice. */
	node_stop(d);
	node_stop(l);
	recover2(l, d);
	pair[0] = l;
	pair[1] = d;
	demoted = 0;
	start_both(l, d);
	/* Watch every loop turn for 3 s: d must never be demoted. */
	run_until(watching, NULL, 3000);
	assert_false(flag_present(l));
	assert_false(flag_present(d));
	assert_int_equal(demoted, 0);
	assert_int_equal(role_in(l, watched), RAFT_VOTER);
	assert_false(fsm_member_find(nodes[l].cl->fsm, watched)->drained);
	wipe_all();
}

static int flag_gone0(void *arg)
{
	(void)arg;
	return !flag_present(0);
}

static void failed_proposals_retried(void **state)
{
	struct ctl_call *c;
	char *tok;

	(void)state;
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	tok = new_token(0);
	free(tok);
	tok = new_token(0);
	free(tok);
	idle(200);
	node_stop(0);
	assert_int_equal(recover_run(&nodes[0].conf, "test", 0, "n1", NULL),
			 0);
	/* Every proposal fails (as on a full store) for a second. */
	fail_submits = 1;
	failed_submits = 0;
	assert_int_equal(node_start(0, CLUSTER_RUN, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	idle(1000);
	assert_true(failed_submits > 0);
	assert_true(flag_present(0));
	fail_submits = 0;
	/* Then they work: the clean-up completes. */
	assert_true(run_until(flag_gone0, NULL, 5000));
	c = cmd(0, "token list", 0, NULL);
	assert_int_equal(count(c->json, "\"state\":\"live\""), 0);
	call_free(c);
	wipe_all();
}

/* Each test starts from nothing, also after a failed one. */
static int wipe_td(void **state)
{
	(void)state;
	fail_submits = 0;
	wipe_all();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(once_only, wipe_td),
		cmocka_unit_test_teardown(drained_voter_kept, wipe_td),
		cmocka_unit_test_teardown(failed_proposals_retried, wipe_td),
	};

	return cmocka_run_group_tests(tests, clmem_setup, clmem_teardown);
}
