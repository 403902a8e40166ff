/*
 * cargs: ntpnode's command line, one getopt_long table for every command:
 *   ntpnode run|check -c FILE
 *   ntpnode init -c FILE [--overlay-subnet A.B.C.D/N] [--no-run]
 *   ntpnode join -c FILE (--token TOKEN | --token-file PATH | env NTPNODE_TOKEN)
 *                [--no-run]
 *   ntpnode restore -c FILE --from BACKUP
 *   ntpnode recover -c FILE (--check | --voters ID,... [--at INDEX:TERM])
 *   ntpnode -h|--help, ntpnode -V|--version
 * Options come before or after the command word, in any order, `--opt=value`
 * too; `--` ends them. The token is copied out and wiped from argv (so
 * /proc/PID/cmdline and ps never show it) and from the environment.
 */
#ifndef NTPMC_CARGS_H
#define NTPMC_CARGS_H

#include <limits.h>
#include <stddef.h>

#define CARGS_TOKEN_MAX 4096

enum cargs_cmd {
	CARGS_NONE,             /* only with help or version */
	CARGS_RUN,
	CARGS_CHECK,
	CARGS_INIT,
	CARGS_JOIN,
	CARGS_RESTORE,
	CARGS_RECOVER,
};

struct cargs {
	enum cargs_cmd cmd;
	int help, version;           /* the first of -h/-V given, if any */
	char conf[PATH_MAX];
	char token[CARGS_TOKEN_MAX]; /* join only; NUL-terminated, trimmed */
	char overlay_subnet[24];     /* init only; canonical, "" = default */
	const char *from;            /* restore: BACKUP (points into argv) */
	const char *voters, *at;     /* recover (point into argv), or NULL */
	int check;                   /* recover --check (or --dry-run) */
	int no_run;                  /* --no-run: exit once a committed member */
};

/*
 * argv[0] is the program. Returns 0, or -1 with the reason in err (usage
 * errors, unreadable token file, two token sources). -h or -V anywhere
 * before `--` makes it 0 whatever else is wrong, with a->help or
 * a->version set. The token is wiped from argv and the environment in
 * every case.
 */
int cargs_parse(struct cargs *a, int argc, char **argv, char *err,
		size_t errlen);

/* Overwrites the token copy; call once it has been used. */
void cargs_wipe(struct cargs *a);

#endif
