#include "raft/transport/token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/wire.pb-c.h"

/* JoinTokenPb.version: 1 carried a MAC secret (refused, -EPROTO), 2 an
 * Ed25519 seed and the members' raft ids. */
#define TOKEN_VERSION 2
#define TOKEN_VERSION_MAC 1
/* Largest JoinTokenPb accepted before decoding. */
#define TOKEN_PB_MAX (TOKEN_TEXT_MAX * 3 / 4)
#define TOKEN_ID_LABEL "ntpmc token id v2"

_Static_assert(TOKEN_PK_LEN == crypto_sign_PUBLICKEYBYTES, "token pk");
_Static_assert(TOKEN_SK_LEN == crypto_sign_SECRETKEYBYTES, "token sk");
_Static_assert(TOKEN_SEED_LEN == crypto_sign_SEEDBYTES, "token seed");
_Static_assert(TOKEN_SIG_LEN == crypto_sign_BYTES, "token sig");

static struct token *token_alloc(void)
{
	struct token *t;

	if (sodium_init() < 0)
		return NULL;
	t = sodium_malloc(sizeof(*t));
	if (t != NULL)
		sodium_memzero(t, sizeof(*t));
	return t;
}

void token_free(struct token *t)
{
	if (t != NULL)
		sodium_free(t); /* zeroes before unmapping */
}

/* The key pair and the id from a seed. */
static void token_keys(struct token *t, const uint8_t seed[TOKEN_SEED_LEN])
{
	crypto_sign_seed_keypair(t->pk, t->sk, seed);
	token_id_of(t->pk, t->id);
}

static int members_ok(const struct token_member *m, unsigned n)
{
	unsigned i;

	if (n == 0 || n > TOKEN_MAX_MEMBERS)
		return 0;
	for (i = 0; i < n; i++) {
		size_t len = strnlen(m[i].endpoint, TOKEN_ENDPOINT_MAX);

		if (len == 0 || len == TOKEN_ENDPOINT_MAX || m[i].id == 0)
			return 0;
	}
	return 1;
}

int token_create(const uint8_t cluster_id[TOKEN_CLUSTER_ID_LEN],
		 const struct token_member *members, unsigned n, uint64_t now,
		 uint64_t ttl, struct token **out)
{
	uint8_t seed[TOKEN_SEED_LEN];
	struct token *t;

	if (!members_ok(members, n))
		return -EINVAL;
	t = token_alloc();
	if (t == NULL)
		return -ENOMEM;
	memcpy(t->members, members, n * sizeof(*members));
	t->n_members = n;
	memcpy(t->cluster_id, cluster_id, TOKEN_CLUSTER_ID_LEN);
	randombytes_buf(seed, sizeof(seed));
	token_keys(t, seed);
	sodium_memzero(seed, sizeof(seed));
	t->expires_at = now + (ttl ? ttl : TOKEN_TTL_DEFAULT);
	*out = t;
	return 0;
}

void token_text_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

