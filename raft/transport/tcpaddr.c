/* Numeric cluster addresses (raft/transport/tcp.h). */
#include "raft/transport/tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_MAX 300

int tcp_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[ADDR_MAX];
	const char *colon, *h, *p;
	char *end;
	size_t hl;
	long port;

	if (s == NULL || strlen(s) >= ADDR_MAX)
		return -EINVAL;
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(colon - h);
		p = colon + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			return -EINVAL;
		h = s;
		hl = (size_t)(colon - s);
		p = colon + 1;
	}
	if (hl == 0 || *p == '\0')
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(p, &end, 10);
	if (errno != 0 || *end != '\0' || port < 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[')
		return uv_ip6_addr(host, (int)port,
				   (struct sockaddr_in6 *)ss) == 0
			       ? 0
			       : -EINVAL;
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0
		       ? 0
		       : -EINVAL;
}
