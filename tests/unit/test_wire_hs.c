/* Transport handshake (raft/hs) and record layer (raft/chan, raft/frame). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "raft/transport/chan.h"
#include "raft/transport/frame.h"
#include "raft/transport/hs.h"
#include "raft/transport/ident.h"
#include "raft/transport/token.h"

/* Three nodes; the membership is ids 1 and 2 (and 3 when in_members). */
struct world {
	struct ident *id[4];
	uint8_t cluster[HS_CLUSTER_ID_LEN];
	bool member[4];
	struct token tok;
	bool token_live;
	bool token_wrong_key;
};

static struct world W;

static int member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	struct world *w = ctx;

	if (id == 0 || id > 3 || !w->member[id])
		return -ENOENT;
	memcpy(pk, ident_public(w->id[id]), IDENT_PK_LEN);
	return 0;
}

static int token_key_cb(void *ctx, const uint8_t id[TOKEN_ID_LEN],
			uint8_t key[TOKEN_KEY_LEN])
{
	struct world *w = ctx;
	uint8_t want[TOKEN_ID_LEN];

	token_id(w->tok.secret, want);
	if (!w->token_live || memcmp(want, id, TOKEN_ID_LEN) != 0)
		return -ENOENT;
	token_key(w->tok.secret, key);
	if (w->token_wrong_key)
		key[0] ^= 1;
	return 0;
}

static int setup(void **state)
{
	int i;

	memset(&W, 0, sizeof(W));
	for (i = 1; i <= 3; i++)
		assert_int_equal(ident_generate(&W.id[i]), 0);
	randombytes_buf(W.cluster, sizeof(W.cluster));
	W.member[1] = W.member[2] = true;
	return 0;
}

static int teardown(void **state)
{
	int i;

	for (i = 1; i <= 3; i++)
		ident_free(W.id[i]);
	return 0;
}

static struct hs_config cfg_for(uint64_t id)
{
	struct hs_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.cluster_id, W.cluster, sizeof(c.cluster_id));
	c.self_id = id;
	c.ident = W.id[id];
	c.trust.member_key = member_key;
	c.trust.token_key = token_key_cb;
	c.trust.ctx = &W;
	return c;
}

/* Messages of one run, for tampering and replay. */
struct run {
	uint8_t msg[4][HS_MSG_MAX];
	size_t len[4];
	int fail_at; /* which message's receiver failed (0..3), -1 none */
	int client_rc, server_rc;
};

typedef void (*tamper_fn)(int idx, uint8_t *msg, size_t *len);

/* Runs the four messages between c and s; tamper may alter message idx
 * in flight. */
static void run_hs(struct hs *c, struct hs *s, tamper_fn tamper,
		   struct run *r)
{
	uint8_t buf[HS_MSG_MAX];
	size_t n;
	int i, rc = 0;
	struct hs *to[4] = { s, c, s, c };

	memset(r, 0, sizeof(*r));
	r->fail_at = -1;
	assert_int_equal(hs_start(c, buf, sizeof(buf), &n), 0);
	for (i = 0; i < 4; i++) {
		if (tamper != NULL)
			tamper(i, buf, &n);
		memcpy(r->msg[i], buf, n);
		r->len[i] = n;
		rc = hs_recv(to[i], r->msg[i], r->len[i], buf, sizeof(buf), &n);
		if (rc != 0) {
			r->fail_at = i;
			if (to[i] == c)
				r->client_rc = rc;
			else
				r->server_rc = rc;
			return;
		}
		if (i < 3)
			assert_true(n > 0);
		else
			assert_int_equal(n, 0);
	}
}

/* Both channels carry data both ways. */
static void check_chans(struct hs *c, struct hs *s)
{
	struct chan *cc = hs_take_chan(c), *sc = hs_take_chan(s);
	uint8_t rec[256], pt[256];
	size_t n;
	static const uint8_t hello[] = "raft says hi";

	assert_non_null(cc);
	assert_non_null(sc);
	assert_int_equal(chan_seal(cc, hello, sizeof(hello), rec, sizeof(rec)),
			 0);
	assert_int_equal(frame_get_len(rec), sizeof(hello) + CHAN_OVERHEAD);
	assert_int_equal(chan_open(sc, rec + 4, frame_get_len(rec), pt, &n), 0);
	assert_int_equal(n, sizeof(hello));
	assert_memory_equal(pt, hello, n);
	assert_int_equal(chan_seal(sc, hello, 5, rec, sizeof(rec)), 0);
	assert_int_equal(chan_open(cc, rec + 4, frame_get_len(rec), pt, &n), 0);
	assert_memory_equal(pt, hello, 5);
	chan_free(cc);
	chan_free(sc);
}

