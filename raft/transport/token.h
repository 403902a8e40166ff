/*
 * token: join tokens, Ed25519 key pairs.
 *
 * A token is base64url (no padding) of a JoinTokenPb (proto/wire.proto,
 * format 2): cluster id, the members to dial as (raft id, endpoint,
 * identity fingerprint) triples, an expiry, and the token's secret: a
 * 32-byte Ed25519 seed. The joiner proves the token inside the transport
 * handshake by signing the transcript with the token's key
 * (raft/transport/hs.h), and checks that the member it reached is one the
 * token names, under the raft id the token pairs with its fingerprint.
 *
 * The replicated state never holds the secret. Members keep
 *   pk  = the token's Ed25519 public key   (verifies the joiner's proof)
 *   id  = token_id_of(pk)                  (public: listing, revoking)
 * with the expiry and uses left. Both are public values: a reader of the
 * raft log, a snapshot or an `ntpctl backup` file learns which tokens
 * exist and until when, but cannot prove one (that needs a signature by
 * the secret key), nor learn the token string or its endpoints.
 *
 * Memory: a struct token lives in sodium_malloc() memory (guarded pages,
 * never swapped when the system allows it), allocated by token_create()
 * or token_parse() and wiped and freed by token_free(); nothing copies it
 * by value. Nothing here logs a token or a secret.
 *
 * Errors are negative errno values: -EINVAL malformed, -EPROTO a token of
 * the older format (a MAC secret, before key pairs), -EKEYEXPIRED expired,
 * -EBADMSG a signature that does not verify, -E2BIG over the size caps,
 * -ENOMEM.
 */
#ifndef NTPMC_TOKEN_H
#define NTPMC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_SEED_LEN 32 /* the secret: an Ed25519 seed */
#define TOKEN_PK_LEN 32
#define TOKEN_SK_LEN 64
#define TOKEN_SIG_LEN 64
#define TOKEN_ID_LEN 8
#define TOKEN_ID_HEX_LEN (2 * TOKEN_ID_LEN + 1)
#define TOKEN_CLUSTER_ID_LEN 16
#define TOKEN_MAX_MEMBERS 16
#define TOKEN_ENDPOINT_MAX 262 /* "[v6%scope]:port" fits */
#define TOKEN_TTL_DEFAULT 900  /* seconds: 15 minutes */
#define TOKEN_TEXT_MAX 4096    /* longest token string accepted */

struct token_member {
	uint64_t id;                       /* its raft id */
	char endpoint[TOKEN_ENDPOINT_MAX]; /* "host:port" */
	uint8_t fp[32];                    /* ident_fingerprint() */
};

struct token {
	uint8_t cluster_id[TOKEN_CLUSTER_ID_LEN];
	uint64_t expires_at; /* unix seconds */
	unsigned n_members;
	struct token_member members[TOKEN_MAX_MEMBERS];
	uint8_t id[TOKEN_ID_LEN];  /* token_id_of(pk) */
	uint8_t pk[TOKEN_PK_LEN];  /* what the replicated state keeps */
	uint8_t sk[TOKEN_SK_LEN];  /* seed || pk (libsodium's layout) */
};

/* A new token with a fresh random seed, expiring at now + ttl (ttl 0 means
 * TOKEN_TTL_DEFAULT); every member needs a non-zero id. */
int token_create(const uint8_t cluster_id[TOKEN_CLUSTER_ID_LEN],
		 const struct token_member *members, unsigned n, uint64_t now,
		 uint64_t ttl, struct token **out);
/* Parses and checks shape (not expiry): sizes, counts, format. Leading
 * and trailing white space is ignored (token files end in a newline). */
int token_parse(const char *text, struct token **out);
/* Wipes and frees; NULL is fine. */
void token_free(struct token *t);
/* *out is a malloc()ed NUL-terminated string; free with token_text_free
 * (which wipes it). */
int token_encode(const struct token *t, char **out);
void token_text_free(char *s);
/* -EKEYEXPIRED when now >= expires_at. */
int token_check_expiry(const struct token *t, uint64_t now);

/* The public id of the token whose public key is pk. */
void token_id_of(const uint8_t pk[TOKEN_PK_LEN], uint8_t id[TOKEN_ID_LEN]);
/* The id as the FSM's uint64 (big-endian, so its %016llx is the hex). */
uint64_t token_id_u64(const uint8_t id[TOKEN_ID_LEN]);
void token_id_hex(const uint8_t id[TOKEN_ID_LEN], char out[TOKEN_ID_HEX_LEN]);

/* Ed25519 signature by the token's key, and its check against pk. */
int token_sign(const struct token *t, const uint8_t *msg, size_t len,
	       uint8_t sig[TOKEN_SIG_LEN]);
int token_verify(const uint8_t pk[TOKEN_PK_LEN], const uint8_t *msg,
		 size_t len, const uint8_t sig[TOKEN_SIG_LEN]);
/* 0 and *id when fp is one of the token's member fingerprints, -ENOENT
 * otherwise. */
int token_member_of(const struct token *t, const uint8_t fp[32],
		    uint64_t *id);

#endif
