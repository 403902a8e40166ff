/*
 * ident: this node's long-term keys.
 *
 *  - an Ed25519 identity (signing) key pair: it authenticates the node in
 *    every cluster transport handshake (raft/transport/hs.h); its fingerprint is what
 *    join tokens carry;
 *  - a WireGuard Curve25519 key pair in wg(8)'s format (base64 of 32 bytes,
 *    private key clamped as wg genkey does).
 *
 * Both are generated once and kept in the node-local store (never
 * replicated). Private keys live in sodium_malloc()ed memory, are zeroed on
 * free and are never logged: no function here formats a private key except
 * ident_wg_private_b64(), for writing a wg configuration.
 *
 * Errors are negative errno values.
 */
#ifndef NTPMC_IDENT_H
#define NTPMC_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define IDENT_PK_LEN 32
#define IDENT_SIG_LEN 64
#define IDENT_FP_LEN 32
#define IDENT_FP_HEX_LEN (2 * IDENT_FP_LEN + 1)
#define IDENT_WG_B64_LEN 45 /* 44 characters and the NUL */

struct ident;

/*
 * Where the keys are kept. Same contract as storage/st.h's st_local_get /
 * st_local_put: get returns 0 and a malloc()ed *buf, or -ENOENT when absent.
 */
struct ident_store {
	int (*get)(void *ctx, const char *key, void **buf, size_t *len);
	int (*put)(void *ctx, const char *key, const void *buf, size_t len);
	void *ctx;
};

/* Loads the keys from st, or creates and stores them on first use. */
int ident_load_or_create(const struct ident_store *st, struct ident **out);
/* The same, in storage/st.h's node-local table (raft/transport/ident_st.c). */
struct st;
int ident_load_st(struct st *st, struct ident **out);
/* Fresh keys kept only in memory (tests, tools). */
int ident_generate(struct ident **out);
void ident_free(struct ident *id);

const uint8_t *ident_public(const struct ident *id);
int ident_sign(const struct ident *id, const uint8_t *msg, size_t len,
	       uint8_t sig[IDENT_SIG_LEN]);
/* 0 if sig is pk's signature of msg, -EBADMSG otherwise. */
int ident_verify(const uint8_t pk[IDENT_PK_LEN], const uint8_t *msg,
		 size_t len, const uint8_t sig[IDENT_SIG_LEN]);

/*
 * A key this node shares with the node whose identity key is peer_pk, for
 * the purpose named by label: both sides derive the same 32 bytes, nobody
 * else can. X25519 of the two identity keys mapped to Curve25519
 * (libsodium's Ed25519 -> X25519 conversion; the signing keys never sign
 * anything to do with it), hashed with BLAKE2b-256 keyed by the shared
 * point over the label and both public keys in a fixed order, so the key
 * is bound to the pair and the purpose. The caller zeroes out after use.
 * -EINVAL for a key that is not a valid Ed25519 point or gives a
 * low-order point (shared secret all zero), or for our own key.
 */
int ident_pair_key(const struct ident *id, const uint8_t peer_pk[IDENT_PK_LEN],
		   const char *label, uint8_t out[32]);

/* BLAKE2b-256 of the identity public key, domain-separated. */
void ident_fingerprint(const uint8_t pk[IDENT_PK_LEN],
		       uint8_t fp[IDENT_FP_LEN]);
void ident_fingerprint_hex(const uint8_t fp[IDENT_FP_LEN],
			   char out[IDENT_FP_HEX_LEN]);

/* WireGuard keys, base64 as wg(8) prints them. */
void ident_wg_public_b64(const struct ident *id, char out[IDENT_WG_B64_LEN]);
/* Only for rendering a wg configuration; the caller zeroes out after use. */
void ident_wg_private_b64(const struct ident *id, char out[IDENT_WG_B64_LEN]);
/* wg's derivation: public = X25519(clamped private, 9). */
int ident_wg_pubkey(const uint8_t sk[32], uint8_t pk[32]);

#endif
