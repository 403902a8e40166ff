/*
 * The `serverstats` control command: the serving threads' counters plus
 * the current request rate, sampled once a second on the loop.
 */
#ifndef NTPMC_SRVSTATS_H
#define NTPMC_SRVSTATS_H

#include <uv.h>

#include "node/ctl/ctl.h"
#include "node/serve/serve.h"

struct srvstats;

/* Registers `serverstats` on ctl and starts the 1 s sampling timer. */
struct srvstats *srvstats_start(uv_loop_t *loop, struct ctl *ctl,
				struct serve *s);
/* Stops the timer; st is freed once the loop has closed it. */
void srvstats_stop(struct srvstats *st);

/* Both renderings (caller frees them); 0, or -1 out of memory. */
int srvstats_format(const struct serve_stats *s, double rate_rps,
		    double uptime_s, char **text, char **json);

#endif
