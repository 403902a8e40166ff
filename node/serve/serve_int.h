/*
 * serve_int: what the serving threads' two halves share (not for other
 * modules): serve.c starts, runs and stops the threads and their
 * sockets; serve_batch.c serves one batch of datagrams (receive, admit,
 * build, send, count).
 */
#ifndef NTPMC_SERVE_INT_H
#define NTPMC_SERVE_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "node/ntp/pmac.h"
#include "node/serve/acl.h"
#include "node/serve/rl.h"
#include "node/serve/serve.h"
#include "node/serve/serve_sock.h"

#define BATCH 32
/* Big enough for NTS-sized requests; anything longer is not ours. */
#define PKT_MAX 1280
#define CTL_LEN                                             \
	(CMSG_SPACE(sizeof(struct timespec)) +              \
	 CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64)
#define SCTL_LEN CMSG_SPACE(sizeof(struct in6_pktinfo))
#define STAT_WORDS (sizeof(struct serve_stats) / sizeof(uint64_t))

_Static_assert(sizeof(struct serve_stats) % sizeof(uint64_t) == 0,
	       "serve_stats is made of uint64_t");

struct serve_worker {
	struct serve *s;
	pthread_t th;
	int started;
	_Atomic int64_t woke_ns;     /* CLOCK_MONOTONIC of the last wake */
	int64_t stall_at_ns;         /* test-only: stop waking then; 0 never */
	int fds[SERVE_MAX_LISTEN + 1];
	/* Written only by the worker, word by word with relaxed atomics. */
	struct serve_stats stats;
	/* The governor's bucket: bytes this thread may still send. */
	double gov_tokens;
	int64_t gov_ns;
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage raddr[BATCH];
	uint8_t rbuf[BATCH][PKT_MAX];
	uint8_t sbuf[BATCH][PMAC_LEN];
	/* A member's authenticated request (pmac.h): our key id for the
	 * reply's trailer (0: a public reply) and the pair key. */
	uint32_t peer_self[BATCH];
	uint8_t peer_key[BATCH][PMAC_KEY_LEN];
	union {
		char buf[CTL_LEN];
		struct cmsghdr align;
	} rctl[BATCH];
	union {
		char buf[SCTL_LEN];
		struct cmsghdr align;
	} sctl[BATCH];
};

struct serve {
	struct serve_addr addrs[SERVE_MAX_LISTEN + 1];
	int naddrs;
	int nthreads;
	int stop_fd;
	atomic_int stopping;
	_Atomic uint64_t gov_rate;  /* bytes/s for all threads, 0 off */
	struct rl *rl;
	struct acl *acl;
	struct serve_worker **w;
};

static inline int64_t serve_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One batch from fd: returns the number of datagrams read, 0 when none.
 * flags: MSG_DONTWAIT after poll, MSG_WAITFORONE to sleep in the call.
 * Only w's own thread calls it. */
int serve_batch(struct serve_worker *w, int fd, int flags);

#endif
