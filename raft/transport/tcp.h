/*
 * tcp: the cluster transport over libuv TCP; implements raft/transport.h.
 *
 * Every connection starts with the handshake of raft/transport/hs.h (plain
 * 4-byte length-prefixed messages, at most HS_MSG_MAX bytes, within
 * TCP_HS_TIMEOUT_MS), then carries secretstream records
 * (raft/transport/wire.h). Outgoing traffic to a member uses one
 * connection this node dials (on demand, with exponential back-off after
 * failures); traffic from a member arrives on the connection that member
 * dialed. A joiner's connection (authenticated by a token) is used both
 * ways for app messages.
 *
 * Admission comes before authentication (raft/transport/tcp_admit.c):
 * the listeners are our own sockets, and a connection is checked against
 * the caps below when it is accepted, before anything is allocated for it
 * (a refused one is closed at once, counted and logged with its source, at
 * most a line a second). Strangers cannot take capacity from members: a
 * connection from a member's address is not held to the per-source cap,
 * and when every pending slot is taken the oldest stranger's (else the
 * oldest) is given to the newcomer, so a member's connection, whose hello
 * comes at once, gets through a flood. The hello must arrive within
 * TCP_HELLO_TIMEOUT_MS; it is parsed (no crypto) and admitted again as a
 * member's or a joiner's handshake under their own caps before any key is
 * made or anything signed. With a member listener (tcp_member_listen, the
 * WireGuard overlay), the first listener takes joins only.
 *
 * Memory is bounded: at most TCP_QUEUE_MAX_BYTES / TCP_QUEUE_MAX_MSGS
 * queued or in flight per connection (more is dropped and counted),
 * records at most CHAN_RECORD_MAX (a joiner's WIRE_JOINER_RECORD_MAX),
 * handshake messages at most HS_MSG_MAX before the peer is authenticated.
 * Liveness (struct tcp_timing, the defaults below until tcp_set_timing):
 * TCP keepalive and TCP_USER_TIMEOUT, an empty record every TCP_PING_MS
 * on idle dialed connections, and an accepted connection silent for
 * TCP_RX_IDLE_MS is closed.
 *
 * A member's address is a string of the raft configuration (its
 * cluster-advertise endpoint or WireGuard overlay address); the caller's
 * parse_addr turns it into a socket address when the transport dials, so
 * that the one "host:port" parser of the node (node/base/hostport.h)
 * serves here too without the transport including node code.
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

#define TCP_HS_TIMEOUT_MS 5000   /* accept (or connect) -> handshake done */
#define TCP_HELLO_TIMEOUT_MS 1000 /* accept -> the hello is in */
#define TCP_PING_MS 10000
#define TCP_RX_IDLE_MS 45000
#define TCP_USER_TIMEOUT_MS 15000
#define TCP_BACKOFF_MIN_MS 100
#define TCP_BACKOFF_MAX_MS 5000
/* A dialed connection is replaced by a fresh handshake (new ephemeral
 * keys: what a stolen session key reveals stops there) after this long or
 * this many bytes; the old one carries traffic until the new one is up,
 * then drains and closes, and the receiver reads an old connection to
 * its end (or for TCP_SUPERSEDED_MS) after the new one arrived. */
#define TCP_REHANDSHAKE_MS (3600 * 1000)
#define TCP_REHANDSHAKE_BYTES ((uint64_t)1 << 30)
#define TCP_SUPERSEDED_MS 10000
#define TCP_QUEUE_MAX_BYTES ((size_t)32 << 20)
#define TCP_QUEUE_MAX_MSGS 4096
/* Admission (tcp_admit.c). Accepted, hello not in yet: at most
 * TCP_PREHELLO_MAX, TCP_PREHELLO_PER_SOURCE of them from one address (an
 * IPv6 /64) that is no member's. Past the hello: at most
 * TCP_HS_MEMBER_MAX members' handshakes (each costs a signature), and
 * TCP_JOIN_MAX joiners' connections (handshake or up), TCP_JOIN_PER_TOKEN
 * of them per token. */
#define TCP_PREHELLO_MAX 64
#define TCP_PREHELLO_PER_SOURCE 4
#define TCP_HS_MEMBER_MAX 64
#define TCP_JOIN_MAX 16
#define TCP_JOIN_PER_TOKEN 4
#define TCP_ACCEPT_BATCH 32      /* accepts per loop turn and listener */
#define TCP_LOG_EVERY_MS 1000    /* refusals and failures: one line per */

struct tcp_config {
	uv_loop_t *loop;
	/* accepted on (port 0: any, see tcp_port); NULL: none; copied */
	const struct sockaddr *listen;
	/* a member's address -> socket address; 0, or -EINVAL (logged once
	 * per peer and address, the peer is not dialed) */
	int (*parse_addr)(const char *address, struct sockaddr_storage *out);
	uint64_t self_id;
	uint8_t cluster_id[HS_CLUSTER_ID_LEN];
	const struct ident *ident; /* borrowed; outlives the transport */
	struct hs_trust trust;
	/* joiner: send_app(0) dials with it; borrowed until rtr.join_done
	 * (or tcp_close) */
	const struct token *join;
	/* A member listener will share listen's port (the WireGuard mesh,
	 * tcp_member_listen): listen is bound with SO_REUSEPORT, once a
	 * probe showed nobody else holds the port. */
	bool share_port;
	unsigned rehandshake_ms;   /* tests; 0: TCP_REHANDSHAKE_MS */
	struct rlog log;           /* refused handshakes, bad addresses */
};

/* Liveness timing, changeable at runtime (the cluster's profile). */
struct tcp_timing {
	/* An empty record on a dialed connection idle this long, and the
	 * kernel's TCP keepalive after half of it; 0: neither. */
	unsigned keepalive_ms;
	unsigned idle_close_ms;    /* an accepted connection silent this long
				      closes (>= 1000) */
	unsigned user_timeout_ms;  /* TCP_USER_TIMEOUT (>= 1000) */
};

struct tcp;

int tcp_new(const struct tcp_config *cfg, struct tcp **out);
/* Puts tm in force on every connection, open or to come (values below
 * 1000 ms, keepalive 0 aside, are raised to 1000). */
void tcp_set_timing(struct tcp *t, const struct tcp_timing *tm);
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
/*
 * From now on members are accepted only on a second listener bound to
 * address (the WireGuard overlay "OVERLAY:PORT"; bound before the address
 * exists, IP_FREEBIND, and sharing the port with a wildcard first listener
 * through SO_REUSEPORT), and the first listener takes joins only. Also
 * rtr.member_listen. -EINVAL a bad address, -EALREADY already listening,
 * or a bind/listen errno.
 */
int tcp_member_listen(struct tcp *t, const char *address);
const struct wire_stats *tcp_stats(const struct tcp *t);
/* Brings the stats' tx_packets and tx_retrans_bytes (what the kernel
 * sent, TCP_INFO) up to date for the open connections; closed ones were
 * counted when they closed. */
void tcp_count_sent(struct tcp *t);
/* Connections currently established (handshake done). */
unsigned tcp_established(const struct tcp *t);
/* Closes everything; done(arg) runs once every handle is closed. */
void tcp_close(struct tcp *t, void (*done)(void *arg), void *arg);

#endif
