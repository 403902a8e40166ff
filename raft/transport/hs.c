#include "raft/transport/hs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/wire.pb-c.h"

/* Every hash and signature carries its role and the version. */
#define CTX_SERVER "ntpmc hs v2 server"
#define CTX_CLIENT "ntpmc hs v2 client"
#define CTX_JOIN "ntpmc hs v2 join"
#define CTX_JOIN_HELLO "ntpmc hs v2 join hello"
#define CTX_KEYS "ntpmc hs v2 keys"
#define CTX_FIN_KEY "ntpmc hs v2 finished key"
#define CTX_FINISHED "ntpmc hs v2 finished"
#define CTX_T0 "ntpmc hs v2 transcript"
#define CTX_T1 "ntpmc hs v2 server header"
#define CTX_T2 "ntpmc hs v2 client header"

#define TH_LEN 32
#define SIGNED_MAX 64 /* a context string and a transcript hash */

enum hs_state {
	ST_CLIENT_START,
	ST_CLIENT_WAIT_REPLY,
	ST_CLIENT_WAIT_DONE,
	ST_SERVER_WAIT_HELLO,
	ST_SERVER_WAIT_PROOF,
	ST_DONE,
	ST_FAILED,
};

/* sodium_malloc()ed: guarded, and zeroed when freed. */
struct hs {
	enum hs_state state;
	bool join;
	bool refused_by_peer;
	struct hs_config cfg;
	uint64_t peer_id; /* client: expected (0 on join); then the peer's */
	uint8_t eph_pk[32], eph_sk[32];
	uint8_t peer_eph[32];
	uint8_t peer_key[IDENT_PK_LEN];
	uint8_t hello_hash[TH_LEN]; /* BLAKE2b of the hello's exact bytes */
	uint8_t t0[TH_LEN], t1[TH_LEN], t2[TH_LEN];
	uint8_t fin_key[32];
	uint8_t token_id[TOKEN_ID_LEN];
	uint8_t token_pk[TOKEN_PK_LEN]; /* server: the joiner's token */
	const struct token *tok;        /* client, join: borrowed */
	struct chan *chan;
};

_Static_assert(sizeof(CTX_FINISHED) - 1 + TH_LEN <= SIGNED_MAX, "ctx");
_Static_assert(sizeof(CTX_SERVER) - 1 + TH_LEN <= SIGNED_MAX, "ctx");
_Static_assert(sizeof(CTX_CLIENT) - 1 + TH_LEN <= SIGNED_MAX, "ctx");
_Static_assert(sizeof(CTX_JOIN) - 1 + TH_LEN <= SIGNED_MAX, "ctx");

const char *hs_strerror(int err)
{
	static const char *const msg[HS_ERR_COUNT] = {
		[0] = "ok",
		[HS_ERR_MALFORMED] = "malformed handshake message",
		[HS_ERR_VERSION] =
			"another handshake version (a node of another release)",
		[HS_ERR_CLUSTER] = "peer belongs to another cluster",
		[HS_ERR_PEER_ID] = "peer is not the node dialed",
		[HS_ERR_UNKNOWN_KEY] = "peer is not a member with that key",
		[HS_ERR_BAD_SIG] = "bad handshake signature",
		[HS_ERR_TOKEN] = "unknown join token",
		[HS_ERR_FINGERPRINT] = "member not named by the join token",
		[HS_ERR_INTERNAL] = "internal error",
		[HS_ERR_TOKEN_USED] = "the join token was already used",
		[HS_ERR_TOKEN_EXPIRED] = "the join token expired",
		[HS_ERR_TOKEN_REVOKED] = "the join token was revoked",
		[HS_ERR_BUSY] = "too many handshakes in progress",
		[HS_ERR_ID_TAKEN] = "that raft id belongs to another key",
		[HS_ERR_WRONG_PORT] = "member handshake on the join listener",
		[HS_ERR_FINISHED] = "bad handshake Finished",
	};

	if (err < 0)
		err = -err;
	if (err >= HS_ERR_COUNT || msg[err] == NULL)
		return "unknown handshake error";
	return msg[err];
}

