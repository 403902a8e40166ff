/*
 * Serving threads: see serve.h and docs/serving.md.
 *
 * Each thread owns one SO_REUSEPORT socket per listen address, so the
 * kernel spreads clients over the threads by 4-tuple hash and the threads
 * share nothing on the fast path except the rate-limit table (rl.c) and
 * the read-mostly time state (tstate.c). A batch is one recvmmsg, one
 * tstate_read, per-packet classify/acl/ratelimit/build, then one realtime
 * read for the transmit timestamp of the whole batch, written into every
 * reply right before the one sendmmsg (the batch's replies carry the same
 * transmit time: the kernel sends them within microseconds).
 */
#include "node/serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "node/serve/acl.h"
#include "node/serve/serve_sock.h"
#include "node/ntp/clk.h"
#include "node/base/hostport.h"
#include "node/base/log.h"
#include "node/base/wirelen.h"
#include "node/ntp/ntp.h"
#include "node/ntp/pkeys.h"
#include "node/ntp/pmac.h"
#include "node/serve/rl.h"
#include "node/ntp/tstate.h"

#define BATCH 32
/* Big enough for NTS-sized requests; anything longer is not ours. */
#define PKT_MAX 1280
/* Batches served per socket before polling again (fairness between the
 * thread's sockets and the stop signal). */
#define MAX_ROUNDS 16
#define MAX_THREADS 256
#define CTL_LEN                                             \
	(CMSG_SPACE(sizeof(struct timespec)) +              \
	 CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64)
#define SCTL_LEN CMSG_SPACE(sizeof(struct in6_pktinfo))
#define STAT_WORDS (sizeof(struct serve_stats) / sizeof(uint64_t))

_Static_assert(sizeof(struct serve_stats) % sizeof(uint64_t) == 0,
	       "serve_stats is made of uint64_t");


struct worker {
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
	struct worker **w;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * `received` (word 0) is stored last with release, and serve_get_stats
 * loads it first with acquire: a reader that sees a batch's datagrams in
 * `received` sees every other counter of that batch too.
 */
static void stats_flush(struct worker *w, const struct serve_stats *d)
{
	uint64_t *dst = (uint64_t *)&w->stats;
	const uint64_t *src = (const uint64_t *)d;
	size_t i;

	_Static_assert(offsetof(struct serve_stats, received) == 0,
		       "received is the first word");
	for (i = STAT_WORDS - 1; i > 0; i--) {
		if (src[i])
			__atomic_store_n(&dst[i],
					 __atomic_load_n(&dst[i],
							 __ATOMIC_RELAXED) +
						 src[i],
					 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&dst[0],
			 __atomic_load_n(&dst[0], __ATOMIC_RELAXED) + src[0],
			 __ATOMIC_RELEASE);
}

/* Kernel receive time and the request's local address from the cmsgs. */
static void parse_cmsgs(struct msghdr *mh, int64_t *raw, int *have_ts,
			struct in_pktinfo *pi4, struct in6_pktinfo *pi6,
			int *have_pi)
{
	struct cmsghdr *c;

	*have_ts = 0;
	*have_pi = 0;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*raw = clk_raw_from_kernel(&ts);
			*have_ts = 1;
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(*pi4))) {
			memcpy(pi4, CMSG_DATA(c), sizeof(*pi4));
			*have_pi = AF_INET;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(*pi6))) {
			memcpy(pi6, CMSG_DATA(c), sizeof(*pi6));
			*have_pi = AF_INET6;
		}
	}
}

