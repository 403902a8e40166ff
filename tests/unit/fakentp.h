/*
 * A fake NTP server for engine tests: a libuv UDP socket on 127.0.0.1
 * (ephemeral port) answering each request at the raw clock + offset, as a
 * stratum-1 server. Options: a wrong origin (spoof), silence, the root
 * delay it announces, and a leap second at its own midnight leap_at:
 * inserted (LI 1 before it, 23:59:59 twice) or, with leap_li 2, deleted
 * (LI 2 before it, 23:59:59 skipped).
 */
#ifndef NTPMC_TEST_FAKENTP_H
#define NTPMC_TEST_FAKENTP_H

#include <stdint.h>
#include <uv.h>

struct fakentp {
	uv_udp_t h;
	double offset;     /* from the node's raw clock, s */
	int spoof;         /* answer with a wrong origin instead */
	double root_delay; /* announced, s */
	int silent;        /* answer nothing (a server gone away) */
	int64_t leap_at;   /* Unix ns of the leap's midnight, 0 none */
	int leap_li;       /* 2: delete; otherwise insert */
	int answered;
	uint8_t pkt[48];
};

/* Binds and starts answering; returns the port (asserts on failure).
 * The caller sets offset/spoof/leap_at before or after. */
uint16_t fakentp_start(struct fakentp *f, uv_loop_t *loop);
void fakentp_close(struct fakentp *f);

#endif