static int hs_alloc(const struct hs_config *cfg, enum hs_state st,
		    struct hs **out)
{
	struct hs *h;

	if (sodium_init() < 0)
		return -HS_ERR_INTERNAL;
	h = sodium_malloc(sizeof(*h));
	if (h == NULL)
		return -HS_ERR_INTERNAL;
	sodium_memzero(h, sizeof(*h));
	h->cfg = *cfg;
	h->state = st;
	*out = h;
	return 0;
}

int hs_client_new(const struct hs_config *cfg, uint64_t peer_id,
		  struct hs **out)
{
	if (peer_id == 0 || peer_id == cfg->self_id)
		return -HS_ERR_PEER_ID;
	if (hs_alloc(cfg, ST_CLIENT_START, out) != 0)
		return -HS_ERR_INTERNAL;
	(*out)->peer_id = peer_id;
	crypto_box_keypair((*out)->eph_pk, (*out)->eph_sk); /* X25519 */
	return 0;
}

int hs_client_new_join(const struct hs_config *cfg, const struct token *tok,
		       struct hs **out)
{
	struct hs *h;

	if (tok->n_members == 0 || tok->n_members > TOKEN_MAX_MEMBERS)
		return -HS_ERR_MALFORMED;
	if (memcmp(tok->cluster_id, cfg->cluster_id, HS_CLUSTER_ID_LEN) != 0)
		return -HS_ERR_CLUSTER;
	if (hs_alloc(cfg, ST_CLIENT_START, &h) != 0)
		return -HS_ERR_INTERNAL;
	h->join = true;
	h->tok = tok;
	memcpy(h->token_id, tok->id, TOKEN_ID_LEN);
	crypto_box_keypair(h->eph_pk, h->eph_sk);
	*out = h;
	return 0;
}

int hs_server_new(const struct hs_config *cfg, struct hs **out)
{
	return hs_alloc(cfg, ST_SERVER_WAIT_HELLO, out);
}

void hs_free(struct hs *h)
{
	if (h == NULL)
		return;
	chan_free(h->chan);
	sodium_free(h);
}

bool hs_done(const struct hs *h)
{
	return h->state == ST_DONE;
}

bool hs_refused_by_peer(const struct hs *h)
{
	return h->refused_by_peer;
}

void hs_peer_info(const struct hs *h, struct hs_peer *peer)
{
	memset(peer, 0, sizeof(*peer));
	peer->id = h->peer_id;
	memcpy(peer->key, h->peer_key, sizeof(peer->key));
	peer->join = h->join;
	if (h->join)
		memcpy(peer->token_id, h->token_id, TOKEN_ID_LEN);
}

struct chan *hs_take_chan(struct hs *h)
{
	struct chan *c = h->state == ST_DONE ? h->chan : NULL;

	if (c != NULL)
		h->chan = NULL;
	return c;
}

static void put_u64(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* BLAKE2b-256 of a label and two byte strings. */
static void hash3(uint8_t out[TH_LEN], const char *label, const uint8_t *a,
		  size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, TH_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, TH_LEN);
}

/* T0: the hello's hash, then the server's id, ephemeral and key. */
static void transcript0(struct hs *h, uint64_t server_id,
			const uint8_t server_eph[32],
			const uint8_t server_key[IDENT_PK_LEN])
{
	uint8_t tail[8 + 32 + IDENT_PK_LEN];

	put_u64(tail, server_id);
	memcpy(tail + 8, server_eph, 32);
	memcpy(tail + 40, server_key, IDENT_PK_LEN);
	hash3(h->t0, CTX_T0, h->hello_hash, sizeof(h->hello_hash), tail,
	      sizeof(tail));
}

