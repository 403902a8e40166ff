/*
 * mexp: the /metrics text from a snapshot of what the member knows. Pure,
 * so that the names, types and label sets are unit-tested and checked by
 * promtool without a daemon. docs/monitoring.md lists every family.
 */
#ifndef NTPMC_MEXP_H
#define NTPMC_MEXP_H

#include <stddef.h>

#include "node/cluster/cluster.h"
#include "node/metrics/metrics.h"
#include "node/metrics/mhttp.h"

struct mexp_in {
	const char *version;
	double up_s;
	const struct metrics_tracking *tr;
	const struct metrics_source *src;
	int n_src;
	const struct metrics_serving *sv;
	const struct cluster_view *cv;  /* NULL: no cluster configured */
	const struct metrics_crosscheck *xc;
	const struct metrics_rotation *rot;  /* NULL or !present: none */
	const struct mhttp_stats *http;
	const struct metrics_egress *eg;    /* NULL or n 0: not shown */
};

/* malloc()ed text, *len its length; NULL when out of memory. */
char *mexp_render(const struct mexp_in *in, size_t *len);

#endif
