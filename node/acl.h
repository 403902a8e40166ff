/*
 * allow/deny subnets for NTP clients (conf.acl). The longest matching
 * prefix decides; between equal prefixes the later directive wins. With no
 * directive at all everyone is served; once any `allow` exists, an address
 * no directive matches is denied (otherwise it is served).
 */
#ifndef NTPMC_ACL_H
#define NTPMC_ACL_H

#include <sys/socket.h>

#include "node/conf.h"

struct acl;

/* NULL with errno set (ENOMEM, or EINVAL on a bad family/prefix). */
struct acl *acl_new(const struct conf_subnet *rules, int n);
void acl_free(struct acl *a);
/* 1 if the client may be served. IPv4-mapped IPv6 counts as IPv4. */
int acl_allowed(const struct acl *a, const struct sockaddr *sa);
/* 0 if no reply can reach the source: port 0, or an unspecified, "this
 * network" (0/8), multicast or limited broadcast address (spoofed, or a
 * broken client; a reply would be a send error or a reflection). */
int acl_answerable(const struct sockaddr *sa);

#endif
