#include "raft/transport/hs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/wire.pb-c.h"

#define HS_VERSION 1
#define CTX_SERVER "ntpmc hs v1 server"
#define CTX_CLIENT "ntpmc hs v1 client"
#define CTX_JOIN "ntpmc hs v1 join"
#define CTX_KEYS "ntpmc hs v1 keys"
#define CTX_TRANSCRIPT "ntpmc hs v1 transcript"

enum hs_state {
	ST_CLIENT_START,
	ST_CLIENT_WAIT_REPLY,
	ST_CLIENT_WAIT_DONE,
	ST_SERVER_WAIT_HELLO,
	ST_SERVER_WAIT_PROOF,
	ST_DONE,
	ST_FAILED,
};

struct hs {
	enum hs_state state;
	bool join;
	struct hs_config cfg;
	uint64_t peer_id; /* client: expected (0 on join); then the peer's */
	uint8_t eph_pk[32], eph_sk[32];
	uint8_t peer_eph[32];
	uint8_t peer_key[IDENT_PK_LEN];
	uint8_t hello_hash[32]; /* BLAKE2b of the hello's exact bytes */
	uint8_t th[32];         /* transcript hash */
	uint8_t token_id[TOKEN_ID_LEN];
	uint8_t token_key[TOKEN_KEY_LEN];
	unsigned n_fps;
	uint8_t fps[TOKEN_MAX_MEMBERS][32];
	struct chan *chan;
};

