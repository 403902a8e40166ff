/*
 * Full handshakes (raft/transport/hs.c), both roles, member and join,
 * against a reference peer written here from the protocol's description
 * (hs.h): the fuzzer's input chooses every field the peer sends (ids,
 * keys, versions, token, stream headers, refusals) and whether each
 * signature, proof and Finished is genuine or damaged; the peer signs
 * what it sends with keys it holds, so mutations reach every branch after
 * the signature checks. Randomness is deterministic (a libsodium
 * randombytes implementation seeded per input), so a crash replays.
 *
 * Oracles (abort() on failure): the real side completes only when the
 * peer presented what the trust accepts with genuine signatures; a real
 * signature, proof or Finished always verifies for the reference; both
 * ends derive the same channel keys.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/wire.pb-c.h"
#include "raft/transport/chan.h"
#include "raft/transport/hs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The protocol's labels (hs.h), restated by the reference. */
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

#define CHECK(x)                                                             \
	do {                                                                  \
		if (!(x))                                                     \
			abort();                                              \
	} while (0)

/* --- deterministic randomness --- */

static uint8_t rng[32];

static void det_buf(void *buf, size_t n)
{
	randombytes_buf_deterministic(buf, n, rng);
	crypto_generichash(rng, sizeof(rng), rng, sizeof(rng), NULL, 0);
}

static uint32_t det_random(void)
{
	uint32_t v;

	det_buf(&v, sizeof(v));
	return v;
}

static const char *det_name(void)
{
	return "fuzz-deterministic";
}

static struct randombytes_implementation det_impl = {
	.implementation_name = det_name,
	.random = det_random,
	.buf = det_buf,
};

/* --- the world: members 1 and 2, joiner 3, a token naming member 2 --- */

static struct ident *ids[4];
static struct token *tok;
static uint8_t cluster[HS_CLUSTER_ID_LEN];
static enum hs_token_state tstate;
static bool member3;
static int admit_rc;

static int member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	if (id == 1 || id == 2 || (id == 3 && member3)) {
		memcpy(pk, ident_public(ids[id]), IDENT_PK_LEN);
		return 0;
	}
	return -1;
}

static enum hs_token_state token_cb(void *ctx, const uint8_t id[TOKEN_ID_LEN],
				    const uint8_t joiner[IDENT_PK_LEN],
				    uint8_t pk[TOKEN_PK_LEN])
{
	(void)ctx;
	(void)joiner;
	if (memcmp(id, tok->id, TOKEN_ID_LEN) != 0)
		return HS_TOKEN_UNKNOWN;
	memcpy(pk, tok->pk, TOKEN_PK_LEN);
	return tstate;
}

static int admit_cb(void *ctx, const struct hs_hello_info *hi)
{
	(void)ctx;
	(void)hi;
	return admit_rc;
}

static struct hs_config cfg(uint64_t self)
{
	struct hs_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.cluster_id, cluster, sizeof(cluster));
	c.self_id = self;
	c.ident = ids[self];
	c.trust.member_key = member_key;
	c.trust.token = token_cb;
	c.trust.admit = admit_cb;
	return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct token_member m;
	int i;

	(void)argc;
	(void)argv;
	memset(rng, 0x5a, sizeof(rng));
	randombytes_set_implementation(&det_impl);
	if (sodium_init() < 0)
		abort();
	for (i = 1; i <= 3; i++)
		CHECK(ident_generate(&ids[i]) == 0);
	det_buf(cluster, sizeof(cluster));
	memset(&m, 0, sizeof(m));
	m.id = 2;
	strcpy(m.endpoint, "127.0.0.1:1");
	ident_fingerprint(ident_public(ids[2]), m.fp);
	CHECK(token_create(cluster, &m, 1, 100, 0, &tok) == 0);
	return 0;
}

/* --- reading the input --- */

struct in {
	const uint8_t *d;
	size_t n;
};

static unsigned u8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->d++;
}

/* Mostly the right value, sometimes another. */
static uint64_t pick_id(struct in *in, uint64_t right)
{
	static const uint64_t ids_[] = { 0, 1, 2, 3, UINT64_MAX };
	unsigned v = u8(in);

	return v < 160 ? right : ids_[v % 5];
}

/* Flips a bit of b (len bytes) when the input says so. */
static void maybe_flip(struct in *in, uint8_t *b, size_t len)
{
	unsigned v = u8(in);

	if (len > 0 && v >= 224)
		b[u8(in) % len] ^= (uint8_t)(1u << (v & 7));
}

