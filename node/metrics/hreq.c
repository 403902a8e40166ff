/*
 * One state per position in the head; every byte is looked at once.
 * Grammar (RFC 9112): request-line = method SP request-target SP
 * HTTP-version CRLF; field-line = field-name ":" OWS field-value OWS;
 * the head ends with an empty line. A bare LF ends a line too (RFC 9112
 * 2.2 allows it); a CR must be followed by LF.
 */
#include "node/metrics/hreq.h"

#include <string.h>

enum {
	S_START,        /* before the method: empty lines are skipped */
	S_START_LF,
	S_METHOD,
	S_TARGET,       /* first byte of the request target */
	S_ABS,          /* absolute-form: scheme://authority before the path */
	S_PATH,
	S_QUERY,
	S_VERSION,      /* "HTTP/1.x" */
	S_LINE_END,     /* after the version: CR or LF */
	S_LINE_LF,      /* after a CR */
	S_FIELD,        /* start of a field line, or the final empty line */
	S_NAME,
	S_VALUE,
	S_FIELD_LF,
	S_END_LF,
	S_DONE,
};

/* RFC 9110 5.6.2 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible ASCII: what a request target may hold (RFC 3986 characters,
 * not checked further: the path is only compared with ours). */
static int is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

void hreq_init(struct hreq *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap;
	r->st = S_START;
}

static int fail(struct hreq *r, int err)
{
	r->err = err;
	return err;
}