static void hs_member_success(void **state)
{
	struct hs_config c1 = cfg_for(1), c2 = cfg_for(2);
	struct hs *c, *s;
	struct hs_peer p;
	struct run r;

	assert_int_equal(hs_client_new(&c1, 2, &c), 0);
	assert_int_equal(hs_server_new(&c2, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, -1);
	assert_true(hs_done(c));
	assert_true(hs_done(s));
	hs_peer_info(s, &p);
	assert_int_equal(p.id, 1);
	assert_false(p.join);
	assert_memory_equal(p.key, ident_public(W.id[1]), IDENT_PK_LEN);
	hs_peer_info(c, &p);
	assert_int_equal(p.id, 2);
	check_chans(c, s);
	hs_free(c);
	hs_free(s);
}

static int expect_fail(uint64_t cid, uint64_t peer, uint64_t sid,
		       tamper_fn t, int *at)
{
	struct hs_config cc = cfg_for(cid), sc = cfg_for(sid);
	struct hs *c, *s;
	struct run r;
	int rc;

	assert_int_equal(hs_client_new(&cc, peer, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, t, &r);
	assert_int_not_equal(r.fail_at, -1);
	assert_false(hs_done(c) && hs_done(s));
	/* A failed side has no channel to hand out. */
	assert_null(hs_take_chan(r.fail_at % 2 ? c : s));
	*at = r.fail_at;
	rc = r.client_rc ? r.client_rc : r.server_rc;
	hs_free(c);
	hs_free(s);
	return rc;
}

static void hs_wrong_cluster(void **state)
{
	struct hs_config cc = cfg_for(1), sc = cfg_for(2);
	struct hs *c, *s;
	struct run r;

	cc.cluster_id[0] ^= 1;
	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, 0);
	assert_int_equal(r.server_rc, -HS_ERR_CLUSTER);
	hs_free(c);
	hs_free(s);
}

static void hs_unknown_key(void **state)
{
	int at;

	/* Node 3 is not a member: the server refuses it. */
	assert_int_equal(expect_fail(3, 2, 2, NULL, &at), -HS_ERR_UNKNOWN_KEY);
	assert_int_equal(at, 0);
	/* Node 3 answering as if it were member 2: the client refuses. */
	W.member[3] = true;
	assert_int_equal(expect_fail(1, 2, 3, NULL, &at), -HS_ERR_PEER_ID);
	W.member[3] = false;
}

/* Node 3's key presented under member 2's id. */
static void hs_key_substitution(void **state)
{
	struct ident *real = W.id[2];
	struct hs_config sc;
	struct hs_config cc = cfg_for(1);
	struct hs *c, *s;
	struct run r;

	sc = cfg_for(2);
	sc.ident = W.id[3]; /* the impostor signs with its own key */
	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, 1);
	assert_int_equal(r.client_rc, -HS_ERR_UNKNOWN_KEY);
	hs_free(c);
	hs_free(s);
	W.id[2] = real;
}

static void tamper_reply_sig(int idx, uint8_t *msg, size_t *len)
{
	/* The signature is the last field of HsReply: flip its last byte. */
	if (idx == 1)
		msg[*len - 1] ^= 1;
}

static void tamper_proof_sig(int idx, uint8_t *msg, size_t *len)
{
	/* HsProof starts with the client signature (tag, len, 64 bytes). */
	if (idx == 2)
		msg[10] ^= 1;
}

static void tamper_hello_eph(int idx, uint8_t *msg, size_t *len)
{
	/* A man in the middle swapping the client's ephemeral. */
	if (idx == 0)
		msg[*len / 2] ^= 1;
}

static void tamper_truncate(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 1)
		*len -= 10;
}

static void hs_bad_signatures(void **state)
{
	int at;

	assert_int_equal(expect_fail(1, 2, 2, tamper_reply_sig, &at),
			 -HS_ERR_BAD_SIG);
	assert_int_equal(at, 1);
	assert_int_equal(expect_fail(1, 2, 2, tamper_proof_sig, &at),
			 -HS_ERR_BAD_SIG);
	assert_int_equal(at, 2);
}

