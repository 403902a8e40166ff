/*
 * The metrics endpoint's views of the serving threads, the time engine,
 * the cross-check and the rotation (node/metrics/metrics.h): node/metrics may not reach
 * them, so the daemon reads them for it.
 */
#ifndef NTPMC_MVIEWS_H
#define NTPMC_MVIEWS_H

#include "node/cost/egress.h"
#include "node/metrics/metrics.h"

struct cluster;
struct cost;
struct crosscheck;
struct rotation;
struct serve;
struct sync;

struct mviews {
	struct metrics_views v;
	struct serve *serve;            /* NULL until serving */
	struct sync *sync;              /* NULL without upstreams */
	const struct crosscheck *xc;    /* NULL outside a cluster */
	struct cluster *cl;             /* NULL standalone */
	const struct cost *cost;        /* the budget ratio (node/cost) */
	struct rotation *rot;           /* NULL outside a cluster */
};

/* Fills mv->v; serve and sync may be set (or changed) afterwards. */
void mviews_init(struct mviews *mv);
/* This process's egress by class so far (node/cost/egress.h), read from
 * the serving threads, the cross-check, the time engine and the member
 * transport. */
void mviews_egress(const struct mviews *mv, struct egress_counts *out);

#endif
