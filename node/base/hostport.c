/* hostport: "host:port" parsed and formatted in one place (hostport.h). */
#include "node/base/hostport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decimal digits only (no sign, no blanks), 1..65535. */
static int parse_port(const char *p, unsigned *port)
{
	unsigned long v = 0;
	const char *q;

	if (*p == '\0')
		return -EINVAL;
	for (q = p; *q; q++) {
		if (*q < '0' || *q > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*q - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

int hostport_split(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *h, *rest;
	size_t hl;

	if (s == NULL)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		rest = close + 1;
		/* brackets hold an IPv6 literal, nothing else */
		if (!memchr(h, ':', hl) || memchr(h, '[', hl))
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');

		h = s;
		hl = colon ? (size_t)(colon - s) : strlen(s);
		rest = s + hl;
		/* a second colon: an IPv6 literal without its brackets, where
		 * the port cannot be told from the address */
		if (colon && strchr(colon + 1, ':'))
			return -EINVAL;
		if (memchr(h, '[', hl) || memchr(h, ']', hl))
			return -EINVAL;
	}
	if (hl == 0 || hl >= hostlen)
		return -EINVAL;
	*port = 0;
	if (*rest != '\0' && (*rest != ':' || parse_port(rest + 1, port) < 0))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

int hostport_join(const char *host, unsigned port, char *out, size_t len)
{
	int v6 = strchr(host, ':') != NULL, n;

	if (port > 65535)
		return -EINVAL;
	if (port)
		n = snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", host, port);
	else
		n = snprintf(out, len, v6 ? "[%s]" : "%s", host);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int hostport_to_sa(const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	if (hostport_split(s, host, sizeof(host), &port) != 0 || port == 0)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!strchr(host, ':')) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

char *hostport_from_sa(const struct sockaddr *sa, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		snprintf(out, len, "?");
	}
	return out;
}
