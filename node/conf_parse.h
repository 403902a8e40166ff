/*
 * For modules that add config directives: the parse context and the small
 * helpers every parse_* function uses. To add a directive, add a field to
 * struct conf (conf.h), its default to conf_defaults(), and one row to the
 * table in conf.c naming a parser with this signature:
 *
 *	int parse_x(struct conf_ctx *x, int argc, char **argv);
 *
 * argv[0] is the directive itself. A parser reports each problem with
 * conf_error() (which adds FILE:LINE) and returns -1, or returns 0.
 */
#ifndef NTPMC_CONF_PARSE_H
#define NTPMC_CONF_PARSE_H

#include <stdint.h>

#include "node/conf.h"

struct conf_ctx {
	struct conf *c;
	const char *file;
	int line;
	int errors;
	int listen_line[CONF_MAX_LISTEN];   /* where each listen came from */
	uint8_t listen_port_set[CONF_MAX_LISTEN];
};

void conf_error(struct conf_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Decimal integer in [min, max]; what names the value in the message. */
int conf_parse_int(struct conf_ctx *x, const char *what, const char *s,
		   long min, long max, long *out);
/* Case-insensitive keyword match. */
int conf_word_is(const char *s, const char *word);
/* Numeric IPv4 or IPv6 literal (no names, no brackets, no zone). */
int conf_parse_ip(const char *s, int *family, uint8_t addr[16]);

#endif
