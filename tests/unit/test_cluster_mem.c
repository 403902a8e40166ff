/*
 * The cluster glue in one process: the real node/cluster code, raft driver, FSM
 * and LMDB stores, over an in-memory transport that follows
 * raft/transport.h (raft messages through msgcodec, app messages, joiners
 * admitted only with a live token), and a stub control socket that calls
 * the registered handlers directly. Covers init, join to 3 voters,
 * forwarded writes and status, refused values, a reused token, removal
 * with the key refused afterwards, and a leadership transfer. wg_mesh: the
 * same with `wireguard-interface` (node/cluster/cluster_wg.c) and a recorder in
 * place of wga_start (the cluster's wg_apply hook): overlay allocation at
 * init and join, raft addresses OVERLAY:PORT, one mesh hash on every
 * member, a full subnet refusing a join, overlay-subnet read-only, the
 * saved mesh applied at restart and the endpoint re-announce.
 * check_verdicts: the cross-check's side of the cluster
 * (node/cluster/cluster_check.c): NTP ports into the member
 * records, members and pair keys for node/crosscheck, a follower's and
 * the leader's verdicts in cluster status, in the audit trail and in the
 * records, and a suspect leader handing over to an ok voter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <sodium.h>
#include <uv.h>

#include "node/cluster/cluster.h"
#include "node/cluster/cluster_int.h"
#include "node/ctl/ctl.h"
#include "node/base/log.h"
#include "node/ntp/tstate.h"
#include "node/cluster/wg/wgmesh.h"
#include "raft/msgcodec.h"

#define MAXN 5

/* ---- stub control socket and time state (not linked here) ---- */

struct ctl_call {
	int done, status;
	char err[512];
	char *text, *json;
};

struct ctl {
	struct {
		char name[32];
		ctl_handler fn;
		void *arg;
	} b[16];
	int n;
};

int ctl_register(struct ctl *c, const char *command, ctl_handler fn,
		 void *arg)
{
	assert_true(c->n < 16);
	snprintf(c->b[c->n].name, sizeof(c->b[0].name), "%s", command);
	c->b[c->n].fn = fn;
	c->b[c->n].arg = arg;
	c->n++;
	return 0;
}

void ctl_reply(struct ctl_call *call, int status, const char *error,
	       const char *text, const char *json)
{
	assert_false(call->done);   /* exactly once */
	call->done = 1;
	call->status = status;
	snprintf(call->err, sizeof(call->err), "%s", error ? error : "");
	call->text = text ? strdup(text) : NULL;
	call->json = json ? strdup(json) : NULL;
}

void ctl_reply_data(struct ctl_call *call, int status, const char *error,
		    const char *text, const char *json, const void *data,
		    size_t len)
{
	(void)data;
	(void)len;
	ctl_reply(call, status, error, text, json);
}

/* ---- in-memory transport ---- */

struct mtr {
	struct rtr base;
	int idx;
	struct hs_config hs;
	const struct token *join;
	char address[64];
};

struct qmsg {
	struct qmsg *next;
	int to, app;
	struct mtr *from;
	uint8_t *buf;
	size_t len;
};

static uv_loop_t loop;
static struct mtr *trs[MAXN];
static struct qmsg *qhead, **qtail = &qhead;
static uv_timer_t flush_timer;
static int opening_idx;

static struct mtr *by_id(uint64_t id)
{
	int i;

	for (i = 0; i < MAXN; i++)
		if (trs[i] && trs[i]->hs.self_id == id)
			return trs[i];
	return NULL;
}

static int trusts(struct mtr *r, uint64_t id)
{
	uint8_t pk[32];

	return r->hs.trust.member_key(r->hs.trust.ctx, id, pk) == 0;
}

