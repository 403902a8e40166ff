/*
 * Serving threads: N threads, each with its own SO_REUSEPORT socket per
 * listen address, batched recvmmsg/sendmmsg with kernel receive timestamps.
 * They read the published time state (tstate.h) and never block on the
 * control plane.
 */
#ifndef NTPMC_SERVE_H
#define NTPMC_SERVE_H

#include <stdint.h>

#include "node/conf.h"

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
	uint64_t drop_ratelimit;    /* dropped by the rate limiter */
	uint64_t send_errors;
};

/*
 * Binds every address (refusing to start if one is taken by another
 * process), starts the threads. Returns NULL after logging why.
 */
struct serve *serve_start(const struct conf *c);
void serve_get_stats(const struct serve *s, struct serve_stats *out);
/* Stops and joins the threads, closes the sockets, frees s. */
void serve_stop(struct serve *s);

#endif
