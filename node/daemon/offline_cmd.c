/*
 * `ntpnode restore` and `ntpnode recover`: their command lines and
 * configuration; the work on the datadir is node/cluster/offline's.
 */
#include "node/daemon/offline_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/cluster/offline/recover.h"
#include "node/cluster/offline/restore.h"
#include "node/daemon/conf.h"

static void restore_usage(void)
{
	fprintf(stderr, "usage: ntpnode restore -c FILE --from BACKUP\n"
		"  seeds a new single-member cluster in FILE's (empty) "
		"datadir from BACKUP\n  (ntpctl backup); see "
		"docs/operations.md, \"Restore from backup\"\n");
}

static void recover_usage(void)
{
	fprintf(stderr,
		"usage: ntpnode recover -c FILE --check\n"
		"       ntpnode recover -c FILE --voters ID|NAME[,...] "
		"[--at INDEX:TERM] [--check]\n"
		"  offline, after a quorum loss: --check prints this member's "
		"last log index\n  and term; --voters appends a configuration "
		"with only those voters. With\n  more than one voter, --at "
		"must give the last index:term that --check printed\n  on "
		"every named member (it must be the same). See "
		"docs/operations.md.\n");
}

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

int offline_restore_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *from = NULL;
	struct conf *c;
	int o, rc;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":c:", opts, NULL)) != -1) {
		if (o == 'c') {
			config = optarg;
		} else if (o == 'f') {
			from = optarg;
		} else {
			fprintf(stderr, "ntpnode restore: %s '%s'\n",
				o == ':' ? "missing value for" :
				"unknown option", argv[optind - 1]);
			restore_usage();
			return 2;
		}
	}
	if (!config || !from || optind < argc) {
		restore_usage();
		return 2;
	}
	c = load("restore", config);
	if (!c)
		return 1;
	rc = restore_run(&c->cluster, config, from);
	free(c);
	return rc;
}

int offline_recover_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "voters", required_argument, NULL, 'v' },
		{ "at", required_argument, NULL, 'a' },
		{ "check", no_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *voters = NULL, *at = NULL;
	struct conf *c;
	int o, rc, check = 0;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":c:", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'v': voters = optarg; break;
		case 'a': at = optarg; break;
		case 'k': check = 1; break;
		default:
			fprintf(stderr, "ntpnode recover: %s '%s'\n",
				o == ':' ? "missing value for" :
				"unknown option", argv[optind - 1]);
			recover_usage();
			return 2;
		}
	}
	if (!config || optind < argc || (!voters && !check)) {
		recover_usage();
		return 2;
	}
	c = load("recover", config);
	if (!c)
		return 1;
	rc = recover_run(&c->cluster, config, check, voters, at);
	free(c);
	return rc;
}