int token_encode(const struct token *t, char **out)
{
	Ntpmc__JoinTokenPb pb = NTPMC__JOIN_TOKEN_PB__INIT;
	char *eps[TOKEN_MAX_MEMBERS];
	ProtobufCBinaryData fps[TOKEN_MAX_MEMBERS];
	uint64_t ids[TOKEN_MAX_MEMBERS];
	uint8_t *bin = NULL;
	char *text = NULL;
	size_t len = 0, tlen;
	unsigned i;
	int rc = -ENOMEM;

	if (!members_ok(t->members, t->n_members))
		return -EINVAL;
	for (i = 0; i < t->n_members; i++) {
		eps[i] = (char *)t->members[i].endpoint;
		fps[i].data = (uint8_t *)t->members[i].fp;
		fps[i].len = sizeof(t->members[i].fp);
		ids[i] = t->members[i].id;
	}
	pb.version = TOKEN_VERSION;
	pb.cluster_id.data = (uint8_t *)t->cluster_id;
	pb.cluster_id.len = sizeof(t->cluster_id);
	pb.n_endpoints = t->n_members;
	pb.endpoints = eps;
	pb.n_fingerprints = t->n_members;
	pb.fingerprints = fps;
	pb.n_member_ids = t->n_members;
	pb.member_ids = ids;
	/* The seed is the first half of libsodium's secret key. */
	pb.secret.data = (uint8_t *)t->sk;
	pb.secret.len = TOKEN_SEED_LEN;
	pb.expires_at = t->expires_at;

	len = ntpmc__join_token_pb__get_packed_size(&pb);
	if (len > TOKEN_PB_MAX)
		return -E2BIG;
	bin = sodium_malloc(len);
	if (bin == NULL)
		goto out;
	ntpmc__join_token_pb__pack(&pb, bin);
	tlen = sodium_base64_ENCODED_LEN(len,
					 sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	text = malloc(tlen);
	if (text == NULL)
		goto out;
	sodium_bin2base64(text, tlen, bin, len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*out = text;
	rc = 0;
out:
	sodium_free(bin);
	return rc;
}

static int token_from_pb(const Ntpmc__JoinTokenPb *pb, struct token *t)
{
	size_t i;

	if (pb->version == TOKEN_VERSION_MAC)
		return -EPROTO;
	if (pb->version != TOKEN_VERSION)
		return -EINVAL;
	if (pb->cluster_id.len != TOKEN_CLUSTER_ID_LEN ||
	    pb->secret.len != TOKEN_SEED_LEN)
		return -EINVAL;
	if (pb->n_endpoints == 0 || pb->n_endpoints > TOKEN_MAX_MEMBERS ||
	    pb->n_endpoints != pb->n_fingerprints ||
	    pb->n_endpoints != pb->n_member_ids)
		return -EINVAL;
	if (pb->expires_at == 0)
		return -EINVAL;
	for (i = 0; i < pb->n_endpoints; i++) {
		size_t len = strlen(pb->endpoints[i]);

		if (len == 0 || len >= TOKEN_ENDPOINT_MAX ||
		    pb->fingerprints[i].len != 32 || pb->member_ids[i] == 0)
			return -EINVAL;
		memcpy(t->members[i].endpoint, pb->endpoints[i], len + 1);
		memcpy(t->members[i].fp, pb->fingerprints[i].data, 32);
		t->members[i].id = pb->member_ids[i];
	}
	t->n_members = (unsigned)pb->n_endpoints;
	memcpy(t->cluster_id, pb->cluster_id.data, TOKEN_CLUSTER_ID_LEN);
	token_keys(t, pb->secret.data);
	t->expires_at = pb->expires_at;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int token_parse(const char *text, struct token **out)
{
	Ntpmc__JoinTokenPb *pb;
	struct token *t;
	uint8_t *bin;
	const char *end;
	size_t tlen, blen = 0;
	int rc;

	*out = NULL;
	if (text == NULL)
		return -EINVAL;
	while (is_blank(*text))
		text++;
	tlen = strnlen(text, TOKEN_TEXT_MAX + 1);
	if (tlen > TOKEN_TEXT_MAX)
		return -E2BIG;
	while (tlen > 0 && is_blank(text[tlen - 1]))
		tlen--;
	if (tlen == 0)
		return -EINVAL;
	t = token_alloc();
	if (t == NULL)
		return -ENOMEM;
	/* The decoded bytes hold the seed: sodium memory too. */
	bin = sodium_malloc(TOKEN_PB_MAX);
	if (bin == NULL) {
		token_free(t);
		return -ENOMEM;
	}
	rc = -EINVAL;
	if (sodium_base642bin(bin, TOKEN_PB_MAX, text, tlen, NULL, &blen,
			      &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != text + tlen)
		goto out;
	pb = ntpmc__join_token_pb__unpack(NULL, blen, bin);
	if (pb == NULL)
		goto out;
	rc = token_from_pb(pb, t);
	if (pb->secret.data != NULL)
		sodium_memzero(pb->secret.data, pb->secret.len);
	ntpmc__join_token_pb__free_unpacked(pb, NULL);
out:
	sodium_free(bin);
	if (rc != 0)
		token_free(t);
	else
		*out = t;
	return rc;
}

int token_check_expiry(const struct token *t, uint64_t now)
{
	return now >= t->expires_at ? -EKEYEXPIRED : 0;
}

/* A domain-separated hash of the public key: anyone holding the public
 * key (a member, a backup) can compute it; it names the token. */
void token_id_of(const uint8_t pk[TOKEN_PK_LEN], uint8_t id[TOKEN_ID_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, TOKEN_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)TOKEN_ID_LABEL,
				  strlen(TOKEN_ID_LABEL));
	crypto_generichash_update(&st, pk, TOKEN_PK_LEN);
	crypto_generichash_final(&st, id, TOKEN_ID_LEN);
}

uint64_t token_id_u64(const uint8_t id[TOKEN_ID_LEN])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < TOKEN_ID_LEN; i++)
		v = v << 8 | id[i];
	return v;
}

void token_id_hex(const uint8_t id[TOKEN_ID_LEN], char out[TOKEN_ID_HEX_LEN])
{
	sodium_bin2hex(out, TOKEN_ID_HEX_LEN, id, TOKEN_ID_LEN);
}

int token_sign(const struct token *t, const uint8_t *msg, size_t len,
	       uint8_t sig[TOKEN_SIG_LEN])
{
	return crypto_sign_detached(sig, NULL, msg, len, t->sk) == 0 ? 0
								     : -EIO;
}

int token_verify(const uint8_t pk[TOKEN_PK_LEN], const uint8_t *msg,
		 size_t len, const uint8_t sig[TOKEN_SIG_LEN])
{
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0
								   : -EBADMSG;
}

int token_member_of(const struct token *t, const uint8_t fp[32],
		    uint64_t *id)
{
	unsigned i;
	int found = 0;

	/* Every entry is compared: the time does not say which matched. */
	for (i = 0; i < t->n_members && i < TOKEN_MAX_MEMBERS; i++) {
		int eq = sodium_memcmp(t->members[i].fp, fp, 32) == 0;

		if (eq && !found)
			*id = t->members[i].id;
		found |= eq;
	}
	return found ? 0 : -ENOENT;
}
