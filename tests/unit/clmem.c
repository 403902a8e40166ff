/*
 * The in-memory cluster harness (clmem.h).
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

#include "tests/unit/clmem.h"
#include "node/base/log.h"
#include "node/ntp/tstate.h"
#include "proto/cluster_fsm.pb-c.h"
#include "raft/msgcodec.h"

/* ---- stub control socket and time state (not linked here) ---- */

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

struct qmsg {
	struct qmsg *next;
	int to, app;
	struct mtr *from;
	uint8_t *buf;
	size_t len;
};

uv_loop_t loop;
struct mtr *trs[MAXN];
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

int trusts(struct mtr *r, uint64_t id)
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
				uint8_t pk[TOKEN_PK_LEN];

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
					 * token (the handshake's proof). */
					f.joiner = 1;
					if (!q->from->join)
						goto drop;
					memcpy(f.token_id, q->from->join->id,
					       TOKEN_ID_LEN);
					if (r->hs.trust.token(
						    r->hs.trust.ctx, f.token_id,
						    f.key, pk) != HS_TOKEN_LIVE ||
					    memcmp(pk, q->from->join->pk,
						   TOKEN_PK_LEN) != 0)
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

/* The join committed: the token is freed right after. */
static void m_join_done(struct rtr *tr)
{
	((struct mtr *)tr)->join = NULL;
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
	t->base.join_done = m_join_done;
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
	m_open, m_close, NULL, NULL, NULL,
};

/* ---- nodes ---- */

struct node nodes[MAXN];

/* wg_mesh: WireGuard on, and what each node's apply was given */
int wg_mode;
unsigned join_dial_ms;
char wg_ep[MAXN][64];
struct wgrec wgrec[MAXN];
/* what each node's config says ("": other, none) */
char conf_provider[MAXN][16], conf_instance[MAXN][65];

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

void node_conf(int i)
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
	n->conf.join_dial_ms = join_dial_ms;
	if (wg_mode) {
		snprintf(n->conf.wg_interface, sizeof(n->conf.wg_interface),
			 "wgt%d", i);
		n->conf.wg_port = 51820;
		snprintf(n->conf.wg_endpoint, sizeof(n->conf.wg_endpoint),
			 "%s", wg_ep[i]);
	}
}

int node_start(int i, enum cluster_mode mode, const char *token)
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

void node_stop(int i)
{
	cluster_stop(nodes[i].cl);
	nodes[i].cl = NULL;
	uv_run(&loop, UV_RUN_NOWAIT);
}

void node_wipe(int i)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nodes[i].dir);
	assert_int_equal(system(cmd), 0);
	nodes[i].dir[0] = 0;
}

/* Runs the loop until cond() or ms pass; returns cond(). */
int run_until(int (*cond)(void *), void *arg, int ms)
{
	uint64_t end = uv_now(&loop) + (uint64_t)ms;

	while (!cond(arg) && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	return cond(arg);
}

int call_done(void *arg)
{
	return ((struct ctl_call *)arg)->done;
}

/* Runs ntpctl COMMAND on node i; the call is answered within 10 s. */
struct ctl_call *cmd_start(int i, const char *command, int argc,
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
	return c;
}

struct ctl_call *cmd(int i, const char *command, int argc,
		     const char **argv)
{
	struct ctl_call *c = cmd_start(i, command, argc, argv);

	assert_true(run_until(call_done, c, 10000));
	return c;
}

void call_free(struct ctl_call *c)
{
	free(c->text);
	free(c->json);
	free(c);
}

int count(const char *hay, const char *needle)
{
	int n = 0;

	while (hay && (hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

/* Node w->node sees itself as leader (or a leader) and the roles. */
int roles_are(void *arg)
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

int ready_set(void *arg)
{
	return ((struct node *)arg)->ready != 0;
}

char *new_token(int i)
{
	struct ctl_call *c = cmd(i, "token create", 0, NULL);
	char *t;

	assert_int_equal(c->status, 0);
	t = strdup(c->text);
	t[strcspn(t, "\n")] = 0;
	call_free(c);
	return t;
}

int leader_index(void)
{
	int i;

	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl && nodes[i].ready == 1 &&
		    cl_is_leader(nodes[i].cl))
			return i;
	return -1;
}

int has_leader(void *arg)
{
	(void)arg;
	return leader_index() >= 0;
}

void stop_all(void)
{
	int i;

	for (i = 0; i < MAXN; i++)
		if (nodes[i].cl) {
			node_stop(i);
			node_wipe(i);
		}
	uv_run(&loop, UV_RUN_DEFAULT);
}

int clmem_setup(void **state)
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

int clmem_teardown(void **state)
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

void form_cluster(int n)
{
	struct want w = { 0, n < 3 ? n : 3, n };
	char *tok;
	int i;

	assert_int_equal(node_start(0, CLUSTER_INIT, NULL), 0);
	assert_true(run_until(ready_set, &nodes[0], 5000));
	for (i = 1; i < n; i++) {
		tok = new_token(0);
		assert_int_equal(node_start(i, CLUSTER_JOIN, tok), 0);
		free(tok);
		assert_true(run_until(ready_set, &nodes[i], 10000));
	}
	assert_true(run_until(roles_are, &w, 10000));
}
