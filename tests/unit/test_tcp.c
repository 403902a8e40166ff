/* The libuv transport between in-process endpoints on loopback. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <raft.h>
#include <sodium.h>
#include <uv.h>

#include "node/base/hostport.h"
#include "raft/msgcodec.h"
#include "raft/transport/tcp.h"
#include "raft/transport/tcpinfo.h"

#define N 5 /* nodes 1..4; members are those with member[id] */

struct node {
	struct tcp *t;
	struct ident *id;
	char addr[64];
	int got_raft, got_app;
	raft_term last_term;
	uint64_t last_from;
	int last_joiner;
	char last_address[64];
};

static struct {
	uv_loop_t loop;
	struct node n[N];
	bool member[N];
	uint8_t cluster[HS_CLUSTER_ID_LEN];
	struct token *tok;
	bool token_live;
	unsigned rehandshake_ms;
} W;

static int member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	if (id == 0 || id >= N || !W.member[id])
		return -ENOENT;
	memcpy(pk, ident_public(W.n[id].id), IDENT_PK_LEN);
	return 0;
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
	return W.token_live ? HS_TOKEN_LIVE : HS_TOKEN_USED;
}

/* A joiner's own FSM knows nobody yet. */
static int no_members(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	(void)id;
	(void)pk;
	return -ENOENT;
}

static void on_recv(void *owner, struct raft_message *m)
{
	struct node *n = owner;

	n->got_raft++;
	n->last_from = m->server_id;
	snprintf(n->last_address, sizeof(n->last_address), "%s",
		 m->server_address);
	if (m->type == RAFT_APPEND_ENTRIES) {
		n->last_term = m->append_entries.term;
		/* Entries arrive intact. */
		if (m->append_entries.n_entries == 1)
			assert_int_equal(m->append_entries.entries[0].buf.len,
					 100);
	} else if (m->type == RAFT_REQUEST_VOTE) {
		n->last_term = m->request_vote.term;
	}
	msgcodec_release(m);
}

static void on_app(void *owner, const struct rtr_from *from, const void *buf,
		   size_t len)
{
	struct node *n = owner;

	n->got_app++;
	n->last_from = from->id;
	n->last_joiner = from->joiner;
	assert_true(len >= 1);
	assert_memory_equal(from->key, ident_public(W.n[from->id].id), 32);
	(void)buf;
}

static void start(int i, const struct token *join)
{
	struct tcp_config c;
	struct node *n = &W.n[i];
	struct sockaddr_in any;

	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &any), 0);
	memset(&c, 0, sizeof(c));
	c.loop = &W.loop;
	c.listen = (const struct sockaddr *)&any;
	c.parse_addr = hostport_to_sa;
	c.self_id = (uint64_t)i;
	memcpy(c.cluster_id, W.cluster, sizeof(c.cluster_id));
	c.ident = n->id;
	c.trust.member_key = join != NULL ? no_members : member_key;
	c.trust.token = token_cb;
	c.join = join;
	c.rehandshake_ms = W.rehandshake_ms;
	assert_int_equal(tcp_new(&c, &n->t), 0);
	snprintf(n->addr, sizeof(n->addr), "127.0.0.1:%d", tcp_port(n->t));
	tcp_rtr(n->t)->recv = on_recv;
	tcp_rtr(n->t)->owner = n;
	tcp_rtr(n->t)->app_recv = on_app;
	tcp_rtr(n->t)->app_owner = n;
}

