/* strbuf: one growable string (see strbuf.h). */
#include "node/base/strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRBUF_MIN 256

void strbuf_init(struct strbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void strbuf_init_secret(struct strbuf *b, const struct strbuf_mem *mem)
{
	memset(b, 0, sizeof(*b));
	b->secret = 1;
	b->mem = mem;
}

void strbuf_set_max(struct strbuf *b, size_t max)
{
	b->max = max;
}

static void *mem_alloc(const struct strbuf *b, size_t n)
{
	return b->mem ? b->mem->alloc(n) : malloc(n);
}

static void mem_release(const struct strbuf *b, char *p)
{
	if (p && b->mem)
		b->mem->release(p);
	else
		free(p);
}

void strbuf_release(struct strbuf *b)
{
	mem_release(b, b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = b->truncated = 0;
}

static void fail(struct strbuf *b, int err)
{
	strbuf_release(b);
	b->err = err;
}

int strbuf_reserve(struct strbuf *b, size_t n)
{
	size_t cap;
	char *np;

	if (b->err)
		return b->err;
	if (b->p && n < b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len - 1) {
		fail(b, -ENOMEM);
		return b->err;
	}
	cap = b->cap ? b->cap : STRBUF_MIN;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (b->secret || !b->p) {
		/* A secret never goes through realloc(): it would leave the
		 * old block in the heap, unwiped. */
		np = mem_alloc(b, cap);
		if (np && b->p)
			memcpy(np, b->p, b->len + 1);
		else if (np)
			np[0] = '\0';
		if (np)
			mem_release(b, b->p);
	} else {
		np = realloc(b->p, cap);
	}
	if (!np) {
		fail(b, -ENOMEM);
		return b->err;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

/* Cuts the text back to the maximum, if one is set. */
static void clip(struct strbuf *b)
{
	if (b->max && b->len > b->max) {
		b->len = b->max;
		b->p[b->len] = '\0';
		b->truncated = 1;
	}
}

void strbuf_add(struct strbuf *b, const void *s, size_t n)
{
	if (b->err)
		return;
	if (b->max && n > b->max - (b->len < b->max ? b->len : b->max)) {
		n = b->len < b->max ? b->max - b->len : 0;
		b->truncated = 1;
	}
	if (strbuf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_vaddf(struct strbuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (b->err)
		return;
	/* Room for a line first, so that most calls format once. */
	if (strbuf_reserve(b, 128) != 0)
		return;
	va_copy(aq, ap);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, aq);
	va_end(aq);
	if (n >= 0 && (size_t)n >= b->cap - b->len) {
		if (strbuf_reserve(b, (size_t)n) != 0)
			return;
		va_copy(aq, ap);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, aq);
		va_end(aq);
	}
	if (n < 0) {
		/* an encoding error: the format cannot be written at all */
		fail(b, -EINVAL);
		return;
	}
	b->len += (size_t)n;
	clip(b);
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(b, fmt, ap);
	va_end(ap);
}

const char *strbuf_str(const struct strbuf *b)
{
	return b->p && !b->err ? b->p : "";
}

size_t strbuf_len(const struct strbuf *b)
{
	return b->err ? 0 : b->len;
}

int strbuf_error(const struct strbuf *b)
{
	return b->err;
}

int strbuf_truncated(const struct strbuf *b)
{
	return b->truncated;
}

char *strbuf_finish(struct strbuf *b, size_t *len)
{
	char *p;

	if (b->err || strbuf_reserve(b, 0) != 0) {
		strbuf_release(b);
		return NULL;
	}
	/* Text cut by the maximum may linger after the NUL. */
	if (b->secret)
		memset(b->p + b->len + 1, 0, b->cap - b->len - 1);
	p = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	b->truncated = 0;
	return p;
}
