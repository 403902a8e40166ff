/*
 * mhttp: the endpoint's HTTP/1.1 server on the libuv loop. One request per
 * connection (answered with "Connection: close"), GET and HEAD only, and
 * caps on what a client may cost: connections at once, head size, and
 * the time a connection may live (slowloris).
 *
 *   too many connections    accepted and closed at once (counted)
 *   head over head_max      431 (414 while still in the path), closed
 *   head not in by deadline 408, closed
 *   malformed head          400 (505: HTTP/2+, 501: unknown long method)
 *   other methods           405 with Allow: GET, HEAD
 *   unknown path            404 (the handler's answer)
 */
#ifndef NTPMC_MHTTP_H
#define NTPMC_MHTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/base/netaddr.h"

#define MHTTP_MAX_CONNS 16
#define MHTTP_HEAD_MAX 8192
#define MHTTP_HEAD_MS 5000      /* the head must arrive by then */
#define MHTTP_LIFE_MS 10000     /* a connection is closed by then */

/* Status codes counted per code; any other is counted as "other". */
#define MHTTP_CODES(X) X(200) X(400) X(404) X(405) X(408) X(414) X(431) \
	X(501) X(503) X(505)
enum mhttp_code_idx {
#define MHTTP_IDX(c) MHTTP_C##c,
	MHTTP_CODES(MHTTP_IDX)
#undef MHTTP_IDX
	MHTTP_C_OTHER, MHTTP_N_CODES
};

struct mhttp_stats {
	uint64_t responses[MHTTP_N_CODES];
	uint64_t rejected;      /* connections over the cap */
	uint64_t aborted;       /* closed before an answer (reset, EOF) */
};

/* The status code a counter index stands for (0 for "other"). */
int mhttp_code_of(int idx);

struct mhttp_conf {
	int max_conns;          /* 0: MHTTP_MAX_CONNS */
	size_t head_max;        /* 0: MHTTP_HEAD_MAX */
	unsigned head_ms;       /* 0: MHTTP_HEAD_MS */
	unsigned life_ms;       /* 0: MHTTP_LIFE_MS */
};

/* An answer for a GET or HEAD of path: status, content type and a
 * malloc()ed body that mhttp frees. Returns -1 when out of memory (mhttp
 * then closes the connection). */
struct mhttp_answer {
	int status;
	const char *ctype;
	char *body;
	size_t len;
};
typedef int (*mhttp_handler)(void *arg, const char *path,
			     struct mhttp_answer *a);

struct mhttp;

/*
 * Binds addr with IP_FREEBIND (an overlay address may not exist yet),
 * listens. Returns NULL after logging why.
 */
struct mhttp *mhttp_start(uv_loop_t *loop, const struct netaddr *addr,
			  const struct mhttp_conf *c, mhttp_handler fn,
			  void *arg);
/* The bound address (its port when 0 was asked). */
int mhttp_addr(const struct mhttp *h, struct sockaddr_storage *out);
void mhttp_stats(const struct mhttp *h, struct mhttp_stats *out);
/* Closes the listener and every connection; h is freed once the loop has
 * run their close callbacks. */
void mhttp_stop(struct mhttp *h);

#endif
