/*
 * MD5 (RFC 1321), only for the RFC 5905 reference ID of an IPv6 system
 * peer (first four octets of the MD5 of its address). Not for security.
 */
#ifndef NTPMC_MD5_H
#define NTPMC_MD5_H

#include <stddef.h>
#include <stdint.h>

void md5_sum(const void *data, size_t len, uint8_t out[16]);

#endif