/* Reply from the address the request was sent to (wildcard sockets). */
static void set_src(struct worker *w, int j, struct msghdr *mh, int have_pi,
		    const struct in_pktinfo *pi4, const struct in6_pktinfo *pi6)
{
	struct cmsghdr *c;

	if (!have_pi) {
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		return;
	}
	memset(w->sctl[j].buf, 0, sizeof(w->sctl[j].buf));
	mh->msg_control = w->sctl[j].buf;
	c = (struct cmsghdr *)w->sctl[j].buf;
	if (have_pi == AF_INET) {
		struct in_pktinfo out = { 0 };

		/* ipi_spec_dst is the local address the request came to (or
		 * the interface's, for a broadcast); let routing pick the
		 * interface. */
		out.ipi_spec_dst = pi4->ipi_spec_dst;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(out));
		memcpy(CMSG_DATA(c), &out, sizeof(out));
		mh->msg_controllen = CMSG_SPACE(sizeof(out));
	} else {
		struct in6_pktinfo out = { 0 };

		out.ipi6_addr = pi6->ipi6_addr;
		/* A link-local source needs its interface. */
		if (IN6_IS_ADDR_LINKLOCAL(&pi6->ipi6_addr))
			out.ipi6_ifindex = pi6->ipi6_ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(out));
		memcpy(CMSG_DATA(c), &out, sizeof(out));
		mh->msg_controllen = CMSG_SPACE(sizeof(out));
	}
}

static void count_class(struct serve_stats *d, enum ntp_class c)
{
	switch (c) {
	case NTP_CLIENT:
		break;
	case NTP_DROP_SHORT:
		d->drop_short++;
		break;
	case NTP_DROP_VERSION:
		d->drop_version++;
		break;
	case NTP_DROP_MODE:
		d->drop_mode++;
		break;
	case NTP_DROP_CONTROL:
		d->drop_control++;
		break;
	case NTP_DROP_AUTH:
		d->drop_auth++;
		break;
	}
}

/* Replies to members (peer_self set) count as peer_replied, never in the
 * server counters. */
static void send_all(int fd, struct worker *w, int n, struct serve_stats *d)
{
	int done = 0, r, k;

	while (done < n) {
		r = sendmmsg(fd, w->smsg + done, (unsigned)(n - done),
			     MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Skip the one that failed (EAGAIN: socket buffer
			 * full; unreachable: ICMP error; ...). */
			if (!w->peer_self[done])
				d->send_errors++;
			done++;
			continue;
		}
		/* Egress by class: plain adds on the batch's own counters,
		 * flushed with relaxed stores (stats_flush). */
		for (k = done; k < done + r; k++) {
			uint32_t b = wirelen_udp(
				w->smsg[k].msg_hdr.msg_name,
				w->siov[k].iov_len);

			if (w->peer_self[k]) {
				d->peer_replied++;
				d->peer_tx_bytes += b;
			} else {
				d->replied++;
				d->tx_bytes += b;
			}
		}
		done += r;
	}
}

/*
 * A member's cross-check request (node/ntp/pmac.h): a client request with
 * a trailer whose key id names a member and whose tag that pair key
 * verifies. Anything else, including a bad tag, is public traffic (and
 * counted as drop_auth there). Returns our key id for the reply, 0 when
 * it is not one.
 */
static uint32_t peer_request(const uint8_t *b, size_t len,
			     uint8_t key[PMAC_KEY_LEN])
{
	uint32_t self;

	if (len != PMAC_LEN || ntp_classify(b, NTP_HDR_LEN) != NTP_CLIENT ||
	    pkeys_find(pmac_peek_id(b, len), key, &self) < 0)
		return 0;
	if (pmac_verify(b, len, key) < 0)
		return 0;
	return self;
}

/* A public request: counted, then the answerable / length / codec /
 * access / rate-limit checks; 1 when it is answered (*v says how). */
static int admit(struct serve *s, const struct msghdr *mh,
		 const struct sockaddr *src, const uint8_t *b, size_t len,
		 int64_t t0, struct serve_stats *d, enum rl_verdict *v)
{
	enum ntp_class c;
	struct rl_key key;

	d->received++;
	/* Whatever it holds, a reply could not be delivered (it
	 * would only show up as a send error). */
	if (!acl_answerable(src)) {
		d->drop_unanswerable++;
		return 0;
	}
	if (mh->msg_flags & MSG_TRUNC) {
		d->drop_short++;
		return 0;
	}
	c = ntp_classify(b, len);
	if (c != NTP_CLIENT) {
		count_class(d, c);
		return 0;
	}
	if (s->acl && !acl_allowed(s->acl, src)) {
		d->drop_denied++;
		return 0;
	}
	if (s->rl && rl_key_from_sa(src, &key) == 0)
		*v = rl_check(s->rl, &key, t0);
	if (*v == RL_DROP) {
		d->rate_limited++;
		d->drop_ratelimit++;
		return 0;
	}
	return 1;
}

