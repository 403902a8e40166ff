/* The helpers every directive parser uses (conf_parse.h). */
#include "node/daemon/conf_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static FILE *conf_errf;

void conf_set_error_stream(FILE *f)
{
	conf_errf = f;
}

void conf_error(struct conf_ctx *x, const char *fmt, ...)
{
	FILE *f = conf_errf ? conf_errf : stderr;
	va_list ap;

	if (x->line > 0)
		fprintf(f, "%s:%d: ", x->file, x->line);
	else
		fprintf(f, "%s: ", x->file);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	x->errors++;
}

int conf_word_is(const char *s, const char *word)
{
	return strcasecmp(s, word) == 0;
}

int conf_parse_int(struct conf_ctx *x, const char *what, const char *s,
		   long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0') {
		conf_error(x, "%s must be a whole number, got '%s'", what, s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		conf_error(x, "%s must be between %ld and %ld, got '%s'", what,
			   min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

int conf_parse_double(struct conf_ctx *x, const char *what, const char *s,
		      double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v)) {
		conf_error(x, "%s must be a number, got '%s'", what, s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		conf_error(x, "%s must be between %g and %g, got '%s'", what,
			   min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

int conf_parse_ip(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

void conf_sockaddr(int family, const uint8_t addr[16], uint16_t port,
		   struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->addr;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, addr, 4);
		s->sin_port = htons(port);
		out->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->addr;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, addr, 16);
		s->sin6_port = htons(port);
		out->len = sizeof(*s);
	}
}

int conf_copy_path(struct conf_ctx *x, const char *what, char *dst,
		   size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap) {
		conf_error(x, "%s: path is %zu bytes long, at most %zu fit",
			   what, n, cap - 1);
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}
