/* The serving threads' sockets: see serve_sock.h. */
#include "node/serve/serve_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

#include "node/base/hostport.h"
#include "node/base/log.h"
#include "node/serve/serve.h"

#define RCVBUF_BYTES (1 << 20)

int serve_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
		&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* A socket for one address; reuseport for the serving group. */
int serve_sock_open(const struct serve_addr *a, int reuseport)
{
	int fd, one = 1, rcvbuf = RCVBUF_BYTES, err;
	struct timeval tmo = { SERVE_WAKE_MS / 1000, 0 };
	int fam = a->ss.ss_family;

	/* Blocking: a thread with one socket sleeps in recvmmsg itself;
	 * every other call passes MSG_DONTWAIT. */
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		goto fail;
	if (!reuseport)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		goto fail;
	if (a->wildcard && fam == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		goto fail;
	if (a->wildcard && fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		       sizeof(one)) < 0)
		goto fail;
	/* Bounds a blocked recvmmsg: the thread wakes at least this often
	 * (serve_stalled), and a missed shutdown() from serve_stop too. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0)
		goto fail;
	/* Best effort: absorbs bursts; not fatal if capped by rmem_max. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/*
 * Probe each address without SO_REUSEPORT: a bind that succeeds proves
 * nobody (another ntpnode, chronyd, ntpd) holds it, so our reuseport group
 * will not silently share the traffic. Port 0 (tests) is resolved here.
 */
int serve_sock_probe(struct serve_addr *a)
{
	char buf[HOSTPORT_SA_LEN];
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	int fd = serve_sock_open(a, 0);

	if (fd < 0) {
		hostport_from_sa((const struct sockaddr *)&a->ss, buf,
				 sizeof(buf));
		if (errno == EADDRINUSE)
			log_warnx("cannot bind %s: in use by another process "
				  "(a second ntpnode, or another NTP server)",
				  buf);
		else
			log_warn("cannot bind %s", buf);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&got, &len) < 0) {
		log_warn("getsockname");
		close(fd);
		return -1;
	}
	set_port(&a->ss, get_port(&got));
	close(fd);
	return 0;
}