/* The governor: 1 when a public reply of len bytes to src fits this
 * thread's share of the rate (a token bucket holding at most a second's
 * worth), 0 to drop it. */
static int governed(struct worker *w, const struct sockaddr *src, int64_t now)
{
	uint64_t rate = atomic_load_explicit(&w->s->gov_rate,
					     memory_order_relaxed);
	double share, cost;

	if (!rate)
		return 1;
	share = (double)rate / w->s->nthreads;
	/* the first reply under a limit starts with a full bucket */
	w->gov_tokens = w->gov_ns ? w->gov_tokens + share *
				    (double)(now - w->gov_ns) / 1e9 : share;
	w->gov_ns = now;
	if (w->gov_tokens > share)
		w->gov_tokens = share;
	cost = wirelen_udp(src, NTP_HDR_LEN);
	if (w->gov_tokens < cost)
		return 0;
	w->gov_tokens -= cost;
	return 1;
}

void serve_set_egress_limit(struct serve *s, uint64_t bytes_per_s)
{
	atomic_store_explicit(&s->gov_rate, bytes_per_s, memory_order_relaxed);
}

uint64_t serve_egress_limit(const struct serve *s)
{
	return atomic_load_explicit(&s->gov_rate, memory_order_relaxed);
}

/* One batch: returns the number of datagrams read, 0 when none. flags:
 * MSG_DONTWAIT after poll, MSG_WAITFORONE to sleep in the call. */
