/*
 * The engine's UDP sockets (one per address family): requests go out on a
 * slot's poll timer, replies come back with kernel receive timestamps and
 * are handed to the slot's source; a good sample re-runs the selection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <time.h>
#include <unistd.h>

#include "node/base/log.h"
#include "node/time/sync_int.h"

#include "node/base/wirelen.h"

/*
 * Kernel transmit timestamps come back on the error queue, tagged with the
 * socket's running packet counter (SOF_TIMESTAMPING_OPT_ID). Our t1 then
 * is the kernel's instant, not a reading before the send syscall (chrony
 * does the same; the difference is tens of microseconds on a busy host).
 */
static void drain_errqueue(struct sync *sy, int fd, int family)
{
	for (;;) {
		char cbuf[512];
		struct msghdr m = {
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		const struct sock_extended_err *ee = NULL;
		struct timespec ts = { 0, 0 };
		int i;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
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
		if (!ee || ee->ee_origin != SO_EE_ORIGIN_TIMESTAMPING ||
		    (!ts.tv_sec && !ts.tv_nsec))
			continue;
		for (i = 0; i < sy->n_slot; i++) {
			struct sync_slot *sl = &sy->slot[i];

			if (sl->tx_pending && sl->tx_id == ee->ee_data &&
			    sl->addr.ss_family == family) {
				source_tx_time(sl->src, clk_raw_from_kernel(&ts));
				sl->tx_pending = 0;
				break;
			}
		}
	}
}

static void send_poll(uv_timer_t *t)
{
	struct sync_slot *sl = t->data;
	struct sync *sy = sl->sy;
	uint8_t req[48];
	int fd = sl->addr.ss_family == AF_INET6 ? sy->fd6 : sy->fd4;
	int64_t next;

	if (!sl->have_addr)
		return;
	sl->polls++;
	next = source_request(sl->src, req, clk_raw_ns());
	sl->tx_pending = 0;
	if (fd < 0 || sendto(fd, req, sizeof(req), 0,
			     (struct sockaddr *)&sl->addr, sl->addrlen) < 0) {
		sy->tx_errors++;
		goto sent;
	}
	sy->tx_ip_bytes += wirelen_udp((struct sockaddr *)&sl->addr,
				       sizeof(req));
	if (fd == sy->fd4 ? sy->txts4 : sy->txts6) {
		uint32_t *id = fd == sy->fd4 ? &sy->txid4 : &sy->txid6;

		sl->tx_id = (*id)++;
		sl->tx_pending = 1;
		/* On loopback and most drivers the timestamp is already there. */
		drain_errqueue(sy, fd, sl->addr.ss_family);
	}
sent:
	{
		struct source_info info;

		source_get_info(sl->src, &info);
		if (info.denied)
			return; /* DENY/RSTR: never poll it again */
	}
	uv_timer_start(&sl->timer, send_poll, sync_ns_to_ms(next), 0);
}

void sync_poll_arm(struct sync_slot *sl, uint64_t ms)
{
	uv_timer_start(&sl->timer, send_poll, ms, 0);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct sync *sy = h->data;
	int fd = h == &sy->poll4 ? sy->fd4 : sy->fd6;

	(void)events;
	/* A late transmit timestamp raises POLLERR, on which libuv stops
	 * the handle: collect it and watch the socket again. */
	drain_errqueue(sy, fd, h == &sy->poll4 ? AF_INET : AF_INET6);
	if (status < 0) {
		uv_poll_start(h, UV_READABLE, on_readable);
		if (status != UV_EBADF)
			return;
	}
	for (;;) {
		uint8_t buf[1024];
		char cbuf[256];
		struct sockaddr_storage from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		struct sync_slot *sl;
		int64_t t4 = 0;
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				sy->rx_errors++;
			if (errno == EINTR)
				continue;
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
		sl = sync_slot_for(sy, &from);
		if (!sl) {
			sy->rx_unknown++;
			continue;
		}
		switch (source_reply(sl->src, buf, (size_t)n, t4, sy->disc)) {
		case SOURCE_OK:
			sync_select_run(sy, 1);
			break;
		case SOURCE_KOD_RATE:
			log_warnx("sync: %s sent KoD RATE: polling less often",
				  sl->addr_str);
			break;
		case SOURCE_KOD_DENY:
			log_warnx("sync: %s sent KoD DENY/RSTR: not used any more",
				  sl->addr_str);
			uv_timer_stop(&sl->timer);
			sync_select_run(sy, 0);
			break;
		default:
			break;
		}
	}
}

int sync_poll_open(struct sync *sy, int family, uv_poll_t *h, int *txts)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	int tsf = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		  SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		log_warn("sync: SO_TIMESTAMPNS");
	*txts = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsf,
			   sizeof(tsf)) == 0;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (uv_poll_init(sy->loop, h, fd) < 0) {
		close(fd);
		return -1;
	}
	h->data = sy;
	sy->open_handles++;
	uv_poll_start(h, UV_READABLE, on_readable);
	return fd;
}
