#include "node/metrics/prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prom {
	char *buf;
	size_t len, cap;
	int oom;
};

struct prom *prom_new(void)
{
	struct prom *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cap = 4096;
	p->buf = malloc(p->cap);
	if (!p->buf) {
		free(p);
		return NULL;
	}
	p->buf[0] = '\0';
	return p;
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

char *prom_finish(struct prom *p, size_t *len)
{
	char *b = p->oom ? NULL : p->buf;

	*len = b ? p->len : 0;
	if (!b)
		free(p->buf);
	free(p);
	return b;
}

static int grow(struct prom *p, size_t need)
{
	size_t cap = p->cap;
	char *b;

	if (p->oom)
		return -1;
	if (p->len + need + 1 <= cap)
		return 0;
	while (p->len + need + 1 > cap)
		cap *= 2;
	b = realloc(p->buf, cap);
	if (!b) {
		p->oom = 1;
		return -1;
	}
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void put(struct prom *p, const char *s, size_t n)
{
	if (grow(p, n) < 0)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(struct prom *p, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(p, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/*
 * Escapes: in label values backslash, double quote and line feed; in
 * help text backslash and line feed (exposition_formats.md, "Comments,
 * help text, and type information" and "Syntax").
 */
static void put_escaped(struct prom *p, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(p, "\\\\");
		else if (*s == '\n')
			puts_(p, "\\n");
		else if (*s == '"' && quote)
			puts_(p, "\\\"");
		else
			put(p, s, 1);
	}
}

void prom_family(struct prom *p, const char *name, const char *type,
		 const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	puts_(p, " ");
	put_escaped(p, help, 0);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	puts_(p, " ");
	puts_(p, type);
	puts_(p, "\n");
}

static void put_head(struct prom *p, const char *name,
		     const char *const *labels)
{
	int i;

	puts_(p, name);
	if (!labels || !labels[0])
		goto out;
	puts_(p, "{");
	for (i = 0; labels[i] && labels[i + 1]; i += 2) {
		if (i)
			puts_(p, ",");
		puts_(p, labels[i]);
		puts_(p, "=\"");
		put_escaped(p, labels[i + 1], 1);
		puts_(p, "\"");
	}
	puts_(p, "}");
out:
	puts_(p, " ");
}

static void put_double(struct prom *p, double v)
{
	if (isnan(v))
		puts_(p, "NaN");
	else if (isinf(v))
		puts_(p, v > 0 ? "+Inf" : "-Inf");
	else
		putf(p, "%.17g", v);
}

void prom_gauge(struct prom *p, const char *name, const char *const *labels,
		double v)
{
	put_head(p, name, labels);
	put_double(p, v);
	puts_(p, "\n");
}

void prom_count(struct prom *p, const char *name, const char *const *labels,
		uint64_t v)
{
	put_head(p, name, labels);
	putf(p, "%llu\n", (unsigned long long)v);
}

void prom_histogram(struct prom *p, const char *name, int n,
		    const double *le, const uint64_t *cum, double sum,
		    uint64_t count)
{
	char bucket[128], bound[32];
	const char *l[] = { "le", bound, NULL };
	int i;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	for (i = 0; i < n; i++) {
		snprintf(bound, sizeof(bound), "%.9g", le[i]);
		prom_count(p, bucket, l, cum[i]);
	}
	snprintf(bound, sizeof(bound), "+Inf");
	prom_count(p, bucket, l, count);
	snprintf(bucket, sizeof(bucket), "%s_sum", name);
	prom_gauge(p, bucket, NULL, sum);
	snprintf(bucket, sizeof(bucket), "%s_count", name);
	prom_count(p, bucket, NULL, count);
}
