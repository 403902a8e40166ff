/*
 * hreq: the HTTP/1.x request-head parser of the metrics endpoint. It
 * keeps what the endpoint needs (method, path, version, whether a Host
 * field came) and checks the rest of the head for shape (RFC 9112
 * sections 2.2, 3 and 5) without storing it. Pure and incremental: feed
 * the bytes as reads deliver them; it never reads past the empty line
 * that ends the head.
 */
#ifndef NTPMC_HREQ_H
#define NTPMC_HREQ_H

#include <stddef.h>

#define HREQ_METHOD_MAX 7       /* longest method kept: "OPTIONS" */
#define HREQ_PATH_MAX 255       /* longer paths get 414 */
#define HREQ_FIELDS_MAX 100     /* header lines; more get 431 */

/* hreq_feed() results: more input needed, the head is complete, or an
 * error whose absolute value is the HTTP status to answer with. */
enum {
	HREQ_MORE = 0,
	HREQ_DONE = 1,
	HREQ_EBAD = -400,       /* malformed request line or field */
	HREQ_EURI = -414,       /* path longer than HREQ_PATH_MAX */
	HREQ_ETOOBIG = -431,    /* head longer than the cap, or too many
				   fields */
	HREQ_EMETHOD = -501,    /* method longer than any we know */
	HREQ_EVERSION = -505,   /* HTTP/x.y other than 1.0 and 1.1 */
};

struct hreq {
	/* results, valid after HREQ_DONE */
	char method[HREQ_METHOD_MAX + 1];
	char path[HREQ_PATH_MAX + 1];  /* target up to '?' */
	int minor;                     /* HTTP/1.minor */
	int has_host;
	/* private */
	size_t cap, used;
	int st, err, nfields;
	size_t mlen, plen, flen;
	int vpos, hpos;
};

/* cap: bytes the whole head may take, the final empty line included. */
void hreq_init(struct hreq *r, size_t cap);
/*
 * Parses len bytes; *used says how many were taken (all of them unless
 * the head ended or an error was found inside buf). Once it returned
 * anything but HREQ_MORE it returns the same again without reading.
 */
int hreq_feed(struct hreq *r, const char *buf, size_t len, size_t *used);

#endif
