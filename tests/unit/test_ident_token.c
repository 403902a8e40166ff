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

static struct token *make_token(uint64_t now, uint64_t ttl)
{
	struct token_member mem[2];
	struct token *t = NULL;
	uint8_t cid[16];

	memset(mem, 0, sizeof(mem));
	memset(cid, 0xc1, sizeof(cid));
	mem[0].id = 11;
	strcpy(mem[0].endpoint, "10.0.0.1:7400");
	memset(mem[0].fp, 0xa1, 32);
	mem[1].id = 22;
	strcpy(mem[1].endpoint, "[2001:db8::2]:7400");
	memset(mem[1].fp, 0xa2, 32);
	assert_int_equal(token_create(cid, mem, 2, now, ttl, &t), 0);
	return t;
}

static void token_round_trip(void **state)
{
	struct token *t, *u;
	char *text;
	uint8_t fp[32];
	uint64_t id = 0;

	t = make_token(1000, 0);
	assert_int_equal(t->expires_at, 1000 + TOKEN_TTL_DEFAULT);
	assert_int_equal(token_encode(t, &text), 0);
	/* Shell-safe alphabet only. */
	assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				      "nopqrstuvwxyz0123456789-_"),
			 strlen(text));
	assert_int_equal(token_parse(text, &u), 0);
	assert_memory_equal(t->cluster_id, u->cluster_id, 16);
	assert_memory_equal(t->sk, u->sk, TOKEN_SK_LEN);
	assert_memory_equal(t->pk, u->pk, TOKEN_PK_LEN);
	assert_memory_equal(t->id, u->id, TOKEN_ID_LEN);
	assert_int_equal(t->expires_at, u->expires_at);
	assert_int_equal(u->n_members, 2);
	assert_string_equal(u->members[1].endpoint, "[2001:db8::2]:7400");
	/* (id, fingerprint) pairs survive. */
	memset(fp, 0xa2, 32);
	assert_int_equal(token_member_of(u, fp, &id), 0);
	assert_int_equal(id, 22);
	memset(fp, 0xa1, 32);
	assert_int_equal(token_member_of(u, fp, &id), 0);
	assert_int_equal(id, 11);
	memset(fp, 0xa3, 32);
	assert_int_equal(token_member_of(u, fp, &id), -ENOENT);
	token_free(u);
	/* A token file's trailing newline is fine. */
	{
		char buf[TOKEN_TEXT_MAX + 4];

		snprintf(buf, sizeof(buf), "  %s\n", text);
		assert_int_equal(token_parse(buf, &u), 0);
		token_free(u);
	}
	token_text_free(text);
	token_free(t);
}

static void token_expiry(void **state)
{
	struct token *t = make_token(1000, 60);

	assert_int_equal(token_check_expiry(t, 1059), 0);
	assert_int_equal(token_check_expiry(t, 1060), -EKEYEXPIRED);
	assert_int_equal(token_check_expiry(t, 999999), -EKEYEXPIRED);
	token_free(t);
}

static void token_keys_and_ids(void **state)
{
	struct token *t = make_token(1, 0), *t2 = make_token(1, 0);
	uint8_t id[TOKEN_ID_LEN], sig[TOKEN_SIG_LEN];
	static const uint8_t th[32] = { 1, 2, 3 };
	uint8_t other[32] = { 1, 2, 4 };

	assert_memory_not_equal(t->sk, t2->sk, TOKEN_SEED_LEN);
	/* The id is a function of the public key alone: a member (or a
	 * backup) holding the public key can name the token. */
	token_id_of(t->pk, id);
	assert_memory_equal(id, t->id, TOKEN_ID_LEN);
	{
		char hex[TOKEN_ID_HEX_LEN], hex2[TOKEN_ID_HEX_LEN + 8];

		token_id_hex(id, hex);
		snprintf(hex2, sizeof(hex2), "%016llx",
			 (unsigned long long)token_id_u64(id));
		assert_string_equal(hex, hex2);
	}
	/* The public key is not the seed. */
	assert_memory_not_equal(t->pk, t->sk, TOKEN_PK_LEN);
	assert_int_equal(token_sign(t, th, sizeof(th), sig), 0);
	assert_int_equal(token_verify(t->pk, th, sizeof(th), sig), 0);
	/* Forged: another token's key, another transcript, a flipped bit. */
	assert_int_equal(token_verify(t2->pk, th, sizeof(th), sig), -EBADMSG);
	assert_int_equal(token_verify(t->pk, other, sizeof(other), sig),
			 -EBADMSG);
	sig[0] ^= 0x80;
	assert_int_equal(token_verify(t->pk, th, sizeof(th), sig), -EBADMSG);
	token_free(t);
	token_free(t2);
}

