/*
 * Test-only private hosts file (`hostsfile PATH`): "ADDRESS NAME..." lines
 * like /etc/hosts. When it is configured, upstream and pool names are
 * resolved from it alone, so that no DNS query ever leaves the machine.
 */
#ifndef NTPMC_HOSTS_H
#define NTPMC_HOSTS_H

#include <stdint.h>
#include <sys/socket.h>

/*
 * Up to max addresses for name, in file order, port set. Returns the
 * count (0: name not in the file), or -1 if the file cannot be read.
 */
int hosts_lookup(const char *path, const char *name, uint16_t port,
		 struct sockaddr_storage *out, int max);
/* Numeric IPv4/IPv6 literal to an address with port; 0 or -1. */
int hosts_numeric(const char *s, uint16_t port, struct sockaddr_storage *out);

#endif
