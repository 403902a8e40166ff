/*
 * The cluster glue in one process, on the in-memory cluster (clmem.h).
 * cluster_life: init, join to 3 voters, forwarded writes and status,
 * refused values, a reused token, removal with the key refused
 * afterwards, and a leadership transfer. old_token_revoked: a token of
 * the older format in the state is revoked by the leader, audited.
 * read_own_writes: a follower answers a read with the write it just
 * acknowledged. join_waits_for_leader: a joiner told "no leader yet"
 * waits past its dial window, gives up after the leaderless limit, and
 * joins once the members elect a leader again.
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

#include "tests/unit/clmem.h"
#include "proto/cluster_fsm.pb-c.h"

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
		/* Joined: the token is wiped and freed, the transport let
		 * it go. */
		assert_null(nodes[i].cl->join_tok);
		assert_null(trs[i]->join);
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

	stop_all();
}



static int no_old_token(void *arg)
{
	const struct fsm *f = nodes[0].cl->fsm;
	unsigned i;

	(void)arg;
	for (i = 0; i < fsm_token_count(f); i++)
		if (!fsm_token_at(f, i)->has_pubkey)
			return 0;
	return 1;
}

/* A token of the older format in the state (an upgraded cluster's): the
 * leader revokes it, audited. */
static void old_token_revoked(void **state)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmTokenAdd a = NTPMC__FSM__FSM_TOKEN_ADD__INIT;
	uint8_t mac[32];
	void *buf;
	size_t len;
	unsigned i;
	int seen = 0;

	(void)state;
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	memset(mac, 9, sizeof(mac));
	a.id = 77;
	a.hash.data = mac;
	a.hash.len = sizeof(mac);
	a.uses = 1;
	a.expires_ms = cl_wall_ms() + 600000;
	c.version = 1;
	c.time_ms = cl_wall_ms();
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_TOKEN_ADD;
	c.token_add = &a;
	len = ntpmc__fsm__fsm_command__get_packed_size(&c);
	buf = malloc(len);
	assert_non_null(buf);
	ntpmc__fsm__fsm_command__pack(&c, buf);
	assert_int_equal(cl_propose(nodes[0].cl, buf, len, NULL, NULL, NULL),
			 0);
	assert_true(run_until(no_old_token, NULL, 3000));
	for (i = 0; i < fsm_audit_count(nodes[0].cl->fsm); i++)
		seen |= strstr(fsm_audit_at(nodes[0].cl->fsm, i, NULL),
			       "token 77 revoked") != NULL;
	assert_true(seen);
	node_stop(0);
	node_wipe(0);
	uv_run(&loop, UV_RUN_DEFAULT);
}
/* A member answers a read with the write it acknowledged, or newer: a
 * follower's forwarded write is answered once the follower applied it
 * too (before: the old value, 20 times out of 20, for up to 300 ms). */
static void read_own_writes(void **state)
{
	struct ctl_call *c;
	char v[16], want[48];
	const char *p;
	int k, f, l;

	(void)state;
	l = 0;
	form_cluster(3);
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
	stop_all();
}

static int leaderless(void *arg)
{
	(void)arg;
	return cl_leader_id(nodes[0].cl) == 0;
}

static void join_waits_for_leader(void **state)
{
	char *tok;

	(void)state;
	form_cluster(3);
	tok = new_token(leader_index());
	node_stop(1);
	node_stop(2);
	assert_true(run_until(leaderless, NULL, 5000));

	/* n1 answers "no leader yet" to every dial (one a second): past
	 * the 2 s window, still waiting */
	join_dial_ms = 2000;
	assert_int_equal(node_start(3, CLUSTER_JOIN, tok), 0);
	run_until(ready_set, &nodes[3], 5000);
	assert_int_equal(nodes[3].ready, 0);
	/* ... and gives up after 6 windows without a leader */
	assert_true(run_until(ready_set, &nodes[3], 10000));
	assert_int_equal(nodes[3].ready, -1);
	node_stop(3);
	node_wipe(3);

	/* the token was not consumed: with a leader again, it admits */
	assert_int_equal(node_start(1, CLUSTER_RUN, NULL), 0);
	assert_int_equal(node_start(2, CLUSTER_RUN, NULL), 0);
	assert_true(run_until(has_leader, NULL, 10000));
	assert_int_equal(node_start(3, CLUSTER_JOIN, tok), 0);
	assert_true(run_until(ready_set, &nodes[3], 10000));
	assert_int_equal(nodes[3].ready, 1);
	join_dial_ms = 0;
	free(tok);
	stop_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cluster_life),
		cmocka_unit_test(old_token_revoked),
		cmocka_unit_test(read_own_writes),
		cmocka_unit_test(join_waits_for_leader),
	};

	return cmocka_run_group_tests(tests, clmem_setup, clmem_teardown);
}