static void on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *cond holds or ms pass; returns *cond. */
static int run_until(int *counter, int want, unsigned ms)
{
	uv_timer_t tm;
	int expired = 0;

	uv_timer_init(&W.loop, &tm);
	tm.data = &expired;
	uv_timer_start(&tm, on_deadline, ms, 0);
	while (*counter < want && !expired)
		uv_run(&W.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(&W.loop, UV_RUN_NOWAIT);
	return *counter >= want;
}

/* Same for a counter of the transport's statistics. */
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

static void run_for(unsigned ms)
{
	int never = 0;

	run_until(&never, 1, ms);
}

static int setup(void **state)
{
	int i;

	signal(SIGPIPE, SIG_IGN);
	memset(&W, 0, sizeof(W));
	assert_int_equal(uv_loop_init(&W.loop), 0);
	randombytes_buf(W.cluster, sizeof(W.cluster));
	for (i = 1; i < N; i++)
		assert_int_equal(ident_generate(&W.n[i].id), 0);
	W.member[1] = W.member[2] = true;
	return 0;
}

static void closed(void *arg)
{
	(*(int *)arg)++;
}

static int teardown(void **state)
{
	int i, n = 0, want = 0;

	for (i = 1; i < N; i++) {
		if (W.n[i].t != NULL) {
			tcp_close(W.n[i].t, closed, &n);
			want++;
		}
	}
	run_until(&n, want, 2000);
	assert_int_equal(n, want);
	assert_int_equal(uv_run(&W.loop, UV_RUN_NOWAIT), 0);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	for (i = 1; i < N; i++)
		ident_free(W.n[i].id);
	return 0;
}

static void send_ae(int from, int to, raft_term term, bool entry)
{
	static uint8_t data[100];
	struct raft_entry e = { term, RAFT_COMMAND, { data, 100 }, NULL };
	struct raft_message m = { 0 };

	m.type = RAFT_APPEND_ENTRIES;
	m.append_entries.term = term;
	if (entry) {
		m.append_entries.entries = &e;
		m.append_entries.n_entries = 1;
	}
	assert_int_equal(tcp_rtr(W.n[from].t)->send(tcp_rtr(W.n[from].t),
						    (raft_id)to, W.n[to].addr,
						    &m),
			 0);
}

static void members_exchange(void **state)
{
	struct node *a = &W.n[1], *b = &W.n[2];
	struct raft_message m = { 0 };
	int i;

	start(1, NULL);
	start(2, NULL);
	/* A vote request, then its answer over the other connection. */
	m.type = RAFT_REQUEST_VOTE;
	m.request_vote.term = 7;
	m.request_vote.candidate_id = 1;
	m.request_vote.pre_vote = true;
	assert_int_equal(tcp_rtr(a->t)->send(tcp_rtr(a->t), 2, b->addr, &m), 0);
	assert_true(run_until(&b->got_raft, 1, 3000));
	assert_int_equal(b->last_from, 1);
	assert_int_equal(b->last_term, 7);
	/* The address a member is known by: the one it was dialed at. */
	m.type = RAFT_REQUEST_VOTE_RESULT;
	m.request_vote_result.term = 7;
	m.request_vote_result.vote_granted = true;
	assert_int_equal(tcp_rtr(b->t)->send(tcp_rtr(b->t), 1, a->addr, &m), 0);
	assert_true(run_until(&a->got_raft, 1, 3000));
	assert_int_equal(a->last_from, 2);
	assert_string_equal(a->last_address, b->addr);
	/* Many messages, in order, across rekeys. */
	for (i = 0; i < 3000; i++)
		send_ae(1, 2, (raft_term)(100 + i), i % 2 == 0);
	assert_true(run_until(&b->got_raft, 3001, 10000));
	assert_int_equal(b->last_term, 100 + 2999);
	assert_int_equal(tcp_stats(b->t)->frames_rx, 3001);
	assert_int_equal(tcp_stats(a->t)->drops[WIRE_DROP_QUEUE_FULL], 0);
	{
		/* the egress counts: segments by length mod 16 add up, the
		 * kernel's packets are there and only grow */
		const struct wire_stats *st = tcp_stats(a->t);
		uint64_t sum = 0, before;
		int k;

		for (k = 0; k < 16; k++)
			sum += st->tx_seg_len16[k];
		assert_int_equal(sum, st->tx_segments);
		tcp_count_sent(a->t);
		assert_true(st->tx_packets >= 2);
		before = st->tx_packets;
		send_ae(1, 2, 5000, true);
		assert_true(run_until(&b->got_raft, 3002, 3000));
		tcp_count_sent(a->t);
		assert_true(st->tx_packets > before);
	}
	assert_int_equal(tcp_established(a->t), 2);
	/* Sending to a node that does not listen: dropped, no error. */
	m.type = RAFT_TIMEOUT_NOW;
	assert_int_equal(tcp_rtr(a->t)->send(tcp_rtr(a->t), 9, "127.0.0.1:1",
					    &m),
			 0);
	assert_int_equal(tcp_rtr(a->t)->send(tcp_rtr(a->t), 9, "nonsense", &m),
			 0);
	assert_true(tcp_stats(a->t)->drops[WIRE_DROP_NO_ROUTE] >= 1);
}

/* Liveness timing at runtime (nodes 1 and 2 of the tests before): without
 * keepalives a silent connection is closed by its acceptor after the
 * idle-close period (timing changed on open connections); with keepalives
 * shorter than that it stays up. */
static void timing(void **state)
{
	struct node *a = &W.n[1], *b = &W.n[2];
	struct tcp_timing quiet = { 0, 1000, 1000 }, alive = { 1000, 3000,
							       1000 };
	struct tcp_timing dflt = { TCP_PING_MS, TCP_RX_IDLE_MS,
				   TCP_USER_TIMEOUT_MS };
	unsigned up = 1;
	int i, got;

	(void)state;
	got = b->got_raft;
	send_ae(1, 2, 1, false);
	assert_true(run_until(&b->got_raft, got + 1, 3000));
	assert_true(tcp_established(b->t) >= 1);
	tcp_set_timing(a->t, &quiet);
	tcp_set_timing(b->t, &quiet);
	for (i = 0; i < 60 && up; i++) {
		run_for(100);
		up = tcp_established(a->t) + tcp_established(b->t);
	}
	assert_int_equal(up, 0);
	assert_true(i >= 5);	/* not before a second of silence */

	tcp_set_timing(a->t, &alive);
	tcp_set_timing(b->t, &alive);
	send_ae(1, 2, 2, false);
	assert_true(run_until(&b->got_raft, got + 2, 3000));
	run_for(5000);
	assert_int_equal(tcp_established(a->t), 1);
	assert_int_equal(tcp_established(b->t), 1);
	/* nothing but keepalives went over it */
	assert_int_equal(b->got_raft, got + 2);
	assert_int_equal(b->last_term, 2);
	tcp_set_timing(a->t, &dflt);
	tcp_set_timing(b->t, &dflt);
}

/* Node 3 is not a member: every attempt is refused and counted. */
static void stranger_refused(void **state)
{
	struct node *b = &W.n[2], *c = &W.n[3];
	uint64_t before = tcp_stats(b->t)->hs_failed[HS_ERR_UNKNOWN_KEY];
	int got = b->got_raft;

	start(3, NULL);
	send_ae(3, 2, 1, false);
	assert_true(run_until_u64(
		&tcp_stats(b->t)->hs_failed[HS_ERR_UNKNOWN_KEY], before + 1,
		5000));
	run_for(100);
	assert_int_equal(b->got_raft, got);
	assert_int_equal(tcp_stats(b->t)->hs_failed[HS_ERR_UNKNOWN_KEY],
			 before + 1);
	(void)c;
}

/* Garbage on the cluster port: refused, the member keeps working. */
static void free_write(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

static void on_raw_connect(uv_connect_t *req, int status)
{
	static char junk[100];
	uv_buf_t b = uv_buf_init(junk, sizeof(junk));
	uv_write_t *w = malloc(sizeof(*w));

	memset(junk, 0x41, sizeof(junk));
	assert_int_equal(status, 0);
	uv_write(w, req->handle, &b, 1, free_write);
	free(req);
}

static void garbage_refused(void **state)
{
	struct node *b = &W.n[2];
	struct sockaddr_storage ss;
	uv_connect_t *req = malloc(sizeof(*req));
	uv_tcp_t raw;
	const struct wire_stats *st = tcp_stats(b->t);
	uint64_t before = st->hs_failed[HS_ERR_MALFORMED];
	int got = b->got_raft;

	assert_int_equal(hostport_to_sa(b->addr, &ss), 0);
	uv_tcp_init(&W.loop, &raw);
	assert_int_equal(uv_tcp_connect(req, &raw, (struct sockaddr *)&ss,
					on_raw_connect),
			 0);
	/* 0x41414141 announces a handshake message far over the cap. */
	assert_true(run_until_u64(&st->hs_failed[HS_ERR_MALFORMED], before + 1,
				  5000));
	assert_int_equal(st->hs_failed[HS_ERR_MALFORMED], before + 1);
	uv_close((uv_handle_t *)&raw, NULL);
	send_ae(1, 2, 5000, false);
	assert_true(run_until(&b->got_raft, got + 1, 3000));
}

static void join_then_remove(void **state)
{
	struct token_member tm;
	struct node *a = &W.n[1], *d = &W.n[4];
	struct raft_configuration conf;
	int before;

	memset(&tm, 0, sizeof(tm));
	tm.id = 1;
	snprintf(tm.endpoint, sizeof(tm.endpoint), "%s", a->addr);
	ident_fingerprint(ident_public(a->id), tm.fp);
	assert_int_equal(token_create(W.cluster, &tm, 1, 0, 60, &W.tok), 0);
	W.token_live = true;
	start(4, W.tok);
	/* The joiner's app message reaches the member the token names. */
	assert_int_equal(tcp_rtr(d->t)->send_app(tcp_rtr(d->t), 0, NULL, "j",
						 1),
			 0);
	assert_true(run_until(&a->got_app, 1, 3000));
	assert_int_equal(a->last_from, 4);
	assert_int_equal(a->last_joiner, 1);
	/* The member answers on the joiner's connection. */
	assert_int_equal(tcp_rtr(a->t)->send_app(tcp_rtr(a->t), 4, NULL, "ok",
						 2),
			 0);
	assert_true(run_until(&d->got_app, 1, 3000));
	assert_int_equal(d->last_from, 1);
	assert_int_equal(d->last_joiner, 0);
	/* Once added, the member reaches the joiner in member mode: the
	 * joiner trusts the member its token reached (pinned). */
	W.member[4] = true; /* committed as a spare on the members */
	before = d->got_raft;
	send_ae(1, 4, 77, true);
	assert_true(run_until(&d->got_raft, before + 1, 3000));
	assert_int_equal(d->last_from, 1);
	assert_int_equal(d->last_term, 77);
	/* The join committed: the joiner's transport lets the token go and
	 * closes the connection it dialed with it; nothing goes to "the
	 * token's member" any more. */
	{
		unsigned up = tcp_established(d->t);
		uint64_t nr = tcp_stats(d->t)->drops[WIRE_DROP_NO_ROUTE];

		tcp_rtr(d->t)->join_done(tcp_rtr(d->t));
		run_for(100);
		assert_int_equal(tcp_established(d->t), up - 1);
		assert_int_equal(tcp_rtr(d->t)->send_app(tcp_rtr(d->t), 0,
							 NULL, "j", 1),
				 0);
		assert_int_equal(tcp_stats(d->t)->drops[WIRE_DROP_NO_ROUTE],
				 nr + 1);
	}
	/* Member 2 is not pinned on the joiner: refused there. */
	send_ae(2, 4, 78, false);
	assert_true(run_until_u64(
		&tcp_stats(d->t)->hs_failed[HS_ERR_UNKNOWN_KEY], 1, 5000));
	run_for(100);
	assert_int_equal(d->got_raft, before + 1);
	/* A configuration without member 1 reaches the joiner: its pin
	 * goes, the connection from 1 closes, and 1 is refused from then on. */
	{
		const uint64_t *unk =
			&tcp_stats(d->t)->hs_failed[HS_ERR_UNKNOWN_KEY];
		uint64_t u0 = *unk;
		int tries, got = d->got_raft;

		raft_configuration_init(&conf);
		raft_configuration_add(&conf, 2, W.n[2].addr, RAFT_VOTER);
		raft_configuration_add(&conf, 4, d->addr, RAFT_SPARE);
		tcp_rtr(d->t)->members(tcp_rtr(d->t), &conf);
		raft_configuration_close(&conf);
		for (tries = 0; tries < 30 && *unk == u0; tries++) {
			send_ae(1, 4, 79, false);
			run_for(100);
		}
		assert_true(*unk > u0);
		assert_int_equal(d->got_raft, got);
	}
	/* Removed again: its raft traffic is refused by the member. */
	W.member[4] = false;
	before = a->got_raft;
	{
		uint64_t unk = tcp_stats(a->t)->hs_failed[HS_ERR_UNKNOWN_KEY];

		send_ae(4, 1, 1, false);
		assert_true(run_until_u64(
			&tcp_stats(a->t)->hs_failed[HS_ERR_UNKNOWN_KEY],
			unk + 1, 5000));
	}
	assert_int_equal(a->got_raft, before);

	/* A forged token (the same id, another key) never gets through. */
	{
		struct token *forged;
		int got = a->got_app;

		assert_int_equal(token_create(W.cluster, &tm, 1, 0, 60,
					      &forged),
				 0);
		memcpy(forged->id, W.tok->id, TOKEN_ID_LEN);
		tcp_close(d->t, NULL, NULL);
		d->t = NULL;
		start(4, forged);
		tcp_rtr(d->t)->send_app(tcp_rtr(d->t), 0, NULL, "j", 1);
		assert_true(run_until_u64(
			&tcp_stats(a->t)->hs_failed[HS_ERR_TOKEN], 1, 5000));
		assert_int_equal(a->got_app, got);
		/* The joiner hears why (the generic answer: it holds no
		 * valid signature for that token). */
		assert_true(run_until_u64(
			&tcp_stats(d->t)->hs_refused[HS_ERR_TOKEN], 1, 5000));
		tcp_close(d->t, NULL, NULL);
		d->t = NULL;
		token_free(forged);
	}

	/* Member 2 removed from the configuration: 1 closes its links. */
	assert_true(tcp_established(a->t) >= 2);
	raft_configuration_init(&conf);
	raft_configuration_add(&conf, 1, a->addr, RAFT_VOTER);
	tcp_rtr(a->t)->members(tcp_rtr(a->t), &conf);
	raft_configuration_close(&conf);
	run_for(200);
	{
		/* Only the joiner-side connections may remain. */
		unsigned left = tcp_established(a->t);

		assert_true(left <= 1);
	}
	token_free(W.tok);
	W.tok = NULL;
}

/*
 * Long-lived connections are replaced by fresh handshakes (here every
 * 150 ms instead of hourly) while raft traffic flows: every message
 * arrives, none is dropped, and the dialer made several connections.
 */
static void rehandshake_no_gap(void **state)
{
	struct node *a = &W.n[1], *b = &W.n[2];
	const struct wire_stats *sa;
	uint64_t out0;
	int i, base;

	tcp_close(a->t, NULL, NULL);
	tcp_close(b->t, NULL, NULL);
	a->t = b->t = NULL;
	run_for(100);
	W.rehandshake_ms = 150;
	start(1, NULL);
	start(2, NULL);
	W.rehandshake_ms = 0;
	sa = tcp_stats(a->t);
	base = b->got_raft;
	for (i = 0; i < 400; i++) {
		send_ae(1, 2, (raft_term)(9000 + i), i % 3 == 0);
		run_for(4);
	}
	assert_true(run_until(&b->got_raft, base + 400, 5000));
	run_for(100);
	assert_int_equal(b->got_raft, base + 400);
	out0 = sa->conns_out;
	assert_true(out0 >= 4);
	assert_int_equal(sa->drops[WIRE_DROP_QUEUE_FULL], 0);
	assert_int_equal(sa->drops[WIRE_DROP_NO_ROUTE], 0);
	/* The old connections are gone on both sides. */
	assert_true(tcp_established(a->t) <= 2);
}

/* The transport parses no address itself: the caller's parser is
 * required, and only an IP listen address is taken. */
/* TCP_INFO: the kernel's count of what a socket sent. */
static void tcpinfo_counts(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int ls, c, s, one = 1, p[2];
	uint32_t segs0 = 0, segs1 = 0;
	uint64_t re = 1;
	char buf[100] = { 0 };

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &len), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = accept(ls, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one)), 0);
	assert_int_equal(tcpinfo_sent(c, &segs0, &re), 0);
	assert_true(segs0 >= 2);        /* SYN, the handshake's ACK */
	assert_int_equal(re, 0);
	assert_int_equal(write(c, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(read(s, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(tcpinfo_sent(c, &segs1, &re), 0);
	assert_true(segs1 >= segs0 + 1);
	/* not a TCP socket: an error, nothing filled in */
	assert_int_equal(pipe(p), 0);
	segs1 = 7;
	assert_true(tcpinfo_sent(p[0], &segs1, &re) < 0);
	assert_int_equal(segs1, 7);
	close(p[0]);
	close(p[1]);
	close(s);
	close(c);
	close(ls);
}

static void needs_parser(void **state)
{
	struct tcp_config c;
	struct sockaddr_in any;
	struct sockaddr_un un;
	struct tcp *t = NULL;

	(void)state;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &any), 0);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memset(&c, 0, sizeof(c));
	c.loop = &W.loop;
	c.listen = (const struct sockaddr *)&any;
	c.self_id = 1;
	memcpy(c.cluster_id, W.cluster, sizeof(c.cluster_id));
	c.ident = W.n[1].id;
	c.trust.member_key = member_key;
	assert_int_equal(tcp_new(&c, &t), -EINVAL);
	c.parse_addr = hostport_to_sa;
	c.listen = (const struct sockaddr *)&un;
	assert_int_equal(tcp_new(&c, &t), -EINVAL);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(needs_parser),
		cmocka_unit_test(tcpinfo_counts),
		cmocka_unit_test(members_exchange),
		cmocka_unit_test(stranger_refused),
		cmocka_unit_test(garbage_refused),
		cmocka_unit_test(join_then_remove),
		cmocka_unit_test(timing),
		cmocka_unit_test(rehandshake_no_gap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
