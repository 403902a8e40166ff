#include "raft/transport/token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/wire.pb-c.h"

#define TOKEN_VERSION 1
/* Largest JoinTokenPb accepted before decoding. */
#define TOKEN_PB_MAX (TOKEN_TEXT_MAX * 3 / 4)

int token_create(struct token *t, const uint8_t cluster_id[16],
		 const struct token_member *members, unsigned n, uint64_t now,
		 uint64_t ttl)
{
	unsigned i;

	if (n == 0 || n > TOKEN_MAX_MEMBERS)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		size_t len = strnlen(members[i].endpoint, TOKEN_ENDPOINT_MAX);

		if (len == 0 || len == TOKEN_ENDPOINT_MAX)
			return -EINVAL;
		t->members[i] = members[i];
	}
	t->n_members = n;
	memcpy(t->cluster_id, cluster_id, TOKEN_CLUSTER_ID_LEN);
	randombytes_buf(t->secret, sizeof(t->secret));
	t->expires_at = now + (ttl ? ttl : TOKEN_TTL_DEFAULT);
	return 0;
}

void token_wipe(struct token *t)
{
	sodium_memzero(t, sizeof(*t));
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
	uint8_t *bin = NULL;
	char *text = NULL;
	size_t len, tlen;
	unsigned i;
	int rc = -ENOMEM;

	if (t->n_members == 0 || t->n_members > TOKEN_MAX_MEMBERS)
		return -EINVAL;
	for (i = 0; i < t->n_members; i++) {
		eps[i] = (char *)t->members[i].endpoint;
		fps[i].data = (uint8_t *)t->members[i].fp;
		fps[i].len = sizeof(t->members[i].fp);
	}
	pb.version = TOKEN_VERSION;
	pb.cluster_id.data = (uint8_t *)t->cluster_id;
	pb.cluster_id.len = sizeof(t->cluster_id);
	pb.n_endpoints = t->n_members;
	pb.endpoints = eps;
	pb.n_fingerprints = t->n_members;
	pb.fingerprints = fps;
	pb.secret.data = (uint8_t *)t->secret;
	pb.secret.len = sizeof(t->secret);
	pb.expires_at = t->expires_at;

	len = ntpmc__join_token_pb__get_packed_size(&pb);
	if (len > TOKEN_PB_MAX)
		return -E2BIG;
	bin = malloc(len);
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
	if (bin != NULL) {
		sodium_memzero(bin, len);
		free(bin);
	}
	return rc;
}

static int token_from_pb(const Ntpmc__JoinTokenPb *pb, struct token *t)
{
	size_t i;

	if (pb->version != TOKEN_VERSION)
		return -EINVAL;
	if (pb->cluster_id.len != TOKEN_CLUSTER_ID_LEN ||
	    pb->secret.len != TOKEN_SECRET_LEN)
		return -EINVAL;
	if (pb->n_endpoints == 0 || pb->n_endpoints > TOKEN_MAX_MEMBERS ||
	    pb->n_endpoints != pb->n_fingerprints)
		return -EINVAL;
	if (pb->expires_at == 0)
		return -EINVAL;
	for (i = 0; i < pb->n_endpoints; i++) {
		size_t len = strlen(pb->endpoints[i]);

		if (len == 0 || len >= TOKEN_ENDPOINT_MAX ||
		    pb->fingerprints[i].len != 32)
			return -EINVAL;
		memcpy(t->members[i].endpoint, pb->endpoints[i], len + 1);
		memcpy(t->members[i].fp, pb->fingerprints[i].data, 32);
	}
	t->n_members = (unsigned)pb->n_endpoints;
	memcpy(t->cluster_id, pb->cluster_id.data, TOKEN_CLUSTER_ID_LEN);
	memcpy(t->secret, pb->secret.data, TOKEN_SECRET_LEN);
	t->expires_at = pb->expires_at;
	return 0;
}

