/*
 * Access control: rules sorted once by prefix length (longest first, later
 * directive first among equals), so the first match decides. A linear scan
 * per request is fine for the few rules a server has (SERVE_MAX_ACL caps it).
 */
#include "node/serve/acl.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct acl_entry {
	uint8_t addr[16];
	int prefix;
	int allow;
	int order;      /* position in the config: later wins a tie */
};

struct acl {
	struct acl_entry *v4, *v6;
	int n4, n6;
	int default_allow;
};

static int rule_cmp(const void *pa, const void *pb)
{
	const struct acl_entry *a = pa, *b = pb;

	if (a->prefix != b->prefix)
		return b->prefix - a->prefix;
	return b->order - a->order;
}

struct acl *acl_new(const struct acl_rule *rules, int n)
{
	struct acl *a = calloc(1, sizeof(*a));
	int i, any_allow = 0;

	if (!a)
		goto nomem;
	if (n > 0) {
		a->v4 = calloc((size_t)n, sizeof(*a->v4));
		a->v6 = calloc((size_t)n, sizeof(*a->v6));
		if (!a->v4 || !a->v6)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		const struct acl_rule *s = &rules[i];
		struct acl_entry *r;

		if (s->family == AF_INET && s->prefix >= 0 && s->prefix <= 32)
			r = &a->v4[a->n4++];
		else if (s->family == AF_INET6 && s->prefix >= 0 &&
			 s->prefix <= 128)
			r = &a->v6[a->n6++];
		else {
			acl_free(a);
			errno = EINVAL;
			return NULL;
		}
		memcpy(r->addr, s->addr, sizeof(r->addr));
		r->prefix = s->prefix;
		r->allow = s->allow;
		r->order = i;
		any_allow |= s->allow;
	}
	if (a->n4)
		qsort(a->v4, (size_t)a->n4, sizeof(*a->v4), rule_cmp);
	if (a->n6)
		qsort(a->v6, (size_t)a->n6, sizeof(*a->v6), rule_cmp);
	a->default_allow = !any_allow;
	return a;
nomem:
	acl_free(a);
	errno = ENOMEM;
	return NULL;
}

void acl_free(struct acl *a)
{
	if (!a)
		return;
	free(a->v4);
	free(a->v6);
	free(a);
}

static int match(const uint8_t *addr, const struct acl_entry *r)
{
	int full = r->prefix / 8, bits = r->prefix % 8;
	uint8_t mask;

	if (memcmp(addr, r->addr, (size_t)full) != 0)
		return 0;
	if (bits == 0)
		return 1;
	mask = (uint8_t)(0xff00 >> bits);
	return (addr[full] & mask) == (r->addr[full] & mask);
}

int acl_allowed(const struct acl *a, const struct sockaddr *sa)
{
	const struct acl_entry *rules;
	const uint8_t *addr;
	int i, n;

	if (sa->sa_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		rules = a->v4;
		n = a->n4;
	} else if (sa->sa_family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		rules = a->v6;
		n = a->n6;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
			addr += 12;
			rules = a->v4;
			n = a->n4;
		}
	} else {
		return 0;
	}
	for (i = 0; i < n; i++)
		if (match(addr, &rules[i]))
			return rules[i].allow;
	return a->default_allow;
}

static int answerable_v4(const uint8_t *a)
{
	return a[0] != 0 &&                       /* 0.0.0.0/8 */
	       (a[0] & 0xf0) != 0xe0 &&           /* 224.0.0.0/4 */
	       !(a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
}

int acl_answerable(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		return s4->sin_port != 0 &&
		       answerable_v4((const uint8_t *)&s4->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const struct in6_addr *a = &s6->sin6_addr;

		if (s6->sin6_port == 0)
			return 0;
		if (IN6_IS_ADDR_V4MAPPED(a))
			return answerable_v4(a->s6_addr + 12);
		return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a);
	}
	return 0;
}
