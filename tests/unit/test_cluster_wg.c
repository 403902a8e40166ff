/*
 * The cluster with `wireguard-interface` (node/cluster/cluster_wg.c), on
 * the in-memory cluster (clmem.h) with a recorder in place of wga_start
 * (the cluster's wg_apply hook): overlay allocation at init and join, raft
 * addresses OVERLAY:PORT, one mesh hash on every member, a full subnet
 * refusing a join, overlay-subnet read-only, the saved mesh applied at
 * restart and the endpoint re-announce.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <uv.h>

#include "clmem.h"

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

	stop_all();
	wg_mode = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wg_mesh),
	};

	return cmocka_run_group_tests(tests, clmem_setup, clmem_teardown);
}
