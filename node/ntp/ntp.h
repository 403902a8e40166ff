/*
 * NTP packet codec (RFC 5905, RFC 7822): pure functions, no sockets and no
 * clock. The serving threads classify a request, build the reply into their
 * own buffer and write the transmit timestamp last, just before the send.
 */
#ifndef NTPMC_NTP_H
#define NTPMC_NTP_H

#include <stddef.h>
#include <stdint.h>

#include "node/ntp/tstate.h"

#define NTP_HDR_LEN 48
#define NTP_MODE_CLIENT 3
#define NTP_MODE_SERVER 4
#define NTP_LEAP_UNSYNC 3
/* "RATE" kiss code (RFC 5905 7.4), host order. */
#define NTP_KOD_RATE 0x52415445u
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_OFFSET 2208988800LL

struct ntp_hdr {
	uint8_t leap, version, mode, stratum;
	int8_t poll, precision;
	uint32_t root_delay;   /* short format, 16.16 seconds */
	uint32_t root_disp;
	uint32_t refid;        /* host order */
	uint64_t ref, org, rec, xmt; /* 32.32 timestamps */
};

/* Why a datagram is answered or not; serve.c maps these to counters. */
enum ntp_class {
	NTP_CLIENT,        /* client request: answer (48-byte reply) */
	NTP_DROP_SHORT,    /* < 48 bytes, malformed ext fields or trailer */
	NTP_DROP_VERSION,  /* version 0 or > 4 */
	NTP_DROP_MODE,     /* anything but a client request */
	NTP_DROP_CONTROL,  /* mode 6 or 7 */
	NTP_DROP_AUTH,     /* MAC or NTS authenticator we cannot verify */
};

/* buf holds at least NTP_HDR_LEN bytes. */
void ntp_decode(const uint8_t *buf, struct ntp_hdr *h);
void ntp_encode(const struct ntp_hdr *h, uint8_t *buf);
enum ntp_class ntp_classify(const uint8_t *buf, size_t len);

/* 32.32 NTP timestamp of a Unix time in ns; the era is dropped. */
uint64_t ntp_ts_from_ns(int64_t unix_ns);
/* Unix ns of a timestamp, in the era that puts it nearest pivot_ns. */
int64_t ntp_ts_to_ns(uint64_t ts, int64_t pivot_ns);
/* 16.16 short format, rounded up and saturated. */
uint32_t ntp_short_from_s(double s);
double ntp_short_to_s(uint32_t v);

/*
 * Reply to a request that ntp_classify() called NTP_CLIENT: always
 * NTP_HDR_LEN bytes (never longer than the request), mode 4, the request's
 * version and poll, origin = the request's transmit timestamp, receive =
 * rx_ns (served time). The transmit timestamp is left 0 for ntp_set_xmt().
 * Returns the reply length.
 */
size_t ntp_build_reply(const uint8_t *req, const struct tstate *st,
		       int64_t rx_ns, uint8_t *out);
/* KoD RATE (LI 3, stratum 0, refid "RATE"), same length and echo rules. */
size_t ntp_build_kod(const uint8_t *req, const struct tstate *st,
		     int64_t rx_ns, uint8_t *out);
void ntp_set_xmt(uint8_t *reply, int64_t tx_ns);

#endif
