/* governor: the egress governor's rate; see governor.h. */
#include "node/cost/governor.h"

uint64_t gov_rate(const struct gov_in *in)
{
	uint64_t left, secs, rate;

	if (!in->enabled || !in->share)
		return 0;
	left = in->share > in->used ? in->share - in->used : 0;
	secs = in->end_ms > in->now_ms ? (in->end_ms - in->now_ms) / 1000 : 0;
	if (secs == 0)
		secs = 1;
	rate = left / secs;
	rate = rate > in->other_bps ? rate - in->other_bps : 0;
	return rate ? rate : 1;
}

const char *gov_state_name(int state)
{
	switch (state) {
	case GOV_ON:
		return "on";
	case GOV_LIMITING:
		return "limiting";
	default:
		return "off";
	}
}