/* --- the reference: transcripts, keys, Finished --- */

struct ref {
	uint8_t hello_hash[32], t0[32], t1[32], t2[32];
	uint8_t eph_pk[32], eph_sk[32];
	uint8_t okm[64], fin[32];
};

static void hash3(uint8_t out[32], const char *label, const uint8_t *a,
		  size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
}

static void le64(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static void ref_t0(struct ref *r, uint64_t sid, const uint8_t eph[32],
		   const uint8_t key[32])
{
	uint8_t tail[72];

	le64(tail, sid);
	memcpy(tail + 8, eph, 32);
	memcpy(tail + 40, key, 32);
	hash3(r->t0, CTX_T0, r->hello_hash, 32, tail, sizeof(tail));
}

/* X25519 with the peer's ephemeral; false on a low-order point. */
static bool ref_keys(struct ref *r, const uint8_t peer_eph[32])
{
	uint8_t shared[32];
	crypto_generichash_state st;

	if (crypto_scalarmult(shared, r->eph_sk, peer_eph) != 0)
		return false;
	crypto_generichash_init(&st, r->t0, 32, 64);
	crypto_generichash_update(&st, (const uint8_t *)CTX_KEYS,
				  strlen(CTX_KEYS));
	crypto_generichash_update(&st, shared, 32);
	crypto_generichash_final(&st, r->okm, 64);
	crypto_generichash_init(&st, r->t0, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)CTX_FIN_KEY,
				  strlen(CTX_FIN_KEY));
	crypto_generichash_update(&st, shared, 32);
	crypto_generichash_final(&st, r->fin, 32);
	return true;
}

static size_t signed_msg(const char *ctx, const uint8_t th[32],
			 uint8_t out[96])
{
	size_t n = strlen(ctx);

	memcpy(out, ctx, n);
	memcpy(out + n, th, 32);
	return n + 32;
}

static void finished(const struct ref *r, uint8_t mac[32])
{
	uint8_t msg[96];
	size_t n = signed_msg(CTX_FINISHED, r->t2, msg);

	crypto_generichash(mac, 32, msg, n, r->fin, 32);
}

static size_t hello_tbs(const Ntpmc__HsHello *m, uint8_t *out)
{
	size_t n = strlen(CTX_JOIN_HELLO);

	memcpy(out, CTX_JOIN_HELLO, n);
	le64(out + n, m->version);
	n += 8;
	memcpy(out + n, m->cluster_id.data, 16);
	n += 16;
	le64(out + n, m->client_id);
	n += 8;
	memcpy(out + n, m->client_eph.data, 32);
	n += 32;
	memcpy(out + n, m->client_key.data, 32);
	n += 32;
	le64(out + n, m->server_id);
	n += 8;
	memcpy(out + n, m->token_id.data, TOKEN_ID_LEN);
	return n + TOKEN_ID_LEN;
}

/* One record each way between the real channel and ours (built from
 * the reference's keys): the same keys on both ends. */
static void records_flow(struct chan *real, struct chan *mine)
{
	uint8_t rec[64], pt[64];
	size_t n;

	CHECK(chan_seal(real, (const uint8_t *)"hi", 2, rec, sizeof(rec)) == 0);
	CHECK(chan_open(mine, rec + 4, 2 + CHAN_OVERHEAD, pt, &n) == 0);
	CHECK(n == 2 && memcmp(pt, "hi", 2) == 0);
	CHECK(chan_seal(mine, (const uint8_t *)"yo", 2, rec, sizeof(rec)) == 0);
	CHECK(chan_open(real, rec + 4, 2 + CHAN_OVERHEAD, pt, &n) == 0);
	CHECK(n == 2 && memcmp(pt, "yo", 2) == 0);
}

/* --- the real server, a reference client --- */

/* Whether the packed proof carries our genuine signatures and header. */
static bool proof_as_sent(const uint8_t *proof, size_t plen, bool join,
			  const uint8_t csig[64], const uint8_t jsig[64],
			  const uint8_t header[24])
{
	Ntpmc__HsProof *q = ntpmc__hs_proof__unpack(NULL, plen, proof);
	bool ok;

	if (!q)
		return false;
	ok = q->client_sig.len == 64 &&
	     memcmp(q->client_sig.data, csig, 64) == 0 &&
	     q->stream_header.len == 24 &&
	     memcmp(q->stream_header.data, header, 24) == 0 &&
	     (join ? q->join_sig.len == 64 &&
		     memcmp(q->join_sig.data, jsig, 64) == 0 :
		     q->join_sig.len == 0);
	ntpmc__hs_proof__free_unpacked(q, NULL);
	return ok;
}

