/*
 * wirebench: costs of the cluster transport on this machine (not a test).
 *   wirebench [N]
 * Prints: full handshakes per second (both sides in one process; a
 * member's, then a joiner's with a token), record
 * seal+open throughput, RaftMsg encode+decode cost, and over loopback TCP
 * the time to first delivery (connect + handshake) and AppendEntries
 * messages per second between two in-process transports.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <raft.h>
#include <sodium.h>
#include <uv.h>

#include "node/base/hostport.h"
#include "raft/transport/chan.h"
#include "raft/transport/hs.h"
#include "raft/msgcodec.h"
#include "raft/transport/tcp.h"

static struct ident *ids[4]; /* 1, 2: members; 3: a joiner */
static uint8_t cluster[HS_CLUSTER_ID_LEN];
static struct token *tok;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	if (id < 1 || id > 2)
		return -ENOENT;
	memcpy(pk, ident_public(ids[id]), IDENT_PK_LEN);
	return 0;
}

static enum hs_token_state token_state(void *ctx,
				       const uint8_t id[TOKEN_ID_LEN],
				       const uint8_t joiner[IDENT_PK_LEN],
				       uint8_t pk[TOKEN_PK_LEN])
{
	(void)ctx;
	(void)joiner;
	if (memcmp(id, tok->id, TOKEN_ID_LEN) != 0)
		return HS_TOKEN_UNKNOWN;
	memcpy(pk, tok->pk, TOKEN_PK_LEN);
	return HS_TOKEN_LIVE;
}

static struct hs_config cfg(uint64_t id)
{
	struct hs_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.cluster_id, cluster, sizeof(cluster));
	c.self_id = id;
	c.ident = ids[id];
	c.trust.member_key = member_key;
	c.trust.token = token_state;
	return c;
}

/* Member 1 to member 2, or (join) joiner 3 with the token. */
static int one_handshake(bool join)
{
	struct hs_config c1 = cfg(join ? 3 : 1), c2 = cfg(2);
	uint8_t a[HS_MSG_MAX], b[HS_MSG_MAX];
	struct hs *c, *s;
	size_t n, m;
	int rc;

	if (join)
		hs_client_new_join(&c1, tok, &c);
	else
		hs_client_new(&c1, 2, &c);
	hs_server_new(&c2, &s);
	rc = hs_start(c, a, sizeof(a), &n);
	rc |= hs_recv(s, a, n, b, sizeof(b), &m);
	rc |= hs_recv(c, b, m, a, sizeof(a), &n);
	rc |= hs_recv(s, a, n, b, sizeof(b), &m);
	rc |= hs_recv(c, b, m, a, sizeof(a), &n);
	rc |= !hs_done(c) || !hs_done(s);
	hs_free(c);
	hs_free(s);
	return rc;
}

static void bench_hs(int n, bool join)
{
	double t0 = now_s(), dt;
	int i;

	for (i = 0; i < n; i++)
		if (one_handshake(join) != 0)
			abort();
	dt = now_s() - t0;
	printf("%s handshake (both sides, in process): %d in %.3f s, "
	       "%.0f/s, %.1f us each\n",
	       join ? "join" : "member", n, dt, n / dt, dt / n * 1e6);
}

static void bench_chan(int n)
{
	uint8_t k1[32] = { 1 }, k2[32] = { 2 }, ha[24], hb[24];
	static uint8_t pt[1024], rec[1024 + 64], out[1024 + 64];
	struct chan *a, *b;
	double t0, dt;
	size_t len;
	int i;

	chan_new(k1, k2, ha, &a);
	chan_new(k2, k1, hb, &b);
	chan_set_rx_header(a, hb);
	chan_set_rx_header(b, ha);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (chan_seal(a, pt, sizeof(pt), rec, sizeof(rec)) != 0 ||
		    chan_open(b, rec + 4, sizeof(pt) + CHAN_OVERHEAD, out,
			      &len) != 0)
			abort();
	}
	dt = now_s() - t0;
	printf("record seal+open, 1 KiB: %d in %.3f s, %.0f MB/s, "
	       "%.2f us each (%llu rekeys)\n",
	       n, dt, n * 1024.0 / dt / 1e6, dt / n * 1e6,
	       (unsigned long long)chan_rekeys_rx(b));
	chan_free(a);
	chan_free(b);
}

