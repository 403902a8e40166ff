/*
 * tcp internals shared by raft/transport/tcp.c (transport API, trust,
 * routing), raft/transport/tcp_conn.c (one connection: handshake, records,
 * timers) and raft/transport/tcp_admit.c (listeners, admission). Not a
 * public header.
 */
#ifndef NTPMC_TCP_INT_H
#define NTPMC_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "raft/transport/tcp.h"

#define ADDR_MAX 300
#define SRC_TEXT_MAX 64 /* "[v6]:port" */

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_UP, C_CLOSING };

/* Where an accepted connection stands in admission (tcp_admit.c). */
enum conn_stage {
	S_PREHELLO, /* accepted, its hello not in yet */
	S_MEMBER,   /* a member's hello admitted */
	S_JOIN,     /* a joiner's hello admitted */
};

/* What a listener takes. */
enum lst_kind { LST_ANY, LST_JOIN, LST_MEMBER };

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
	bool close_after_write; /* a refusal is on its way out */
	struct peer *peer;  /* dialed: the peer entry it serves */
	struct hs *hs;      /* accepted: made when the hello arrives */
	struct chan *chan;
	struct hs_peer who; /* after the handshake */
	struct frame_reader hsr;
	struct wire_rx rx;
	bool rx_init;
	struct pending *head, **tail;
	size_t queued_bytes; /* pending + in flight */
	unsigned queued_msgs;
	uint64_t last_rx, last_tx;
	uint64_t up_at;         /* loop ms the handshake completed */
	uint64_t tx_total;      /* bytes sealed on it */
	uint32_t ti_segs;       /* TCP_INFO at the last look (tcpinfo.h) */
	uint64_t ti_retrans;
	bool retiring;          /* dialed: replaced, draining, then closes */
	/* accepted: a newer one came; dialed: retired. 0 none. Closed
	 * TCP_SUPERSEDED_MS later at the latest. */
	uint64_t superseded_at;
	/* accepted: admission (tcp_admit.c) */
	enum conn_stage stage;
	enum lst_kind via;
	bool from_member;   /* its source address is a member's */
	struct sockaddr_storage src;
	uint64_t accepted_at;
	uint64_t hello_id;  /* the hello's client id, key and token */
	uint8_t hello_key[IDENT_PK_LEN];
	uint8_t hello_token[TOKEN_ID_LEN];
};

struct peer {
	uint64_t id; /* 0: the joiner's dial to a token member */
	char address[ADDR_MAX];
	struct conn *out;
	struct conn *next;      /* a re-handshake in progress, to replace out */
	uint64_t next_attempt;
	uint64_t backoff;
	unsigned next_endpoint; /* joiner: token endpoint to try next */
	bool warned;            /* unusable address already logged */
};

struct pin {
	uint64_t id;
	uint8_t key[IDENT_PK_LEN];
};

/* One listening socket of ours, watched by the loop (tcp_admit.c). */
struct listener {
	struct tcp *t;
	uv_poll_t poll;
	int fd;
	enum lst_kind kind;
	bool open;
};

struct tcp {
	struct rtr rtr; /* first: tcp_rtr() and the callbacks cast back */
	struct tcp_config cfg;
	struct hs_config hs;
	const struct token *join; /* borrowed until rtr.join_done */
	bool joining;
	uv_loop_t *loop;
	struct listener lst[2]; /* cluster-listen; the member listener */
	uv_timer_t accept_pause; /* accept() out of descriptors: wait */
	bool pause_init;
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
	uint64_t log_next;   /* refusal and failure log rate limit */
	uint64_t log_suppressed;
	int open_handles;
	bool closing;
	void (*done)(void *);
	void *done_arg;
	uint8_t rbuf[64 * 1024]; /* one loop thread: reads never overlap */
};

/* tcp_conn.c */
struct conn *tcp_dial(struct tcp *t, struct peer *p);
/* An accepted socket that admission let in (fd is taken). */
struct conn *tcp_conn_accepted(struct tcp *t, int fd,
			       const struct sockaddr_storage *src,
			       enum lst_kind via, bool from_member);
/* Sends pt (taken) now, or once the handshake is done; bounded. */
void tcp_conn_enqueue(struct conn *c, uint8_t *pt, size_t len);
void tcp_conn_close(struct conn *c);
/* Adds what the kernel sent on c since the last look to t->stats
 * (tx_packets, tx_retrans_bytes). */
void tcp_conn_count_sent(struct conn *c);
/* The liveness timing (t->timing) changed: socket options and timer. */
void tcp_conn_retime(struct conn *c);
/* Runs the close callback once the last handle is closed. */
void tcp_maybe_done(struct tcp *t);

/* tcp.c */
const char *tcp_member_address(const struct tcp *t, uint64_t id);
/* The handshake's configuration for connection c (trust asks with c). */
void tcp_hs_config(struct conn *c, struct hs_config *out);

/* tcp_admit.c */
int tcp_listen_open(struct tcp *t, unsigned which,
		    const struct sockaddr *address, enum lst_kind kind,
		    bool reuseport, bool freebind);
void tcp_listen_close(struct tcp *t);
/* hs_trust.admit for an accepted connection (ctx: the conn). */
int tcp_admit_hello(void *ctx, const struct hs_hello_info *hello);
/* "host:port" of an address, for log lines. */
void tcp_src_text(const struct sockaddr_storage *ss, char out[SRC_TEXT_MAX]);
/* Logs at warning, at most one line per TCP_LOG_EVERY_MS. */
void tcp_log_limited(struct tcp *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
