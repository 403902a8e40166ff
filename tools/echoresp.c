/*
 * echoresp: the benchmark's reference for "how fast can a trivial server
 * go". Batched recvmmsg/sendmmsg with kernel receive timestamps, and just
 * enough of an NTP reply for ntpbench to accept it: mode 4, the request's
 * version and poll, origin = the request's transmit timestamp, receive and
 * transmit timestamps. No NTP logic: no rate limit, no access control, no
 * time state. Never for the world: it answers anything of 48+ bytes.
 *
 *   echoresp [-a ADDR] [-p PORT] [-f FAULT]
 * PORT 0 (default) picks a free one; prints "port N" on stdout once it
 * listens, runs until SIGTERM/SIGINT. -f breaks every reply on purpose
 * (origin, mode, version, long, unsync, kod) so that tests can check that
 * ntpbench's validation catches it.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define NTP_LEN 48
#define NTP_UNIX_DELTA 2208988800ULL

enum fault { F_NONE, F_ORIGIN, F_MODE, F_VERSION, F_LONG, F_UNSYNC, F_KOD };
static const char *fault_names[] = {
	"none", "origin", "mode", "version", "long", "unsync", "kod", NULL,
};

static volatile sig_atomic_t stop_flag;
static enum fault fault;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void wr_ts(uint8_t *p, const struct timespec *ts)
{
	uint64_t v = ((uint64_t)ts->tv_sec + NTP_UNIX_DELTA) << 32 |
		     ((uint64_t)ts->tv_nsec << 32) / 1000000000ULL;
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int open_socket(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      AI_PASSIVE };
	struct addrinfo *ai;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct timeval tmo = { .tv_usec = 200000 };
	int fd = -1, one = 1, buf = 4 << 20, rc;

	rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "echoresp: bad address %s port %s: %s\n", addr,
			port, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		perror("echoresp: socket");
		if (fd >= 0)
			close(fd);
		fd = -1;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	printf("port %u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
out:
	freeaddrinfo(ai);
	return fd;
}

static void rx_time(struct msghdr *h, struct timespec *ts)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(ts, CMSG_DATA(cm), sizeof(*ts));
			return;
		}
	/* No kernel timestamp: the user-space time is the next best. */
	clock_gettime(CLOCK_REALTIME, ts);
}

/* Returns the length to send. Test use only (-f). */
static size_t break_reply(uint8_t *p)
{
	switch (fault) {
	case F_ORIGIN: p[24] ^= 1; break;   /* seconds: matches nothing */
	case F_MODE: p[0] = (p[0] & ~7) | 5; break;
	case F_VERSION: p[0] ^= 0x08; break;
	case F_LONG: return NTP_LEN - 4;
	case F_UNSYNC: p[0] |= 0xc0; break;
	case F_KOD: p[1] = 0; memcpy(p + 12, "RATE", 4); break;
	default: break;
	}
	return NTP_LEN;
}

static int serve(int fd)
{
	static uint8_t buf[BATCH][NTP_LEN];
	static uint8_t reply[BATCH][NTP_LEN];
	static char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	static struct sockaddr_storage name[BATCH];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct timespec ts;
	int i, n, k;

	while (!stop_flag) {
		for (i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], NTP_LEN };
			in[i].msg_hdr = (struct msghdr){
				.msg_name = &name[i],
				.msg_namelen = sizeof(name[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = ctl[i],
				.msg_controllen = sizeof(ctl[i]) };
		}
		/* Blocks for the first datagram only; a signal (no
		 * SA_RESTART) or SO_RCVTIMEO wakes it to see stop_flag. */
		n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == EWOULDBLOCK)
				continue;
			perror("echoresp: recvmmsg");
			return 1;
		}
		for (i = k = 0; i < n; i++) {
			uint8_t *q = buf[i], *p = reply[k];

			if (in[i].msg_len < NTP_LEN)
				continue;
			memset(p, 0, NTP_LEN);
			p[0] = (uint8_t)(q[0] & 0x38) | 4;  /* LI 0, VN, mode 4 */
			p[1] = 1;                           /* stratum 1 */
			p[2] = q[2];                        /* poll */
			p[3] = (uint8_t)-20;
			memcpy(p + 12, "ECHO", 4);
			rx_time(&in[i].msg_hdr, &ts);
			wr_ts(p + 16, &ts);                 /* reference */
			memcpy(p + 24, q + 40, 8);          /* origin */
			wr_ts(p + 32, &ts);                 /* receive */
			oiov[k] = (struct iovec){ p, NTP_LEN };
			if (fault)
				oiov[k].iov_len = break_reply(p);
			out[k].msg_hdr = (struct msghdr){
				.msg_name = &name[i],
				.msg_namelen = in[i].msg_hdr.msg_namelen,
				.msg_iov = &oiov[k], .msg_iovlen = 1 };
			k++;
		}
		/* One transmit time for the batch, as late as possible. */
		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < k; i++)
			wr_ts(reply[i] + 40, &ts);
		if (k && sendmmsg(fd, out, (unsigned)k, 0) < 0 &&
		    errno != EAGAIN && errno != ECONNREFUSED)
			perror("echoresp: sendmmsg");
	}
	return 0;
}

static const char usage[] =
	"usage: echoresp [-a ADDR] [-p PORT] [-f FAULT]\n";

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *port = "0";
	struct sigaction sa = { .sa_handler = on_signal };
	int c, fd, rc;

	while ((c = getopt(argc, argv, "a:p:f:h")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = optarg; break;
		case 'f':
			for (fault = F_NONE; fault_names[fault]; fault++)
				if (strcmp(fault_names[fault], optarg) == 0)
					break;
			if (!fault_names[fault]) {
				fprintf(stderr, "echoresp: unknown fault '%s'\n",
					optarg);
				return 2;
			}
			break;
		default:
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = open_socket(addr, port);
	if (fd < 0)
		return 1;
	rc = serve(fd);
	close(fd);
	return rc;
}