static void bench_codec(int n)
{
	static uint8_t data[16][64];
	struct raft_entry e[16];
	struct raft_message m = { 0 }, o;
	uint8_t *buf;
	size_t len = 0;
	double t0, dt;
	int i;

	for (i = 0; i < 16; i++)
		e[i] = (struct raft_entry){ 5, RAFT_COMMAND, { data[i], 64 },
					    NULL };
	m.type = RAFT_APPEND_ENTRIES;
	m.append_entries.term = 5;
	m.append_entries.entries = e;
	m.append_entries.n_entries = 16;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (msgcodec_encode(&m, 1, CHAN_PLAIN_MAX, &buf, &len) != 0 ||
		    msgcodec_decode(buf, len, &o) != 0)
			abort();
		msgcodec_release(&o);
		free(buf);
	}
	dt = now_s() - t0;
	printf("AppendEntries 16 x 64 B encode+decode (%zu B): %.2f us\n",
	       len, dt / n * 1e6);
}

struct sink {
	int got;
	double first;
};

static void on_recv(void *owner, struct raft_message *m)
{
	struct sink *s = owner;

	if (s->got++ == 0)
		s->first = now_s();
	msgcodec_release(m);
}

static void tick(uv_timer_t *t)
{
	(void)t;
}

static void bench_tcp(int n)
{
	struct tcp *a, *b;
	struct tcp_config c;
	struct sink s = { 0, 0 };
	char addr[64];
	static uint8_t data[256];
	struct raft_entry e = { 5, RAFT_COMMAND, { data, 256 }, NULL };
	struct raft_message m = { 0 };
	uv_loop_t loop;
	uv_timer_t tm;
	double t0, t1;
	struct sockaddr_in any;
	int i, sent = 0;

	uv_loop_init(&loop);
	uv_ip4_addr("127.0.0.1", 0, &any);
	memset(&c, 0, sizeof(c));
	c.loop = &loop;
	c.listen = (const struct sockaddr *)&any;
	c.parse_addr = hostport_to_sa;
	memcpy(c.cluster_id, cluster, sizeof(cluster));
	c.trust.member_key = member_key;
	c.self_id = 1;
	c.ident = ids[1];
	if (tcp_new(&c, &a) != 0)
		abort();
	c.self_id = 2;
	c.ident = ids[2];
	if (tcp_new(&c, &b) != 0)
		abort();
	tcp_rtr(b)->recv = on_recv;
	tcp_rtr(b)->owner = &s;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tcp_port(b));
	m.type = RAFT_APPEND_ENTRIES;
	m.append_entries.entries = &e;
	m.append_entries.n_entries = 1;
	uv_timer_init(&loop, &tm);
	uv_timer_start(&tm, tick, 1, 1);
	t0 = now_s();
	tcp_rtr(a)->send(tcp_rtr(a), 2, addr, &m);
	sent = 1;
	while (s.got < 1)
		uv_run(&loop, UV_RUN_ONCE);
	printf("loopback TCP: first message delivered %.2f ms after the "
	       "first send (connect + handshake)\n",
	       (s.first - t0) * 1e3);
	t1 = now_s();
	/* Keep at most 1000 in flight so the queue bound never drops. */
	while (s.got < n) {
		for (i = 0; i < 200 && sent < n && sent - s.got < 1000; i++) {
			tcp_rtr(a)->send(tcp_rtr(a), 2, addr, &m);
			sent++;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	t1 = now_s() - t1;
	printf("loopback TCP: %d AppendEntries (1 x 256 B) in %.3f s, "
	       "%.0f msgs/s (drops %llu)\n",
	       n - 1, t1, (n - 1) / t1,
	       (unsigned long long)tcp_stats(a)->drops[WIRE_DROP_QUEUE_FULL]);
	uv_close((uv_handle_t *)&tm, NULL);
	tcp_close(a, NULL, NULL);
	tcp_close(b, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;

	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || n <= 0)
		return 1;
	randombytes_buf(cluster, sizeof(cluster));
	if (ident_generate(&ids[1]) != 0 || ident_generate(&ids[2]) != 0 ||
	    ident_generate(&ids[3]) != 0)
		return 1;
	{
		struct token_member tm = { .id = 2, .endpoint = "127.0.0.1:1" };

		ident_fingerprint(ident_public(ids[2]), tm.fp);
		if (token_create(cluster, &tm, 1, 0, 600, &tok) != 0)
			return 1;
	}
	bench_hs(n, false);
	bench_hs(n, true);
	bench_chan(n * 100);
	bench_codec(n * 50);
	bench_tcp(n * 50);
	ident_free(ids[1]);
	ident_free(ids[2]);
	ident_free(ids[3]);
	token_free(tok);
	return 0;
}
