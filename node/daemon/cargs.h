/*
 * cargs: the command line of `ntpnode init` and `ntpnode join`.
 *   ntpnode init -c FILE [--overlay-subnet A.B.C.D/N] [--no-run]
 *   ntpnode join -c FILE (--token TOKEN | --token-file PATH | env NTPNODE_TOKEN)
 *                [--no-run]
 * Options in any order, `--opt=value` accepted too. The token is copied out
 * and wiped from argv (so /proc/PID/cmdline and ps never show it) and from
 * the environment.
 */
#ifndef NTPMC_CARGS_H
#define NTPMC_CARGS_H

#include <limits.h>
#include <stddef.h>

#define CARGS_TOKEN_MAX 4096

enum cargs_cmd { CARGS_INIT, CARGS_JOIN };

struct cargs {
	enum cargs_cmd cmd;
	char conf[PATH_MAX];
	char token[CARGS_TOKEN_MAX]; /* join only; NUL-terminated, trimmed */
	char overlay_subnet[24];     /* init only; canonical, "" = default */
	int no_run;                  /* --no-run: exit once a committed member */
};

/*
 * argv[0] is the subcommand ("init" or "join"). Returns 0, or -1 with the
 * reason in err (usage errors, unreadable token file, two token sources).
 */
int cargs_parse(struct cargs *a, int argc, char **argv, char *err,
		size_t errlen);

/* Overwrites the token copy; call once it has been used. */
void cargs_wipe(struct cargs *a);

#endif
