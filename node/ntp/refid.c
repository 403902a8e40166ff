#include "node/ntp/refid.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "node/ntp/md5.h"

uint32_t refid_of_addr(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6;
	uint8_t d[16];

	if (sa->sa_family == AF_INET)
		return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	if (sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)sa;
	/* An IPv4-mapped address is really an IPv4 peer. */
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return (uint32_t)s6->sin6_addr.s6_addr[12] << 24 |
		       (uint32_t)s6->sin6_addr.s6_addr[13] << 16 |
		       (uint32_t)s6->sin6_addr.s6_addr[14] << 8 |
		       s6->sin6_addr.s6_addr[15];
	md5_sum(s6->sin6_addr.s6_addr, 16, d);
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	       (uint32_t)d[2] << 8 | d[3];
}
