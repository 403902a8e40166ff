/*
 * tcp internals shared by raft/transport/tcp.c (transport API, trust, routing) and
 * raft/transport/tcp_conn.c (one connection: handshake, records, timers). Not a
 * public header.
 */
#ifndef NTPMC_TCP_INT_H
#define NTPMC_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/transport/tcp.h"

#define ADDR_MAX 300

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_UP, C_CLOSING };

struct pending {
	struct pending *next;
	uint8_t *pt; /* encoded RaftMsg, sealed once the channel is up */
	size_t len;
};

struct conn {
	struct tcp *t;
	struct conn *next; /* t->conns */
	uv_tcp_t h;
	uv_timer_t timer;
	int open_handles;
	enum conn_state state;
	bool dialed;
	struct peer *peer;  /* dialed: the peer entry it serves */
	struct hs *hs;
	struct chan *chan;
	struct hs_peer who; /* after the handshake */
	struct frame_reader hsr;
	struct wire_rx rx;
	bool rx_init;
	struct pending *head, **tail;
	size_t queued_bytes; /* pending + in flight */
	unsigned queued_msgs;
	uint64_t last_rx, last_tx;
};

struct peer {
	uint64_t id; /* 0: the joiner's dial to a token member */
	char address[ADDR_MAX];
	struct conn *out;
	uint64_t next_attempt;
	uint64_t backoff;
	unsigned next_endpoint; /* joiner: token endpoint to try next */
	bool warned;            /* unusable address already logged */
};

struct pin {
	uint64_t id;
	uint8_t key[IDENT_PK_LEN];
};

struct tcp {
	struct rtr rtr; /* first: tcp_rtr() and the callbacks cast back */
	struct tcp_config cfg;
	struct hs_config hs;
	struct token join;
	bool joining;
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listening;
	int port;
	struct conn *conns;
	struct peer *peers;
	unsigned n_peers;
	struct pin *pins;
	unsigned n_pins;
	struct raft_server *members; /* last committed configuration */
	unsigned n_members;
	struct wire_stats stats;
	struct tcp_timing timing;
	unsigned hs_pending; /* accepted, handshake not done */
	uint64_t log_next;   /* handshake failure log rate limit */
	uint64_t log_suppressed;
	int open_handles;
	bool closing;
	void (*done)(void *);
	void *done_arg;
	uint8_t rbuf[64 * 1024]; /* one loop thread: reads never overlap */
};

/* tcp_conn.c */
struct conn *tcp_dial(struct tcp *t, struct peer *p);
void tcp_on_accept(uv_stream_t *s, int status);
/* Sends pt (taken) now, or once the handshake is done; bounded. */
void tcp_conn_enqueue(struct conn *c, uint8_t *pt, size_t len);
void tcp_conn_close(struct conn *c);
/* The liveness timing (t->timing) changed: socket options and timer. */
void tcp_conn_retime(struct conn *c);
/* Runs the close callback once the last handle is closed. */
void tcp_maybe_done(struct tcp *t);

/* tcp.c */
const char *tcp_member_address(const struct tcp *t, uint64_t id);

#endif
