/*
 * `ntpnode restore` and `ntpnode recover`: their configuration; their
 * command lines are read in cargs.c, the work on the datadir is
 * node/cluster/offline's.
 */
#include "node/daemon/offline_cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include "node/cluster/offline/recover.h"
#include "node/cluster/offline/restore.h"
#include "node/daemon/conf.h"

/* The config both commands load; NULL after saying why. */
static struct conf *load(const char *cmd, const char *path)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c && conf_load(c, path) == 0)
		return c;
	fprintf(stderr, "ntpnode %s: %s has errors\n", cmd, path);
	free(c);
	return NULL;
}

int offline_restore(const char *config, const char *from)
{
	struct conf *c = load("restore", config);
	int rc;

	if (!c)
		return 1;
	rc = restore_run(&c->cluster, config, from);
	free(c);
	return rc;
}

int offline_recover(const char *config, int check, const char *voters,
		    const char *at)
{
	struct conf *c = load("recover", config);
	int rc;

	if (!c)
		return 1;
	rc = recover_run(&c->cluster, config, check, voters, at);
	free(c);
	return rc;
}