const char *hs_strerror(int err)
{
	static const char *const msg[HS_ERR_COUNT] = {
		[0] = "ok",
		[HS_ERR_MALFORMED] = "malformed handshake message",
		[HS_ERR_VERSION] = "unsupported handshake version",
		[HS_ERR_CLUSTER] = "peer belongs to another cluster",
		[HS_ERR_PEER_ID] = "peer is not the node dialed",
		[HS_ERR_UNKNOWN_KEY] = "peer is not a member with that key",
		[HS_ERR_BAD_SIG] = "bad handshake signature",
		[HS_ERR_TOKEN] = "join token refused",
		[HS_ERR_FINGERPRINT] = "member not named by the join token",
		[HS_ERR_INTERNAL] = "internal error",
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
	/* Guarded and zeroed on free: holds the ephemeral secret and keys. */
	h = sodium_malloc(sizeof(*h));
	if (h == NULL)
		return -HS_ERR_INTERNAL;
	memset(h, 0, sizeof(*h));
	h->cfg = *cfg;
	h->state = st;
	crypto_box_keypair(h->eph_pk, h->eph_sk); /* X25519 */
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
	return 0;
}

int hs_client_new_join(const struct hs_config *cfg, const struct token *tok,
		       struct hs **out)
{
	struct hs *h;
	unsigned i;

	if (tok->n_members == 0 || tok->n_members > TOKEN_MAX_MEMBERS)
		return -HS_ERR_MALFORMED;
	if (memcmp(tok->cluster_id, cfg->cluster_id, HS_CLUSTER_ID_LEN) != 0)
		return -HS_ERR_CLUSTER;
	if (hs_alloc(cfg, ST_CLIENT_START, &h) != 0)
		return -HS_ERR_INTERNAL;
	h->join = true;
	token_id(tok->secret, h->token_id);
	token_key(tok->secret, h->token_key);
	for (i = 0; i < tok->n_members; i++)
		memcpy(h->fps[i], tok->members[i].fp, 32);
	h->n_fps = tok->n_members;
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

/* Transcript: the hello's hash, then the server's id, ephemeral and key. */
static void transcript(struct hs *h, uint64_t server_id,
		       const uint8_t server_eph[32],
		       const uint8_t server_key[IDENT_PK_LEN])
{
	crypto_generichash_state st;
	uint8_t id[8];

	put_u64(id, server_id);
	crypto_generichash_init(&st, NULL, 0, sizeof(h->th));
	crypto_generichash_update(&st, (const uint8_t *)CTX_TRANSCRIPT,
				  strlen(CTX_TRANSCRIPT));
	crypto_generichash_update(&st, h->hello_hash, sizeof(h->hello_hash));
	crypto_generichash_update(&st, id, sizeof(id));
	crypto_generichash_update(&st, server_eph, 32);
	crypto_generichash_update(&st, server_key, IDENT_PK_LEN);
	crypto_generichash_final(&st, h->th, sizeof(h->th));
}

/* ctx || transcript hash: what signatures and the join MAC cover. */
static size_t signed_msg(const struct hs *h, const char *ctx, uint8_t *out)
{
	size_t n = strlen(ctx);

	memcpy(out, ctx, n);
	memcpy(out + n, h->th, sizeof(h->th));
	return n + sizeof(h->th);
}

/* X25519, then both directions' keys; creates the channel. */
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
	crypto_generichash_init(&st, h->th, sizeof(h->th), sizeof(okm));
	crypto_generichash_update(&st, (const uint8_t *)CTX_KEYS,
				  strlen(CTX_KEYS));
	crypto_generichash_update(&st, shared, sizeof(shared));
	crypto_generichash_final(&st, okm, sizeof(okm));
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

static bool bytes_eq_len(const ProtobufCBinaryData *b, size_t len)
{
	return b->len == len && b->data != NULL;
}

int hs_start(struct hs *h, uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsHello m = NTPMC__HS_HELLO__INIT;
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

static int server_hello(struct hs *h, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsHello *m;
	Ntpmc__HsReply r = NTPMC__HS_REPLY__INIT;
	uint8_t sig[IDENT_SIG_LEN], msg[64];
	uint8_t known[IDENT_PK_LEN];
	size_t n;
	int rc;

	m = ntpmc__hs_hello__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	rc = -HS_ERR_MALFORMED;
	if (!bytes_eq_len(&m->cluster_id, HS_CLUSTER_ID_LEN) ||
	    !bytes_eq_len(&m->client_eph, 32) ||
	    !bytes_eq_len(&m->client_key, IDENT_PK_LEN))
		goto out;
	if (m->version != HS_VERSION) {
		rc = -HS_ERR_VERSION;
		goto out;
	}
	if (sodium_memcmp(m->cluster_id.data, h->cfg.cluster_id,
			  HS_CLUSTER_ID_LEN) != 0) {
		rc = -HS_ERR_CLUSTER;
		goto out;
	}
	if (m->client_id == 0 || m->client_id == h->cfg.self_id ||
	    (m->server_id != 0 && m->server_id != h->cfg.self_id)) {
		rc = -HS_ERR_PEER_ID;
		goto out;
	}
	memcpy(h->peer_key, m->client_key.data, IDENT_PK_LEN);
	if (m->token_id.len == 0) {
		/* Member: only current members' keys are accepted. */
		rc = check_member(h, m->client_id, h->peer_key);
		if (rc != 0)
			goto out;
	} else {
		if (m->token_id.len != TOKEN_ID_LEN) {
			rc = -HS_ERR_MALFORMED;
			goto out;
		}
		/* A joiner may reuse an id only with the same key (a retry
		 * after its addition committed). */
		if (h->cfg.trust.member_key(h->cfg.trust.ctx, m->client_id,
					    known) == 0 &&
		    sodium_memcmp(known, h->peer_key, IDENT_PK_LEN) != 0) {
			rc = -HS_ERR_UNKNOWN_KEY;
			goto out;
		}
		memcpy(h->token_id, m->token_id.data, TOKEN_ID_LEN);
		if (h->cfg.trust.token_key == NULL ||
		    h->cfg.trust.token_key(h->cfg.trust.ctx, h->token_id,
					   h->token_key) != 0) {
			rc = -HS_ERR_TOKEN;
			goto out;
		}
		h->join = true;
	}
	h->peer_id = m->client_id;
	memcpy(h->peer_eph, m->client_eph.data, 32);
	crypto_generichash(h->hello_hash, sizeof(h->hello_hash), in, len, NULL,
			   0);
	transcript(h, h->cfg.self_id, h->eph_pk, ident_public(h->cfg.ident));
	n = signed_msg(h, CTX_SERVER, msg);
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

static int client_reply(struct hs *h, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsReply *m;
	Ntpmc__HsProof p = NTPMC__HS_PROOF__INIT;
	uint8_t sig[IDENT_SIG_LEN], mac[TOKEN_MAC_LEN], msg[64];
	uint8_t header[CHAN_HEADER_LEN], fp[IDENT_FP_LEN];
	size_t n;
	int rc;
	unsigned i;
	bool named = false;

	m = ntpmc__hs_reply__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	rc = -HS_ERR_MALFORMED;
	if (!bytes_eq_len(&m->server_eph, 32) ||
	    !bytes_eq_len(&m->server_key, IDENT_PK_LEN) ||
	    !bytes_eq_len(&m->server_sig, IDENT_SIG_LEN))
		goto out;
	memcpy(h->peer_key, m->server_key.data, IDENT_PK_LEN);
	if (h->join) {
		/* The member must be one the token names. */
		if (m->server_id == 0 || m->server_id == h->cfg.self_id) {
			rc = -HS_ERR_PEER_ID;
			goto out;
		}
		ident_fingerprint(h->peer_key, fp);
		for (i = 0; i < h->n_fps; i++)
			named |= sodium_memcmp(fp, h->fps[i], 32) == 0;
		if (!named) {
			rc = -HS_ERR_FINGERPRINT;
			goto out;
		}
		h->peer_id = m->server_id;
	} else {
		if (m->server_id != h->peer_id) {
			rc = -HS_ERR_PEER_ID;
			goto out;
		}
		rc = check_member(h, h->peer_id, h->peer_key);
		if (rc != 0)
			goto out;
	}
	memcpy(h->peer_eph, m->server_eph.data, 32);
	transcript(h, m->server_id, h->peer_eph, h->peer_key);
	n = signed_msg(h, CTX_SERVER, msg);
	if (ident_verify(h->peer_key, msg, n, m->server_sig.data) != 0) {
		rc = -HS_ERR_BAD_SIG;
		goto out;
	}
	rc = derive_keys(h, true, header);
	if (rc != 0)
		goto out;
	n = signed_msg(h, CTX_CLIENT, msg);
	if (ident_sign(h->cfg.ident, msg, n, sig) != 0) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	p.client_sig.data = sig;
	p.client_sig.len = sizeof(sig);
	if (h->join) {
		n = signed_msg(h, CTX_JOIN, msg);
		token_mac(h->token_key, msg, n, mac);
		p.join_mac.data = mac;
		p.join_mac.len = sizeof(mac);
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
	sodium_memzero(mac, sizeof(mac));
	ntpmc__hs_reply__free_unpacked(m, NULL);
	return rc;
}

static int server_proof(struct hs *h, const uint8_t *in, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	Ntpmc__HsProof *m;
	Ntpmc__HsDone d = NTPMC__HS_DONE__INIT;
	uint8_t header[CHAN_HEADER_LEN], msg[64];
	size_t n;
	int rc;

	m = ntpmc__hs_proof__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	rc = -HS_ERR_MALFORMED;
	if (!bytes_eq_len(&m->client_sig, IDENT_SIG_LEN) ||
	    !bytes_eq_len(&m->stream_header, CHAN_HEADER_LEN))
		goto out;
	n = signed_msg(h, CTX_CLIENT, msg);
	if (ident_verify(h->peer_key, msg, n, m->client_sig.data) != 0) {
		rc = -HS_ERR_BAD_SIG;
		goto out;
	}
	if (h->join) {
		if (!bytes_eq_len(&m->join_mac, TOKEN_MAC_LEN))
			goto out;
		n = signed_msg(h, CTX_JOIN, msg);
		if (token_verify(h->token_key, msg, n, m->join_mac.data) != 0) {
			rc = -HS_ERR_TOKEN;
			goto out;
		}
	} else if (m->join_mac.len != 0) {
		goto out;
	}
	rc = derive_keys(h, false, header);
	if (rc != 0)
		goto out;
	if (chan_set_rx_header(h->chan, m->stream_header.data) != 0) {
		rc = -HS_ERR_INTERNAL;
		goto out;
	}
	d.stream_header.data = header;
	d.stream_header.len = sizeof(header);
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
	int rc = -HS_ERR_MALFORMED;

	m = ntpmc__hs_done__unpack(NULL, len, in);
	if (m == NULL)
		return -HS_ERR_MALFORMED;
	if (bytes_eq_len(&m->stream_header, CHAN_HEADER_LEN) &&
	    chan_set_rx_header(h->chan, m->stream_header.data) == 0) {
		h->state = ST_DONE;
		rc = 0;
	}
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
	if (rc != 0) {
		h->state = ST_FAILED;
		*out_len = 0;
	}
	return rc;
}