/* ctx || transcript hash: what signatures and the Finished cover. */
static size_t signed_msg(const char *ctx, const uint8_t th[TH_LEN],
			 uint8_t out[SIGNED_MAX])
{
	size_t n = strlen(ctx);

	memcpy(out, ctx, n);
	memcpy(out + n, th, TH_LEN);
	return n + TH_LEN;
}

/* What a joiner's hello signature covers: every field of the hello but
 * the signature, at fixed sizes. */
static size_t hello_tbs(const Ntpmc__HsHello *m, uint8_t *out)
{
	size_t n = strlen(CTX_JOIN_HELLO);

	memcpy(out, CTX_JOIN_HELLO, n);
	put_u64(out + n, m->version);
	n += 8;
	memcpy(out + n, m->cluster_id.data, HS_CLUSTER_ID_LEN);
	n += HS_CLUSTER_ID_LEN;
	put_u64(out + n, m->client_id);
	n += 8;
	memcpy(out + n, m->client_eph.data, 32);
	n += 32;
	memcpy(out + n, m->client_key.data, IDENT_PK_LEN);
	n += IDENT_PK_LEN;
	put_u64(out + n, m->server_id);
	n += 8;
	memcpy(out + n, m->token_id.data, TOKEN_ID_LEN);
	return n + TOKEN_ID_LEN;
}
#define HELLO_TBS_MAX (sizeof(CTX_JOIN_HELLO) + 8 + HS_CLUSTER_ID_LEN + 8 + \
		       32 + IDENT_PK_LEN + 8 + TOKEN_ID_LEN)

/* X25519, then both directions' keys and the Finished key (all keyed
 * with T0); creates the channel and zeroes the ephemeral secret. */
static int derive_keys(struct hs *h, bool client,
		       uint8_t tx_header[CHAN_HEADER_LEN])
{
	uint8_t shared[32], okm[64];
	crypto_generichash_state st;
	const uint8_t *tx, *rx;
	int rc = -HS_ERR_INTERNAL;

	/* Fails on a low-order peer point (all-zero result). */
	if (crypto_scalarmult(shared, h->eph_sk, h->peer_eph) != 0) {
		rc = -HS_ERR_MALFORMED;
		goto out;
	}
	crypto_generichash_init(&st, h->t0, TH_LEN, sizeof(okm));
	crypto_generichash_update(&st, (const uint8_t *)CTX_KEYS,
				  strlen(CTX_KEYS));
	crypto_generichash_update(&st, shared, sizeof(shared));
	crypto_generichash_final(&st, okm, sizeof(okm));
	crypto_generichash_init(&st, h->t0, TH_LEN, sizeof(h->fin_key));
	crypto_generichash_update(&st, (const uint8_t *)CTX_FIN_KEY,
				  strlen(CTX_FIN_KEY));
	crypto_generichash_update(&st, shared, sizeof(shared));
	crypto_generichash_final(&st, h->fin_key, sizeof(h->fin_key));
	/* First half client -> server, second half server -> client. */
	tx = client ? okm : okm + 32;
	rx = client ? okm + 32 : okm;
	if (chan_new(tx, rx, tx_header, &h->chan) == 0)
		rc = 0;
out:
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(okm, sizeof(okm));
	sodium_memzero(h->eph_sk, sizeof(h->eph_sk));
	return rc;
}

static void finished_mac(const struct hs *h, uint8_t mac[32])
{
	uint8_t msg[SIGNED_MAX];
	size_t n = signed_msg(CTX_FINISHED, h->t2, msg);

	crypto_generichash(mac, 32, msg, n, h->fin_key, sizeof(h->fin_key));
}

static bool bytes_eq_len(const ProtobufCBinaryData *b, size_t len)
{
	return b->len == len && b->data != NULL;
}