static int serve_batch(struct worker *w, int fd, int flags)
{
	struct serve *s = w->s;
	struct serve_stats d;
	struct tstate st, claim;
	int64_t t0, t1, now_raw = 0, rx_raw, tx;
	int got, i, n = 0, npeer = 0, have_ts, have_pi, have_claim = 0;

	for (i = 0; i < BATCH; i++) {
		struct msghdr *mh = &w->rmsg[i].msg_hdr;

		mh->msg_name = &w->raddr[i];
		mh->msg_namelen = sizeof(w->raddr[i]);
		mh->msg_iov = &w->riov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = w->rctl[i].buf;
		mh->msg_controllen = sizeof(w->rctl[i].buf);
		mh->msg_flags = 0;
		w->riov[i].iov_base = w->rbuf[i];
		w->riov[i].iov_len = PKT_MAX;
	}
	got = recvmmsg(fd, w->rmsg, BATCH, flags, NULL);
	if (got <= 0)
		return 0;
	t0 = mono_ns();
	memset(&d, 0, sizeof(d));
	tstate_read(&st);
	for (i = 0; i < got; i++) {
		struct msghdr *mh = &w->rmsg[i].msg_hdr;
		const struct sockaddr *src = (const struct sockaddr *)&w->raddr[i];
		struct in_pktinfo pi4;
		struct in6_pktinfo pi6;
		enum rl_verdict v = RL_PASS;
		size_t len = w->rmsg[i].msg_len;
		size_t out_len = NTP_HDR_LEN;
		int64_t rx;

		/* Members' requests: answered past the access list and the
		 * rate limiter, with the engine's own claim (a withdrawn
		 * claim is the clients' business, not the members'), and
		 * kept out of the server counters. */
		w->peer_self[n] = 0;
		if (!(mh->msg_flags & MSG_TRUNC))
			w->peer_self[n] = peer_request(w->rbuf[i], len,
						       w->peer_key[n]);
		if (w->peer_self[n]) {
			if (!acl_answerable(src)) {
				w->peer_self[n] = 0;
				memset(w->peer_key[n], 0, PMAC_KEY_LEN);
				continue;
			}
			if (!have_claim) {
				tstate_read_claim(&claim);
				have_claim = 1;
			}
			npeer++;
			out_len = PMAC_LEN;
		} else if (!admit(s, mh, src, w->rbuf[i], len, t0, &d, &v)) {
			continue;
		} else if (!governed(w, src, t0)) {
			d.drop_governor++;
			continue;
		}
		parse_cmsgs(mh, &rx_raw, &have_ts, &pi4, &pi6, &have_pi);
		if (!have_ts) {
			if (!now_raw)
				now_raw = clk_raw_ns();
			rx_raw = now_raw;
		}
		rx = tstate_served_ns(&st, rx_raw);
		if (w->peer_self[n]) {
			ntp_build_reply(w->rbuf[i], &claim, rx, w->sbuf[n]);
		} else if (v == RL_KOD) {
			ntp_build_kod(w->rbuf[i], &st, rx, w->sbuf[n]);
			d.rate_limited++;
			d.kod_sent++;
		} else {
			ntp_build_reply(w->rbuf[i], &st, rx, w->sbuf[n]);
			if (v == RL_LEAK)
				d.rl_leaked++;
		}
		w->siov[n].iov_base = w->sbuf[n];
		w->siov[n].iov_len = out_len;
		w->smsg[n].msg_hdr.msg_name = &w->raddr[i];
		w->smsg[n].msg_hdr.msg_namelen = mh->msg_namelen;
		w->smsg[n].msg_hdr.msg_iov = &w->siov[n];
		w->smsg[n].msg_hdr.msg_iovlen = 1;
		w->smsg[n].msg_hdr.msg_flags = 0;
		set_src(w, n, &w->smsg[n].msg_hdr, have_pi, &pi4, &pi6);
		n++;
	}
	if (n > 0) {
		/* As late as possible: one read for the batch, then only
		 * the stores of 8 bytes per reply before the syscall. */
		tx = tstate_served_ns(&st, clk_raw_ns());
		for (i = 0; i < n; i++)
			ntp_set_xmt(w->sbuf[i], tx);
		for (i = 0; i < n; i++)
			if (w->peer_self[i])
				pmac_sign(w->sbuf[i], w->peer_self[i],
					  w->peer_key[i]);
		t1 = mono_ns();
		d.reply_ns_hist[serve_hist_bucket((uint64_t)(t1 - t0))] +=
			(uint64_t)(n - npeer);
		d.reply_ns_sum += (uint64_t)(t1 - t0) * (uint64_t)(n - npeer);
		send_all(fd, w, n, &d);
		for (i = 0; i < n; i++)
			if (w->peer_self[i])
				memset(w->peer_key[i], 0, PMAC_KEY_LEN);
	}
	stats_flush(w, &d);
	return got;
}

/* A wake: the watchdog's evidence that this thread still runs. Returns 0
 * to go on, -1 once the test-only stall (`test-hang serve`) has begun:
 * the thread then neither serves nor wakes until the stop. */
static int woke(struct worker *w)
{
	int64_t now = mono_ns();

	if (w->stall_at_ns && now >= w->stall_at_ns) {
		log_warnx("TEST-ONLY test-hang: serving thread stalled");
		while (!atomic_load(&w->s->stopping))
			usleep(100000);
		return -1;
	}
	atomic_store_explicit(&w->woke_ns, now, memory_order_relaxed);
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct serve *s = w->s;
	struct pollfd pfd[SERVE_MAX_LISTEN + 2];
	int i, n = s->naddrs, r, rounds;

	for (i = 0; i < n; i++) {
		pfd[i].fd = w->fds[i];
		pfd[i].events = POLLIN;
	}
	pfd[n].fd = s->stop_fd;
	pfd[n].events = POLLIN;
	if (n == 1) {
		/* One socket: sleep in recvmmsg, one syscall less per wake
		 * than poll + recvmmsg (the latency that T3 - T2 shows at
		 * low load); SO_RCVTIMEO wakes it when idle. serve_stop
		 * sets the flag, then shutdown(). */
		while (!atomic_load_explicit(&s->stopping,
					     memory_order_relaxed) &&
		       woke(w) == 0)
			serve_batch(w, w->fds[0], MSG_WAITFORONE);
		return NULL;
	}
	for (;;) {
		if (woke(w) < 0)
			break;
		if (poll(pfd, (nfds_t)n + 1, SERVE_WAKE_MS) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("serving thread: poll");
			break;
		}
		if (pfd[n].revents)
			break;
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			rounds = 0;
			do {
				r = serve_batch(w, w->fds[i], MSG_DONTWAIT);
			} while (r == BATCH && ++rounds < MAX_ROUNDS);
		}
	}
	return NULL;
}

