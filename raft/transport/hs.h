/*
 * hs: the cluster transport handshake, pure (no I/O): messages in, messages
 * out. The transport (raft/transport/tcp.c) frames them (4-byte big-endian length)
 * on a fresh TCP connection.
 *
 *   client -> server  HsHello  cluster id, client id, client ephemeral
 *                              X25519 key, client identity key, the server
 *                              id it means to reach (0 on join), token id
 *   server -> client  HsReply  server id, server ephemeral, server identity
 *                              key, Ed25519 signature over the transcript
 *   client -> server  HsProof  Ed25519 signature over the transcript, join
 *                              MAC (join only), client stream header
 *   server -> client  HsDone   server stream header
 *
 * The transcript hash covers the client's hello byte for byte and the
 * server's id, ephemeral and identity key: both ephemerals, the cluster id
 * and both node ids and identity keys. Each side signs it under its own
 * context string, so a signature can never be replayed in the other role,
 * on another connection (fresh ephemerals) or in another cluster. A
 * member's identity key must be the one the membership holds for its id
 * (hs_trust.member_key); a joiner instead proves a live token with a keyed
 * BLAKE2b MAC over the transcript, and checks that the member it reached
 * has an identity fingerprint listed in the token. Session keys: BLAKE2b-512
 * keyed with the transcript hash over the X25519 shared secret, one half per
 * direction, each feeding one crypto_secretstream (raft/transport/chan.h).
 */
#ifndef NTPMC_HS_H
#define NTPMC_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/transport/chan.h"
#include "raft/transport/ident.h"
#include "raft/transport/token.h"

#define HS_CLUSTER_ID_LEN 16
#define HS_MSG_MAX 1024 /* any handshake message; checked before parsing */

/* Why a handshake failed (returned negated). */
enum hs_err {
	HS_ERR_MALFORMED = 1, /* undecodable, wrong sizes, wrong state */
	HS_ERR_VERSION,
	HS_ERR_CLUSTER,     /* another cluster id */
	HS_ERR_PEER_ID,     /* not the node we meant to reach, or ourselves */
	HS_ERR_UNKNOWN_KEY, /* not a current member, or not its key */
	HS_ERR_BAD_SIG,
	HS_ERR_TOKEN,       /* unknown/used/expired token, or a bad MAC */
	HS_ERR_FINGERPRINT, /* joiner: member not named by the token */
	HS_ERR_INTERNAL,    /* allocation, crypto library */
	HS_ERR_COUNT
};
const char *hs_strerror(int err);

/* The accepted set of keys, provided by the FSM (current membership). */
struct hs_trust {
	/* 0 and the identity key of member id, -ENOENT if not a member. */
	int (*member_key)(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN]);
	/* 0 and the MAC key (token_key()) of a live token, -ENOENT if the
	 * token is unknown, used up, revoked or expired. NULL: no joins. */
	int (*token_key)(void *ctx, const uint8_t id[TOKEN_ID_LEN],
			 uint8_t key[TOKEN_KEY_LEN]);
	void *ctx;
};

struct hs_config {
	uint8_t cluster_id[HS_CLUSTER_ID_LEN];
	uint64_t self_id;
	const struct ident *ident; /* borrowed, must outlive the handshake */
	struct hs_trust trust;
};

/* What the handshake established about the peer. */
struct hs_peer {
	uint64_t id;
	uint8_t key[IDENT_PK_LEN];
	bool join; /* server side: peer proved token token_id */
	uint8_t token_id[TOKEN_ID_LEN];
};

struct hs;

/* Member dialing member peer_id. */
int hs_client_new(const struct hs_config *cfg, uint64_t peer_id,
		  struct hs **out);
/* Joiner dialing a member named in tok (its cluster id must match). */
int hs_client_new_join(const struct hs_config *cfg, const struct token *tok,
		       struct hs **out);
int hs_server_new(const struct hs_config *cfg, struct hs **out);
void hs_free(struct hs *h);

/* Client: the first message. */
int hs_start(struct hs *h, uint8_t *out, size_t cap, size_t *out_len);
/*
 * Feeds one message from the peer; *out_len > 0 means send out. Returns
 * 0, or -enum hs_err (the connection must then be closed).
 */
int hs_recv(struct hs *h, const uint8_t *in, size_t len, uint8_t *out,
	    size_t cap, size_t *out_len);
bool hs_done(const struct hs *h);
/* After hs_done(): the peer, and the channel (ownership moves). */
void hs_peer_info(const struct hs *h, struct hs_peer *peer);
struct chan *hs_take_chan(struct hs *h);

#endif
