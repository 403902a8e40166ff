/*
 * Serving threads: see serve.h and docs/serving.md. This half starts,
 * runs and stops them; serve_batch.c serves a batch.
 *
 * Each thread owns one SO_REUSEPORT socket per listen address, so the
 * kernel spreads clients over the threads by 4-tuple hash and the threads
 * share nothing on the fast path except the rate-limit table (rl.c) and
 * the read-mostly time state (tstate.c).
 */
#include "node/serve/serve_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "node/base/hostport.h"
#include "node/base/log.h"

/* Batches served per socket before polling again (fairness between the
 * thread's sockets and the stop signal). */
#define MAX_ROUNDS 16
#define MAX_THREADS 256

void serve_set_egress_limit(struct serve *s, uint64_t bytes_per_s)
{
	atomic_store_explicit(&s->gov_rate, bytes_per_s, memory_order_relaxed);
}

uint64_t serve_egress_limit(const struct serve *s)
{
	return atomic_load_explicit(&s->gov_rate, memory_order_relaxed);
}

/* A wake: the watchdog's evidence that this thread still runs. Returns 0
 * to go on, -1 once the test-only stall (`test-hang serve`) has begun:
 * the thread then neither serves nor wakes until the stop. */
static int woke(struct serve_worker *w)
{
	int64_t now = serve_mono_ns();

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
	struct serve_worker *w = arg;
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
		atomic_store(&s->w[t]->woke_ns, serve_mono_ns());
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
			s->w[t]->stall_at_ns = serve_mono_ns() +
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
	int64_t now = serve_mono_ns();
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
