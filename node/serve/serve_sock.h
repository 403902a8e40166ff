/*
 * The serving threads' sockets (serve.c): one address to bind, how each is
 * opened (SO_REUSEPORT, kernel receive timestamps, pktinfo on wildcards)
 * and the probe-bind that refuses an address another process holds.
 */
#ifndef NTPMC_SERVE_SOCK_H
#define NTPMC_SERVE_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct serve_addr {
	struct sockaddr_storage ss;  /* with the bound port */
	socklen_t len;
	int wildcard;                /* needs pktinfo to answer */
};

int serve_is_wildcard(const struct sockaddr_storage *ss);
/* A socket bound to a; reuseport: one of the serving group (timestamps,
 * pktinfo, receive timeout and buffer). -1 and errno on failure. */
int serve_sock_open(const struct serve_addr *a, int reuseport);
/* Binds a without SO_REUSEPORT and lets it go: 0 when nobody holds it
 * (port 0 is resolved into a); -1 after logging why. */
int serve_sock_probe(struct serve_addr *a);

#endif
