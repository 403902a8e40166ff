#include "node/cluster/cpace.h"

unsigned cpace_heartbeat(unsigned target, unsigned in_force,
			 const struct cpace_voter *v, size_t n)
{
	unsigned h = target;
	size_t i, reported = 1;	/* the leader knows its own */

	for (i = 0; i < n; i++) {
		if (v[i].election_ms) {
			if (v[i].election_ms / 2 < h)
				h = v[i].election_ms / 2;
			reported++;
		} else if (v[i].reachable && in_force < h) {
			h = in_force;
		}
	}
	/* Without a majority that knows, nothing may get slower. */
	if (reported * 2 <= n + 1 && in_force < h)
		h = in_force;
	return h ? h : 1;
}
