/*
 * ctlcmd: the one table of control commands, read by both ends of the
 * control socket. ntpctl takes from it the usage, the help, each command's
 * options and how many arguments it takes; the daemon's socket (ctl.c)
 * takes who may run a command, and checks every request against it before
 * a handler sees it. A command is one row here plus one ctl_register()
 * (which refuses a name that is not in the table).
 *
 * The words after a command's name are its options (declared per command:
 * `--ttl 1h`, `--ttl=1h`, `--force`) and its arguments; `--` ends the
 * options. A word that starts with '-' and is not a declared option is
 * refused, unless it is an option's value or the command takes such
 * arguments (CTLCMD_DASH_ARGS).
 */
#ifndef NTPMC_CTLCMD_H
#define NTPMC_CTLCMD_H

#include <stddef.h>

#include "node/ctl/ctlframe.h"

enum {
	CTLCMD_MUTATING = 1 << 0,   /* changes the daemon: root or its uid */
	CTLCMD_LEADER = 1 << 1,     /* answered by the leader: a follower
				     * forwards it */
	CTLCMD_DASH_ARGS = 1 << 2,  /* an argument may start with '-' */
	CTLCMD_LOCAL_ARGS = 1 << 3, /* the arguments are ntpctl's own: the
				     * request carries none (backup FILE) */
	CTLCMD_STEPS = 1 << 4,      /* ntpctl carries it out in several
				     * requests: their arguments name the
				     * step; the operator gives none
				     * (emergency-shutdown) */
};

#define CTLCMD_MAX_OPTS 4

struct ctlcmd_opt {
	const char *name;           /* "--ttl" */
	const char *value;          /* what it takes ("DURATION"); NULL: a
				     * flag */
	int local;                  /* ntpctl's own, never sent (--force) */
	const char *help;
};

struct ctlcmd {
	const char *name;           /* one or more words: "cluster status" */
	int min_args, max_args;     /* arguments, options not counted */
	const char *args;           /* the arguments in the usage: "KEY VALUE" */
	unsigned flags;             /* CTLCMD_* */
	struct ctlcmd_opt opts[CTLCMD_MAX_OPTS];  /* up to the first NULL name */
	const char *help;           /* one line */
};

/* A command's options and arguments, as parsed. Pointers point into the
 * words that were parsed; nothing is allocated. */
struct ctlcmd_args {
	const char *opt[CTLCMD_MAX_OPTS]; /* opts[i]'s value; a flag's is its
					   * name; NULL: not given */
	int argc;
	char *argv[CTL_MAX_ARGS];
};

/* The table, in the order of ntpctl --help. */
size_t ctlcmd_count(void);
const struct ctlcmd *ctlcmd_at(size_t i);
/* The row named exactly name, or NULL. */
const struct ctlcmd *ctlcmd_find(const char *name);
/* The row whose name is words[0..n-1] (no name is a prefix of another:
 * test_ctlcmd checks it), or NULL. */
const struct ctlcmd *ctlcmd_find_words(char *const *words, int n);

/* 1 if some name begins with the n words (n >= 1): more may follow. */
int ctlcmd_starts(char *const *words, int n);

/* "token create [--ttl DURATION] [--uses N]"; cut to fit len. */
void ctlcmd_usage(const struct ctlcmd *c, char *buf, size_t len);

/* Empties a (no option given, no argument). */
void ctlcmd_args_init(struct ctlcmd_args *a);
/* The value of the option called name ("--ttl"; a flag's is its name),
 * or NULL when it was not given or c has no such option. */
const char *ctlcmd_get(const struct ctlcmd *c, const struct ctlcmd_args *a,
		       const char *name);

/*
 * Takes words[*i] (and, for an option that takes a value, the word after
 * it) into a, and advances *i past what it took. request: the words come
 * from a request (the daemon's side), where ntpctl's local options do not
 * exist and `--ttl=1h` is not the canonical form but still understood.
 * Does not handle `--` (the caller decides what it ends). Returns 0, or -1
 * with the reason in err ("unknown option '--now'").
 */
int ctlcmd_take(const struct ctlcmd *c, struct ctlcmd_args *a, int n,
		char **words, int *i, int request, char *err, size_t errlen);

/* The argument count against the table; request: LOCAL_ARGS commands
 * carry none. 0, or -1 with a reason in err. */
int ctlcmd_check(const struct ctlcmd *c, const struct ctlcmd_args *a,
		 int request, char *err, size_t errlen);

/*
 * A request's words: all of ctlcmd_take(), `--` and ctlcmd_check() over
 * words[0..n-1]. 0, or -1 with the reason in err.
 */
int ctlcmd_parse(const struct ctlcmd *c, int n, char **words,
		 struct ctlcmd_args *a, char *err, size_t errlen);

/*
 * The words for a's options (in table order, local ones left out, each as
 * its name and then its value) and arguments (none for LOCAL_ARGS). sep:
 * put `--` before the arguments when one starts with '-' (a request on the
 * wire); without it (what a handler gets) options and arguments can only
 * be told apart by the table. Writes at most max pointers into out (they
 * point into c and a's words); returns how many, or -1 when they do not
 * fit.
 */
int ctlcmd_words(const struct ctlcmd *c, const struct ctlcmd_args *a,
		 int sep, char **out, int max);

#endif
