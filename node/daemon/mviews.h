/*
 * The metrics endpoint's views of the serving threads, the time engine
 * and the cross-check (node/metrics/metrics.h): node/metrics may not reach
 * them, so the daemon reads them for it.
 */
#ifndef NTPMC_MVIEWS_H
#define NTPMC_MVIEWS_H

#include "node/metrics/metrics.h"

struct crosscheck;
struct serve;
struct sync;

struct mviews {
	struct metrics_views v;
	struct serve *serve;            /* NULL until serving */
	struct sync *sync;              /* NULL without upstreams */
	const struct crosscheck *xc;    /* NULL outside a cluster */
};

/* Fills mv->v; serve and sync may be set (or changed) afterwards. */
void mviews_init(struct mviews *mv);

#endif
