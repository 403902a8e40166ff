/*
 * ntpbench: NTP load generator. Keeps requests in flight on a few UDP
 * sockets with sendmmsg/recvmmsg, validates every reply on its own (it does
 * not share the daemon's codec, so it can catch the daemon's mistakes) and
 * reports valid replies/s, loss, round-trip and server (T3-T2) percentiles.
 *
 * Closed loop (default): each socket keeps --inflight requests outstanding.
 * Open loop (--rate N): requests leave on a fixed schedule whatever the
 * replies do. --clients N spreads the requests over N source addresses in
 * 127.0.0.0/8 (IP_PKTINFO on unconnected sockets), emulating N clients.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tools/ntpbench.h"

#define NTP_LEN 48
#define BATCH 64
#define RXBUF 128              /* larger than any valid reply: spots long ones */
#define NTP_UNIX_DELTA 2208988800ULL

struct slot {
	uint64_t xmt;          /* transmit timestamp sent, 0 = free */
	uint64_t prev;         /* the one before: replies to it are late */
	int64_t sent_ns;
	uint32_t src;          /* source address (clients mode), network order */
};

struct sock {
	int fd;
	struct slot *slots;
	uint32_t nslots;
	uint32_t *free;        /* stack of free slot indexes */
	uint32_t nfree;
	uint16_t *gen;
	uint64_t issued;       /* open loop: requests scheduled so far */
	uint8_t tx[BATCH][NTP_LEN];
	uint8_t rx[BATCH][RXBUF];
	char rxctl[BATCH][64];
	char txctl[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_storage rxname[BATCH];
};

static volatile sig_atomic_t stop_flag;
static struct sockaddr_storage target;
static socklen_t target_len;
static uint32_t next_client;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int resolve_target(const struct opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	int rc;

	/* Numeric only: a benchmark never sends a DNS query. */
	rc = getaddrinfo(o->addr, o->port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "ntpbench: bad address %s port %s: %s\n",
			o->addr, o->port, gai_strerror(rc));
		return -1;
	}
	memcpy(&target, ai->ai_addr, ai->ai_addrlen);
	target_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (o->clients && target.ss_family != AF_INET) {
		fprintf(stderr, "ntpbench: --clients needs an IPv4 target\n");
		return -1;
	}
	return 0;
}

static int sock_open(struct sock *s, const struct opts *o, uint32_t nslots)
{
	int one = 1, buf = 4 << 20;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->fd = socket(target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		perror("ntpbench: socket");
		return -1;
	}
	/* Best effort: the kernel caps these at net.core.*mem_max. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (o->clients) {
		struct sockaddr_in any = { .sin_family = AF_INET };

		/* Unconnected on 0.0.0.0: each request names its source
		 * with IP_PKTINFO and replies may come back to any of them;
		 * the receive side's pktinfo tells which one they reached. */
		if (setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &one,
			       sizeof(one)) ||
		    bind(s->fd, (struct sockaddr *)&any, sizeof(any))) {
			perror("ntpbench: bind");
			return -1;
		}
	} else if (connect(s->fd, (struct sockaddr *)&target, target_len)) {
		perror("ntpbench: connect");
		return -1;
	}
	s->nslots = nslots;
	s->slots = calloc(nslots, sizeof(*s->slots));
	s->free = calloc(nslots, sizeof(*s->free));
	s->gen = calloc(nslots, sizeof(*s->gen));
	if (!s->slots || !s->free || !s->gen) {
		fprintf(stderr, "ntpbench: out of memory\n");
		return -1;
	}
	for (i = 0; i < nslots; i++)
		s->free[i] = nslots - 1 - i;
	s->nfree = nslots;
	return 0;
}

static void sock_close(struct sock *s)
{
	if (s->fd > 0)
		close(s->fd);
	free(s->slots);
	free(s->free);
	free(s->gen);
}

/*
 * The transmit timestamp carries the real time's seconds (so the request
 * looks like any client's) and, in the fraction, the slot index and a
 * per-slot generation: a reply's origin finds its slot without a search.
 */
static uint64_t make_xmt(struct sock *s, uint32_t idx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	s->gen[idx]++;
	return ((uint64_t)ts.tv_sec + NTP_UNIX_DELTA) << 32 |
	       (uint64_t)s->gen[idx] << 16 | idx;
}

/* Sends up to n new requests on s; returns how many left. */
static int send_batch(struct sock *s, const struct opts *o, int n,
		      struct result *r)
{
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	uint32_t idx[BATCH];
	int64_t now;
	int i, sent;

