/*
 * What the config parser's modules share: the parse context, the row of a
 * directive table, and the small helpers every parser uses. Each module
 * (conf_serve.c, conf_time.c, conf_cluster.c, and conf.c for the daemon's
 * own directives) owns one table and fills one subsystem's config struct;
 * conf.c reads the file and dispatches each line to its row.
 *
 * A parser gets the words of its line (argv[0] is the directive itself),
 * reports each problem with conf_error() (which adds FILE:LINE) and
 * returns -1, or returns 0.
 */
#ifndef NTPMC_CONF_PARSE_H
#define NTPMC_CONF_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "node/daemon/conf.h"

struct conf_ctx {
	struct conf *c;
	const char *file;
	int line;
	int errors;
	int test_mode;                      /* `test-mode yes` seen */
	struct {                            /* test-only directives seen */
		int line;
		const char *name;
	} test_only[8];
	int n_test_only;
	int listen_line[SERVE_MAX_LISTEN];  /* where each listen came from */
	uint8_t listen_port_set[SERVE_MAX_LISTEN];
	int up_line;                        /* first upstream/pool line */
};

struct conf_directive {
	const char *name;
	const char *usage;
	int (*parse)(struct conf_ctx *x, int argc, char **argv);
	int min, max;       /* words after the directive */
	unsigned once : 1;  /* may appear only once in a file */
	unsigned test_only : 1; /* refused unless the file says test-mode yes */
};

/* The tables (each ends with a row whose name is NULL) and the checks
 * each module runs once the whole file is read. */
extern const struct conf_directive conf_serve_directives[];
extern const struct conf_directive conf_time_directives[];
extern const struct conf_directive conf_cluster_directives[];
extern const struct conf_directive conf_metrics_directives[];
extern const struct conf_directive conf_crosscheck_directives[];
extern const struct conf_directive conf_cost_directives[];
extern const struct conf_directive conf_rotation_directives[];
void conf_serve_finish(struct conf_ctx *x);
void conf_time_finish(struct conf_ctx *x);
void conf_cluster_finish(struct conf_ctx *x);

void conf_error(struct conf_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Decimal integer in [min, max]; what names the value in the message. */
int conf_parse_int(struct conf_ctx *x, const char *what, const char *s,
		   long min, long max, long *out);
/* Finite decimal number in [min, max]. */
int conf_parse_double(struct conf_ctx *x, const char *what, const char *s,
		      double min, double max, double *out);
/* Case-insensitive keyword match. */
int conf_word_is(const char *s, const char *word);
/* Numeric IPv4 or IPv6 literal (no names, no brackets, no zone). */
int conf_parse_ip(const char *s, int *family, uint8_t addr[16]);
/* The socket address of a conf_parse_ip() result and a port. */
void conf_sockaddr(int family, const uint8_t addr[16], uint16_t port,
		   struct netaddr *out);
/* Copies a path that must fit in cap bytes. */
int conf_copy_path(struct conf_ctx *x, const char *what, char *dst,
		   size_t cap, const char *src);

#endif