static void hs_tampered_transcript(void **state)
{
	int at, rc;

	/* Whatever byte of the hello changes, the handshake fails: either
	 * the server cannot use it, or the transcripts differ and the
	 * server's signature does not verify for the client. */
	rc = expect_fail(1, 2, 2, tamper_hello_eph, &at);
	assert_true(rc == -HS_ERR_BAD_SIG || rc == -HS_ERR_MALFORMED ||
		    rc == -HS_ERR_UNKNOWN_KEY || rc == -HS_ERR_CLUSTER ||
		    rc == -HS_ERR_PEER_ID);
	rc = expect_fail(1, 2, 2, tamper_truncate, &at);
	assert_int_equal(rc, -HS_ERR_MALFORMED);
	assert_int_equal(at, 1);
}

static void hs_every_hello_byte(void **state)
{
	struct hs_config cc = cfg_for(1), sc = cfg_for(2);
	uint8_t hello[HS_MSG_MAX], out[HS_MSG_MAX];
	struct hs *c, *s;
	struct run r;
	size_t n, i;

	/* Flip each byte of a recorded hello in turn: no variant may
	 * complete the handshake with the original client. */
	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, -1);
	memcpy(hello, r.msg[0], r.len[0]);
	n = r.len[0];
	hs_free(c);
	hs_free(s);
	for (i = 0; i < n; i++) {
		size_t on;
		int rc;

		assert_int_equal(hs_client_new(&cc, 2, &c), 0);
		assert_int_equal(hs_server_new(&sc, &s), 0);
		assert_int_equal(hs_start(c, out, sizeof(out), &on), 0);
		out[i] ^= 0x01;
		rc = hs_recv(s, out, on, hello, sizeof(hello), &on);
		if (rc == 0) {
			rc = hs_recv(c, hello, on, out, sizeof(out), &on);
			assert_int_not_equal(rc, 0);
		}
		hs_free(c);
		hs_free(s);
	}
}

static void hs_replay_recorded(void **state)
{
	struct hs_config cc = cfg_for(1), sc = cfg_for(2);
	struct hs *c, *s, *s2;
	struct run r;
	uint8_t out[HS_MSG_MAX];
	size_t n;

	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, -1);
	/* An attacker replays the client's hello and proof to a new
	 * connection: the server's fresh ephemeral changes the transcript. */
	assert_int_equal(hs_server_new(&sc, &s2), 0);
	assert_int_equal(hs_recv(s2, r.msg[0], r.len[0], out, sizeof(out), &n),
			 0);
	assert_memory_not_equal(out, r.msg[1], n < r.len[1] ? n : r.len[1]);
	assert_int_equal(hs_recv(s2, r.msg[2], r.len[2], out, sizeof(out), &n),
			 -HS_ERR_BAD_SIG);
	assert_false(hs_done(s2));
	/* A message out of order is refused too. */
	assert_int_equal(hs_recv(s2, r.msg[0], r.len[0], out, sizeof(out), &n),
			 -HS_ERR_MALFORMED);
	hs_free(c);
	hs_free(s);
	hs_free(s2);
}

static void hs_malformed(void **state)
{
	struct hs_config sc = cfg_for(2);
	struct hs *s;
	uint8_t junk[HS_MSG_MAX + 1], out[HS_MSG_MAX];
	size_t n;
	int i;

	for (i = 0; i < 200; i++) {
		size_t len = 1 + randombytes_uniform(HS_MSG_MAX);

		randombytes_buf(junk, len);
		assert_int_equal(hs_server_new(&sc, &s), 0);
		assert_int_not_equal(hs_recv(s, junk, len, out, sizeof(out), &n),
				     0);
		assert_int_equal(n, 0);
		hs_free(s);
	}
	assert_int_equal(hs_server_new(&sc, &s), 0);
	memset(junk, 0, sizeof(junk));
	assert_int_equal(hs_recv(s, junk, sizeof(junk), out, sizeof(out), &n),
			 -HS_ERR_MALFORMED);
	hs_free(s);
	assert_string_equal(hs_strerror(-HS_ERR_TOKEN), "join token refused");
}

/* Joiner 3 holding a token naming member 2. */
static void new_token(bool name_member2)
{
	struct token_member m;

	memset(&m, 0, sizeof(m));
	strcpy(m.endpoint, "127.0.0.1:1");
	ident_fingerprint(ident_public(W.id[name_member2 ? 2 : 1]), m.fp);
	assert_int_equal(token_create(&W.tok, W.cluster, &m, 1, 100, 0), 0);
	W.token_live = true;
	W.token_wrong_key = false;
}