static void run_server(struct in *in)
{
	struct hs_config c = cfg(2);
	Ntpmc__HsHello m = NTPMC__HS_HELLO__INIT;
	Ntpmc__HsProof p = NTPMC__HS_PROOF__INIT;
	Ntpmc__HsReply *rep = NULL;
	Ntpmc__HsDone *done = NULL;
	struct ref r;
	struct hs *s;
	struct chan *mine = NULL;
	uint8_t hello[HS_MSG_MAX], out[HS_MSG_MAX], proof[HS_MSG_MAX];
	uint8_t cid[16], key[32], tid[TOKEN_ID_LEN], tsig[64], tbs[200];
	uint8_t msg[96], csig[64], jsig[64], header[24], fin[32];
	uint8_t csig_ok[64], jsig_ok[64], proof0[HS_MSG_MAX];
	const struct ident *signer;
	bool join = u8(in) & 1, genuine = true, hello_sig_ok = true, own_eph;
	bool key_ok = true;
	uint8_t sent[24];
	size_t n, on, plen;
	unsigned v;
	int rc;

	CHECK(hs_server_new(&c, &s) == 0);
	memset(&r, 0, sizeof(r));
	crypto_box_keypair(r.eph_pk, r.eph_sk);
	v = u8(in);
	m.version = v < 240 ? HS_VERSION : v % 4;
	memcpy(cid, cluster, 16);
	maybe_flip(in, cid, 16);
	m.cluster_id.data = cid;
	m.cluster_id.len = 16;
	m.client_id = pick_id(in, join ? 3 : 1);
	signer = ids[join ? 3 : 1];
	v = u8(in);
	if (v >= 200)
		signer = ids[1 + v % 3];
	memcpy(key, ident_public(signer), 32);
	if (v >= 250) {
		det_buf(key, 32); /* a key nobody holds */
		genuine = false;
		key_ok = false;
	}
	m.client_eph.data = r.eph_pk;
	m.client_eph.len = 32;
	m.client_key.data = key;
	m.client_key.len = 32;
	m.server_id = pick_id(in, join ? 0 : 2);
	if (join) {
		memcpy(tid, tok->id, TOKEN_ID_LEN);
		maybe_flip(in, tid, TOKEN_ID_LEN);
		m.token_id.data = tid;
		m.token_id.len = TOKEN_ID_LEN;
		CHECK(token_sign(tok, tbs, hello_tbs(&m, tbs), tsig) == 0);
		v = u8(in);
		if (v >= 224) {
			tsig[v % 64] ^= 1;
			hello_sig_ok = false;
		}
		m.token_sig.data = tsig;
		m.token_sig.len = 64;
	}
	tstate = (enum hs_token_state)(u8(in) % 5);
	member3 = u8(in) >= 200;
	admit_rc = u8(in) >= 240 ? -HS_ERR_BUSY : 0;
	n = ntpmc__hs_hello__pack(&m, hello);
	memcpy(out, hello, n);
	maybe_flip(in, hello, n);
	/* A hello changed after packing may carry an ephemeral key whose
	 * secret the reference does not hold: its keys are then unknown. */
	own_eph = memcmp(out, hello, n) == 0;
	crypto_generichash(r.hello_hash, 32, hello, n, NULL, 0);
	rc = hs_recv(s, hello, n, out, sizeof(out), &on);
	if (rc != 0) {
		/* A refusal carries a reason and nothing else. */
		if (on > 0) {
			rep = ntpmc__hs_reply__unpack(NULL, on, out);
			CHECK(rep != NULL && rep->refused == (uint32_t)-rc);
			CHECK(rep->server_sig.len == 0);
		}
		goto out;
	}
	/* An admitted hello: everything the server checks held. */
	CHECK(admit_rc == 0 && m.version == HS_VERSION);
	CHECK(!join || (tstate == HS_TOKEN_LIVE && hello_sig_ok));
	rep = ntpmc__hs_reply__unpack(NULL, on, out);
	CHECK(rep != NULL && rep->refused == 0 && rep->server_id == 2);
	CHECK(rep->server_eph.len == 32 && rep->server_key.len == 32 &&
	      rep->stream_header.len == 24 && rep->server_sig.len == 64);
	ref_t0(&r, rep->server_id, rep->server_eph.data, rep->server_key.data);
	hash3(r.t1, CTX_T1, r.t0, 32, rep->stream_header.data, 24);
	/* The real server's signature always verifies. */
	CHECK(ident_verify(rep->server_key.data, msg,
			   signed_msg(CTX_SERVER, r.t1, msg),
			   rep->server_sig.data) == 0);
	if (!ref_keys(&r, rep->server_eph.data))
		goto out;
	/* Ours: client -> server is the first half. */
	CHECK(chan_new(r.okm, r.okm + 32, header, &mine) == 0);
	memcpy(sent, header, 24);
	maybe_flip(in, header, 24);
	hash3(r.t2, CTX_T2, r.t1, 32, header, 24);
	CHECK(ident_sign(signer, msg, signed_msg(CTX_CLIENT, r.t2, msg),
			 csig) == 0);
	memcpy(csig_ok, csig, 64);
	v = u8(in);
	if (v >= 224) {
		csig[v % 64] ^= 1;
		genuine = false;
	}
	p.client_sig.data = csig;
	p.client_sig.len = 64;
	p.stream_header.data = header;
	p.stream_header.len = 24;
	if (join || u8(in) >= 250) {
		CHECK(token_sign(tok, msg, signed_msg(CTX_JOIN, r.t2, msg),
				 jsig) == 0);
		memcpy(jsig_ok, jsig, 64);
		v = u8(in);
		if (v >= 224) {
			jsig[v % 64] ^= 1;
			genuine = false;
		}
		p.join_sig.data = jsig;
		p.join_sig.len = u8(in) >= 250 ? 32 : 64;
		genuine &= p.join_sig.len == 64 && join;
	}
	plen = ntpmc__hs_proof__pack(&p, proof);
	memcpy(proof0, proof, plen);
	maybe_flip(in, proof, plen);
	/* A flip after packing may also undo a corruption (the same bit):
	 * then what counts is the proof as sent. Ed25519 signatures are
	 * deterministic, so a valid one equals the one we made. */
	if (memcmp(proof0, proof, plen) != 0)
		genuine = key_ok && proof_as_sent(proof, plen, join, csig_ok,
						  jsig_ok, header);
	rc = hs_recv(s, proof, plen, out, sizeof(out), &on);
	if (rc != 0)
		goto out;
	/* Accepted: the proof was genuine, by a key the trust holds. */
	CHECK(genuine && hs_done(s));
	CHECK(memcmp(key, ident_public(signer), 32) == 0);
	done = ntpmc__hs_done__unpack(NULL, on, out);
	CHECK(done != NULL && done->finished.len == 32);
	if (!own_eph)
		goto out;
	finished(&r, fin);
	CHECK(sodium_memcmp(fin, done->finished.data, 32) == 0);
	{
		struct chan *real = hs_take_chan(s);

		CHECK(real != NULL);
		CHECK(chan_set_rx_header(mine, rep->stream_header.data) == 0);
		/* A header we changed ourselves is ours to suffer. */
		if (memcmp(sent, header, 24) == 0)
			records_flow(real, mine);
		chan_free(real);
	}
out:
	if (rep != NULL)
		ntpmc__hs_reply__free_unpacked(rep, NULL);
	if (done != NULL)
		ntpmc__hs_done__free_unpacked(done, NULL);
	chan_free(mine);
	hs_free(s);
}