/* The addresses to serve: conf's listen list, or 0.0.0.0 and ::. */
static int collect_addrs(struct serve *s, const struct serve_conf *c)
{
	int i;

	if (c->n_listen < 0 || c->n_listen > SERVE_MAX_LISTEN)
		return -1;
	for (i = 0; i < c->n_listen; i++) {
		struct serve_addr *a = &s->addrs[s->naddrs++];

		if (c->listen[i].addr.ss_family != AF_INET &&
		    c->listen[i].addr.ss_family != AF_INET6)
			return -1;
		a->ss = c->listen[i].addr;
		a->len = c->listen[i].addr.ss_family == AF_INET ?
				 sizeof(struct sockaddr_in) :
				 sizeof(struct sockaddr_in6);
		a->wildcard = serve_is_wildcard(&a->ss);
	}
	if (c->n_listen == 0) {
		struct sockaddr_in *s4 = (void *)&s->addrs[0].ss;
		struct sockaddr_in6 *s6 = (void *)&s->addrs[1].ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->wildcard_port);
		s->addrs[0].len = sizeof(*s4);
		s->addrs[0].wildcard = 1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->wildcard_port);
		s->addrs[1].len = sizeof(*s6);
		s->addrs[1].wildcard = 1;
		s->naddrs = 2;
	}
	return 0;
}

static int ipv6_missing(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EAFNOSUPPORT;
}

static void serve_free(struct serve *s)
{
	int t, i;

	if (!s)
		return;
	for (t = 0; s->w && t < s->nthreads; t++) {
		if (!s->w[t])
			continue;
		for (i = 0; i < s->naddrs; i++)
			if (s->w[t]->fds[i] >= 0)
				close(s->w[t]->fds[i]);
		free(s->w[t]);
	}
	free(s->w);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	rl_free(s->rl);
	acl_free(s->acl);
	free(s);
}

static int start_threads(struct serve *s)
{
	sigset_t all, old;
	int t, rc = 0;

	/* Signals belong to the main thread's loop, never to ours. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (t = 0; t < s->nthreads; t++) {
		atomic_store(&s->w[t]->woke_ns, mono_ns());
		if (pthread_create(&s->w[t]->th, NULL, worker_main,
				   s->w[t]) != 0) {
			log_warnx("cannot start serving thread %d", t);
			rc = -1;
			break;
		}
		s->w[t]->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void join_threads(struct serve *s)
{
	uint64_t one = 1;
	int t, i;

	atomic_store(&s->stopping, 1);
	if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("serve: cannot signal the threads to stop");
	/* Wakes a thread blocked in recvmmsg at once (it returns 0). */
	for (t = 0; t < s->nthreads; t++)
		for (i = 0; s->w[t] && i < s->naddrs; i++)
			if (s->w[t]->fds[i] >= 0)
				shutdown(s->w[t]->fds[i], SHUT_RD);
	for (t = 0; t < s->nthreads; t++)
		if (s->w[t] && s->w[t]->started)
			pthread_join(s->w[t]->th, NULL);
}

struct serve *serve_start(const struct serve_conf *c)
{
	struct serve *s = calloc(1, sizeof(*s));
	char buf[HOSTPORT_SA_LEN];
	long ncpu;
	int t, i;