	if (n > BATCH)
		n = BATCH;
	if ((uint32_t)n > s->nfree)
		n = (int)s->nfree;
	if (n <= 0)
		return 0;
	memset(msg, 0, sizeof(msg[0]) * (size_t)n);
	now = mono_ns();
	for (i = 0; i < n; i++) {
		struct slot *sl;
		uint8_t *p = s->tx[i];

		idx[i] = s->free[--s->nfree];
		sl = &s->slots[idx[i]];
		sl->xmt = make_xmt(s, idx[i]);
		sl->sent_ns = now;
		memset(p, 0, NTP_LEN);
		p[0] = (uint8_t)(o->version << 3 | 3);  /* LI 0, mode 3 */
		p[2] = 6;                                /* poll 64 s */
		p[3] = (uint8_t)-20;                     /* precision ~1 us */
		wr64(p + 40, sl->xmt);
		iov[i].iov_base = p;
		iov[i].iov_len = NTP_LEN;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		if (o->clients) {
			struct cmsghdr *cm;
			struct in_pktinfo *pi;

			sl->src = htonl(0x7f000001U + next_client);
			next_client = (next_client + 1) % o->clients;
			msg[i].msg_hdr.msg_name = &target;
			msg[i].msg_hdr.msg_namelen = target_len;
			msg[i].msg_hdr.msg_control = s->txctl[i];
			msg[i].msg_hdr.msg_controllen = sizeof(s->txctl[i]);
			cm = CMSG_FIRSTHDR(&msg[i].msg_hdr);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(*pi));
			pi = (struct in_pktinfo *)CMSG_DATA(cm);
			memset(pi, 0, sizeof(*pi));
			pi->ipi_spec_dst.s_addr = sl->src;
		}
	}
	sent = sendmmsg(s->fd, msg, (unsigned)n, 0);
	if (sent < 0) {
		/* ECONNREFUSED: an ICMP error from an earlier request. */
		r->send_err++;
		sent = 0;
	}
	/* Slots of requests that did not leave go back, newest first. */
	for (i = n - 1; i >= sent; i--) {
		s->slots[idx[i]].xmt = 0;
		s->free[s->nfree++] = idx[i];
	}
	r->sent += (uint64_t)sent;
	return sent;
}

static void slot_release(struct sock *s, uint32_t idx)
{
	s->slots[idx].prev = s->slots[idx].xmt;
	s->slots[idx].xmt = 0;
	s->free[s->nfree++] = idx;
}

static int is_kiss_code(const uint8_t *refid)
{
	int i;

	for (i = 0; i < 4; i++)
		if (refid[i] < 'A' || refid[i] > 'Z')
			return i > 0 && refid[i] == 0;
	return 1;
}

/* Where a reply reached us (clients mode): from IP_PKTINFO. */
static uint32_t reply_dst(struct msghdr *h)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO)
			return ((struct in_pktinfo *)CMSG_DATA(cm))
				->ipi_addr.s_addr;
	return 0;
}