static int join(tamper_fn t, struct hs_peer *sp, int *at)
{
	struct hs_config jc = cfg_for(3), sc = cfg_for(2);
	struct hs *c, *s;
	struct run r;
	int rc;

	assert_int_equal(hs_client_new_join(&jc, &W.tok, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, t, &r);
	*at = r.fail_at;
	rc = r.client_rc ? r.client_rc : r.server_rc;
	if (rc == 0) {
		struct hs_peer cp;

		assert_true(hs_done(c) && hs_done(s));
		hs_peer_info(s, sp);
		hs_peer_info(c, &cp);
		assert_int_equal(cp.id, 2);
		check_chans(c, s);
	}
	hs_free(c);
	hs_free(s);
	return rc;
}

static void tamper_join_mac(int idx, uint8_t *msg, size_t *len)
{
	/* HsProof: client_sig (2+64), then join_mac (2+32). */
	if (idx == 2)
		msg[66 + 2 + 5] ^= 1;
}

static void hs_join(void **state)
{
	struct hs_peer p;
	uint8_t id[TOKEN_ID_LEN];
	int at;

	new_token(true);
	assert_int_equal(join(NULL, &p, &at), 0);
	assert_true(p.join);
	assert_int_equal(p.id, 3);
	assert_memory_equal(p.key, ident_public(W.id[3]), IDENT_PK_LEN);
	token_id(W.tok.secret, id);
	assert_memory_equal(p.token_id, id, TOKEN_ID_LEN);

	/* Expired, used or revoked: the FSM no longer returns a key. */
	W.token_live = false;
	assert_int_equal(join(NULL, &p, &at), -HS_ERR_TOKEN);
	assert_int_equal(at, 0);

	/* Forged: a MAC under another key, or a damaged MAC. */
	new_token(true);
	W.token_wrong_key = true;
	assert_int_equal(join(NULL, &p, &at), -HS_ERR_TOKEN);
	assert_int_equal(at, 2);
	W.token_wrong_key = false;
	assert_int_equal(join(tamper_join_mac, &p, &at), -HS_ERR_TOKEN);
	assert_int_equal(at, 2);

	/* The token names member 1, but member 2 answered. */
	new_token(false);
	assert_int_equal(join(NULL, &p, &at), -HS_ERR_FINGERPRINT);
	assert_int_equal(at, 1);

	/* A token of another cluster is refused before dialing. */
	{
		struct hs_config jc = cfg_for(3);
		struct hs *c;

		new_token(true);
		W.tok.cluster_id[0] ^= 1;
		assert_int_equal(hs_client_new_join(&jc, &W.tok, &c),
				 -HS_ERR_CLUSTER);
	}
	/* A joiner claiming a member's id with another key. */
	{
		struct hs_config jc = cfg_for(3), sc = cfg_for(2);
		struct hs *c, *s;
		struct run r;

		new_token(true);
		jc.self_id = 1;
		assert_int_equal(hs_client_new_join(&jc, &W.tok, &c), 0);
		assert_int_equal(hs_server_new(&sc, &s), 0);
		run_hs(c, s, NULL, &r);
		assert_int_equal(r.server_rc, -HS_ERR_UNKNOWN_KEY);
		hs_free(c);
		hs_free(s);
	}
	token_wipe(&W.tok);
}

/* --- record layer --- */

static void chan_pair(struct chan **a, struct chan **b)
{
	uint8_t k1[32], k2[32], ha[CHAN_HEADER_LEN], hb[CHAN_HEADER_LEN];

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	assert_int_equal(chan_new(k1, k2, ha, a), 0);
	assert_int_equal(chan_new(k2, k1, hb, b), 0);
	assert_int_equal(chan_set_rx_header(*a, hb), 0);
	assert_int_equal(chan_set_rx_header(*b, ha), 0);
}

static void chan_rekey_many(void **state)
{
	struct chan *a, *b;
	uint8_t rec[600], pt[600], msg[512];
	size_t n;
	uint32_t i;

	chan_pair(&a, &b);
	chan_set_rekey_interval(a, 7);
	for (i = 0; i < 5000; i++) {
		size_t len = i % sizeof(msg);

		memset(msg, (int)i, len);
		assert_int_equal(chan_seal(a, msg, len, rec, sizeof(rec)), 0);
		assert_int_equal(chan_open(b, rec + 4, frame_get_len(rec), pt,
					   &n),
				 0);
		assert_int_equal(n, len);
		assert_memory_equal(pt, msg, len);
	}
	assert_int_equal(chan_rekeys_tx(a), 5000 / 7);
	assert_int_equal(chan_rekeys_rx(b), 5000 / 7);
	chan_free(a);
	chan_free(b);
}

static void chan_refuses_forged_replayed(void **state)
{
	struct chan *a, *b;
	uint8_t r1[64], r2[64], pt[64];
	size_t n;

	/* Forged: one flipped bit; the stream is then dead. */
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_seal(a, (const uint8_t *)"two", 3, r2, 64), 0);
	r1[10] ^= 4;
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1), pt, &n),
			 -EBADMSG);
	assert_int_equal(chan_open(b, r2 + 4, frame_get_len(r2), pt, &n),
			 -EBADMSG);
	chan_free(a);
	chan_free(b);

	/* Replayed and reordered. */
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_seal(a, (const uint8_t *)"two", 3, r2, 64), 0);
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1), pt, &n), 0);
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1), pt, &n),
			 -EBADMSG);
	chan_free(b);
	chan_free(a);
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_seal(a, (const uint8_t *)"two", 3, r2, 64), 0);
	assert_int_equal(chan_open(b, r2 + 4, frame_get_len(r2), pt, &n),
			 -EBADMSG);
	chan_free(a);
	chan_free(b);

	/* Truncated, and a record for the other direction (reflection). */
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1) - 1, pt, &n),
			 -EBADMSG);
	chan_free(b);
	chan_free(a);
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_open(a, r1 + 4, frame_get_len(r1), pt, &n),
			 -EBADMSG);
	assert_int_equal(chan_open(b, r1 + 4, 5, pt, &n), -EBADMSG);
	chan_free(a);
	chan_free(b);
}