	if (!s) {
		log_warnx("serve: out of memory");
		return NULL;
	}
	s->stop_fd = -1;
	if (collect_addrs(s, c) < 0) {
		log_warnx("serve: bad listen address in the configuration");
		goto fail;
	}
	if (c->n_listen == 0 && ipv6_missing()) {
		log_warnx("IPv6 not available: serving IPv4 only");
		s->naddrs = 1;
	}
	for (i = 0; i < s->naddrs; i++) {
		if (serve_sock_probe(&s->addrs[i]) == 0)
			continue;
		/* The default :: on a host with IPv6 disabled (sysctl): no
		 * address to bind; serve IPv4 rather than nothing. */
		if (c->n_listen == 0 && i == 1 && errno == EADDRNOTAVAIL) {
			log_warnx("IPv6 not available: serving IPv4 only");
			s->naddrs = 1;
			break;
		}
		goto fail;
	}
	ncpu = c->threads > 0 ? c->threads :
				      sysconf(_SC_NPROCESSORS_ONLN);
	s->nthreads = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS :
							 (int)ncpu;
	if (c->ratelimit.enabled) {
		s->rl = rl_new(&c->ratelimit);
		if (!s->rl) {
			log_warn("serve: rate limiter");
			goto fail;
		}
	}
	if (c->n_acl > 0) {
		s->acl = acl_new(c->acl, c->n_acl);
		if (!s->acl) {
			log_warn("serve: access control list");
			goto fail;
		}
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->w = calloc((size_t)s->nthreads, sizeof(*s->w));
	if (s->stop_fd < 0 || !s->w) {
		log_warn("serve: eventfd or memory");
		goto fail;
	}
	for (t = 0; t < s->nthreads; t++) {
		if (posix_memalign((void **)&s->w[t], 64, sizeof(*s->w[t]))) {
			s->w[t] = NULL;
			log_warnx("serve: out of memory");
			goto fail;
		}
		memset(s->w[t], 0, sizeof(*s->w[t]));
		s->w[t]->s = s;
		if (t == 0 && c->test_stall_s > 0)
			s->w[t]->stall_at_ns = mono_ns() +
				(int64_t)c->test_stall_s * 1000000000;
		for (i = 0; i < s->naddrs; i++)
			s->w[t]->fds[i] = -1;
		for (i = 0; i < s->naddrs; i++) {
			s->w[t]->fds[i] = serve_sock_open(&s->addrs[i], 1);
			if (s->w[t]->fds[i] < 0) {
				hostport_from_sa((const struct sockaddr *)
						 &s->addrs[i].ss, buf,
						 sizeof(buf));
				log_warn("serve: socket for %s", buf);
				goto fail;
			}
		}
	}
	if (start_threads(s) < 0) {
		join_threads(s);
		goto fail;
	}
	for (i = 0; i < s->naddrs; i++)
		log_info("serving NTP on %s with %d thread%s",
			 hostport_from_sa((const struct sockaddr *)
					  &s->addrs[i].ss, buf, sizeof(buf)),
			 s->nthreads, s->nthreads == 1 ? "" : "s");
	return s;
fail:
	serve_free(s);
	return NULL;
}

void serve_get_stats(const struct serve *s, struct serve_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	size_t i;
	int t;

	memset(out, 0, sizeof(*out));
	for (t = 0; t < s->nthreads; t++) {
		const uint64_t *src = (const uint64_t *)&s->w[t]->stats;

		dst[0] += __atomic_load_n(&src[0], __ATOMIC_ACQUIRE);
		for (i = 1; i < STAT_WORDS; i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
	out->egress_limit = serve_egress_limit(s);
}

int serve_addr(const struct serve *s, int i, struct sockaddr_storage *out)
{
	if (i < 0 || i >= s->naddrs)
		return -1;
	*out = s->addrs[i].ss;
	return 0;
}

int serve_nthreads(const struct serve *s)
{
	return s->nthreads;
}

int serve_stalled(const struct serve *s, int64_t max_ns)
{
	int64_t now = mono_ns();
	int t, n = 0;

	for (t = 0; t < s->nthreads; t++)
		if (now - atomic_load_explicit(&s->w[t]->woke_ns,
					       memory_order_relaxed) > max_ns)
			n++;
	return n;
}

void serve_stop(struct serve *s)
{
	if (!s)
		return;
	join_threads(s);
	serve_free(s);
}