static int same_addr(const struct sockaddr_storage *a)
{
	const struct sockaddr_in *x = (const void *)a;
	const struct sockaddr_in *y = (const void *)&target;

	return x->sin_family == AF_INET && x->sin_port == y->sin_port &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/*
 * RFC 5905 section 7.3 / 8: a server reply is mode 4, echoes the version
 * and carries our transmit timestamp as its origin. Stratum 0 with an
 * ASCII code is a kiss-o'-death (section 7.4), counted apart.
 */
static void check_reply(struct sock *s, const struct opts *o,
			struct msghdr *h, const uint8_t *p, size_t len,
			int64_t now, struct result *r)
{
	uint64_t org, rec, xmt;
	uint32_t idx;
	struct slot *sl;
	int li = p[0] >> 6, vn = p[0] >> 3 & 7, mode = p[0] & 7;

	if (len < NTP_LEN || (h->msg_flags & MSG_TRUNC)) {
		r->bad[BAD_LEN]++;
		return;
	}
	org = rd64(p + 24);
	idx = (uint32_t)(org & 0xffff);
	if (idx >= s->nslots || s->slots[idx].xmt != org) {
		if (idx < s->nslots && org && s->slots[idx].prev == org)
			r->late++;      /* given up on, or a duplicate */
		else
			r->bad[BAD_ORIGIN]++;
		return;
	}
	sl = &s->slots[idx];
	slot_release(s, idx);
	if (len != NTP_LEN) {
		r->bad[BAD_LEN]++;
		return;
	}
	if (mode != 4) {
		r->bad[BAD_MODE]++;
		return;
	}
	if (vn != o->version) {
		r->bad[BAD_VERSION]++;
		return;
	}
	if (o->clients && reply_dst(h) != sl->src) {
		r->bad[BAD_SOURCE]++;
		return;
	}
	if (p[1] == 0 && is_kiss_code(p + 12)) {
		r->kod++;
		return;
	}
	if (li == 3 || p[1] == 0 || p[1] > 15) {
		r->bad[BAD_UNSYNC]++;
		return;
	}
	if (p[2] != 6) {
		r->bad[BAD_POLL]++;
		return;
	}
	rec = rd64(p + 32);
	xmt = rd64(p + 40);
	if (!rec || !xmt || xmt < rec) {
		r->bad[BAD_TIMES]++;
		return;
	}
	r->valid++;
	hist_add(&r->rtt, (uint64_t)(now - sl->sent_ns));
	/* 32.32 fixed point to ns, exact for differences under 4 s. */
	hist_add(&r->server, ((xmt - rec) * 1000000000ULL) >> 32);
}

/* Reads what is there on s; returns the number of datagrams. */
static int recv_batch(struct sock *s, const struct opts *o, struct result *r)
{
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	int64_t now;
	int i, n;

	memset(msg, 0, sizeof(msg));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = s->rx[i];
		iov[i].iov_len = RXBUF;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		if (o->clients) {
			msg[i].msg_hdr.msg_name = &s->rxname[i];
			msg[i].msg_hdr.msg_namelen = sizeof(s->rxname[i]);
			msg[i].msg_hdr.msg_control = s->rxctl[i];
			msg[i].msg_hdr.msg_controllen = sizeof(s->rxctl[i]);
		}
	}
	n = recvmmsg(s->fd, msg, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	now = mono_ns();
	for (i = 0; i < n; i++) {
		if (o->clients && !same_addr(&s->rxname[i])) {
			r->bad[BAD_SOURCE]++;
			continue;
		}
		check_reply(s, o, &msg[i].msg_hdr, s->rx[i], msg[i].msg_len,
			    now, r);
	}
	return n;
}

/* Requests unanswered for longer than the timeout are lost. */
static void expire(struct sock *s, int64_t now, int64_t timeout_ns,
		   struct result *r)
{
	uint32_t i;

	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].xmt && now - s->slots[i].sent_ns > timeout_ns) {
			r->lost++;
			slot_release(s, i);
		}
}

static uint32_t outstanding(const struct sock *s)
{
	return s->nslots - s->nfree;
}

/* Time of the next scheduled request of s in open loop. */
static int64_t next_due(const struct sock *s, int64_t start, double per_sock)
{
	return start + (int64_t)((double)(s->issued + 1) * 1e9 / per_sock);
}

static void send_due(struct sock *s, const struct opts *o, int64_t now,
		     int64_t start, uint64_t budget, struct result *r)
{
	double per_sock = o->rate / o->sockets;
	uint64_t due, done = 0;
	int k;

	if (o->rate == 0) {
		/* Closed loop: refill every free slot. */
		while (s->nfree && done < budget) {
			k = send_batch(s, o, (int)(budget - done < BATCH ?
						   budget - done : BATCH), r);
			if (k <= 0)
				break;
			done += (uint64_t)k;
		}
		return;
	}
	due = (uint64_t)((double)(now - start) * per_sock / 1e9);
	if (due <= s->issued)
		return;
	due -= s->issued;
	if (due > budget)
		due = budget;
	s->issued += due;
	while (done < due) {
		k = send_batch(s, o, (int)(due - done < BATCH ? due - done :
					   BATCH), r);
		if (k <= 0)
			break;
		done += (uint64_t)k;
	}
	/* Open loop never waits: what could not leave now is an overrun
	 * (all slots busy or the socket buffer full). */
	r->overrun += due - done;
}

/*
 * Seconds this thread waited on a run queue (/proc/self/schedstat, second
 * field): on a shared machine, CPU + wait near 100 % means the load
 * generator never idled, even if other jobs took part of its core.
 */