int hs_start(struct hs *h, uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsHello m = NTPMC__HS_HELLO__INIT;
	uint8_t tbs[HELLO_TBS_MAX], sig[TOKEN_SIG_LEN];
	size_t len;

	if (h->state != ST_CLIENT_START)
		return -HS_ERR_MALFORMED;
	m.version = HS_VERSION;
	m.cluster_id.data = h->cfg.cluster_id;
	m.cluster_id.len = HS_CLUSTER_ID_LEN;
	m.client_id = h->cfg.self_id;
	m.client_eph.data = h->eph_pk;
	m.client_eph.len = 32;
	m.client_key.data = (uint8_t *)ident_public(h->cfg.ident);
	m.client_key.len = IDENT_PK_LEN;
	m.server_id = h->join ? 0 : h->peer_id;
	if (h->join) {
		m.token_id.data = h->token_id;
		m.token_id.len = TOKEN_ID_LEN;
		if (token_sign(h->tok, tbs, hello_tbs(&m, tbs), sig) != 0)
			return -HS_ERR_INTERNAL;
		m.token_sig.data = sig;
		m.token_sig.len = sizeof(sig);
	}
	len = ntpmc__hs_hello__get_packed_size(&m);
	if (len > cap || len > HS_MSG_MAX)
		return -HS_ERR_INTERNAL;
	ntpmc__hs_hello__pack(&m, out);
	crypto_generichash(h->hello_hash, sizeof(h->hello_hash), out, len,
			   NULL, 0);
	*out_len = len;
	h->state = ST_CLIENT_WAIT_REPLY;
	return 0;
}

/* The peer's identity key must be the one the membership holds. */
static int check_member(struct hs *h, uint64_t id, const uint8_t key[32])
{
	uint8_t want[IDENT_PK_LEN];
	int rc;

	rc = h->cfg.trust.member_key(h->cfg.trust.ctx, id, want);
	if (rc != 0)
		return -HS_ERR_UNKNOWN_KEY;
	return sodium_memcmp(want, key, IDENT_PK_LEN) == 0
		       ? 0
		       : -HS_ERR_UNKNOWN_KEY;
}

/* Server: a refusal that tells the client why; returns -reason. */
static int refuse(int reason, uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsReply r = NTPMC__HS_REPLY__INIT;

	r.refused = (uint32_t)reason;
	if (ntpmc__hs_reply__get_packed_size(&r) <= cap)
		*out_len = ntpmc__hs_reply__pack(&r, out);
	return -reason;
}

/*
 * Server, join: the token must be known (its public key), the hello's
 * token signature must verify, and only then is its state said. Unknown
 * and forged look the same to the client: a token-less stranger learns
 * nothing about which tokens exist.
 */
static int check_token(struct hs *h, const Ntpmc__HsHello *m)
{
	static const int why[] = {
		[HS_TOKEN_USED] = HS_ERR_TOKEN_USED,
		[HS_TOKEN_EXPIRED] = HS_ERR_TOKEN_EXPIRED,
		[HS_TOKEN_REVOKED] = HS_ERR_TOKEN_REVOKED,
	};
	uint8_t tbs[HELLO_TBS_MAX];
	enum hs_token_state st;

	memcpy(h->token_id, m->token_id.data, TOKEN_ID_LEN);
	if (h->cfg.trust.token == NULL)
		return -HS_ERR_TOKEN;
	st = h->cfg.trust.token(h->cfg.trust.ctx, h->token_id, h->peer_key,
				h->token_pk);
	if (st == HS_TOKEN_UNKNOWN || (unsigned)st > HS_TOKEN_REVOKED)
		return -HS_ERR_TOKEN;
	if (token_verify(h->token_pk, tbs, hello_tbs(m, tbs),
			 m->token_sig.data) != 0)
		return -HS_ERR_TOKEN;
	return st == HS_TOKEN_LIVE ? 0 : -why[st];
}