static void flush(uv_timer_t *t)
{
	struct qmsg *q;

	(void)t;
	while ((q = qhead)) {
		struct mtr *r = q->to >= 0 ? trs[q->to] : NULL;

		qhead = q->next;
		if (!qhead)
			qtail = &qhead;
		/* Sender or receiver gone meanwhile: lost, as on a network. */
		if (r && trs[q->from->idx] == q->from) {
			if (!q->app) {
				struct raft_message m;

				/* Members only, by key: a joiner knows the
				 * members' keys from its JoinReply. */
				if (trusts(r, q->from->hs.self_id) &&
				    msgcodec_decode(q->buf, q->len, &m) == 0) {
					m.server_address = q->from->address;
					r->base.recv(r->base.owner, &m);
				}
			} else if (r->base.app_recv) {
				struct rtr_from f;
				uint8_t key[TOKEN_KEY_LEN];

				memset(&f, 0, sizeof(f));
				f.id = q->from->hs.self_id;
				memcpy(f.key, ident_public(q->from->hs.ident),
				       32);
				if (trusts(r, f.id)) {
					/* a member */
				} else if (r->join && !q->from->join) {
					/* a joiner hears the member it
					 * reached with its token */
				} else {
					/* Not a member: only with a live
					 * token (the handshake's MAC). */
					f.joiner = 1;
					if (!q->from->join)
						goto drop;
					token_id(q->from->join->secret,
						 f.token_id);
					if (r->hs.trust.token_key(
						    r->hs.trust.ctx, f.token_id,
						    key) < 0)
						goto drop;
				}
				r->base.app_recv(r->base.app_owner, &f, q->buf,
						 q->len);
			}
		}
drop:
		free(q->buf);
		free(q);
	}
}

static void enqueue(struct mtr *from, int to, int app, uint8_t *buf,
		    size_t len)
{
	struct qmsg *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->from = from;
	q->to = to;
	q->app = app;
	q->buf = buf;
	q->len = len;
	*qtail = q;
	qtail = &q->next;
	uv_timer_start(&flush_timer, flush, 0, 0);
}

static int m_send(struct rtr *t, raft_id id, const char *address,
		  const struct raft_message *msg)
{
	struct mtr *s = (struct mtr *)t, *r = by_id(id);
	uint8_t *buf;
	size_t len;

	(void)address;
	if (getenv("TEST_DEBUG"))
		fprintf(stderr, "send %d -> %d type %d\n", s->idx,
			r ? r->idx : -1, msg->type);
	if (!r)
		return 0;
	if (msgcodec_encode(msg, s->hs.self_id, 8 << 20, &buf, &len) < 0)
		return -EINVAL;
	enqueue(s, r->idx, 0, buf, len);
	return 0;
}

static int m_send_app(struct rtr *t, raft_id id, const char *address,
		      const void *b, size_t len)
{
	struct mtr *s = (struct mtr *)t, *r = NULL;
	uint8_t *buf;
	unsigned k;
	int i;

	(void)address;
	if (id) {
		r = by_id(id);
	} else if (s->join) {
		/* The joiner dials the token's endpoints in turn. */
		for (k = 0; k < s->join->n_members && !r; k++)
			for (i = 0; i < MAXN; i++)
				if (trs[i] && strcmp(trs[i]->address,
					s->join->members[k].endpoint) == 0)
					r = trs[i];
	}
	if (!r)
		return 0;
	buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, b, len);
	enqueue(s, r->idx, 1, buf, len);
	return 0;
}

static int m_open(void *arg, uv_loop_t *lp, const struct cluster_conf *c,
		  const struct hs_config *hs, const struct token *join,
		  struct rtr **out)
{
	struct mtr *t = calloc(1, sizeof(*t));

	(void)arg;
	(void)lp;
	(void)c;
	assert_non_null(t);
	t->base.send = m_send;
	t->base.send_app = m_send_app;
	t->idx = opening_idx;
	t->hs = *hs;
	t->join = join;
	snprintf(t->address, sizeof(t->address), "127.0.0.1:%d",
		 20000 + opening_idx);
	trs[opening_idx] = t;
	*out = &t->base;
	return 0;
}

