/*
 * tcp: the cluster transport over libuv TCP; implements raft/transport.h.
 *
 * Every connection starts with the handshake of raft/transport/hs.h (plain 4-byte
 * length-prefixed messages, at most HS_MSG_MAX bytes, within
 * TCP_HS_TIMEOUT_MS), then carries secretstream records (raft/transport/wire.h).
 * Outgoing traffic to a member uses one connection this node dials (on
 * demand, with exponential back-off after failures); traffic from a member
 * arrives on the connection that member dialed. A joiner's connection
 * (authenticated by a token) is used both ways for app messages.
 *
 * Memory is bounded: at most TCP_QUEUE_MAX_BYTES / TCP_QUEUE_MAX_MSGS
 * queued or in flight per connection (more is dropped and counted), records
 * at most CHAN_RECORD_MAX, handshake messages at most HS_MSG_MAX before the
 * peer is authenticated. Liveness: TCP keepalive and TCP_USER_TIMEOUT,
 * an empty record every TCP_PING_MS on idle dialed connections, and an
 * accepted connection silent for TCP_RX_IDLE_MS is closed.
 *
 * Addresses are numeric "a.b.c.d:port" or "[v6]:port" (raft addresses are
 * cluster-advertise endpoints or WireGuard overlay addresses).
 *
 * The process must ignore SIGPIPE (a peer closing mid-write).
 */
#ifndef NTPMC_TCP_H
#define NTPMC_TCP_H

#include <stdint.h>

#include <uv.h>

#include "raft/transport/hs.h"
#include "raft/transport/token.h"
#include "raft/rlog.h"
#include "raft/transport.h"
#include "raft/transport/wire.h"

#define TCP_HS_TIMEOUT_MS 5000
#define TCP_PING_MS 10000
#define TCP_RX_IDLE_MS 45000
#define TCP_USER_TIMEOUT_MS 15000
#define TCP_BACKOFF_MIN_MS 100
#define TCP_BACKOFF_MAX_MS 5000
#define TCP_QUEUE_MAX_BYTES ((size_t)32 << 20)
#define TCP_QUEUE_MAX_MSGS 4096
/* Accepted connections still in their handshake: more are closed at once,
 * so strangers cannot pile up handshakes (each costs a signature). */
#define TCP_HS_PENDING_MAX 64

struct tcp_config {
	uv_loop_t *loop;
	const char *listen;     /* "host:port" to accept on; NULL: none */
	uint64_t self_id;
	uint8_t cluster_id[HS_CLUSTER_ID_LEN];
	const struct ident *ident; /* borrowed; outlives the transport */
	struct hs_trust trust;
	/* joiner: send_app(0) dials with it; borrowed until rtr.join_done
	 * (or tcp_close) */
	const struct token *join;
	struct rlog log;           /* refused handshakes, bad addresses */
};

struct tcp;

int tcp_new(const struct tcp_config *cfg, struct tcp **out);
struct rtr *tcp_rtr(struct tcp *t);
/* The transport behind an rtr that tcp_rtr() returned. */
struct tcp *tcp_of_rtr(struct rtr *r);
/* The port actually bound (listen with port 0 in tests). */
int tcp_port(const struct tcp *t);
/*
 * Trusts key for member id when the FSM does not know id (its answer is
 * asked first), until a committed configuration (rtr.members) without id:
 * lets a joiner accept the members named in its join answer before its own
 * FSM holds their keys.
 */
int tcp_pin(struct tcp *t, uint64_t id, const uint8_t key[IDENT_PK_LEN]);
const struct wire_stats *tcp_stats(const struct tcp *t);
/* Connections currently established (handshake done). */
unsigned tcp_established(const struct tcp *t);
/* Closes everything; done(arg) runs once every handle is closed. */
void tcp_close(struct tcp *t, void (*done)(void *arg), void *arg);

/* "a.b.c.d:port" / "[v6]:port" -> sockaddr. -EINVAL otherwise. */
int tcp_parse_addr(const char *s, struct sockaddr_storage *ss);

#endif