static double runq_wait_s(void)
{
	unsigned long long on_cpu, wait;
	FILE *f = fopen("/proc/self/schedstat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &on_cpu, &wait);
	fclose(f);
	return n == 2 ? (double)wait / 1e9 : 0;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void run(struct sock *socks, const struct opts *o, struct result *r,
		struct span *sp)
{
	struct pollfd pfd[1024];
	int64_t start, end, now, stop_at = 0, next_exp, wake, tmo_ns;
	double cpu0 = cpu_s(), wait0 = runq_wait_s();
	double per_sock = o->rate / o->sockets;
	uint64_t budget;
	int i, got;

	tmo_ns = (int64_t)o->timeout_ms * 1000000;
	start = mono_ns();
	end = start + (int64_t)(o->duration * 1e9);
	next_exp = start + 10000000;
	for (i = 0; i < o->sockets; i++)
		pfd[i] = (struct pollfd){ .fd = socks[i].fd, .events = POLLIN };
	for (;;) {
		uint32_t busy = 0;

		now = mono_ns();
		if (!stop_at && (stop_flag || (!o->count && now >= end) ||
				 (o->count && r->sent >= o->count))) {
			/* Open loop: what was due before the end still leaves,
			 * so a stall near the end does not shorten the run. */
			for (i = 0; i < o->sockets && o->rate > 0 && !o->count &&
				    !stop_flag; i++)
				send_due(&socks[i], o, end, start, UINT64_MAX, r);
			stop_at = now;
			sp->cpu = cpu_s() - cpu0;
			sp->wait = runq_wait_s() - wait0;
		}
		for (i = 0; i < o->sockets && !stop_at; i++) {
			budget = o->count ? o->count - r->sent : UINT64_MAX;
			send_due(&socks[i], o, now, start, budget, r);
		}
		got = 0;
		for (i = 0; i < o->sockets; i++) {
			got += recv_batch(&socks[i], o, r);
			busy += outstanding(&socks[i]);
		}
		if (stop_at && (busy == 0 || now - stop_at > tmo_ns))
			break;
		if (now >= next_exp) {
			for (i = 0; i < o->sockets; i++)
				expire(&socks[i], now, tmo_ns, r);
			next_exp = now + 10000000;
		}
		if (got)
			continue;
		wake = next_exp;
		if (stop_at && stop_at + tmo_ns < wake)
			wake = stop_at + tmo_ns + 1;
		if (!stop_at && !o->count && end < wake)
			wake = end;
		for (i = 0; i < o->sockets && !stop_at && o->rate > 0; i++)
			if (next_due(&socks[i], start, per_sock) < wake)
				wake = next_due(&socks[i], start, per_sock);
		now = mono_ns();
		if (wake > now) {
			struct timespec ts = { .tv_sec = (wake - now) / 1000000000,
					       .tv_nsec = (wake - now) % 1000000000 };

			ppoll(pfd, (nfds_t)o->sockets, &ts, NULL);
		}
	}
	/* Whatever is still unanswered after the drain is lost. */
	for (i = 0; i < o->sockets; i++)
		r->lost += outstanding(&socks[i]);
	sp->wall = (double)(stop_at - start) / 1e9;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sock *socks = NULL;
	struct result *r = NULL;
	struct span sp = { 0 };
	uint32_t nslots;
	int i, opened, rc = 2;

	if (bench_parse_opts(argc, argv, &o) || resolve_target(&o)) {
		bench_usage(stderr);
		return 2;
	}
	nslots = (uint32_t)o.inflight;
	if (o.rate > 0) {
		/* Room for everything the schedule can have in flight within
		 * the timeout, so overruns mean a real backlog. */
		double need = o.rate / o.sockets * o.timeout_ms / 1000.0 * 2;

		nslots = need > MAX_SLOTS ? MAX_SLOTS :
			 need > nslots ? (uint32_t)need : nslots;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Precise open-loop pacing: ppoll wakes within ~1 us, not 50. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	socks = calloc((size_t)o.sockets, sizeof(*socks));
	r = calloc(1, sizeof(*r));
	if (!socks || !r) {
		fprintf(stderr, "ntpbench: out of memory\n");
		goto out;
	}
	for (opened = 0; opened < o.sockets; opened++)
		if (sock_open(&socks[opened], &o, nslots))
			goto out;
	run(socks, &o, r, &sp);
	bench_report(&o, r, &sp);
	rc = r->valid > 0 && bench_bad_total(r) == 0 ? 0 : 1;
out:
	/* calloc'd: sock_close is safe on slots never opened. */
	for (i = 0; socks && i < o.sockets; i++)
		sock_close(&socks[i]);
	free(socks);
	free(r);
	return rc;
}