static void m_close(void *arg, struct rtr *tr)
{
	struct mtr *m = (struct mtr *)tr;

	(void)arg;
	trs[m->idx] = NULL;
	free(m);
}

/* The in-memory transport replaces the TCP one through the hooks. */
static const struct cluster_transport mem_transport = {
	m_open, m_close, NULL, NULL,
};

/* ---- nodes ---- */

struct node {
	struct cluster_conf conf;
	struct cluster *cl;
	struct ctl ctl;
	int ready;   /* 0 waiting, 1 ok, -1 failed */
	char dir[64];
};

static struct node nodes[MAXN];

/* wg_mesh: WireGuard on, and what each node's apply was given */
static int wg_mode;
static char wg_ep[MAXN][64];
static struct {
	int calls, peers;
	char overlay[WGM_ADDR_MAX];
} wgrec[MAXN];

static int count(const char *hay, const char *needle);

/* record_announce: what each node's config says (else other/mem/none) */
static char conf_provider[MAXN][16], conf_instance[MAXN][65];

/* In place of wga_start: records what would be applied, done at once. */
static int stub_apply(uv_loop_t *l, const struct wga_req *req,
		      wga_done_fn done, void *arg, struct wga **job)
{
	int i = req->ifname[3] - '0';

	(void)l;
	assert_true(i >= 0 && i < MAXN);
	assert_int_equal(strlen(req->conf), req->len);
	assert_non_null(strstr(req->conf, "[Interface]\nPrivateKey = "));
	wgrec[i].calls++;
	wgrec[i].peers = count(req->conf, "[Peer]");
	snprintf(wgrec[i].overlay, sizeof(wgrec[i].overlay), "%s",
		 req->overlay);
	*job = NULL;
	done(arg, 0, "");
	return 0;
}

static void on_ready(void *arg, struct cluster *cl, int ok)
{
	struct node *n = arg;

	n->ready = ok ? 1 : -1;
	if (ok)
		assert_int_equal(cluster_register(cl, &n->ctl), 0);
}

static void node_conf(int i)
{
	struct node *n = &nodes[i];
	struct sockaddr_in *sa = (struct sockaddr_in *)&n->conf.listen
					     .addr;

	memset(&n->conf, 0, sizeof(n->conf));
	if (!n->dir[0]) {
		snprintf(n->dir, sizeof(n->dir), "/tmp/test_cluster.XXXXXX");
		assert_non_null(mkdtemp(n->dir));
	}
	memcpy(n->conf.datadir, n->dir, sizeof(n->dir));
	snprintf(n->conf.node_name, sizeof(n->conf.node_name), "n%d", i + 1);
	snprintf(n->conf.provider, sizeof(n->conf.provider), "%s",
		 conf_provider[i][0] ? conf_provider[i] : "other");
	snprintf(n->conf.region, sizeof(n->conf.region), "mem");
	snprintf(n->conf.instance_id, sizeof(n->conf.instance_id), "%s",
		 conf_instance[i]);
	n->conf.listen_set = 1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)(20000 + i));
	sa->sin_addr.s_addr = htonl(0x7f000001);
	n->conf.listen.len = sizeof(*sa);
	n->conf.election_timeout_ms = 150;
	n->conf.heartbeat_timeout_ms = 30;
	if (wg_mode) {
		snprintf(n->conf.wg_interface, sizeof(n->conf.wg_interface),
			 "wgt%d", i);
		n->conf.wg_port = 51820;
		snprintf(n->conf.wg_endpoint, sizeof(n->conf.wg_endpoint),
			 "%s", wg_ep[i]);
	}
}

static int node_start(int i, enum cluster_mode mode, const char *token)
{
	struct node *n = &nodes[i];
	struct cluster_hooks h = {
		.ready = on_ready,
		.arg = n,
		.transport = &mem_transport,
		.wg_apply = stub_apply,
	};

	node_conf(i);
	memset(&n->ctl, 0, sizeof(n->ctl));
	n->ready = 0;
	opening_idx = i;
	return cluster_start(&n->cl, &loop, &n->conf, mode, token, &h);
}

