/*
 * allow/deny subnets for NTP clients (`allow`/`deny` lines). The longest matching
 * prefix decides; between equal prefixes the later directive wins. With no
 * directive at all everyone is served; once any `allow` exists, an address
 * no directive matches is denied (otherwise it is served).
 */
#ifndef NTPMC_ACL_H
#define NTPMC_ACL_H

#include <stdint.h>
#include <sys/socket.h>

/* One `allow`/`deny` line; "all" is two rules, 0.0.0.0/0 and ::/0. */
struct acl_rule {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order, masked to prefix */
	int prefix;
	int allow;         /* 1 allow, 0 deny */
};

struct acl;

/* NULL with errno set (ENOMEM, or EINVAL on a bad family/prefix). */
struct acl *acl_new(const struct acl_rule *rules, int n);
void acl_free(struct acl *a);
/* 1 if the client may be served. IPv4-mapped IPv6 counts as IPv4. */
int acl_allowed(const struct acl *a, const struct sockaddr *sa);
/* 0 if no reply can reach the source: port 0, or an unspecified, "this
 * network" (0/8), multicast or limited broadcast address (spoofed, or a
 * broken client; a reply would be a send error or a reflection). */
int acl_answerable(const struct sockaddr *sa);

#endif