int token_parse(const char *text, struct token *t)
{
	Ntpmc__JoinTokenPb *pb;
	uint8_t bin[TOKEN_PB_MAX];
	const char *end;
	size_t tlen, blen = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	if (text == NULL)
		return -EINVAL;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	tlen = strnlen(text, TOKEN_TEXT_MAX + 1);
	if (tlen > TOKEN_TEXT_MAX)
		return -E2BIG;
	while (tlen > 0 && (text[tlen - 1] == ' ' || text[tlen - 1] == '\t' ||
			    text[tlen - 1] == '\n' || text[tlen - 1] == '\r'))
		tlen--;
	if (tlen == 0)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (sodium_base642bin(bin, sizeof(bin), text, tlen, NULL, &blen, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != text + tlen)
		return -EINVAL;
	pb = ntpmc__join_token_pb__unpack(NULL, blen, bin);
	sodium_memzero(bin, blen);
	if (pb == NULL)
		return -EINVAL;
	rc = token_from_pb(pb, t);
	if (pb->secret.data != NULL)
		sodium_memzero(pb->secret.data, pb->secret.len);
	ntpmc__join_token_pb__free_unpacked(pb, NULL);
	if (rc != 0)
		token_wipe(t);
	return rc;
}

int token_check_expiry(const struct token *t, uint64_t now)
{
	return now >= t->expires_at ? -EKEYEXPIRED : 0;
}

/* Both derivations are BLAKE2b keyed with the secret over a distinct
 * label, so neither output reveals the secret or the other output. */
static void derive(const uint8_t secret[TOKEN_SECRET_LEN], const char *label,
		   uint8_t *out, size_t len)
{
	crypto_generichash(out, len, (const uint8_t *)label, strlen(label),
			   secret, TOKEN_SECRET_LEN);
}

void token_id(const uint8_t secret[TOKEN_SECRET_LEN], uint8_t id[TOKEN_ID_LEN])
{
	derive(secret, "ntpmc token id v1", id, TOKEN_ID_LEN);
}

uint64_t token_id_u64(const uint8_t secret[TOKEN_SECRET_LEN])
{
	uint8_t id[TOKEN_ID_LEN];
	uint64_t v = 0;
	int i;

	token_id(secret, id);
	for (i = 0; i < TOKEN_ID_LEN; i++)
		v = v << 8 | id[i];
	return v;
}

void token_id_hex(const uint8_t id[TOKEN_ID_LEN], char out[TOKEN_ID_HEX_LEN])
{
	sodium_bin2hex(out, TOKEN_ID_HEX_LEN, id, TOKEN_ID_LEN);
}

void token_key(const uint8_t secret[TOKEN_SECRET_LEN],
	       uint8_t key[TOKEN_KEY_LEN])
{
	derive(secret, "ntpmc token key v1", key, TOKEN_KEY_LEN);
}

void token_mac(const uint8_t key[TOKEN_KEY_LEN], const uint8_t *msg,
	       size_t len, uint8_t mac[TOKEN_MAC_LEN])
{
	crypto_generichash(mac, TOKEN_MAC_LEN, msg, len, key, TOKEN_KEY_LEN);
}

int token_verify(const uint8_t key[TOKEN_KEY_LEN], const uint8_t *msg,
		 size_t len, const uint8_t mac[TOKEN_MAC_LEN])
{
	uint8_t want[TOKEN_MAC_LEN];
	int ok;

	token_mac(key, msg, len, want);
	ok = sodium_memcmp(want, mac, TOKEN_MAC_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return ok ? 0 : -EBADMSG;
}

int token_has_fingerprint(const struct token *t, const uint8_t fp[32])
{
	unsigned i;
	int found = 0;

	for (i = 0; i < t->n_members && i < TOKEN_MAX_MEMBERS; i++)
		found |= sodium_memcmp(t->members[i].fp, fp, 32) == 0;
	return found ? 0 : -ENOENT;
}
