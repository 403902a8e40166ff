/*
 * wirelen: what a packet costs on the wire at the IP layer (IP header +
 * UDP or TCP header + payload, no link-layer header), the unit egress is
 * counted and billed in (node/cost). An NTP reply of 48 bytes is 76 B over
 * IPv4 and 96 B over IPv6.
 *
 * Estimates, stated as such: a TCP segment is counted with a 32-byte TCP
 * header (20 + the timestamps option Linux sends by default, RFC 7323
 * section 3, padded to 12), a WireGuard data packet per the WireGuard paper
 * section 5.4.6 (16-byte header, inner packet padded to 16, 16-byte tag,
 * inside outer UDP/IP).
 */
#ifndef NTPMC_WIRELEN_H
#define NTPMC_WIRELEN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define WIRELEN_IP4 20
#define WIRELEN_IP6 40
#define WIRELEN_UDP 8
#define WIRELEN_TCP 32
#define WIRELEN_WG_HDR 16
#define WIRELEN_WG_TAG 16
#define WIRELEN_TCP_MSS4 1448	/* 1500 - 20 - 32 */

/* 1 when a datagram to dst leaves as IPv4 (AF_INET, or an IPv4-mapped
 * IPv6 address on a dual-stack socket). */
static inline int wirelen_is_v4(const struct sockaddr *dst)
{
	const char *p = (const char *)dst;
	struct in6_addr a;
	sa_family_t family;

	/* Read by bytes: the caller's object is a sockaddr_in, _in6 or
	 * _storage, and gcc 12 at -O2 flags a member read through another
	 * of those types (uninitialized, out of bounds). */
	memcpy(&family, p + offsetof(struct sockaddr, sa_family),
	       sizeof(family));
	if (family != AF_INET6)
		return 1;
	memcpy(&a, p + offsetof(struct sockaddr_in6, sin6_addr), sizeof(a));
	return IN6_IS_ADDR_V4MAPPED(&a);
}

/* IP bytes of one UDP datagram of payload bytes to dst. */
static inline uint32_t wirelen_udp(const struct sockaddr *dst, size_t payload)
{
	return (uint32_t)payload + WIRELEN_UDP +
	       (wirelen_is_v4(dst) ? WIRELEN_IP4 : WIRELEN_IP6);
}

/* IP bytes of the outer WireGuard packet that carries an inner IP packet
 * of inner bytes (outer IPv4 unless outer_v6). */
uint32_t wirelen_wg(int outer_v6, size_t inner);

/* IP bytes of payload bytes written to a TCP connection as one write:
 * ceil(payload / mss) segments (*segments, when not NULL), each with its
 * IP and TCP header. mss 0: WIRELEN_TCP_MSS4. */
uint64_t wirelen_tcp(int v6, size_t payload, size_t mss, uint64_t *segments);

/* IP bytes of an IPv4 TCP stream's packets: bytes of payload in
 * packets TCP packets, each with its IP and TCP header; seg_len16[] counts
 * the segments that carry payload by its length mod 16, the rest of the
 * packets (packets minus their sum) are bare (ACKs, SYN, FIN). With wg,
 * each inside an outer WireGuard packet (wirelen_wg, outer IPv4), whose
 * padding of the inner packet to 16 bytes the lengths mod 16 make exact:
 * a bare ACK (52 B) is 124 B on the wire, not 52 + 68. */
uint64_t wirelen_tcp_stream(int wg, uint64_t bytes,
			    const uint64_t seg_len16[16], uint64_t packets);

#endif