static int server_hello(struct hs *h, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsHello *m;
	Ntpmc__HsReply r = NTPMC__HS_REPLY__INIT;
	struct hs_hello_info hi;
	uint8_t sig[IDENT_SIG_LEN], msg[SIGNED_MAX];
	uint8_t known[IDENT_PK_LEN], header[CHAN_HEADER_LEN];
	size_t n;
	int rc;

	m = ntpmc__hs_hello__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	rc = -HS_ERR_MALFORMED;
	if (m->version != HS_VERSION) {
		/* Said first: a node of another release learns why. */
		rc = refuse(HS_ERR_VERSION, out, cap, out_len);
		goto out;
	}
	if (!bytes_eq_len(&m->cluster_id, HS_CLUSTER_ID_LEN) ||
	    !bytes_eq_len(&m->client_eph, 32) ||
	    !bytes_eq_len(&m->client_key, IDENT_PK_LEN))
		goto out;
	h->join = m->token_id.len != 0;
	if (h->join ? !bytes_eq_len(&m->token_id, TOKEN_ID_LEN) ||
			      !bytes_eq_len(&m->token_sig, TOKEN_SIG_LEN)
		    : m->token_sig.len != 0)
		goto out;
	if (sodium_memcmp(m->cluster_id.data, h->cfg.cluster_id,
			  HS_CLUSTER_ID_LEN) != 0) {
		rc = refuse(HS_ERR_CLUSTER, out, cap, out_len);
		goto out;
	}
	/* A member names us (never 0); a joiner names nobody. */
	if (m->client_id == 0 || m->client_id == h->cfg.self_id ||
	    m->server_id != (h->join ? 0 : h->cfg.self_id)) {
		rc = refuse(HS_ERR_PEER_ID, out, cap, out_len);
		goto out;
	}
	hi.join = h->join;
	hi.client_id = m->client_id;
	hi.client_key = m->client_key.data;
	hi.token_id = h->join ? m->token_id.data : NULL;
	if (h->cfg.trust.admit != NULL) {
		rc = h->cfg.trust.admit(h->cfg.trust.ctx, &hi);
		if (rc != 0) {
			rc = refuse(rc < 0 && -rc < HS_ERR_COUNT ? -rc
								 : HS_ERR_BUSY,
				    out, cap, out_len);
			goto out;
		}
	}
	memcpy(h->peer_key, m->client_key.data, IDENT_PK_LEN);
	if (!h->join) {
		/* Member: only current members' keys are accepted. */
		rc = check_member(h, m->client_id, h->peer_key);
	} else if (h->cfg.trust.member_key(h->cfg.trust.ctx, m->client_id,
					   known) == 0 &&
		   sodium_memcmp(known, h->peer_key, IDENT_PK_LEN) != 0) {
		/* A joiner may reuse an id only with the same key (a retry
		 * after its addition committed). */
		rc = -HS_ERR_ID_TAKEN;
	} else {
		rc = check_token(h, m);
	}
	if (rc != 0) {
		rc = refuse(-rc, out, cap, out_len);
		goto out;
	}
	h->peer_id = m->client_id;
	memcpy(h->peer_eph, m->client_eph.data, 32);
	crypto_generichash(h->hello_hash, sizeof(h->hello_hash), in, len, NULL,
			   0);
	/* Only now, for an admitted hello: the ephemeral key. */
	crypto_box_keypair(h->eph_pk, h->eph_sk);
	transcript0(h, h->cfg.self_id, h->eph_pk, ident_public(h->cfg.ident));
	rc = derive_keys(h, false, header);
	if (rc != 0)
		goto out;
	hash3(h->t1, CTX_T1, h->t0, TH_LEN, header, sizeof(header));
	n = signed_msg(CTX_SERVER, h->t1, msg);
	if (ident_sign(h->cfg.ident, msg, n, sig) != 0) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	r.server_id = h->cfg.self_id;
	r.server_eph.data = h->eph_pk;
	r.server_eph.len = 32;
	r.server_key.data = (uint8_t *)ident_public(h->cfg.ident);
	r.server_key.len = IDENT_PK_LEN;
	r.server_sig.data = sig;
	r.server_sig.len = sizeof(sig);
	r.stream_header.data = header;
	r.stream_header.len = sizeof(header);
	n = ntpmc__hs_reply__get_packed_size(&r);
	if (n > cap) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	ntpmc__hs_reply__pack(&r, out);
	*out_len = n;
	h->state = ST_SERVER_WAIT_PROOF;
	rc = 0;
out:
	ntpmc__hs_hello__free_unpacked(m, NULL);
	return rc;
}

