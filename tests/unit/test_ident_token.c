/* Node identity keys and join tokens. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "raft/transport/ident.h"
#include "raft/transport/token.h"
#include "storage/st.h"

/* An in-memory node-local table with st_local_get/put's contract. */
struct memst {
	char key[4][64];
	uint8_t val[4][64];
	size_t len[4];
	int n;
	int puts;
};

static int memst_get(void *ctx, const char *key, void **buf, size_t *len)
{
	struct memst *m = ctx;
	int i;

	for (i = 0; i < m->n; i++) {
		if (strcmp(m->key[i], key) == 0) {
			*buf = malloc(m->len[i]);
			memcpy(*buf, m->val[i], m->len[i]);
			*len = m->len[i];
			return 0;
		}
	}
	return -ENOENT;
}

static int memst_put(void *ctx, const char *key, const void *buf, size_t len)
{
	struct memst *m = ctx;
	int i;

	m->puts++;
	for (i = 0; i < m->n && strcmp(m->key[i], key) != 0; i++)
		;
	if (i == 4 || len > 64)
		return -ENOSPC;
	if (i == m->n)
		m->n++;
	strcpy(m->key[i], key);
	memcpy(m->val[i], buf, len);
	m->len[i] = len;
	return 0;
}

static void ident_persists(void **state)
{
	struct memst m = { 0 };
	struct ident_store st = { memst_get, memst_put, &m };
	struct ident *a, *b;
	char wa[IDENT_WG_B64_LEN], wb[IDENT_WG_B64_LEN];
	char pa[IDENT_WG_B64_LEN];
	uint8_t sig[IDENT_SIG_LEN];
	static const uint8_t msg[] = "hello";

	assert_int_equal(ident_load_or_create(&st, &a), 0);
	assert_int_equal(m.puts, 2);
	assert_int_equal(ident_load_or_create(&st, &b), 0);
	assert_int_equal(m.puts, 2); /* loaded, not regenerated */
	assert_memory_equal(ident_public(a), ident_public(b), IDENT_PK_LEN);
	ident_wg_public_b64(a, wa);
	ident_wg_public_b64(b, wb);
	assert_string_equal(wa, wb);
	assert_int_equal(strlen(wa), 44);
	/* Signatures of one verify with the other's public key. */
	assert_int_equal(ident_sign(a, msg, sizeof(msg), sig), 0);
	assert_int_equal(ident_verify(ident_public(b), msg, sizeof(msg), sig),
			 0);
	sig[3] ^= 1;
	assert_int_equal(ident_verify(ident_public(b), msg, sizeof(msg), sig),
			 -EBADMSG);
	/* The private key differs from the public one and is never the
	 * stored signing seed. */
	ident_wg_private_b64(a, pa);
	assert_string_not_equal(pa, wa);
	sodium_memzero(pa, sizeof(pa));
	ident_free(a);
	ident_free(b);
}

static void ident_damaged_store_refused(void **state)
{
	struct memst m = { 0 };
	struct ident_store st = { memst_get, memst_put, &m };
	struct ident *a;

	assert_int_equal(ident_load_or_create(&st, &a), 0);
	ident_free(a);
	m.len[0] = 31; /* truncated key: never silently replaced */
	assert_int_equal(ident_load_or_create(&st, &a), -EINVAL);
}

