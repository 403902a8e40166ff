/*
 * hs: the cluster transport handshake, version 2, pure (no I/O): messages
 * in, messages out. The transport (raft/transport/tcp.c) frames them
 * (4-byte big-endian length) on a fresh TCP connection.
 *
 *   client -> server  HsHello  version, cluster id, client id, client
 *                              ephemeral X25519 key, client identity key,
 *                              the member it means to reach (0 only on
 *                              join); join: token id and a signature of
 *                              these fields by the token's key
 *   server -> client  HsReply  server id, ephemeral, identity key, its
 *                              stream header, Ed25519 signature over T1;
 *                              or only `refused` and the reason
 *   client -> server  HsProof  its stream header, Ed25519 signature over
 *                              T2; join: the token's signature over T2
 *   server -> client  HsDone   Finished: keyed BLAKE2b over T2
 *
 * T0 hashes the client's hello byte for byte and the server's id,
 * ephemeral and identity key: both ephemerals, the cluster id, both node
 * ids and identity keys. T1 = H(T0, server stream header) and T2 = H(T1,
 * client stream header): each side signs a transcript holding every byte
 * it has seen, both stream headers included, under its own context
 * string, so a signature can never be replayed in the other role, on
 * another connection (fresh ephemerals) or in another cluster. Session
 * keys: BLAKE2b-512 keyed with T0 over the X25519 shared secret, one half
 * per direction, each feeding one crypto_secretstream
 * (raft/transport/chan.h); the Finished MAC's key comes from the same
 * secret under another label, so a client that accepts HsDone knows the
 * server derived the same keys from the same transcript.
 *
 * A member's identity key must be the one the membership holds for its id
 * (hs_trust.member_key). A joiner proves a live token by signing T2 with
 * the token's Ed25519 key (the members hold only its public key), and
 * checks that the member it reached has a fingerprint the token lists,
 * under the raft id the token pairs with it.
 *
 * The server spends nothing on a hello before hs_trust.admit (if any) and
 * the membership or token checks accept it: no key is generated and
 * nothing is signed for a stranger, an unknown token, or a used, expired
 * or revoked one. A refusal at the hello is answered with its reason
 * (HsReply.refused); the reasons that concern a token's state (used,
 * expired, revoked) are only given to a hello carrying a valid signature
 * by that token's key, so that a token-less stranger learns nothing it
 * could use.
 */
#ifndef NTPMC_HS_H
#define NTPMC_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/transport/chan.h"
#include "raft/transport/ident.h"
#include "raft/transport/token.h"

#define HS_VERSION 2
#define HS_CLUSTER_ID_LEN 16
#define HS_MSG_MAX 1024 /* any handshake message; checked before parsing */

/* Why a handshake failed (returned negated); also what HsReply.refused
 * carries, so the numbers are part of the protocol: only append. */
enum hs_err {
	HS_ERR_MALFORMED = 1, /* undecodable, wrong sizes, wrong state */
	HS_ERR_VERSION,       /* another handshake version */
	HS_ERR_CLUSTER,       /* another cluster id */
	HS_ERR_PEER_ID,       /* not the node we meant to reach, or ourselves */
	HS_ERR_UNKNOWN_KEY,   /* not a current member, or not its key */
	HS_ERR_BAD_SIG,
	HS_ERR_TOKEN,         /* unknown token, or a proof that fails */
	HS_ERR_FINGERPRINT,   /* joiner: member not named by the token */
	HS_ERR_INTERNAL,      /* allocation, crypto library */
	HS_ERR_TOKEN_USED,    /* no use left (for this joiner's key) */
	HS_ERR_TOKEN_EXPIRED,
	HS_ERR_TOKEN_REVOKED,
	HS_ERR_BUSY,          /* admission: over a cap, try again later */
	HS_ERR_ID_TAKEN,      /* joiner: that raft id has another key */
	HS_ERR_WRONG_PORT,    /* member hello on the join-only listener */
	HS_ERR_FINISHED,      /* client: the server's Finished fails */
	HS_ERR_COUNT
};
const char *hs_strerror(int err);

/* What the server knows of a hello when it asks hs_trust.admit. */
struct hs_hello_info {
	bool join;
	uint64_t client_id;
	const uint8_t *client_key;  /* IDENT_PK_LEN bytes */
	const uint8_t *token_id;    /* join: TOKEN_ID_LEN bytes, else NULL */
};

/* A token's state, for one joiner (hs_trust.token). */
enum hs_token_state {
	HS_TOKEN_LIVE,    /* admits this joiner */
	HS_TOKEN_UNKNOWN, /* no such token (or one of the older format) */
	HS_TOKEN_USED,    /* no use left, and not bound to this joiner */
	HS_TOKEN_EXPIRED,
	HS_TOKEN_REVOKED,
};

/* The accepted set of keys, provided by the FSM (current membership). */
struct hs_trust {
	/* 0 and the identity key of member id, -ENOENT if not a member. */
	int (*member_key)(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN]);
	/* The state of token id for the joiner with identity key joiner,
	 * and (unless HS_TOKEN_UNKNOWN) the token's public key. A use bound
	 * to joiner (its retry) is LIVE until the token expires. NULL: no
	 * joins. */
	enum hs_token_state (*token)(void *ctx,
				     const uint8_t id[TOKEN_ID_LEN],
				     const uint8_t joiner[IDENT_PK_LEN],
				     uint8_t pk[TOKEN_PK_LEN]);
	/* Optional: asked once a hello is well formed, before anything is
	 * looked up, generated or signed for it: 0 to go on, or -hs_err to
	 * refuse (HS_ERR_BUSY, HS_ERR_ID_TAKEN, HS_ERR_WRONG_PORT). */
	int (*admit)(void *ctx, const struct hs_hello_info *hello);
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
/* Joiner dialing a member named in tok (its cluster id must match); tok
 * is borrowed and must outlive the handshake. */
int hs_client_new_join(const struct hs_config *cfg, const struct token *tok,
		       struct hs **out);
/* Allocates only: the server's ephemeral key is made once a hello is
 * accepted. */
int hs_server_new(const struct hs_config *cfg, struct hs **out);
void hs_free(struct hs *h);

/* Client: the first message. */
int hs_start(struct hs *h, uint8_t *out, size_t cap, size_t *out_len);
/*
 * Feeds one message from the peer; *out_len > 0 means send out. Returns
 * 0, or -enum hs_err: the connection must then be closed, after sending
 * out when *out_len > 0 (a server's refusal, telling the peer why).
 */
int hs_recv(struct hs *h, const uint8_t *in, size_t len, uint8_t *out,
	    size_t cap, size_t *out_len);
bool hs_done(const struct hs *h);
/* After a failure: true when the peer refused us (HsReply.refused), the
 * error being the reason it gave. */
bool hs_refused_by_peer(const struct hs *h);
/* After hs_done(): the peer, and the channel (ownership moves). */
void hs_peer_info(const struct hs *h, struct hs_peer *peer);
struct chan *hs_take_chan(struct hs *h);

#endif