/* --- the real client (member 1, or joiner 3), a reference server --- */

static void run_client(struct in *in)
{
	bool join = u8(in) & 1, genuine = true, fin_ok = true;
	struct hs_config c = cfg(join ? 3 : 1);
	Ntpmc__HsReply rep = NTPMC__HS_REPLY__INIT;
	Ntpmc__HsDone d = NTPMC__HS_DONE__INIT;
	Ntpmc__HsHello *m = NULL;
	Ntpmc__HsProof *p = NULL;
	struct ref r;
	struct hs *h;
	struct chan *real, *mine = NULL;
	const struct ident *signer = ids[2];
	uint8_t hello[HS_MSG_MAX], out[HS_MSG_MAX], reply[HS_MSG_MAX];
	uint8_t key[32], header[24], sent[24], sig[64], msg[96], fin[32];
	uint8_t tbs[200];
	uint64_t sid;
	size_t n, on;
	unsigned v;
	int rc;

	member3 = false;
	CHECK((join ? hs_client_new_join(&c, tok, &h)
		    : hs_client_new(&c, 2, &h)) == 0);
	CHECK(hs_start(h, hello, sizeof(hello), &n) == 0);
	m = ntpmc__hs_hello__unpack(NULL, n, hello);
	CHECK(m != NULL && m->version == HS_VERSION &&
	      m->client_eph.len == 32);
	if (join) /* the hello's token signature is the token's */
		CHECK(m->token_sig.len == 64 &&
		      token_verify(tok->pk, tbs, hello_tbs(m, tbs),
				   m->token_sig.data) == 0);
	memset(&r, 0, sizeof(r));
	crypto_generichash(r.hello_hash, 32, hello, n, NULL, 0);
	v = u8(in);
	if (v >= 240) {
		/* A refusal, with any reason. */
		rep.refused = u8(in);
		n = ntpmc__hs_reply__pack(&rep, reply);
		rc = hs_recv(h, reply, n, out, sizeof(out), &on);
		CHECK(rc != 0 && on == 0);
		goto out;
	}
	crypto_box_keypair(r.eph_pk, r.eph_sk);
	sid = pick_id(in, 2);
	v = u8(in);
	if (v >= 200)
		signer = ids[1 + v % 3];
	memcpy(key, ident_public(signer), 32);
	genuine = sid == 2 && signer == ids[2];
	ref_t0(&r, sid, r.eph_pk, key);
	if (!ref_keys(&r, m->client_eph.data))
		goto out;
	/* Ours: server -> client is the second half. */
	CHECK(chan_new(r.okm + 32, r.okm, header, &mine) == 0);
	memcpy(sent, header, 24);
	maybe_flip(in, header, 24);
	hash3(r.t1, CTX_T1, r.t0, 32, header, 24);
	CHECK(ident_sign(signer, msg, signed_msg(CTX_SERVER, r.t1, msg),
			 sig) == 0);
	v = u8(in);
	if (v >= 224) {
		sig[v % 64] ^= 1;
		genuine = false;
	}
	rep.server_id = sid;
	rep.server_eph.data = r.eph_pk;
	rep.server_eph.len = 32;
	rep.server_key.data = key;
	rep.server_key.len = 32;
	rep.server_sig.data = sig;
	rep.server_sig.len = 64;
	rep.stream_header.data = header;
	rep.stream_header.len = 24;
	n = ntpmc__hs_reply__pack(&rep, reply);
	v = u8(in);
	if (v >= 240) {
		reply[u8(in) % n] ^= 1;
		genuine = false; /* maybe: a flip can land on nothing */
	}
	rc = hs_recv(h, reply, n, out, sizeof(out), &on);
	if (rc != 0)
		goto out;
	/* Accepted: member 2 under its own key, genuinely signed (the
	 * token names member 2 under id 2 too). */
	CHECK(sid == 2 && signer == ids[2]);
	CHECK(genuine || v >= 240);
	p = ntpmc__hs_proof__unpack(NULL, on, out);
	CHECK(p != NULL && p->client_sig.len == 64 &&
	      p->stream_header.len == 24);
	hash3(r.t2, CTX_T2, r.t1, 32, p->stream_header.data, 24);
	CHECK(ident_verify(ident_public(ids[join ? 3 : 1]), msg,
			   signed_msg(CTX_CLIENT, r.t2, msg),
			   p->client_sig.data) == 0);
	if (join)
		CHECK(p->join_sig.len == 64 &&
		      token_verify(tok->pk, msg,
				   signed_msg(CTX_JOIN, r.t2, msg),
				   p->join_sig.data) == 0);
	else
		CHECK(p->join_sig.len == 0);
	finished(&r, fin);
	v = u8(in);
	if (v >= 200) {
		fin[v % 32] ^= 1;
		fin_ok = false;
	}
	d.finished.data = fin;
	d.finished.len = u8(in) >= 250 ? 31 : 32;
	fin_ok &= d.finished.len == 32;
	n = ntpmc__hs_done__pack(&d, reply);
	rc = hs_recv(h, reply, n, out, sizeof(out), &on);
	CHECK((rc == 0) == fin_ok && on == 0);
	if (rc != 0)
		goto out;
	real = hs_take_chan(h);
	CHECK(real != NULL);
	CHECK(chan_set_rx_header(mine, p->stream_header.data) == 0);
	if (memcmp(sent, header, 24) == 0)
		records_flow(real, mine);
	chan_free(real);
out:
	ntpmc__hs_hello__free_unpacked(m, NULL);
	if (p != NULL)
		ntpmc__hs_proof__free_unpacked(p, NULL);
	chan_free(mine);
	hs_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	memset(rng, 0x5a, sizeof(rng)); /* the same draws for the same input */
	if (u8(&in) & 1)
		run_server(&in);
	else
		run_client(&in);
	return 0;
}
