/* The cross-check's client sockets: see xcprobe.h. The transmit
 * timestamps follow node/time/sync_poll.c (chrony does the same). */
#include "node/crosscheck/xcprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/base/log.h"
#include "node/ntp/clk.h"

struct xcsock {
	uv_poll_t h;
	int fd;                  /* -1: not open */
	int family;
	int txts;                /* kernel transmit timestamps on */
	uint32_t next_tx;
	struct xcprobe *p;
};

struct xcprobe {
	struct xcsock s4, s6;
	struct xcprobe_cb cb;
	struct xcprobe_stats st;
	int closing;
};

static void drain_errqueue(struct xcsock *s)
{
	for (;;) {
		char cbuf[512];
		struct msghdr m = {
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		const struct sock_extended_err *ee = NULL;
		struct timespec ts = { 0, 0 };
		struct cmsghdr *c;

		if (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPING) {
				struct scm_timestamping sts;

				memcpy(&sts, CMSG_DATA(c), sizeof(sts));
				ts = sts.ts[0];
			} else if ((c->cmsg_level == SOL_IP &&
				    c->cmsg_type == IP_RECVERR) ||
				   (c->cmsg_level == SOL_IPV6 &&
				    c->cmsg_type == IPV6_RECVERR)) {
				ee = (const void *)CMSG_DATA(c);
			}
		}
		if (ee && ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
		    (ts.tv_sec || ts.tv_nsec) && s->p->cb.sent)
			s->p->cb.sent(s->p->cb.arg, s->family, ee->ee_data,
				      clk_raw_from_kernel(&ts));
	}
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct xcsock *s = h->data;
	struct xcprobe *p = s->p;

	(void)events;
	/* A late transmit timestamp raises POLLERR, on which libuv stops
	 * the handle: collect it and watch again. */
	drain_errqueue(s);
	if (status < 0) {
		uv_poll_start(h, UV_READABLE, on_readable);
		if (status != UV_EBADF)
			return;
	}
	for (;;) {
		uint8_t buf[256];
		char cbuf[256];
		struct sockaddr_storage from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		int64_t t4 = 0;
		ssize_t n = recvmsg(s->fd, &m, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				p->st.rx_errors++;
			return;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				t4 = clk_raw_from_kernel(&ts);
			}
		if (!t4)
			t4 = clk_raw_ns();
		p->st.received++;
		/* A longer datagram is not ours: it shows as truncated. */
		if (m.msg_flags & MSG_TRUNC)
			continue;
		p->cb.reply(p->cb.arg, &from, buf, (size_t)n, t4);
	}
}

static int open_sock(uv_loop_t *loop, struct xcsock *s, int family,
		     const char *bind4)
{
	int one = 1, fd;
	int tsf = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		  SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;

	s->family = family;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		log_warn("cross-check: SO_TIMESTAMPNS");
	s->txts = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsf,
			     sizeof(tsf)) == 0;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (family == AF_INET && bind4 && *bind4) {
		struct sockaddr_in a = { .sin_family = AF_INET };

		/* The overlay address may not exist yet: the mesh is applied
		 * after start, or re-applied later. */
		if (inet_pton(AF_INET, bind4, &a.sin_addr) != 1 ||
		    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
			       sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			int e = errno ? errno : EINVAL;

			log_warnx("cross-check: cannot bind the overlay "
				  "address %s: %s", bind4, strerror(e));
			close(fd);
			return -e;
		}
	}
	if (uv_poll_init(loop, &s->h, fd) < 0) {
		close(fd);
		return -EIO;
	}
	s->fd = fd;
	s->h.data = s;
	uv_poll_start(&s->h, UV_READABLE, on_readable);
	return 0;
}

struct xcprobe *xcprobe_open(uv_loop_t *loop, const char *bind4,
			     const struct xcprobe_cb *cb)
{
	struct xcprobe *p = calloc(1, sizeof(*p));

	if (!p) {
		log_warnx("cross-check: out of memory");
		return NULL;
	}
	p->cb = *cb;
	p->s4.p = p->s6.p = p;
	p->s4.fd = p->s6.fd = -1;
	if (open_sock(loop, &p->s4, AF_INET, bind4) < 0) {
		log_warnx("cross-check: no IPv4 socket");
		free(p);
		return NULL;
	}
	/* IPv6 only when there is some: members may well be IPv4 only. */
	if (open_sock(loop, &p->s6, AF_INET6, NULL) < 0)
		p->s6.fd = -1;
	return p;
}

int xcprobe_send(struct xcprobe *p, const struct sockaddr *to,
		 socklen_t tolen, const uint8_t *buf, size_t len,
		 int64_t *t1_raw, uint32_t *tx_id, int *has_tx)
{
	struct xcsock *s = to->sa_family == AF_INET6 ? &p->s6 : &p->s4;

	*has_tx = 0;
	if (s->fd < 0 || p->closing)
		return -EAFNOSUPPORT;
	*t1_raw = clk_raw_ns();
	if (sendto(s->fd, buf, len, 0, to, tolen) < 0) {
		p->st.send_errors++;
		return -errno;
	}
	p->st.sent++;
	/* The kernel's time arrives on the error queue, which wakes the
	 * poll handle: after the caller recorded the request. */
	if (s->txts) {
		*tx_id = s->next_tx++;
		*has_tx = 1;
	}
	return 0;
}

void xcprobe_stats(const struct xcprobe *p, struct xcprobe_stats *out)
{
	*out = p->st;
}

static void closed(uv_handle_t *h)
{
	struct xcsock *s = h->data;
	struct xcprobe *p = s->p;

	close(s->fd);
	s->fd = -1;
	if (p->s4.fd < 0 && p->s6.fd < 0)
		free(p);
}

void xcprobe_close(struct xcprobe *p)
{
	int open4, open6;

	if (!p)
		return;
	p->closing = 1;
	open4 = p->s4.fd >= 0;
	open6 = p->s6.fd >= 0;
	if (!open4 && !open6) {
		free(p);
		return;
	}
	if (open4)
		uv_close((uv_handle_t *)&p->s4.h, closed);
	if (open6)
		uv_close((uv_handle_t *)&p->s6.h, closed);
}
