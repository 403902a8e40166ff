/*
 * Admission on the cluster port (raft/transport/tcp_admit.c), between
 * in-process endpoints on loopback (127.0.0.0/8: strangers come from
 * other loopback addresses, or a member's): per-source and total caps
 * with eviction,
 * the hello deadline, refusals counted and logged with their source at
 * most once a second; joiners' caps per token, their ids bound to their
 * keys, their record cap; a member listener that leaves the first one to
 * joins.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <sodium.h>
#include <uv.h>

#include "node/base/hostport.h"
#include "raft/msgcodec.h"
#include "raft/transport/tcp.h"

#define N 12 /* 1, 2: members; 3..: joiners and late members */

struct node {
	struct tcp *t;
	struct ident *id;
	char addr[64];
	int got_raft, got_app;
	int refused;      /* join_refused calls */
	int last_refusal;
};

static struct {
	uv_loop_t loop;
	struct node n[N];
	bool member[N];
	uint8_t cluster[HS_CLUSTER_ID_LEN];
	struct token *tok;
	int log_lines;
	char last_log[512];
} W;

static int member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	if (id == 0 || id >= N || !W.member[id])
		return -ENOENT;
	memcpy(pk, ident_public(W.n[id].id), IDENT_PK_LEN);
	return 0;
}

static int no_members(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	(void)id;
	(void)pk;
	return -ENOENT;
}

static enum hs_token_state token_cb(void *ctx, const uint8_t id[TOKEN_ID_LEN],
				    const uint8_t joiner[IDENT_PK_LEN],
				    uint8_t pk[TOKEN_PK_LEN])
{
	(void)ctx;
	(void)joiner;
	if (W.tok == NULL || memcmp(id, W.tok->id, TOKEN_ID_LEN) != 0)
		return HS_TOKEN_UNKNOWN;
	memcpy(pk, W.tok->pk, TOKEN_PK_LEN);
	return HS_TOKEN_LIVE;
}

static void on_log(void *arg, enum rlog_level level, const char *msg)
{
	(void)arg;
	assert_int_equal(level, RLOG_WARN);
	W.log_lines++;
	snprintf(W.last_log, sizeof(W.last_log), "%s", msg);
}

static void on_recv(void *owner, struct raft_message *m)
{
	((struct node *)owner)->got_raft++;
	msgcodec_release(m);
}

static void on_app(void *owner, const struct rtr_from *from, const void *buf,
		   size_t len)
{
	(void)from;
	(void)buf;
	(void)len;
	((struct node *)owner)->got_app++;
}

static void on_refused(void *owner, int reason)
{
	struct node *n = owner;

	n->refused++;
	n->last_refusal = reason;
}

/* Node i as a member listening on 127.0.0.1:0, or as a joiner with
 * token join (no listener), under raft id (0: i). */
static void start_as(int i, const struct token *join, uint64_t id)
{
	struct tcp_config c;
	struct node *n = &W.n[i];
	struct rtr *r;
	struct sockaddr_in any;

	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &any), 0);
	memset(&c, 0, sizeof(c));
	c.loop = &W.loop;
	c.listen = join ? NULL : (const struct sockaddr *)&any;
	c.parse_addr = hostport_to_sa;
	c.self_id = id ? id : (uint64_t)i;
	memcpy(c.cluster_id, W.cluster, sizeof(c.cluster_id));
	c.ident = n->id;
	c.trust.member_key = join != NULL ? no_members : member_key;
	c.trust.token = token_cb;
	c.join = join;
	c.log.fn = on_log;
	assert_int_equal(tcp_new(&c, &n->t), 0);
	snprintf(n->addr, sizeof(n->addr), "127.0.0.1:%d", tcp_port(n->t));
	r = tcp_rtr(n->t);
	r->recv = on_recv;
	r->owner = n;
	r->app_recv = on_app;
	r->app_owner = n;
	r->join_refused = on_refused;
}

static void stop(int i)
{
	tcp_close(W.n[i].t, NULL, NULL);
	W.n[i].t = NULL;
}

