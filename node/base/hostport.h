/*
 * hostport: the one parser and formatter of "host:port" in the daemon.
 *
 * The forms are those of a URI's authority (RFC 3986 section 3.2.2):
 * "192.0.2.1:123", "name.example:123" and "[2001:db8::1]:123"; an IPv6
 * literal is always in brackets, which set its colons apart from the
 * port's, and only an IPv6 literal is. Ports are decimal, 1..65535.
 * Nothing here ever asks DNS or the interfaces: hostport_to_sa() takes
 * numeric hosts only, so it gives the same answer on every member.
 */
#ifndef NTPMC_HOSTPORT_H
#define NTPMC_HOSTPORT_H

#include <stddef.h>
#include <sys/socket.h>

/* Room for any hostport_from_sa() text: "[" v6 "]:" port. */
#define HOSTPORT_SA_LEN 56

/*
 * "host", "host:port", "[v6]" or "[v6]:port" -> host (without brackets)
 * and port (0 when there is none). -EINVAL: empty host, a port that is
 * not 1..65535, an IPv6 literal without brackets or brackets around
 * anything else, or a host longer than hostlen - 1.
 */
int hostport_split(const char *s, char *host, size_t hostlen,
		   unsigned *port);
/* host and port -> "host:port" ("[host]:port" when host holds a ':');
 * port 0: the host alone, bracketed the same way. -ENOSPC: too long. */
int hostport_join(const char *host, unsigned port, char *out, size_t len);

/* Numeric "a.b.c.d:port" or "[v6]:port" -> ss. -EINVAL for anything
 * else: host names, and IPv6 zones ("%eth0" would read differently on
 * each machine, and a replicated address must not). */
int hostport_to_sa(const char *s, struct sockaddr_storage *ss);
/* ss (AF_INET or AF_INET6) -> "a.b.c.d:port" / "[v6]:port"; out. */
char *hostport_from_sa(const struct sockaddr *sa, char *out, size_t len);

#endif