static void node_stop(int i)
{
	cluster_stop(nodes[i].cl);
	nodes[i].cl = NULL;
	uv_run(&loop, UV_RUN_NOWAIT);
}

static void node_wipe(int i)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nodes[i].dir);
	assert_int_equal(system(cmd), 0);
	nodes[i].dir[0] = 0;
}

/* Runs the loop until cond() or ms pass; returns cond(). */
static int run_until(int (*cond)(void *), void *arg, int ms)
{
	uint64_t end = uv_now(&loop) + (uint64_t)ms;

	while (!cond(arg) && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	return cond(arg);
}

static int call_done(void *arg)
{
	return ((struct ctl_call *)arg)->done;
}

/* Runs ntpctl COMMAND on node i; the call is answered within 10 s. */
static struct ctl_call *cmd(int i, const char *command, int argc,
			    const char **argv)
{
	struct ctl_call *c = calloc(1, sizeof(*c));
	char *av[8];
	int k;

	assert_non_null(c);
	for (k = 0; k < argc; k++)
		av[k] = strdup(argv[k]);
	for (k = 0; k < nodes[i].ctl.n; k++)
		if (strcmp(nodes[i].ctl.b[k].name, command) == 0)
			break;
	assert_true(k < nodes[i].ctl.n);
	nodes[i].ctl.b[k].fn(nodes[i].ctl.b[k].arg, c, argc, av);
	for (k = 0; k < argc; k++)
		free(av[k]);
	assert_true(run_until(call_done, c, 10000));
	return c;
}

static void call_free(struct ctl_call *c)
{
	free(c->text);
	free(c->json);
	free(c);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while (hay && (hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

struct want {
	int node, voters, members;
};

/* Node w->node sees itself as leader (or a leader) and the roles. */
static int roles_are(void *arg)
{
	struct want *w = arg;
	struct ctl_call *c;
	int ok;

	if (nodes[w->node].ready != 1)
		return 0;
	c = cmd(w->node, "cluster status", 0, NULL);
	ok = c->status == 0 && count(c->json, "\"role\":\"voter\"") ==
		w->voters && count(c->json, "\"id\":") == w->members &&
	     strstr(c->json, "\"view\":\"leader\"");
	if (!ok && getenv("TEST_DEBUG")) {
		int k;

		fprintf(stderr, "status n%d: %s", w->node + 1, c->json);
		for (k = 0; k < MAXN; k++)
			if (nodes[k].cl)
				fprintf(stderr, "  n%d state %d leader %llu "
					"term %llu\n", k + 1,
					raft_state(drv_raft(nodes[k].cl->drv)),
					(unsigned long long)cl_leader_id(
						nodes[k].cl),
					(unsigned long long)raft_current_term(
						drv_raft(nodes[k].cl->drv)));
	}
	call_free(c);
	return ok;
}

static int ready_set(void *arg)
{
	return ((struct node *)arg)->ready != 0;
}

static char *new_token(int i)
{
	struct ctl_call *c = cmd(i, "token create", 0, NULL);
	char *t;

	assert_int_equal(c->status, 0);
	t = strdup(c->text);
	t[strcspn(t, "\n")] = 0;
	call_free(c);
	return t;
}

static int leader_index(void)
{
	int i;

	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl && nodes[i].ready == 1 &&
		    cl_is_leader(nodes[i].cl))
			return i;
	return -1;
}

static int has_leader(void *arg)
{
	(void)arg;
	return leader_index() >= 0;
}

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

struct rec_want {
	int node;           /* whose record, as the leader n1 has it */
	const char *provider, *instance;
	uint32_t version;
};

static int record_is(void *arg)
{
	struct rec_want *w = arg;
	const struct fsm_member *m;

	if (!nodes[0].cl || !nodes[w->node].cl)
		return 0;
	m = fsm_member_find(nodes[0].cl->fsm, nodes[w->node].cl->self);
	return m && strcmp(m->provider, w->provider) == 0 &&
	       strcmp(m->instance_id, w->instance) == 0 &&
	       m->cmd_version == w->version;
}

static void put_done(struct cluster *cl, struct cl_pend *p, int err,
		     int result)
{
	(void)cl;
	(void)p;
	assert_int_equal(err, 0);
	assert_int_equal(result, FSM_OK);
}

/* A member's record follows its config (provider, region, instance id)
 * and its build's FSM version; an instance id (version 3) is written only
 * once every member applies version 3. */
static void record_announce(void **state)
{
	struct rec_want rw;
	struct fsm_member m;
	struct want w;
	char *tok;
	void *buf;
	size_t len;

	(void)state;
	snprintf(conf_instance[0], sizeof(conf_instance[0]), "vm-1");
	snprintf(conf_instance[1], sizeof(conf_instance[1]), "vm-2");
	snprintf(conf_provider[1], sizeof(conf_provider[1]), "fake");
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	tok = new_token(0);
	assert_int_equal(node_start(1, CLUSTER_JOIN, tok), 0);
	free(tok);
	assert_true(run_until(ready_set, &nodes[1], 10000));
	w = (struct want){ 0, 2, 2 };
	assert_true(run_until(roles_are, &w, 10000));
	/* recorded at init and at join */
	rw = (struct rec_want){ 0, "other", "vm-1", FSM_CMD_VERSION };
	assert_true(record_is(&rw));
	rw = (struct rec_want){ 1, "fake", "vm-2", FSM_CMD_VERSION };
	assert_true(record_is(&rw));

	/* n2 restarts with another provider and instance id */
	node_stop(1);
	snprintf(conf_instance[1], sizeof(conf_instance[1]), "vm-2b");
	snprintf(conf_provider[1], sizeof(conf_provider[1]), "gcp");
	assert_int_equal(node_start(1, CLUSTER_RUN, NULL), 0);
	rw = (struct rec_want){ 1, "gcp", "vm-2b", FSM_CMD_VERSION };
	assert_true(run_until(record_is, &rw, 10000));

	/* n2's record as an old build wrote it (version 1, no instance
	 * id): n2 announces its version first; as long as a member says
	 * version 1 no instance id is written, then it is */
	assert_true(cl_is_leader(nodes[0].cl));
	m = *fsm_member_find(nodes[0].cl->fsm, nodes[1].cl->self);
	m.cmd_version = 1;
	m.instance_id[0] = 0;
	assert_int_equal(fsm_cmd_member_put(&m, cl_wall_ms(), &buf, &len), 0);
	assert_int_equal(cl_propose(nodes[0].cl, buf, len, put_done, NULL,
				    NULL), 0);
	rw = (struct rec_want){ 1, "gcp", "", 1 };
	assert_true(run_until(record_is, &rw, 5000));
	assert_false(fsm_version_ok(nodes[0].cl->fsm, 3));
	rw = (struct rec_want){ 1, "gcp", "vm-2b", FSM_CMD_VERSION };
	assert_true(run_until(record_is, &rw, 40000));

	node_stop(0);
	node_stop(1);
	node_wipe(0);
	node_wipe(1);
	uv_run(&loop, UV_RUN_DEFAULT);
	memset(conf_instance, 0, sizeof(conf_instance));
	memset(conf_provider, 0, sizeof(conf_provider));
}

/* ---- the API for the subsystems above (cluster_ext.c) ---- */

static struct {
	int observed, msgs, done, done_err, done_result;
	uint64_t from;
	char msg[32];
} ext;

static void ext_observe(void *arg)
{
	(void)arg;
	ext.observed++;
}

static void ext_msg(void *arg, uint64_t from, const void *buf, size_t len)
{
	(void)arg;
	ext.msgs++;
	ext.from = from;
	snprintf(ext.msg, sizeof(ext.msg), "%.*s", (int)len, (const char *)buf);
}

static int ext_check(void *arg, const char *key, const char *value,
		     char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(key, "min-serving") == 0 && strcmp(value, "7") == 0) {
		snprintf(err, errlen, "min-serving 7: not with this schedule");
		return -1;
	}
	return 0;
}

static void ext_done(void *arg, int err, int result)
{
	(void)arg;
	ext.done++;
	ext.done_err = err;
	ext.done_result = result;
}

static int status_seen(void *arg)
{
	const void *buf;
	size_t len;
	uint64_t age;

	(void)arg;
	return cluster_status_get(nodes[0].cl, nodes[1].cl->self, "rot", &buf,
				  &len, &age) == 0 && len == 5 &&
	       memcmp(buf, "hello", 5) == 0 && age < 1000;
}

static int msg_seen(void *arg)
{
	(void)arg;
	return ext.msgs == 1;
}

static int ext_proposed(void *arg)
{
	(void)arg;
	return ext.done == 1;
}

static int view_ok(void *arg)
{
	struct cluster_peer_view v;

	(void)arg;
	cluster_peer_view(nodes[0].cl, nodes[1].cl->self, &v);
	return v.role == CLUSTER_VOTER && v.reachable && v.has_status &&
	       v.synced && v.caught_up;
}

/* Status parts and messages of a subsystem reach the leader and the
 * member they are sent to; observers run after applied entries; a
 * subsystem's check refuses a config value; proposals report back; the
 * view of a member says what the leader knows. */
static void ext_api(void **state)
{
	struct ctl_call *c;
	struct want w;
	const void *buf;
	size_t len;
	void *cmd_buf;
	char *tok;
	int before;

	(void)state;
	memset(&ext, 0, sizeof(ext));
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	tok = new_token(0);
	assert_int_equal(node_start(1, CLUSTER_JOIN, tok), 0);
	free(tok);
	assert_true(run_until(ready_set, &nodes[1], 10000));
	w = (struct want){ 0, 2, 2 };
	assert_true(run_until(roles_are, &w, 10000));
	assert_int_equal(cluster_self(nodes[0].cl), nodes[0].cl->self);
	assert_true(cluster_is_leader(nodes[0].cl));
	assert_int_equal(cluster_leader(nodes[1].cl), nodes[0].cl->self);

	assert_int_equal(cluster_status_set(nodes[1].cl, "rot", "hello", 5),
			 0);
	assert_int_equal(cluster_status_get(nodes[1].cl, nodes[1].cl->self,
					    "rot", &buf, &len, NULL), 0);
	assert_int_equal(len, 5);
	assert_int_equal(cluster_status_get(nodes[0].cl, 12345, "rot", &buf,
					    &len, NULL), -ENOENT);
	assert_true(run_until(status_seen, NULL, 3000));
	assert_true(run_until(view_ok, NULL, 3000));

	assert_int_equal(cluster_msg_handler(nodes[1].cl, "rot", ext_msg,
					     NULL), 0);
	assert_int_equal(cluster_msg_send(nodes[0].cl, nodes[1].cl->self,
					  "rot", "ping", 4), 0);
	assert_true(run_until(msg_seen, NULL, 3000));
	assert_string_equal(ext.msg, "ping");
	assert_int_equal(ext.from, nodes[0].cl->self);

	assert_int_equal(cluster_observe(nodes[1].cl, ext_observe, NULL), 0);
	assert_int_equal(cluster_config_checker(nodes[0].cl, ext_check, NULL),
			 0);
	c = cmd(0, "config set", 2, (const char *[]){ "min-serving", "7" });
	assert_int_equal(c->status, 2);
	assert_string_equal(c->err, "min-serving 7: not with this schedule");
	call_free(c);
	before = ext.observed;
	c = cmd(0, "config set", 2, (const char *[]){ "min-serving", "3" });
	assert_int_equal(c->status, 0);
	call_free(c);
	assert_int_equal(fsm_cmd_note("hello", cluster_wall_ms(), &cmd_buf,
				      &len), 0);
	assert_int_equal(cluster_propose(nodes[0].cl, cmd_buf, len, ext_done,
					 NULL), 0);
	assert_true(run_until(ext_proposed, NULL, 3000));
	assert_int_equal(ext.done_err, 0);
	assert_int_equal(ext.done_result, FSM_OK);
	assert_true(ext.observed > before);

	node_stop(0);
	node_stop(1);
	node_wipe(0);
	node_wipe(1);
	uv_run(&loop, UV_RUN_DEFAULT);
}

static struct cluster_check verdict(int v, double off, const char *why)
{
	struct cluster_check c;

	memset(&c, 0, sizeof(c));
	c.verdict = v;
	c.peers = 2;
	c.has_offset = 1;
	c.offset = off;
	snprintf(c.why, sizeof(c.why), "%s", why);
	return c;
}

/* Every member's record carries the NTP port it reported. */
static int ports_known(void *arg)
{
	struct cluster_member_info m[MAXN];
	int i, k, n;

	(void)arg;
	for (i = 0; i < 3; i++) {
		n = cluster_members(nodes[i].cl, m, MAXN);
		if (n != 2)
			return 0;
		for (k = 0; k < n; k++)
			if (m[k].ntp_port != 12300 + (int)(m[k].id % 1000) ||
			    strcmp(m[k].host, "127.0.0.1") != 0)
				return 0;
	}
	return 1;
}

struct shows {
	int node;
	const char *what;
};

/* The leader's status (asked on node w->node) and audit hold w->what. */
static int status_shows(void *arg)
{
	struct shows *w = arg;
	struct ctl_call *c = cmd(w->node, "cluster status", 0, NULL);
	int ok = c->status == 0 && strstr(c->json, w->what) != NULL;

	call_free(c);
	return ok;
}

static int audit_shows(void *arg)
{
	struct shows *w = arg;
	struct ctl_call *c = cmd(w->node, "audit", 0, NULL);
	int ok = c->status == 0 && strstr(c->text, w->what) != NULL;

	call_free(c);
	return ok;
}

static int suspect_recorded(void *arg)
{
	return cluster_self_suspect(nodes[*(int *)arg].cl);
}

static int leader_not(void *arg)
{
	int l = leader_index();

	return l >= 0 && l != *(int *)arg;
}

static void check_verdicts(void **state)
{
	uint8_t k12[CLUSTER_PAIR_KEY_LEN], k21[CLUSTER_PAIR_KEY_LEN];
	uint8_t k13[CLUSTER_PAIR_KEY_LEN];
	struct cluster_check c;
	struct ctl_call *cc;
	struct shows sh;
	struct want w;
	char *tok;
	int i, l, f, s;

	(void)state;
	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	for (i = 1; i < 3; i++) {
		tok = new_token(0);
		assert_int_equal(node_start(i, CLUSTER_JOIN, tok), 0);
		free(tok);
		assert_true(run_until(ready_set, &nodes[i], 10000));
	}
	w = (struct want){ 0, 3, 3 };
	assert_true(run_until(roles_are, &w, 10000));
	for (i = 0; i < 3; i++)
		cluster_set_ntp_port(nodes[i].cl, (uint16_t)(12300 +
			cluster_self_id(nodes[i].cl) % 1000));
	assert_true(run_until(ports_known, NULL, 5000));
	/* pair keys: the same on both sides, another for another pair */
	assert_int_equal(cluster_pair_key(nodes[0].cl,
					  cluster_self_id(nodes[1].cl), k12), 0);
	assert_int_equal(cluster_pair_key(nodes[1].cl,
					  cluster_self_id(nodes[0].cl), k21), 0);
	assert_int_equal(cluster_pair_key(nodes[0].cl,
					  cluster_self_id(nodes[2].cl), k13), 0);
	assert_memory_equal(k12, k21, sizeof(k12));
	assert_memory_not_equal(k12, k13, sizeof(k12));
	assert_int_equal(cluster_pair_key(nodes[0].cl, 12345, k12), -ENOENT);
	/* nothing reported yet: unknown, null, 0 */
	sh = (struct shows){ 0, "\"crosscheck\":{\"verdict\":\"unknown\","
			     "\"offset_ms\":null,\"peers\":0}" };
	assert_true(status_shows(&sh));

	/* a follower reports ok, then suspect: status, audit, record */
	l = leader_index();
	assert_true(l >= 0);
	f = (l + 1) % 3;
	s = (l + 2) % 3;
	c = verdict(CLUSTER_CHECK_OK, 0.0002, "ok");
	cluster_check_report(nodes[l].cl, &c);
	cluster_check_report(nodes[s].cl, &c);
	c = verdict(CLUSTER_CHECK_SUSPECT, 0.02, "+20.000 ms from n1, n2");
	cluster_check_report(nodes[f].cl, &c);
	sh = (struct shows){ s, "\"crosscheck\":{\"verdict\":\"suspect\","
			     "\"offset_ms\":20.000,\"peers\":2},"
			     "\"serving\":false}" };
	assert_true(run_until(status_shows, &sh, 5000));
	sh = (struct shows){ s, "\"serving\":2," };
	assert_true(status_shows(&sh));
	sh = (struct shows){ s, "cross-check suspect: +20.000 ms from n1, n2" };
	assert_true(run_until(audit_shows, &sh, 5000));
	assert_true(run_until(suspect_recorded, &f, 5000));
	/* unknown never clears; ok does, once */
	c = verdict(CLUSTER_CHECK_UNKNOWN, 0, "no majority");
	cluster_check_report(nodes[f].cl, &c);
	c = verdict(CLUSTER_CHECK_OK, 0.0001, "3 ok checks");
	cluster_check_report(nodes[f].cl, &c);
	sh = (struct shows){ s, "cross-check cleared: 3 ok checks" };
	assert_true(run_until(audit_shows, &sh, 15000));
	assert_false(cluster_self_suspect(nodes[f].cl));
	cc = cmd(s, "audit", 0, NULL);
	assert_int_equal(count(cc->text, "cross-check"), 2);
	call_free(cc);

	/* the leader a suspect: it hands over to a voter whose verdict is
	 * ok, not to the one whose verdict is unknown */
	c = verdict(CLUSTER_CHECK_UNKNOWN, 0, "no majority");
	cluster_check_report(nodes[f].cl, &c);
	sh = (struct shows){ l, "\"crosscheck\":{\"verdict\":\"unknown\","
			     "\"offset_ms\":0.000,\"peers\":2}" };
	assert_true(run_until(status_shows, &sh, 5000));
	c = verdict(CLUSTER_CHECK_SUSPECT, -0.03, "-30.000 ms");
	cluster_check_report(nodes[l].cl, &c);
	assert_true(run_until(leader_not, &l, 15000));
	assert_int_equal(leader_index(), s);
	sh = (struct shows){ s, "cross-check suspect: -30.000 ms" };
	assert_true(run_until(audit_shows, &sh, 5000));

	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl) {
			node_stop(i);
			node_wipe(i);
		}
	uv_run(&loop, UV_RUN_DEFAULT);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	if (getenv("TEST_DEBUG"))
		log_set_level(LOG_LVL_DEBUG);
	uv_loop_init(&loop);
	uv_timer_init(&loop, &flush_timer);
	/* every member's status says synchronized, stratum 10 */
	tstate_set_local(10);
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl) {
			node_stop(i);
			node_wipe(i);
		}
	uv_close((uv_handle_t *)&flush_timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cluster_life),
		cmocka_unit_test(wg_mesh),
		cmocka_unit_test(record_announce),
		cmocka_unit_test(ext_api),
		cmocka_unit_test(check_verdicts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
