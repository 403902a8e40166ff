/*
 * token: join tokens.
 *
 * A token is base64url (no padding) of a JoinTokenPb (proto/wire.proto):
 * cluster id, member endpoints, member identity fingerprints, a 32-byte
 * secret and an expiry. The joiner proves the secret inside the transport
 * handshake with a MAC over the transcript (raft/transport/hs.h) and checks that the
 * member it reached is one the token names by fingerprint.
 *
 * The replicated state never holds the secret: members keep
 *   id   = token_id(secret)    (public: listing, revoking, lookups)
 *   key  = token_key(secret)   (the MAC key; a one-way function of the
 *                               secret, so a leaked FSM or backup does not
 *                               reveal the token string or its endpoints)
 * and the expiry and uses left. Nothing here logs a token or a secret.
 *
 * Errors are negative errno values: -EINVAL malformed, -EKEYEXPIRED expired,
 * -EBADMSG a MAC that does not verify, -E2BIG over the size caps.
 */
#ifndef NTPMC_TOKEN_H
#define NTPMC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_SECRET_LEN 32
#define TOKEN_KEY_LEN 32
#define TOKEN_ID_LEN 8
#define TOKEN_ID_HEX_LEN (2 * TOKEN_ID_LEN + 1)
#define TOKEN_MAC_LEN 32
#define TOKEN_CLUSTER_ID_LEN 16
#define TOKEN_MAX_MEMBERS 16
#define TOKEN_ENDPOINT_MAX 262 /* "[v6%scope]:port" fits */
#define TOKEN_TTL_DEFAULT 900  /* seconds: 15 minutes */
#define TOKEN_TEXT_MAX 4096    /* longest token string accepted */

struct token_member {
	char endpoint[TOKEN_ENDPOINT_MAX]; /* "host:port" */
	uint8_t fp[32];                    /* ident_fingerprint() */
};

struct token {
	uint8_t cluster_id[TOKEN_CLUSTER_ID_LEN];
	uint8_t secret[TOKEN_SECRET_LEN];
	uint64_t expires_at; /* unix seconds */
	unsigned n_members;
	struct token_member members[TOKEN_MAX_MEMBERS];
};

/* Fills a new token with a fresh random secret, expiring at now + ttl
 * (ttl 0 means TOKEN_TTL_DEFAULT). */
int token_create(struct token *t, const uint8_t cluster_id[16],
		 const struct token_member *members, unsigned n, uint64_t now,
		 uint64_t ttl);
/* *out is a malloc()ed NUL-terminated string; free with token_text_free. */
int token_encode(const struct token *t, char **out);
void token_text_free(char *s);
/* Parses and checks shape (not expiry): sizes, counts, version. Leading
 * and trailing white space is ignored (token files end in a newline). */
int token_parse(const char *text, struct token *t);
/* -EKEYEXPIRED when now >= expires_at. */
int token_check_expiry(const struct token *t, uint64_t now);
/* Zeroes the secret and everything else. */
void token_wipe(struct token *t);

void token_id(const uint8_t secret[TOKEN_SECRET_LEN],
	      uint8_t id[TOKEN_ID_LEN]);
/* The id as the FSM's uint64 (big-endian, so its %016llx is the hex). */
uint64_t token_id_u64(const uint8_t secret[TOKEN_SECRET_LEN]);
void token_id_hex(const uint8_t id[TOKEN_ID_LEN], char out[TOKEN_ID_HEX_LEN]);
/* The stored verifier and MAC key (the "hash" the FSM keeps). */
void token_key(const uint8_t secret[TOKEN_SECRET_LEN],
	       uint8_t key[TOKEN_KEY_LEN]);
/* MAC over a handshake transcript hash, and its constant-time check. */
void token_mac(const uint8_t key[TOKEN_KEY_LEN], const uint8_t *msg,
	       size_t len, uint8_t mac[TOKEN_MAC_LEN]);
int token_verify(const uint8_t key[TOKEN_KEY_LEN], const uint8_t *msg,
		 size_t len, const uint8_t mac[TOKEN_MAC_LEN]);
/* 0 if fp is one of the token's member fingerprints, -ENOENT otherwise. */
int token_has_fingerprint(const struct token *t, const uint8_t fp[32]);

#endif
