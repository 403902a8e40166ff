/*
 * The cluster glue in one process (tests/unit/clmem.h): init, join to 3
 * voters, forwarded writes and status, refused values, a reused token,
 * removal with the key refused afterwards, and a leadership transfer.
 * wg_mesh: the same with `wireguard-interface` (node/cluster/cluster_wg.c)
 * and a recorder in place of wgm_apply: overlay allocation at init and
 * join, raft addresses OVERLAY:PORT, one mesh hash on every member, a full
 * subnet refusing a join, overlay-subnet read-only, the saved mesh applied
 * at restart and the endpoint re-announce. read_own_writes: a follower
 * answers a read with the write it just acknowledged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/clmem.h"

static void cluster_life(void **state)
{
	struct want w;
	struct ctl_call *c;
	char *tok, *used = NULL;
	int i, l, f;

	(void)state;
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	assert_int_equal(nodes[0].ready, 1);
	w = (struct want){ 0, 1, 1 };
	assert_true(run_until(roles_are, &w, 5000));

	/* join n2 and n3: both voters (min(members, 3)) */
	for (i = 1; i < 3; i++) {
		tok = new_token(0);
		assert_int_equal(node_start(i, CLUSTER_JOIN, tok), 0);
		assert_true(run_until(ready_set, &nodes[i], 10000));
		assert_int_equal(nodes[i].ready, 1);
		if (i == 1)
			used = tok;
		else
			free(tok);
	}
	w = (struct want){ 0, 3, 3 };
	assert_true(run_until(roles_are, &w, 10000));

	/* a used token is refused and changes nothing */
	assert_int_equal(node_start(3, CLUSTER_JOIN, used), 0);
	assert_true(run_until(ready_set, &nodes[3], 35000));
	assert_int_equal(nodes[3].ready, -1);
	node_stop(3);
	node_wipe(3);
	free(used);
	w = (struct want){ 0, 3, 3 };
	assert_true(roles_are(&w));

	/* a follower forwards writes and status */
	l = leader_index();
	f = (l + 1) % 3;
	c = cmd(f, "config set", 2, (const char *[]){ "budget-usd", "12.5" });
	assert_int_equal(c->status, 0);
	call_free(c);
	c = cmd(f, "cluster status", 0, NULL);
	assert_non_null(strstr(c->json, "\"view\":\"leader\""));
	assert_int_equal(count(c->json, "\"is_leader\":true"), 1);
	call_free(c);
	for (i = 0; i < 3; i++) {
		uint64_t end = uv_now(&loop) + 2000;
		int ok = 0;

		while (!ok && uv_now(&loop) < end) {
			c = cmd(i, "config get", 1,
				(const char *[]){ "budget-usd" });
			ok = strstr(c->text, "12.50 (replicated)") != NULL;
			call_free(c);
			uv_run(&loop, UV_RUN_ONCE);
		}
		assert_true(ok);
	}
	/* refused before anything is proposed */
	c = cmd(f, "config set", 2, (const char *[]){ "nope", "1" });
	assert_int_equal(c->status, 2);
	assert_non_null(strstr(c->err, "unknown key"));
	call_free(c);
	c = cmd(l, "config set", 2,
		(const char *[]){ "heartbeat-timeout", "400" });
	assert_int_equal(c->status, 2);
	call_free(c);

	/* leader transfer to a named voter */
	c = cmd(l, "leader transfer", 1,
		(const char *[]){ f == 0 ? "n1" : f == 1 ? "n2" : "n3" });
	assert_int_equal(c->status, 0);
	call_free(c);
	assert_true(run_until(has_leader, NULL, 3000));
	assert_int_equal(leader_index(), f);

	/* remove a follower; its key is refused afterwards */
	l = f;
	f = (l + 1) % 3;
	c = cmd(l, "node remove", 1,
		(const char *[]){ f == 0 ? "n1" : f == 1 ? "n2" : "n3" });
	assert_int_equal(c->status, 0);
	call_free(c);
	w = (struct want){ l, 2, 2 };
	assert_true(run_until(roles_are, &w, 5000));
	assert_false(trusts(trs[l], trs[f]->hs.self_id));

	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl) {
			node_stop(i);
			node_wipe(i);
		}
	uv_run(&loop, UV_RUN_DEFAULT);
}

/* Every member of the leader's status (n of them) reports one mesh hash;
 * it goes to out. */
static int mesh_equal(int node, int n, char out[17])
{
	struct ctl_call *c = cmd(node, "cluster status", 0, NULL);
	const char *p = c->json;
	char first[17] = "";
	int k = 0, ok = c->status == 0;

	while (ok && p && (p = strstr(p, "\"mesh\":\""))) {
		p += 8;
		if (!k)
			snprintf(first, sizeof(first), "%.16s", p);
		else if (strncmp(first, p, 16) != 0)
			ok = 0;
		k++;
	}
	call_free(c);
	if (ok && k == n && out)
		memcpy(out, first, 17);
	return ok && k == n;
}

struct mesh_want {
	int node, n;
	char not[17];
};

static int mesh_settled(void *arg)
{
	struct mesh_want *m = arg;
	char h[17];

	return mesh_equal(m->node, m->n, h) && strcmp(h, m->not) != 0;
}

static int endpoint_is(void *arg)
{
	const struct fsm_member *m =
		fsm_member_find(nodes[0].cl->fsm, nodes[1].cl->self);

	return m && strcmp(m->endpoint, arg) == 0;
}