/* The real node-local store: the identity survives a reopen. */
static void ident_in_lmdb(void **state)
{
	char dir[] = "/tmp/ntpmc-ident-XXXXXX", cmd[64];
	uint8_t pk[IDENT_PK_LEN];
	struct ident *a;
	struct st *st;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(ident_load_st(st, &a), 0);
	memcpy(pk, ident_public(a), sizeof(pk));
	ident_free(a);
	st_close(st);
	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(ident_load_st(st, &a), 0);
	assert_memory_equal(pk, ident_public(a), sizeof(pk));
	ident_free(a);
	st_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* wg's format: clamped private key, public = X25519 base point mult. */
static void wg_key_format(void **state)
{
	struct ident *a;
	char pub[IDENT_WG_B64_LEN], priv[IDENT_WG_B64_LEN];
	uint8_t sk[32], pk[32], want[32];
	size_t n;

	assert_int_equal(ident_generate(&a), 0);
	ident_wg_public_b64(a, pub);
	ident_wg_private_b64(a, priv);
	assert_int_equal(sodium_base642bin(sk, 32, priv, strlen(priv), NULL,
					   &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(n, 32);
	assert_int_equal(sk[0] & 7, 0);
	assert_int_equal(sk[31] & 128, 0);
	assert_int_equal(sk[31] & 64, 64);
	assert_int_equal(sodium_base642bin(pk, 32, pub, strlen(pub), NULL, &n,
					   NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(crypto_scalarmult_curve25519_base(want, sk), 0);
	assert_memory_equal(pk, want, 32);
	assert_int_equal(pub[43], '=');
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(priv, sizeof(priv));
	ident_free(a);
}

/* RFC 7748 section 6.1 test vector through ident_wg_pubkey. */
static void wg_pubkey_vector(void **state)
{
	static const char *sk_hex =
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
	static const char *pk_hex =
		"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
	uint8_t sk[32], pk[32], want[32];

	assert_int_equal(sodium_hex2bin(sk, 32, sk_hex, 64, NULL, NULL, NULL),
			 0);
	assert_int_equal(sodium_hex2bin(want, 32, pk_hex, 64, NULL, NULL, NULL),
			 0);
	assert_int_equal(ident_wg_pubkey(sk, pk), 0);
	assert_memory_equal(pk, want, 32);
}

static void fingerprint_stable(void **state)
{
	struct ident *a;
	uint8_t f1[IDENT_FP_LEN], f2[IDENT_FP_LEN];
	char hex[IDENT_FP_HEX_LEN];

	assert_int_equal(ident_generate(&a), 0);
	ident_fingerprint(ident_public(a), f1);
	ident_fingerprint(ident_public(a), f2);
	assert_memory_equal(f1, f2, sizeof(f1));
	assert_memory_not_equal(f1, ident_public(a), 32);
	ident_fingerprint_hex(f1, hex);
	assert_int_equal(strlen(hex), 64);
	ident_free(a);
}

/* Both sides of a pair derive the same key; a third node, another label,
 * our own key and a non-point are refused or give another key. */
static void pair_key(void **state)
{
	struct ident *a, *b, *c;
	uint8_t ab[32], ba[32], ac[32], other[32], bad[IDENT_PK_LEN];

	(void)state;
	assert_int_equal(ident_generate(&a), 0);
	assert_int_equal(ident_generate(&b), 0);
	assert_int_equal(ident_generate(&c), 0);
	assert_int_equal(ident_pair_key(a, ident_public(b), "x", ab), 0);
	assert_int_equal(ident_pair_key(b, ident_public(a), "x", ba), 0);
	assert_memory_equal(ab, ba, 32);
	assert_int_equal(ident_pair_key(a, ident_public(c), "x", ac), 0);
	assert_memory_not_equal(ab, ac, 32);
	assert_int_equal(ident_pair_key(a, ident_public(b), "y", other), 0);
	assert_memory_not_equal(ab, other, 32);
	assert_int_equal(ident_pair_key(a, ident_public(a), "x", other),
			 -EINVAL);
	memset(bad, 0, sizeof(bad));   /* a low-order point */
	assert_int_equal(ident_pair_key(a, bad, "x", other), -EINVAL);
	ident_free(a);
	ident_free(b);
	ident_free(c);
}

static void make_token(struct token *t, uint64_t now, uint64_t ttl)
{
	struct token_member mem[2];
	uint8_t cid[16];

	memset(mem, 0, sizeof(mem));
	memset(cid, 0xc1, sizeof(cid));
	strcpy(mem[0].endpoint, "10.0.0.1:7400");
	memset(mem[0].fp, 0xa1, 32);
	strcpy(mem[1].endpoint, "[2001:db8::2]:7400");
	memset(mem[1].fp, 0xa2, 32);
	assert_int_equal(token_create(t, cid, mem, 2, now, ttl), 0);
}

static void token_round_trip(void **state)
{
	struct token t, u;
	char *text;
	uint8_t fp[32];

	make_token(&t, 1000, 0);
	assert_int_equal(t.expires_at, 1000 + TOKEN_TTL_DEFAULT);
	assert_int_equal(token_encode(&t, &text), 0);
	/* Shell-safe alphabet only. */
	assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				      "nopqrstuvwxyz0123456789-_"),
			 strlen(text));
	assert_int_equal(token_parse(text, &u), 0);
	assert_memory_equal(t.cluster_id, u.cluster_id, 16);
	assert_memory_equal(t.secret, u.secret, 32);
	assert_int_equal(t.expires_at, u.expires_at);
	assert_int_equal(u.n_members, 2);
	assert_string_equal(u.members[1].endpoint, "[2001:db8::2]:7400");
	memset(fp, 0xa2, 32);
	assert_int_equal(token_has_fingerprint(&u, fp), 0);
	memset(fp, 0xa3, 32);
	assert_int_equal(token_has_fingerprint(&u, fp), -ENOENT);
	token_wipe(&u);
	/* A token file's trailing newline is fine. */
	{
		char buf[TOKEN_TEXT_MAX + 4];

		snprintf(buf, sizeof(buf), "  %s\n", text);
		assert_int_equal(token_parse(buf, &u), 0);
	}
	token_text_free(text);
	token_wipe(&t);
}

static void token_expiry(void **state)
{
	struct token t;

	make_token(&t, 1000, 60);
	assert_int_equal(token_check_expiry(&t, 1059), 0);
	assert_int_equal(token_check_expiry(&t, 1060), -EKEYEXPIRED);
	assert_int_equal(token_check_expiry(&t, 999999), -EKEYEXPIRED);
}

static void token_mac_and_ids(void **state)
{
	struct token t, t2;
	uint8_t k[TOKEN_KEY_LEN], k2[TOKEN_KEY_LEN], id[TOKEN_ID_LEN];
	uint8_t mac[TOKEN_MAC_LEN];
	static const uint8_t th[32] = { 1, 2, 3 };
	uint8_t other[32] = { 1, 2, 4 };

	make_token(&t, 1, 0);
	make_token(&t2, 1, 0);
	assert_memory_not_equal(t.secret, t2.secret, 32);
	token_key(t.secret, k);
	token_key(t2.secret, k2);
	token_id(t.secret, id);
	{
		char hex[TOKEN_ID_HEX_LEN], hex2[TOKEN_ID_HEX_LEN + 8];

		token_id_hex(id, hex);
		snprintf(hex2, sizeof(hex2), "%016llx",
			 (unsigned long long)token_id_u64(t.secret));
		assert_string_equal(hex, hex2);
	}
	/* The stored values reveal nothing of the secret directly. */
	assert_memory_not_equal(k, t.secret, 32);
	assert_memory_not_equal(id, k, TOKEN_ID_LEN);
	token_mac(k, th, sizeof(th), mac);
	assert_int_equal(token_verify(k, th, sizeof(th), mac), 0);
	/* Forged: another token's key, another transcript, a flipped bit. */
	assert_int_equal(token_verify(k2, th, sizeof(th), mac), -EBADMSG);
	assert_int_equal(token_verify(k, other, sizeof(other), mac), -EBADMSG);
	mac[0] ^= 0x80;
	assert_int_equal(token_verify(k, th, sizeof(th), mac), -EBADMSG);
}

static void token_malformed(void **state)
{
	struct token t, u;
	char *text, *p;
	char big[TOKEN_TEXT_MAX + 10];

	assert_int_equal(token_parse("", &u), -EINVAL);
	assert_int_equal(token_parse("not base64 !!", &u), -EINVAL);
	assert_int_equal(token_parse("AAAA", &u), -EINVAL);
	assert_int_equal(token_parse(NULL, &u), -EINVAL);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(token_parse(big, &u), -E2BIG);
	make_token(&t, 1, 0);
	assert_int_equal(token_encode(&t, &text), 0);
	/* Truncated. */
	p = strdup(text);
	p[strlen(p) / 2] = 0;
	assert_int_not_equal(token_parse(p, &u), 0);
	free(p);
	/* Every single-character change either fails to parse or changes
	 * what was parsed (no silent acceptance of a damaged secret is
	 * possible to check here, the MAC handshake catches that). */
	p = strdup(text);
	p[10] = p[10] == 'A' ? 'B' : 'A';
	if (token_parse(p, &u) == 0)
		assert_true(memcmp(&u, &t, sizeof(u)) != 0);
	free(p);
	token_text_free(text);
	/* No members at all. */
	{
		uint8_t cid[16] = { 0 };

		assert_int_equal(token_create(&u, cid, NULL, 0, 1, 0), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ident_persists),
		cmocka_unit_test(ident_damaged_store_refused),
		cmocka_unit_test(ident_in_lmdb),
		cmocka_unit_test(wg_key_format),
		cmocka_unit_test(wg_pubkey_vector),
		cmocka_unit_test(fingerprint_stable),
		cmocka_unit_test(pair_key),
		cmocka_unit_test(token_round_trip),
		cmocka_unit_test(token_expiry),
		cmocka_unit_test(token_mac_and_ids),
		cmocka_unit_test(token_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
