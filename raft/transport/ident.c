#include "raft/transport/ident.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Store keys. The Ed25519 key is kept as its 32-byte seed (the expanded
 * secret key is re-derived), so a damaged value cannot pair a secret key
 * with a foreign public key. */
#define KEY_SIGN_SEED "ident.ed25519.seed"
#define KEY_WG_SECRET "ident.wg.secret"

struct ident_secret {
	uint8_t sign_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t wg_sk[crypto_scalarmult_curve25519_BYTES];
};

struct ident {
	struct ident_secret *sec; /* sodium_malloc()ed: guarded, zeroed */
	uint8_t sign_pk[IDENT_PK_LEN];
	uint8_t wg_pk[crypto_scalarmult_curve25519_BYTES];
};

/* wg genkey's clamping (RFC 7748 section 5), done on the stored key so that
 * it is byte-identical to what wg would print. */
static void wg_clamp(uint8_t k[32])
{
	k[0] &= 248;
	k[31] = (uint8_t)((k[31] & 127) | 64);
}

int ident_wg_pubkey(const uint8_t sk[32], uint8_t pk[32])
{
	return crypto_scalarmult_curve25519_base(pk, sk) == 0 ? 0 : -EINVAL;
}

static int ident_alloc(struct ident **out)
{
	struct ident *id;

	if (sodium_init() < 0)
		return -EIO;
	id = calloc(1, sizeof(*id));
	if (id == NULL)
		return -ENOMEM;
	id->sec = sodium_malloc(sizeof(*id->sec));
	if (id->sec == NULL) {
		free(id);
		return -ENOMEM;
	}
	*out = id;
	return 0;
}

void ident_free(struct ident *id)
{
	if (id == NULL)
		return;
	sodium_free(id->sec); /* zeroes before unmapping */
	free(id);
}

/* Derives everything from the seed and the WireGuard secret. */
static int ident_derive(struct ident *id, const uint8_t seed[32],
			const uint8_t wg_sk[32])
{
	if (crypto_sign_seed_keypair(id->sign_pk, id->sec->sign_sk, seed) != 0)
		return -EINVAL;
	memcpy(id->sec->wg_sk, wg_sk, 32);
	wg_clamp(id->sec->wg_sk);
	return ident_wg_pubkey(id->sec->wg_sk, id->wg_pk);
}

int ident_generate(struct ident **out)
{
	uint8_t seed[32], wg[32];
	struct ident *id;
	int rc;

	rc = ident_alloc(&id);
	if (rc != 0)
		return rc;
	randombytes_buf(seed, sizeof(seed));
	randombytes_buf(wg, sizeof(wg));
	rc = ident_derive(id, seed, wg);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(wg, sizeof(wg));
	if (rc != 0) {
		ident_free(id);
		return rc;
	}
	*out = id;
	return 0;
}