/* base64url (no padding) of a JoinTokenPb of the older format: version
 * 1, a 32-byte MAC secret, no member ids. */
static char *old_format_token(void)
{
	uint8_t pb[128], *p = pb;
	size_t n, tlen;
	char *text;
	int i;

	*p++ = 0x08; *p++ = 1;                          /* version 1 */
	*p++ = 0x12; *p++ = 16;                         /* cluster id */
	memset(p, 0xc1, 16); p += 16;
	*p++ = 0x1a; *p++ = 13;                         /* endpoint */
	memcpy(p, "10.0.0.1:7400", 13); p += 13;
	*p++ = 0x22; *p++ = 32;                         /* fingerprint */
	memset(p, 0xa1, 32); p += 32;
	*p++ = 0x2a; *p++ = 32;                         /* secret */
	for (i = 0; i < 32; i++)
		*p++ = (uint8_t)i;
	*p++ = 0x30; *p++ = 0x7f;                       /* expires_at */
	n = (size_t)(p - pb);
	tlen = sodium_base64_ENCODED_LEN(n,
					 sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	text = malloc(tlen);
	assert_non_null(text);
	sodium_bin2base64(text, tlen, pb, n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return text;
}

static void token_malformed(void **state)
{
	struct token *t, *u = NULL;
	char *text, *p;
	char big[TOKEN_TEXT_MAX + 10];

	assert_int_equal(token_parse("", &u), -EINVAL);
	assert_int_equal(token_parse("not base64 !!", &u), -EINVAL);
	assert_int_equal(token_parse("AAAA", &u), -EINVAL);
	assert_int_equal(token_parse(NULL, &u), -EINVAL);
	assert_null(u);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(token_parse(big, &u), -E2BIG);
	/* A token of the older format is named as such. */
	p = old_format_token();
	assert_int_equal(token_parse(p, &u), -EPROTO);
	assert_null(u);
	free(p);
	t = make_token(1, 0);
	assert_int_equal(token_encode(t, &text), 0);
	/* Truncated. */
	p = strdup(text);
	p[strlen(p) / 2] = 0;
	assert_int_not_equal(token_parse(p, &u), 0);
	free(p);
	/* A single-character change either fails to parse or changes what
	 * was parsed (a damaged seed gives another key pair, which the
	 * handshake refuses). */
	p = strdup(text);
	p[10] = p[10] == 'A' ? 'B' : 'A';
	if (token_parse(p, &u) == 0) {
		assert_true(memcmp(u, t, sizeof(*u)) != 0);
		token_free(u);
	}
	free(p);
	token_text_free(text);
	token_free(t);
	/* No members at all, or a member without its raft id. */
	{
		uint8_t cid[16] = { 0 };
		struct token_member m;

		assert_int_equal(token_create(cid, NULL, 0, 1, 0, &u), -EINVAL);
		memset(&m, 0, sizeof(m));
		strcpy(m.endpoint, "10.0.0.1:1");
		assert_int_equal(token_create(cid, &m, 1, 1, 0, &u), -EINVAL);
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
		cmocka_unit_test(token_keys_and_ids),
		cmocka_unit_test(token_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
