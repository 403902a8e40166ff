/*
 * hs_fixture: three nodes and a token for the handshake tests
 * (test_wire_hs.c: members and the record layer, test_hs_join.c: joins).
 * The membership is ids 1 and 2 (3 when W.member[3]); node 3 is the
 * joiner. Messages of a run are kept for tampering and replay; tampering
 * goes through the protobuf messages themselves, so that a test names
 * the field it changes.
 */
#ifndef NTPMC_TEST_HS_FIXTURE_H
#define NTPMC_TEST_HS_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "proto/wire.pb-c.h"
#include "raft/transport/chan.h"
#include "raft/transport/frame.h"
#include "raft/transport/hs.h"
#include "raft/transport/ident.h"
#include "raft/transport/token.h"

struct world {
	struct ident *id[4];
	uint8_t cluster[HS_CLUSTER_ID_LEN];
	bool member[4];
	struct token *tok;             /* the token the members know */
	enum hs_token_state tstate;    /* its state for every joiner */
	int token_lookups;             /* hs_trust.token calls */
	int admit_calls;
	int admit_rc;                  /* what admit answers */
	struct hs_hello_info last_hello; /* pointers only valid in admit */
	uint8_t last_token_id[TOKEN_ID_LEN];
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

static enum hs_token_state token_cb(void *ctx, const uint8_t id[TOKEN_ID_LEN],
				    const uint8_t joiner[IDENT_PK_LEN],
				    uint8_t pk[TOKEN_PK_LEN])
{
	struct world *w = ctx;

	(void)joiner;
	w->token_lookups++;
	if (w->tok == NULL || memcmp(w->tok->id, id, TOKEN_ID_LEN) != 0)
		return HS_TOKEN_UNKNOWN;
	memcpy(pk, w->tok->pk, TOKEN_PK_LEN);
	return w->tstate;
}

static int admit_cb(void *ctx, const struct hs_hello_info *hi)
{
	struct world *w = ctx;

	w->admit_calls++;
	w->last_hello = *hi;
	memset(w->last_token_id, 0, TOKEN_ID_LEN);
	if (hi->token_id != NULL)
		memcpy(w->last_token_id, hi->token_id, TOKEN_ID_LEN);
	return w->admit_rc;
}

static int hs_setup(void **state)
{
	int i;

	(void)state;
	memset(&W, 0, sizeof(W));
	for (i = 1; i <= 3; i++)
		assert_int_equal(ident_generate(&W.id[i]), 0);
	randombytes_buf(W.cluster, sizeof(W.cluster));
	W.member[1] = W.member[2] = true;
	return 0;
}

static int hs_teardown(void **state)
{
	int i;

	(void)state;
	for (i = 1; i <= 3; i++)
		ident_free(W.id[i]);
	token_free(W.tok);
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
	c.trust.token = token_cb;
	c.trust.admit = admit_cb;
	c.trust.ctx = &W;
	return c;
}

/* Messages of one run, for tampering and replay. */
struct run {
	uint8_t msg[4][HS_MSG_MAX];
	size_t len[4];
	int fail_at; /* which message's receiver failed (0..3), -1 none */
	int client_rc, server_rc;
	/* A refusal the server sent with its failure (0 bytes: none). */
	uint8_t refusal[HS_MSG_MAX];
	size_t refusal_len;
	bool client_refused; /* the client saw it: hs_refused_by_peer */
};

typedef void (*tamper_fn)(int idx, uint8_t *msg, size_t *len);

/* Runs the four messages between c and s; tamper may alter message idx
 * in flight. A server's refusal is handed to the client, as the
 * transport does. */
static void run_hs(struct hs *c, struct hs *s, tamper_fn tamper,
		   struct run *r)
{
	uint8_t buf[HS_MSG_MAX], out[HS_MSG_MAX];
	size_t n, on;
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
			if (to[i] == c) {
				r->client_rc = rc;
				assert_int_equal(n, 0);
				return;
			}
			r->server_rc = rc;
			memcpy(r->refusal, buf, n);
			r->refusal_len = n;
			if (n > 0) {
				assert_int_equal(hs_recv(c, buf, n, out,
							 sizeof(out), &on),
						 rc);
				assert_int_equal(on, 0);
				r->client_refused = hs_refused_by_peer(c);
			}
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

/* Flips bit 0 of byte at of a bytes field, in a message re-encoded
 * through protobuf (so only that field changes). */
static void flip_field(ProtobufCBinaryData *b, size_t at)
{
	assert_true(b->len > at);
	b->data[at] ^= 1;
}

#define REPACK(type, prefix, msg, len, edit)                                 \
	do {                                                                  \
		type *m_ = prefix##__unpack(NULL, *(len), (msg));             \
		assert_non_null(m_);                                          \
		edit;                                                         \
		*(len) = prefix##__get_packed_size(m_);                       \
		assert_true(*(len) <= HS_MSG_MAX);                            \
		prefix##__pack(m_, (msg));                                    \
		prefix##__free_unpacked(m_, NULL);                            \
	} while (0)

/* The refusal reason a server's HsReply carries (0: not a refusal). */
static unsigned refusal_of(const struct run *r)
{
	Ntpmc__HsReply *m;
	unsigned why;

	if (r->refusal_len == 0)
		return 0;
	m = ntpmc__hs_reply__unpack(NULL, r->refusal_len, r->refusal);
	assert_non_null(m);
	why = m->refused;
	/* A refusal carries nothing else: no key, no signature. */
	assert_int_equal(m->server_sig.len, 0);
	assert_int_equal(m->server_eph.len, 0);
	ntpmc__hs_reply__free_unpacked(m, NULL);
	return why;
}

#endif