/* Reads a 32-byte secret; the store's copy is wiped before it is freed. */
static int load32(const struct ident_store *st, const char *key,
		  uint8_t out[32])
{
	void *buf = NULL;
	size_t len = 0;
	int rc;

	rc = st->get(st->ctx, key, &buf, &len);
	if (rc != 0)
		return rc;
	if (len != 32) {
		rc = -EINVAL; /* damaged: never silently replace an identity */
	} else {
		memcpy(out, buf, 32);
		rc = 0;
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int ident_load_or_create(const struct ident_store *st, struct ident **out)
{
	uint8_t seed[32], wg[32];
	struct ident *id = NULL;
	int rc, rs, rw;

	rc = ident_alloc(&id);
	if (rc != 0)
		return rc;
	rs = load32(st, KEY_SIGN_SEED, seed);
	rw = load32(st, KEY_WG_SECRET, wg);
	if (rs == -ENOENT && rw == -ENOENT) {
		randombytes_buf(seed, sizeof(seed));
		randombytes_buf(wg, sizeof(wg));
		wg_clamp(wg);
		/* WireGuard key first: a crash in between leaves no seed, and
		 * the next start regenerates both. */
		rc = st->put(st->ctx, KEY_WG_SECRET, wg, sizeof(wg));
		if (rc == 0)
			rc = st->put(st->ctx, KEY_SIGN_SEED, seed,
				     sizeof(seed));
	} else if (rs == -ENOENT && rw == 0) {
		/* Interrupted first start: keep the stored WireGuard key. */
		randombytes_buf(seed, sizeof(seed));
		rc = st->put(st->ctx, KEY_SIGN_SEED, seed, sizeof(seed));
	} else {
		rc = rs != 0 ? rs : rw;
	}
	if (rc == 0)
		rc = ident_derive(id, seed, wg);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(wg, sizeof(wg));
	if (rc != 0) {
		ident_free(id);
		return rc;
	}
	*out = id;
	return 0;
}

const uint8_t *ident_public(const struct ident *id)
{
	return id->sign_pk;
}

int ident_sign(const struct ident *id, const uint8_t *msg, size_t len,
	       uint8_t sig[IDENT_SIG_LEN])
{
	return crypto_sign_detached(sig, NULL, msg, len, id->sec->sign_sk) == 0
		       ? 0
		       : -EINVAL;
}

int ident_verify(const uint8_t pk[IDENT_PK_LEN], const uint8_t *msg,
		 size_t len, const uint8_t sig[IDENT_SIG_LEN])
{
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0
								   : -EBADMSG;
}

int ident_pair_key(const struct ident *id, const uint8_t peer_pk[IDENT_PK_LEN],
		   const char *label, uint8_t out[32])
{
	uint8_t xsk[crypto_scalarmult_curve25519_BYTES];
	uint8_t xpk[crypto_scalarmult_curve25519_BYTES];
	uint8_t shared[crypto_scalarmult_BYTES];
	crypto_generichash_state st;
	const uint8_t *lo, *hi;
	int c, rc = -EINVAL;

	c = memcmp(id->sign_pk, peer_pk, IDENT_PK_LEN);
	if (c == 0)
		return -EINVAL;
	lo = c < 0 ? id->sign_pk : peer_pk;
	hi = c < 0 ? peer_pk : id->sign_pk;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, peer_pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(xsk, id->sec->sign_sk) != 0)
		goto out;
	/* fails on a low-order peer key (all-zero shared point) */
	if (crypto_scalarmult(shared, xsk, xpk) != 0)
		goto out;
	crypto_generichash_init(&st, shared, sizeof(shared), 32);
	crypto_generichash_update(&st, (const uint8_t *)"ntpmc pair v1", 13);
	crypto_generichash_update(&st, (const uint8_t *)label,
				  strlen(label) + 1);
	crypto_generichash_update(&st, lo, IDENT_PK_LEN);
	crypto_generichash_update(&st, hi, IDENT_PK_LEN);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
	rc = 0;
out:
	sodium_memzero(xsk, sizeof(xsk));
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

void ident_fingerprint(const uint8_t pk[IDENT_PK_LEN],
		       uint8_t fp[IDENT_FP_LEN])
{
	static const uint8_t ctx[] = "ntpmc identity fingerprint v1";

	/* Keyed with a constant: a fingerprint is never a plain hash that
	 * some other protocol might also compute over the same key. */
	crypto_generichash(fp, IDENT_FP_LEN, pk, IDENT_PK_LEN, ctx,
			   sizeof(ctx) - 1);
}

void ident_fingerprint_hex(const uint8_t fp[IDENT_FP_LEN],
			   char out[IDENT_FP_HEX_LEN])
{
	sodium_bin2hex(out, IDENT_FP_HEX_LEN, fp, IDENT_FP_LEN);
}

void ident_wg_public_b64(const struct ident *id, char out[IDENT_WG_B64_LEN])
{
	sodium_bin2base64(out, IDENT_WG_B64_LEN, id->wg_pk, sizeof(id->wg_pk),
			  sodium_base64_VARIANT_ORIGINAL);
}

void ident_wg_private_b64(const struct ident *id, char out[IDENT_WG_B64_LEN])
{
	sodium_bin2base64(out, IDENT_WG_B64_LEN, id->sec->wg_sk,
			  sizeof(id->sec->wg_sk),
			  sodium_base64_VARIANT_ORIGINAL);
}
