/*
 * Node configuration: the file named by -c, one directive per line, '#'
 * comments, chrony-like. The parser fills each subsystem's own config
 * struct (serve, time, cluster, metrics) and the daemon's few fields. conf_load()
 * never exits; it returns -1 and has printed "FILE:LINE: problem" for
 * every error it found.
 */
#ifndef NTPMC_CONF_H
#define NTPMC_CONF_H

#include <limits.h>
#include <stdio.h>
#include <sys/un.h>

#include "node/cluster/cluster.h"
#include "node/cost/cost.h"
#include "node/metrics/metrics.h"
#include "node/crosscheck/crosscheck.h"
#include "node/rotation/rotation.h"
#include "node/serve/serve.h"
#include "node/time/sync.h"

#define CONF_DEFAULT_DATADIR "/var/lib/ntpnode"

struct conf {
	char path[PATH_MAX];
	char control[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char datadir[PATH_MAX];
	struct serve_conf serve;    /* listen, serve-threads, ratelimit, acl */
	struct sync_conf time;      /* upstreams, discipline, local stratum */
	struct cluster_conf cluster; /* cluster-*, node-name, wireguard-* */
	int test_hang_loop_s;       /* test-only `test-hang loop S`; 0 never */
	struct metrics_conf metrics; /* metrics-listen */
	struct crosscheck_conf crosscheck; /* crosscheck-interval */
	struct cost_conf cost;      /* alert-hook */
	struct rot_conf rotation;   /* provider-hook, provider-hook-timeout */
};

void conf_defaults(struct conf *c);
/* Where conf_load* print their errors; NULL = stderr (tests capture them). */
void conf_set_error_stream(FILE *f);
/* Returns 0, or -1 after printing every error as FILE:LINE: message. */
int conf_load(struct conf *c, const char *path);
/* Same on an in-memory text; name is used in messages. */
int conf_load_text(struct conf *c, const char *name, const char *text);
/* Every directive the parser knows, in table order: its name, its usage
 * line and whether it is test-only. For the check that the docs and the
 * man page name the same directives as the code (tests/docs/). */
void conf_each_directive(void (*fn)(void *arg, const char *name,
				    const char *usage, int test_only),
			 void *arg);

#endif
