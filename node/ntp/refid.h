/*
 * RFC 5905 reference ID of an upstream server: its IPv4 address, or for
 * IPv6 the first four octets of the MD5 of its address (section 7.3).
 */
#ifndef NTPMC_REFID_H
#define NTPMC_REFID_H

#include <stdint.h>
#include <sys/socket.h>

/* Host order, as struct tstate keeps it; 0 for an unknown family. */
uint32_t refid_of_addr(const struct sockaddr *sa);

#endif
