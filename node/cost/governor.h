/*
 * governor: the egress governor's rate, pure. A member whose provider
 * gives an allowance gets a share of it for the month; the governor
 * paces its public NTP replies so that what is left of the share lasts
 * to the month's end: (share - used) / seconds left, minus what the
 * other classes (overlay and upstream traffic, never limited) send. The
 * serving threads drop what exceeds it (node/serve/serve.h
 * serve_set_egress_limit); while demand stays under the rate nothing is
 * dropped.
 */
#ifndef NTPMC_COST_GOVERNOR_H
#define NTPMC_COST_GOVERNOR_H

#include <stdint.h>

enum gov_state { GOV_OFF, GOV_ON, GOV_LIMITING };

struct gov_in {
	int enabled;            /* the provider's governor key is on */
	uint64_t share;         /* bytes of the month's allowance for us */
	uint64_t used;          /* bytes we sent this month, every class */
	uint64_t other_bps;     /* recent rate of the classes not limited */
	uint64_t now_ms, end_ms;        /* Unix ms; end: the month's end */
};

/* The serving threads' rate in B/s (at least 1 while on: 0 would mean
 * no limit), or 0 when off (not enabled, or no share). */
uint64_t gov_rate(const struct gov_in *in);
/* "off", "on" (pacing, nothing dropped lately), "limiting". */
const char *gov_state_name(int state);

#endif