static void on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *v >= want or ms pass. */
static int run_until_u64(const uint64_t *v, uint64_t want, unsigned ms)
{
	uv_timer_t tm;
	int expired = 0;

	uv_timer_init(&W.loop, &tm);
	tm.data = &expired;
	uv_timer_start(&tm, on_deadline, ms, 0);
	while (*v < want && !expired)
		uv_run(&W.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(&W.loop, UV_RUN_NOWAIT);
	return *v >= want;
}

static int run_until(int *v, int want, unsigned ms)
{
	uint64_t x = 0;
	uv_timer_t tm;
	int expired = 0;

	uv_timer_init(&W.loop, &tm);
	tm.data = &expired;
	uv_timer_start(&tm, on_deadline, ms, 0);
	while (*v < want && !expired)
		uv_run(&W.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(&W.loop, UV_RUN_NOWAIT);
	(void)x;
	return *v >= want;
}

static void run_for(unsigned ms)
{
	int never = 0;

	run_until(&never, 1, ms);
}

static void send_ae(int from, int to, const char *address)
{
	struct raft_message m = { 0 };
	struct rtr *r = tcp_rtr(W.n[from].t);

	m.type = RAFT_APPEND_ENTRIES;
	m.append_entries.term = 1;
	assert_int_equal(r->send(r, (raft_id)to, address, &m), 0);
}

/* --- silent strangers: raw sockets that never say a word --- */

#define MAX_RAW 96 /* >= TCP_PREHELLO_MAX + 6, 18 x 4 */
static uv_tcp_t raw[MAX_RAW];
static int n_raw;

static void on_raw_connect(uv_connect_t *req, int status)
{
	(void)status;
	free(req);
}

/* Opens k silent connections from src (a loopback address) to port. */
static void strangers(const char *src, int port, int k)
{
	struct sockaddr_in from, to;
	int i;

	assert_int_equal(uv_ip4_addr(src, 0, &from), 0);
	assert_int_equal(uv_ip4_addr("127.0.0.1", port, &to), 0);
	for (i = 0; i < k && n_raw < MAX_RAW; i++, n_raw++) {
		uv_connect_t *req = malloc(sizeof(*req));

		assert_non_null(req);
		uv_tcp_init(&W.loop, &raw[n_raw]);
		assert_int_equal(uv_tcp_bind(&raw[n_raw],
					     (struct sockaddr *)&from, 0),
				 0);
		assert_int_equal(uv_tcp_connect(req, &raw[n_raw],
						(struct sockaddr *)&to,
						on_raw_connect),
				 0);
	}
}

static void strangers_gone(void)
{
	int i;

	for (i = 0; i < n_raw; i++)
		uv_close((uv_handle_t *)&raw[i], NULL);
	n_raw = 0;
	run_for(50);
}

static int setup(void **state)
{
	int i;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	memset(&W, 0, sizeof(W));
	assert_int_equal(uv_loop_init(&W.loop), 0);
	randombytes_buf(W.cluster, sizeof(W.cluster));
	for (i = 1; i < N; i++)
		assert_int_equal(ident_generate(&W.n[i].id), 0);
	W.member[1] = W.member[2] = true;
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 1; i < N; i++)
		if (W.n[i].t != NULL)
			stop(i);
	run_for(300);
	assert_int_equal(uv_run(&W.loop, UV_RUN_NOWAIT), 0);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	for (i = 1; i < N; i++)
		ident_free(W.n[i].id);
	token_free(W.tok);
	return 0;
}

/*
 * One address holds TCP_PREHELLO_PER_SOURCE silent connections; the rest
 * are refused at accept, counted and logged (with the address, at most a
 * line a second); the held ones go after TCP_HELLO_TIMEOUT_MS. Members'
 * traffic flows meanwhile.
 */
static void one_source_capped(void **state)
{
	const struct wire_stats *st;
	int port, got;

	(void)state;
	start_as(1, NULL, 0);
	start_as(2, NULL, 0);
	st = tcp_stats(W.n[2].t);
	port = tcp_port(W.n[2].t);
	W.log_lines = 0;
	strangers("127.0.0.2", port, 12);
	assert_true(run_until_u64(&st->refused[WIRE_REFUSE_SOURCE],
				  12 - TCP_PREHELLO_PER_SOURCE, 3000));
	run_for(100);
	assert_int_equal(st->refused[WIRE_REFUSE_SOURCE],
			 12 - TCP_PREHELLO_PER_SOURCE);
	assert_int_equal(W.log_lines, 1);
	assert_non_null(strstr(W.last_log, "from 127.0.0.2:"));
	assert_non_null(strstr(W.last_log, "too many pending handshakes"));
	got = W.n[2].got_raft;
	send_ae(1, 2, W.n[2].addr);
	assert_true(run_until(&W.n[2].got_raft, got + 1, 3000));
	/* The hello deadline closes the held ones. */
	assert_true(run_until_u64(&st->refused[WIRE_REFUSE_HELLO_TIMEOUT],
				  TCP_PREHELLO_PER_SOURCE,
				  TCP_HELLO_TIMEOUT_MS + 1500));
	strangers_gone();
}

/*
 * Strangers from many addresses fill every pending slot: the oldest
 * stranger gives way to each newcomer, so a member that has never dialed
 * before (node 3) still gets through with its hello.
 */
static void many_sources_evicted(void **state)
{
	const struct wire_stats *st = tcp_stats(W.n[2].t);
	char src[32];
	int i, got;

	(void)state;
	for (i = 0; i < 18; i++) {
		snprintf(src, sizeof(src), "127.0.1.%d", i + 1);
		strangers(src, tcp_port(W.n[2].t), TCP_PREHELLO_PER_SOURCE);
	}
	assert_true(run_until_u64(&st->refused[WIRE_REFUSE_EVICTED],
				  18 * TCP_PREHELLO_PER_SOURCE -
					  TCP_PREHELLO_MAX,
				  3000));
	W.member[3] = true;
	start_as(3, NULL, 0);
	got = W.n[2].got_raft;
	send_ae(3, 2, W.n[2].addr);
	assert_true(run_until(&W.n[2].got_raft, got + 1, 3000));
	strangers_gone();
	stop(3);
	W.member[3] = false;
}

/* The same from a member's own address (node 2 dials 127.0.0.1): not held
 * to the per-source cap, yet a full pool of them still gives way. */
static void member_address_flood(void **state)
{
	const struct wire_stats *st = tcp_stats(W.n[2].t);
	uint64_t ev = st->refused[WIRE_REFUSE_EVICTED];
	int got;

	(void)state;
	send_ae(2, 1, W.n[1].addr); /* 127.0.0.1 is now a member's */
	run_for(100);
	strangers("127.0.0.1", tcp_port(W.n[2].t), TCP_PREHELLO_MAX + 6);
	assert_true(run_until_u64(&st->refused[WIRE_REFUSE_EVICTED], ev + 6,
				  3000));
	assert_int_equal(st->refused[WIRE_REFUSE_SOURCE],
			 12 - TCP_PREHELLO_PER_SOURCE);
	W.member[3] = true;
	start_as(3, NULL, 0);
	got = W.n[2].got_raft;
	send_ae(3, 2, W.n[2].addr);
	assert_true(run_until(&W.n[2].got_raft, got + 1, 3000));
	strangers_gone();
	stop(3);
	W.member[3] = false;
}

static void new_token(void)
{
	struct token_member tm;

	token_free(W.tok);
	memset(&tm, 0, sizeof(tm));
	tm.id = 1;
	snprintf(tm.endpoint, sizeof(tm.endpoint), "%s", W.n[1].addr);
	ident_fingerprint(ident_public(W.n[1].id), tm.fp);
	assert_int_equal(token_create(W.cluster, &tm, 1, 0, 600, &W.tok), 0);
}

static void join_hello(int i)
{
	struct rtr *r = tcp_rtr(W.n[i].t);

	assert_int_equal(r->send_app(r, 0, NULL, "j", 1), 0);
}

/*
 * Joiners: TCP_JOIN_PER_TOKEN connections per token, the next refused as
 * busy (and told); a second joiner under an in-flight joiner's id with
 * another key is refused and the first keeps its connection; a joiner's
 * record over WIRE_JOINER_RECORD_MAX closes its connection.
 */
static void joiner_caps(void **state)
{
	const struct wire_stats *st = tcp_stats(W.n[1].t);
	int i, got;

	(void)state;
	new_token();
	for (i = 0; i < TCP_JOIN_PER_TOKEN; i++) {
		start_as(3 + i, W.tok, 0);
		join_hello(3 + i);
	}
	assert_true(run_until(&W.n[1].got_app, TCP_JOIN_PER_TOKEN, 5000));
	start_as(3 + i, W.tok, 0);
	join_hello(3 + i);
	assert_true(run_until_u64(&st->hs_failed[HS_ERR_BUSY], 1, 5000));
	assert_true(run_until(&W.n[3 + i].refused, 1, 3000));
	assert_int_equal(W.n[3 + i].last_refusal, -HS_ERR_BUSY);
	assert_int_equal(W.n[1].got_app, TCP_JOIN_PER_TOKEN);
	for (i = 0; i <= TCP_JOIN_PER_TOKEN; i++)
		stop(3 + i);
	run_for(200);

	/* Node 3 as joiner 77; node 4 claims 77 with its own key. */
	start_as(3, W.tok, 77);
	join_hello(3);
	got = W.n[1].got_app;
	assert_true(run_until(&W.n[1].got_app, got + 1, 3000));
	start_as(4, W.tok, 77);
	join_hello(4);
	assert_true(run_until(&W.n[4].refused, 1, 3000));
	assert_int_equal(W.n[4].last_refusal, -HS_ERR_ID_TAKEN);
	/* The member's answer still reaches the first joiner. */
	got = W.n[3].got_app;
	assert_int_equal(tcp_rtr(W.n[1].t)->send_app(tcp_rtr(W.n[1].t), 77,
						     NULL, "ok", 2),
			 0);
	assert_true(run_until(&W.n[3].got_app, got + 1, 3000));
	stop(4);

	/* A record larger than a join request. */
	{
		static char big[WIRE_JOINER_PLAIN_MAX + 100];
		uint64_t before = st->drops[WIRE_DROP_OVERSIZED];
		struct rtr *r = tcp_rtr(W.n[3].t);

		memset(big, 'x', sizeof(big));
		assert_int_equal(r->send_app(r, 0, NULL, big, sizeof(big)), 0);
		assert_true(run_until_u64(&st->drops[WIRE_DROP_OVERSIZED],
					  before + 1, 3000));
	}
	stop(3);
}

/*
 * A member listener (the overlay, here 127.0.0.2): members are refused
 * on the first listener and accepted on the second; joiners the other way
 * round.
 */
static void member_listener(void **state)
{
	const struct wire_stats *st = tcp_stats(W.n[2].t);
	char overlay[64];
	int got;

	(void)state;
	snprintf(overlay, sizeof(overlay), "127.0.0.2:%d", tcp_port(W.n[2].t));
	assert_int_equal(tcp_member_listen(W.n[2].t, overlay), 0);
	assert_int_equal(tcp_member_listen(W.n[2].t, overlay), -EALREADY);
	/* Member 1 dials 2 afresh at its public address: refused. */
	stop(1);
	start_as(1, NULL, 0);
	send_ae(1, 2, W.n[2].addr);
	assert_true(run_until_u64(&st->hs_failed[HS_ERR_WRONG_PORT], 1, 3000));
	assert_true(run_until_u64(
		&tcp_stats(W.n[1].t)->hs_refused[HS_ERR_WRONG_PORT], 1, 3000));
	/* At the overlay address: through. */
	got = W.n[2].got_raft;
	send_ae(1, 2, overlay);
	assert_true(run_until(&W.n[2].got_raft, got + 1, 3000));
	/* A joiner dialing the overlay is refused; the public side takes
	 * it. */
	{
		struct token_member tm;

		token_free(W.tok);
		memset(&tm, 0, sizeof(tm));
		tm.id = 2;
		snprintf(tm.endpoint, sizeof(tm.endpoint), "%s", overlay);
		ident_fingerprint(ident_public(W.n[2].id), tm.fp);
		assert_int_equal(token_create(W.cluster, &tm, 1, 0, 600,
					      &W.tok),
				 0);
		start_as(5, W.tok, 0);
		join_hello(5);
		assert_true(run_until_u64(&st->hs_failed[HS_ERR_WRONG_PORT], 2,
					  3000));
		stop(5);
		snprintf(W.tok->members[0].endpoint,
			 sizeof(W.tok->members[0].endpoint), "%s",
			 W.n[2].addr);
		got = W.n[2].got_app;
		start_as(5, W.tok, 0);
		join_hello(5);
		assert_true(run_until(&W.n[2].got_app, got + 1, 3000));
		stop(5);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_source_capped),
		cmocka_unit_test(many_sources_evicted),
		cmocka_unit_test(member_address_flood),
		cmocka_unit_test(joiner_caps),
		cmocka_unit_test(member_listener),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