/* One byte; returns HREQ_MORE, HREQ_DONE or an error. */
static int step(struct hreq *r, unsigned char c)
{
	static const char http[] = "HTTP/1.";

	switch (r->st) {
	case S_START:
		if (c == '\r') {
			r->st = S_START_LF;
			return HREQ_MORE;
		}
		if (c == '\n')
			return HREQ_MORE;
		r->st = S_METHOD;
		/* fall through */
	case S_METHOD:
		if (c == ' ' && r->mlen > 0) {
			r->method[r->mlen] = '\0';
			r->st = S_TARGET;
			return HREQ_MORE;
		}
		if (!is_tchar(c))
			return fail(r, HREQ_EBAD);
		if (r->mlen == HREQ_METHOD_MAX)
			return fail(r, HREQ_EMETHOD);
		r->method[r->mlen++] = (char)c;
		return HREQ_MORE;
	case S_START_LF:
		if (c != '\n')
			return fail(r, HREQ_EBAD);
		r->st = S_START;
		return HREQ_MORE;
	case S_TARGET:
		if (c == '/') {
			r->path[r->plen++] = '/';
			r->st = S_PATH;
			return HREQ_MORE;
		}
		/* absolute-form, which a server must accept (RFC 9112
		 * 3.2.2): the path starts at the third '/' */
		if (!is_vchar(c))
			return fail(r, HREQ_EBAD);
		r->st = S_ABS;
		r->flen = 0;
		return HREQ_MORE;
	case S_ABS:
		if (c == '/' && ++r->flen == 3) {
			r->path[r->plen++] = '/';
			r->st = S_PATH;
			return HREQ_MORE;
		}
		if (c == ' ' && r->flen == 2) {
			r->path[r->plen++] = '/';   /* "http://host" */
			r->st = S_VERSION;
			return HREQ_MORE;
		}
		if (!is_vchar(c))
			return fail(r, HREQ_EBAD);
		return HREQ_MORE;
	case S_PATH:
		if (c == ' ') {
			r->st = S_VERSION;
			return HREQ_MORE;
		}
		if (c == '?') {
			r->st = S_QUERY;
			return HREQ_MORE;
		}
		if (!is_vchar(c) || c == '#')
			return fail(r, HREQ_EBAD);
		if (r->plen == HREQ_PATH_MAX)
			return fail(r, HREQ_EURI);
		r->path[r->plen++] = (char)c;
		return HREQ_MORE;
	case S_QUERY:
		if (c == ' ') {
			r->st = S_VERSION;
			return HREQ_MORE;
		}
		if (!is_vchar(c) || c == '#')
			return fail(r, HREQ_EBAD);
		return HREQ_MORE;
	case S_VERSION:
		if (r->vpos < (int)sizeof(http) - 1) {
			if (c == (unsigned char)http[r->vpos]) {
				r->vpos++;
				return HREQ_MORE;
			}
			/* HTTP/2.0 and the like: a version we do not speak */
			if (r->vpos == 5 && c >= '0' && c <= '9')
				return fail(r, HREQ_EVERSION);
			return fail(r, HREQ_EBAD);
		}
		if (c < '0' || c > '9')
			return fail(r, HREQ_EBAD);
		r->minor = c - '0';
		r->st = S_LINE_END;
		return HREQ_MORE;
	case S_LINE_END:
	case S_VALUE:
		if (c == '\r') {
			r->st = r->st == S_VALUE ? S_FIELD_LF : S_LINE_LF;
			return HREQ_MORE;
		}
		if (c == '\n') {
			r->st = S_FIELD;
			return HREQ_MORE;
		}
		if (r->st == S_LINE_END)
			return fail(r, HREQ_EBAD);
		/* field-value: VCHAR, obs-text, SP, HTAB; no other CTL */
		if (c < 0x20 ? c != '\t' : c == 0x7f)
			return fail(r, HREQ_EBAD);
		return HREQ_MORE;
	case S_LINE_LF:
	case S_FIELD_LF:
		if (c != '\n')
			return fail(r, HREQ_EBAD);
		r->st = S_FIELD;
		return HREQ_MORE;
	case S_FIELD:
		if (c == '\r') {
			r->st = S_END_LF;
			return HREQ_MORE;
		}
		if (c == '\n')
			goto done;
		/* a line starting with SP/HTAB is obs-fold: rejected
		 * (RFC 9112 5.2), as is anything but a field name */
		if (!is_tchar(c))
			return fail(r, HREQ_EBAD);
		if (++r->nfields > HREQ_FIELDS_MAX)
			return fail(r, HREQ_ETOOBIG);
		r->st = S_NAME;
		r->flen = 0;
		r->hpos = 0;
		/* fall through */
	case S_NAME:
		if (c == ':') {
			if (r->flen == 0)
				return fail(r, HREQ_EBAD);
			if (r->flen == 4 && r->hpos == 4) {
				/* RFC 9112 3.2: more than one Host is 400 */
				if (r->has_host)
					return fail(r, HREQ_EBAD);
				r->has_host = 1;
			}
			r->st = S_VALUE;
			return HREQ_MORE;
		}
		/* no whitespace before the colon (RFC 9112 5.1) */
		if (!is_tchar(c))
			return fail(r, HREQ_EBAD);
		if (r->flen < 4 && r->hpos == (int)r->flen &&
		    (c | 0x20) == (unsigned char)"host"[r->flen])
			r->hpos++;
		r->flen++;
		return HREQ_MORE;
	case S_END_LF:
		if (c != '\n')
			return fail(r, HREQ_EBAD);
		goto done;
	default:
		return r->err ? r->err : HREQ_DONE;
	}
done:
	r->path[r->plen] = '\0';
	/* RFC 9112 3.2: an HTTP/1.1 request without Host is 400 */
	if (r->minor >= 1 && !r->has_host)
		return fail(r, HREQ_EBAD);
	r->st = S_DONE;
	return HREQ_DONE;
}

int hreq_feed(struct hreq *r, const char *buf, size_t len, size_t *used)
{
	size_t i;
	int rc;

	*used = 0;
	if (r->err)
		return r->err;
	if (r->st == S_DONE)
		return HREQ_DONE;
	for (i = 0; i < len; i++) {
		if (r->used++ == r->cap)
			return fail(r, r->st == S_PATH || r->st == S_QUERY ||
				    r->st == S_ABS ? HREQ_EURI : HREQ_ETOOBIG);
		rc = step(r, (unsigned char)buf[i]);
		if (rc != HREQ_MORE) {
			*used = i + (rc == HREQ_DONE);
			return rc;
		}
	}
	*used = len;
	return HREQ_MORE;
}