static void chan_oversized(void **state)
{
	struct chan *a, *b;
	uint8_t r[64];

	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, r, CHAN_PLAIN_MAX + 1, r, sizeof(r)),
			 -E2BIG);
	assert_int_equal(chan_seal(a, r, 60, r, sizeof(r)), -ENOBUFS);
	chan_free(a);
	chan_free(b);
}

static void frame_reader_splits(void **state)
{
	struct frame_reader fr;
	uint8_t stream[64];
	const uint8_t *rec;
	size_t len, used, off = 0;
	int got = 0, rc;

	/* Two records, fed one byte at a time. */
	frame_put_len(stream, 3);
	memcpy(stream + 4, "abc", 3);
	frame_put_len(stream + 7, 5);
	memcpy(stream + 11, "hello", 5);
	frame_reader_init(&fr, 16);
	while (off < 16) {
		rc = frame_reader_feed(&fr, stream + off, 1, &used, &rec, &len);
		assert_true(rc >= 0);
		off += used;
		if (rc == 1) {
			assert_int_equal(len, got == 0 ? 3 : 5);
			assert_memory_equal(rec, got == 0 ? "abc" : "hello",
					    len);
			got++;
		}
	}
	assert_int_equal(got, 2);
	assert_int_equal(frame_reader_pending(&fr), 0);
	/* A truncated record leaves bytes pending (counted at EOF). */
	frame_put_len(stream, 10);
	rc = frame_reader_feed(&fr, stream, 8, &used, &rec, &len);
	assert_int_equal(rc, 0);
	assert_int_equal(frame_reader_pending(&fr), 8);
	frame_reader_free(&fr);
	/* Oversized and empty announcements, before any allocation. */
	frame_reader_init(&fr, 16);
	frame_put_len(stream, 17);
	assert_int_equal(frame_reader_feed(&fr, stream, 4, &used, &rec, &len),
			 -E2BIG);
	frame_reader_free(&fr);
	frame_reader_init(&fr, 16);
	frame_put_len(stream, 0xffffffffu);
	assert_int_equal(frame_reader_feed(&fr, stream, 4, &used, &rec, &len),
			 -E2BIG);
	frame_reader_free(&fr);
	frame_reader_init(&fr, 16);
	frame_put_len(stream, 0);
	assert_int_equal(frame_reader_feed(&fr, stream, 4, &used, &rec, &len),
			 -EINVAL);
	frame_reader_free(&fr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hs_member_success),
		cmocka_unit_test(hs_wrong_cluster),
		cmocka_unit_test(hs_unknown_key),
		cmocka_unit_test(hs_key_substitution),
		cmocka_unit_test(hs_bad_signatures),
		cmocka_unit_test(hs_tampered_transcript),
		cmocka_unit_test(hs_every_hello_byte),
		cmocka_unit_test(hs_replay_recorded),
		cmocka_unit_test(hs_malformed),
		cmocka_unit_test(hs_join),
		cmocka_unit_test(chan_rekey_many),
		cmocka_unit_test(chan_refuses_forged_replayed),
		cmocka_unit_test(chan_oversized),
		cmocka_unit_test(frame_reader_splits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
