/*
 * simrelay: ntpsim's UDP delay relays (docs/ntpsim.md), for paths between
 * cluster members (tests/bench/crosscheck-soak.sh). A relay listens on
 * ADDR:port; each datagram a client sends there is held for a drawn
 * forward delay and sent on to the target from a socket of that client's
 * own (so the target's answer comes back to it), and each answer is held
 * for a drawn return delay and sent to the client from the listening
 * address. Delays and losses are ntpsim's path model (struct sim_dir);
 * the content is never looked at.
 *
 * Spec: ADDR,port=P,to=IP:PORT[,fwd=..,ret=..,fwdjitter=..,retjitter=..,
 * delay=..,jitter=..,loss=..,fwdloss=..,retloss=..].
 */
#ifndef NTPMC_SIMRELAY_H
#define NTPMC_SIMRELAY_H

#include <poll.h>
#include <stdint.h>

#include "tools/sim.h"

#define SIM_MAX_RELAYS 16

struct sim_relay_spec {
	struct sim_server path;     /* addr, port, fwd, ret */
	char to[64];                /* "IP:PORT" */
};

int sim_parse_relay(struct sim_relay_spec *r, const char *spec,
		    const char *where);

struct relays;

/* Binds every relay (port 0: ephemeral, written back into the spec).
 * NULL after printing why. */
struct relays *relays_open(struct sim_relay_spec *r, int n, uint64_t seed);
/* The sockets to poll, at most max; returns how many. */
int relays_pollfds(const struct relays *rs, struct pollfd *pfd, int max);
/* After a poll over relays_pollfds' entries. */
void relays_readable(struct relays *rs, const struct pollfd *pfd, int n);
/* System-clock ns of the next datagram due, 0 when none waits. */
int64_t relays_next_due(const struct relays *rs);
void relays_send_due(struct relays *rs);
void relays_print(const struct relays *rs, FILE *f);
void relays_close(struct relays *rs);

#endif
