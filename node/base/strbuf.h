/*
 * strbuf: the one growable string of the daemon (control replies, JSON,
 * rendered configuration files, captured child output).
 *
 * Errors are sticky: after a failed allocation every call does nothing
 * and strbuf_finish() returns NULL, so a caller appends freely and checks
 * once at the end. With a maximum (strbuf_set_max), bytes beyond it are
 * dropped and strbuf_truncated() says so: that is not an error.
 *
 * A secret buffer (strbuf_init_secret) leaves no copy behind: its memory
 * comes from the caller's allocator (sodium_malloc/sodium_free for keys),
 * and it grows by copying into a new block and releasing the old one,
 * never by realloc().
 *
 * The fields are private: a strbuf lives on the caller's stack, set up by
 * strbuf_init() (or = STRBUF_INIT), and is used through the functions.
 */
#ifndef NTPMC_STRBUF_H
#define NTPMC_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf_mem {
	void *(*alloc)(size_t n);
	void (*release)(void *p);	/* must wipe what it frees */
};

struct strbuf {
	char *p;
	size_t len, cap, max;
	int err;			/* 0 or a negative errno, sticky */
	int truncated;
	int secret;
	const struct strbuf_mem *mem;	/* a secret's; else malloc */
};

#define STRBUF_INIT { 0 }

void strbuf_init(struct strbuf *b);
void strbuf_init_secret(struct strbuf *b, const struct strbuf_mem *mem);
/* At most max bytes are kept (0: no limit); the rest is dropped. */
void strbuf_set_max(struct strbuf *b, size_t max);

/* Room for n more bytes and the NUL; 0, or the sticky error. */
int strbuf_reserve(struct strbuf *b, size_t n);
void strbuf_add(struct strbuf *b, const void *s, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The text so far, NUL-terminated ("" before anything was added). */
const char *strbuf_str(const struct strbuf *b);
size_t strbuf_len(const struct strbuf *b);
int strbuf_error(const struct strbuf *b);
int strbuf_truncated(const struct strbuf *b);

/*
 * Hands the text over (NUL-terminated; *len, when len is not NULL, the
 * bytes before the NUL) and leaves b empty; NULL after an error (the
 * buffer is released). The caller frees it with free(), or a secret
 * buffer's with its allocator's release.
 */
char *strbuf_finish(struct strbuf *b, size_t *len);
/* Frees what b holds; b is empty and usable again. */
void strbuf_release(struct strbuf *b);

#endif
