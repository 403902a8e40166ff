/*
 * ntpctl_args: ntpctl's command line. ntpctl's own options (-s PATH,
 * -o text|json, -h/--help, -V/--version) are recognised anywhere, before or
 * after the command words; `--` ends them. The command, its options and its
 * arguments are read with the command table (node/ctl/ctlcmd.h): a word
 * that starts with '-' and is neither ntpctl's option nor one the command
 * declares is refused, unless it is an option's value or comes after `--`.
 */
#ifndef NTPMC_NTPCTL_ARGS_H
#define NTPMC_NTPCTL_ARGS_H

#include <stddef.h>

#include "node/ctl/ctlcmd.h"

#define NTPCTL_MAX_WORDS 64

struct ntpctl_args {
	const char *socket;         /* -s PATH, or NULL */
	int json;                   /* -o json */
	int help, version;          /* the first of -h/-V given, if any */
	const struct ctlcmd *cmd;   /* NULL: no command (yet) */
	struct ctlcmd_args args;    /* pointers into argv */
};

enum {
	NTPCTL_ARGS_OK = 0,
	NTPCTL_ARGS_EUSAGE = -1,    /* bad command line: print the usage */
	NTPCTL_ARGS_ECMD = -2,      /* bad options or arguments for a->cmd:
				     * print its usage */
};

/*
 * argv[0] is the program. Returns NTPCTL_ARGS_OK, or an error with the
 * reason in err. -h or -V anywhere (before `--`) makes it OK, whatever else
 * is wrong: a->help or a->version says which, a->cmd the command named
 * before it, if any.
 */
int ntpctl_args_parse(struct ntpctl_args *a, int argc, char **argv,
		      char *err, size_t errlen);

#endif