static void wg_mesh(void **state)
{
	struct mesh_want mw = { 0, 2, "" };
	struct ctl_call *c;
	struct want w;
	char *tok, h1[17];
	int i;

	(void)state;
	wg_mode = 1;
	memset(wgrec, 0, sizeof(wgrec));
	memset(wg_ep, 0, sizeof(wg_ep));
	/* a /30: room for two members */
	assert_int_equal(node_start(0, CLUSTER_INIT, "10.77.0.0/30"), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	assert_int_equal(nodes[0].ready, 1);
	assert_string_equal(wgrec[0].overlay, "10.77.0.1");
	assert_int_equal(wgrec[0].peers, 0);
	c = cmd(0, "cluster status", 0, NULL);
	assert_non_null(strstr(c->json, "\"address\":\"10.77.0.1:20000\""));
	call_free(c);
	c = cmd(0, "config get", 1, (const char *[]){ "overlay-subnet" });
	assert_non_null(strstr(c->text, "10.77.0.0/30"));
	call_free(c);
	c = cmd(0, "config set", 2,
		(const char *[]){ "overlay-subnet", "10.78.0.0/16" });
	assert_int_equal(c->status, 2);
	assert_non_null(strstr(c->err, "fixed when the cluster is made"));
	call_free(c);

	/* the joiner gets 10.77.0.2 and applies the mesh from the reply */
	tok = new_token(0);
	assert_int_equal(node_start(1, CLUSTER_JOIN, tok), 0);
	free(tok);
	assert_true(run_until(ready_set, &nodes[1], 10000));
	assert_int_equal(nodes[1].ready, 1);
	assert_string_equal(wgrec[1].overlay, "10.77.0.2");
	assert_int_equal(wgrec[1].peers, 1);
	w = (struct want){ 0, 2, 2 };
	assert_true(run_until(roles_are, &w, 10000));
	assert_true(run_until(mesh_settled, &mw, 5000));
	assert_true(mesh_equal(0, 2, h1));
	assert_int_equal(wgrec[0].peers, 1);
	c = cmd(0, "cluster status", 0, NULL);
	assert_non_null(strstr(c->json, "\"address\":\"10.77.0.2:20001\""));
	call_free(c);

	/* the subnet is full: a third member is refused, its token kept */
	tok = new_token(0);
	assert_int_equal(node_start(2, CLUSTER_JOIN, tok), 0);
	free(tok);
	assert_true(run_until(ready_set, &nodes[2], 35000));
	assert_int_equal(nodes[2].ready, -1);
	node_stop(2);
	node_wipe(2);

	/* n2 restarts with a new endpoint: its saved mesh is applied at
	 * once, then it re-announces and every member re-applies */
	node_stop(1);
	wgrec[1].calls = 0;
	snprintf(wg_ep[1], sizeof(wg_ep[1]), "127.0.0.9:6000");
	assert_int_equal(node_start(1, CLUSTER_RUN, NULL), 0);
	assert_int_equal(wgrec[1].calls, 1);
	assert_string_equal(wgrec[1].overlay, "10.77.0.2");
	assert_true(run_until(endpoint_is, "127.0.0.9:6000", 10000));
	memcpy(mw.not, h1, sizeof(h1));
	assert_true(run_until(mesh_settled, &mw, 5000));

	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl) {
			node_stop(i);
			node_wipe(i);
		}
	uv_run(&loop, UV_RUN_DEFAULT);
	wg_mode = 0;
}

/* A member answers a read with the write it acknowledged, or newer: a
 * follower's forwarded write is answered once the follower applied it
 * too (before: the old value, 20 times out of 20, for up to 300 ms). */
static void read_own_writes(void **state)
{
	struct ctl_call *c;
	char v[16], want[48];
	const char *p;
	int i, k, f, l;

	(void)state;
	l = 0;
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	for (i = 1; i < 3; i++) {
		char *tok = new_token(0);

		assert_int_equal(node_start(i, CLUSTER_JOIN, tok), 0);
		free(tok);
		assert_true(run_until(ready_set, &nodes[i], 10000));
	}
	{
		struct want w = { 0, 3, 3 };

		assert_true(run_until(roles_are, &w, 10000));
	}
	l = leader_index();
	for (k = 0; k < 20; k++) {
		f = (l + 1 + k % 2) % 3;      /* both followers, in turn */
		snprintf(v, sizeof(v), "%d.25", 100 + k);
		c = cmd(f, "config set", 2,
			(const char *[]){ "budget-usd", v });
		assert_int_equal(c->status, 0);
		call_free(c);
		/* The answer itself waited for f's own apply. */
		assert_non_null(fsm_config_get(nodes[f].cl->fsm, "budget-usd"));
		assert_string_equal(fsm_config_get(nodes[f].cl->fsm,
						   "budget-usd"), v);
		c = cmd(f, "config get", 1, (const char *[]){ "budget-usd" });
		snprintf(want, sizeof(want), "budget-usd %s (replicated)", v);
		if (!strstr(c->text, want))
			fail_msg("write %d on n%d, then read: %s", k, f + 1,
				 c->text);
		call_free(c);
	}
	/* A token made through a follower is in its own token list. */
	f = (l + 1) % 3;
	c = cmd(f, "token create", 0, NULL);
	assert_int_equal(c->status, 0);
	p = strstr(c->json, "\"id\":\"");
	assert_non_null(p);
	snprintf(want, sizeof(want), "%.16s", p + 6);
	call_free(c);
	c = cmd(f, "token list", 0, NULL);
	assert_non_null(strstr(c->text, want));
	call_free(c);
	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl) {
			node_stop(i);
			node_wipe(i);
		}
	uv_run(&loop, UV_RUN_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cluster_life),
		cmocka_unit_test(wg_mesh),
		cmocka_unit_test(read_own_writes),
	};

	return cmocka_run_group_tests(tests, cm_setup, cm_teardown);
}