/* Client: who answered must be who we meant to reach. */
static int check_server(struct hs *h, const Ntpmc__HsReply *m)
{
	uint8_t fp[IDENT_FP_LEN];
	uint64_t named = 0;

	if (!h->join) {
		if (m->server_id != h->peer_id)
			return -HS_ERR_PEER_ID;
		return check_member(h, h->peer_id, h->peer_key);
	}
	/* A member the token names, under the id the token pairs with its
	 * fingerprint: a member cannot claim another member's id. */
	if (m->server_id == 0 || m->server_id == h->cfg.self_id)
		return -HS_ERR_PEER_ID;
	ident_fingerprint(h->peer_key, fp);
	if (token_member_of(h->tok, fp, &named) != 0)
		return -HS_ERR_FINGERPRINT;
	if (named != m->server_id)
		return -HS_ERR_PEER_ID;
	h->peer_id = m->server_id;
	return 0;
}

static int client_reply(struct hs *h, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsReply *m;
	Ntpmc__HsProof p = NTPMC__HS_PROOF__INIT;
	uint8_t sig[IDENT_SIG_LEN], tsig[TOKEN_SIG_LEN], msg[SIGNED_MAX];
	uint8_t header[CHAN_HEADER_LEN];
	size_t n;
	int rc;

	m = ntpmc__hs_reply__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	rc = -HS_ERR_MALFORMED;
	if (m->refused != 0) {
		/* Unauthenticated: someone on the path can stop us, as it
		 * could by dropping our packets. */
		h->refused_by_peer = true;
		if (m->refused < HS_ERR_COUNT)
			rc = -(int)m->refused;
		goto out;
	}
	if (!bytes_eq_len(&m->server_eph, 32) ||
	    !bytes_eq_len(&m->server_key, IDENT_PK_LEN) ||
	    !bytes_eq_len(&m->server_sig, IDENT_SIG_LEN) ||
	    !bytes_eq_len(&m->stream_header, CHAN_HEADER_LEN))
		goto out;
	memcpy(h->peer_key, m->server_key.data, IDENT_PK_LEN);
	rc = check_server(h, m);
	if (rc != 0)
		goto out;
	memcpy(h->peer_eph, m->server_eph.data, 32);
	transcript0(h, m->server_id, h->peer_eph, h->peer_key);
	hash3(h->t1, CTX_T1, h->t0, TH_LEN, m->stream_header.data,
	      CHAN_HEADER_LEN);
	n = signed_msg(CTX_SERVER, h->t1, msg);
	if (ident_verify(h->peer_key, msg, n, m->server_sig.data) != 0) {
		rc = -HS_ERR_BAD_SIG;
		goto out;
	}
	rc = derive_keys(h, true, header);
	if (rc != 0)
		goto out;
	if (chan_set_rx_header(h->chan, m->stream_header.data) != 0) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	hash3(h->t2, CTX_T2, h->t1, TH_LEN, header, sizeof(header));
	n = signed_msg(CTX_CLIENT, h->t2, msg);
	if (ident_sign(h->cfg.ident, msg, n, sig) != 0) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	p.client_sig.data = sig;
	p.client_sig.len = sizeof(sig);
	if (h->join) {
		n = signed_msg(CTX_JOIN, h->t2, msg);
		if (token_sign(h->tok, msg, n, tsig) != 0) {
			rc = -HS_ERR_INTERNAL;
			goto out;
		}
		p.join_sig.data = tsig;
		p.join_sig.len = sizeof(tsig);
	}
	p.stream_header.data = header;
	p.stream_header.len = sizeof(header);
	n = ntpmc__hs_proof__get_packed_size(&p);
	if (n > cap) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	ntpmc__hs_proof__pack(&p, out);
	*out_len = n;
	h->state = ST_CLIENT_WAIT_DONE;
	rc = 0;
out:
	ntpmc__hs_reply__free_unpacked(m, NULL);
	return rc;
}

