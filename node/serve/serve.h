/*
 * Serving threads: N threads, each with its own SO_REUSEPORT socket per
 * listen address, batched recvmmsg/sendmmsg with kernel receive timestamps.
 * They read the published time state (tstate.h) and never block on the
 * control plane.
 */
#ifndef NTPMC_SERVE_H
#define NTPMC_SERVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "node/base/netaddr.h"
#include "node/serve/acl.h"
#include "node/serve/rl.h"

#define SERVE_MAX_LISTEN 16
#define SERVE_MAX_ACL 256
#define SERVE_MAX_THREADS 256

/* What the serving threads need of the config (`listen`, `port`,
 * `serve-threads`, `ratelimit`, `allow`/`deny`). */
struct serve_conf {
	struct netaddr listen[SERVE_MAX_LISTEN];
	int n_listen;               /* 0: wildcard 0.0.0.0 and :: */
	uint16_t wildcard_port;     /* the wildcard's port, and listen lines'
				       without their own */
	int threads;                /* 0: one per CPU */
	struct rl_conf ratelimit;
	struct acl_rule acl[SERVE_MAX_ACL];
	int n_acl;
	int test_stall_s;           /* test-only (`test-hang serve S`): thread
				       0 stops waking S s after start; 0 never */
};

/*
 * In-process reply time (recvmmsg returned -> sendmmsg called) per reply,
 * log-linear: 4 buckets per power of two (25 % resolution) up to ~4 s.
 * Bucket i holds times in [lower, serve_hist_upper_ns(i)) ns.
 */
#define SERVE_HIST_BUCKETS 128

struct serve;

struct serve_stats {
	uint64_t received;          /* datagrams read */
	uint64_t replied;           /* replies sent (normal + KoD) */
	uint64_t kod_sent;          /* KoD RATE replies */
	uint64_t rate_limited;      /* over the limit: dropped or KoD */
	uint64_t drop_short;        /* shorter than 48 bytes, bad ext fields */
	uint64_t drop_version;      /* version 0 or > 4 */
	uint64_t drop_mode;         /* not a client request (mode 3, or v1 mode 0) */
	uint64_t drop_control;      /* mode 6/7 */
	uint64_t drop_auth;         /* MAC we cannot verify */
	uint64_t drop_denied;       /* allow/deny */
	uint64_t drop_unanswerable; /* source port 0, multicast, broadcast
				       or unspecified (acl_answerable) */
	uint64_t drop_ratelimit;    /* dropped by the rate limiter */
	uint64_t send_errors;
	uint64_t rl_leaked;         /* over the limit, answered anyway */
	/* Members' authenticated cross-check requests (node/ntp/pmac.h)
	 * answered; they are in none of the counters above. */
	uint64_t peer_replied;
	/* Egress at the IP layer (node/base/wirelen.h: IP + UDP header +
	 * payload) of what was sent: public replies (normal and KoD) and
	 * members' cross-check replies. */
	uint64_t tx_bytes;
	uint64_t peer_tx_bytes;
	/* Public requests dropped by the egress governor (over its rate). */
	uint64_t drop_governor;
	/* Not a counter: the governor's rate when read (B/s, 0 off), set by
	 * serve_get_stats. */
	uint64_t egress_limit;
	uint64_t reply_ns_hist[SERVE_HIST_BUCKETS];
	uint64_t reply_ns_sum;      /* of the replies' times, ns */
};

/*
 * Binds every address (refusing to start if one is taken by another
 * process), starts the threads. Returns NULL after logging why.
 */
struct serve *serve_start(const struct serve_conf *c);
void serve_get_stats(const struct serve *s, struct serve_stats *out);
/* Stops and joins the threads, closes the sockets, frees s. */
void serve_stop(struct serve *s);

/* The i-th bound address (listen order, or 0.0.0.0 then ::), with the port
 * actually bound: a conf with port 0 gets an ephemeral one (tests). */
int serve_addr(const struct serve *s, int i, struct sockaddr_storage *out);
int serve_nthreads(const struct serve *s);

/*
 * Liveness for the service watchdog: every serving thread wakes at least
 * every SERVE_WAKE_MS, even with no traffic (a receive timeout), and notes
 * the time. Returns how many threads have not woken within max_ns
 * (CLOCK_MONOTONIC), 0 when all are alive. Any thread may call it.
 */
#define SERVE_WAKE_MS 1000
int serve_stalled(const struct serve *s, int64_t max_ns);

/*
 * The egress governor (docs/cost.md): public replies beyond bytes_per_s
 * at the IP layer are dropped (a KoD would cost the same bytes); members'
 * cross-check replies are never limited. Each serving thread gets an
 * equal share, with a second's worth of burst. 0: off (the default). Any
 * thread may call it; the threads read it with a relaxed load.
 */
void serve_set_egress_limit(struct serve *s, uint64_t bytes_per_s);
uint64_t serve_egress_limit(const struct serve *s);

/* Histogram helpers: bucket of a time, its upper bound, and the upper
 * bound of the bucket holding quantile q (0..1) of the replies; 0 if none. */
int serve_hist_bucket(uint64_t ns);
uint64_t serve_hist_upper_ns(int idx);
uint64_t serve_hist_quantile_ns(const struct serve_stats *st, double q);

#endif