static int server_proof(struct hs *h, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsProof *m;
	Ntpmc__HsDone d = NTPMC__HS_DONE__INIT;
	uint8_t msg[SIGNED_MAX], fin[32];
	size_t n;
	int rc;

	m = ntpmc__hs_proof__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	rc = -HS_ERR_MALFORMED;
	if (!bytes_eq_len(&m->client_sig, IDENT_SIG_LEN) ||
	    !bytes_eq_len(&m->stream_header, CHAN_HEADER_LEN) ||
	    (h->join ? !bytes_eq_len(&m->join_sig, TOKEN_SIG_LEN)
		     : m->join_sig.len != 0))
		goto out;
	hash3(h->t2, CTX_T2, h->t1, TH_LEN, m->stream_header.data,
	      CHAN_HEADER_LEN);
	n = signed_msg(CTX_CLIENT, h->t2, msg);
	if (ident_verify(h->peer_key, msg, n, m->client_sig.data) != 0) {
		rc = -HS_ERR_BAD_SIG;
		goto out;
	}
	if (h->join) {
		n = signed_msg(CTX_JOIN, h->t2, msg);
		if (token_verify(h->token_pk, msg, n, m->join_sig.data) != 0) {
			rc = -HS_ERR_TOKEN;
			goto out;
		}
	}
	if (chan_set_rx_header(h->chan, m->stream_header.data) != 0) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	finished_mac(h, fin);
	d.finished.data = fin;
	d.finished.len = sizeof(fin);
	n = ntpmc__hs_done__get_packed_size(&d);
	if (n > cap) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	ntpmc__hs_done__pack(&d, out);
	*out_len = n;
	h->state = ST_DONE;
	rc = 0;
out:
	ntpmc__hs_proof__free_unpacked(m, NULL);
	return rc;
}

static int client_done(struct hs *h, const uint8_t *in, size_t len)
{
	Ntpmc__HsDone *m;
	uint8_t want[32];
	int rc = -HS_ERR_MALFORMED;

	m = ntpmc__hs_done__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	if (bytes_eq_len(&m->finished, sizeof(want))) {
		finished_mac(h, want);
		rc = sodium_memcmp(want, m->finished.data, sizeof(want)) == 0
			     ? 0
			     : -HS_ERR_FINISHED;
	}
	if (rc == 0)
		h->state = ST_DONE;
	sodium_memzero(want, sizeof(want));
	ntpmc__hs_done__free_unpacked(m, NULL);
	return rc;
}

int hs_recv(struct hs *h, const uint8_t *in, size_t len, uint8_t *out,
	    size_t cap, size_t *out_len)
{
	int rc;

	*out_len = 0;
	if (len == 0 || len > HS_MSG_MAX) {
		rc = -HS_ERR_MALFORMED;
		goto out;
	}
	switch (h->state) {
	case ST_SERVER_WAIT_HELLO:
		rc = server_hello(h, in, len, out, cap, out_len);
		break;
	case ST_CLIENT_WAIT_REPLY:
		rc = client_reply(h, in, len, out, cap, out_len);
		break;
	case ST_SERVER_WAIT_PROOF:
		rc = server_proof(h, in, len, out, cap, out_len);
		break;
	case ST_CLIENT_WAIT_DONE:
		rc = client_done(h, in, len);
		break;
	default:
		rc = -HS_ERR_MALFORMED;
		break;
	}
out:
	/* A failure leaves *out_len > 0 only for a server's refusal. */
	if (rc != 0)
		h->state = ST_FAILED;
	return rc;
}
