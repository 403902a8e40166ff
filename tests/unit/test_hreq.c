/* The metrics endpoint's request-head parser (node/metrics/hreq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/metrics/hreq.h"

/* Feeds s whole; returns the result, *used the bytes taken. */
static int feed_all(struct hreq *r, const char *s, size_t cap, size_t *used)
{
	hreq_init(r, cap);
	return hreq_feed(r, s, strlen(s), used);
}

/* Feeds s one byte at a time: the same result as whole. */
static int feed_bytes(struct hreq *r, const char *s, size_t cap)
{
	size_t i, used;
	int rc = HREQ_MORE;

	hreq_init(r, cap);
	for (i = 0; s[i] && rc == HREQ_MORE; i++)
		rc = hreq_feed(r, s + i, 1, &used);
	return rc;
}

static int parse(const char *s)
{
	struct hreq r, r2;
	size_t used;
	int rc = feed_all(&r, s, 8192, &used);

	assert_int_equal(feed_bytes(&r2, s, 8192), rc);
	if (rc == HREQ_DONE)
		assert_string_equal(r.path, r2.path);
	return rc;
}

static void test_get(void **state)
{
	const char *s = "GET /metrics HTTP/1.1\r\nHost: x:4461\r\n"
			"User-Agent: Prometheus/2.42.0\r\nAccept: text/plain;"
			"version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\nBODY";
	struct hreq r;
	size_t used;

	assert_int_equal(feed_all(&r, s, 8192, &used), HREQ_DONE);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(r.minor, 1);
	assert_true(r.has_host);
	/* nothing past the empty line is taken */
	assert_int_equal(used, strlen(s) - 4);
	/* and it stays done */
	assert_int_equal(hreq_feed(&r, "x", 1, &used), HREQ_DONE);
	assert_int_equal(used, 0);
	assert_int_equal(feed_bytes(&r, s, 8192), HREQ_DONE);
	assert_string_equal(r.path, "/metrics");
}

static void test_forms(void **state)
{
	struct hreq r;
	size_t used;

	/* HTTP/1.0 needs no Host; the query is not part of the path */
	assert_int_equal(feed_all(&r, "HEAD /health?x=1&y HTTP/1.0\n\n", 8192,
				  &used), HREQ_DONE);
	assert_string_equal(r.method, "HEAD");
	assert_string_equal(r.path, "/health");
	assert_int_equal(r.minor, 0);
	/* leading empty lines are skipped (RFC 9112 2.2) */
	assert_int_equal(parse("\r\n\r\nGET / HTTP/1.0\r\n\r\n"), HREQ_DONE);
	/* absolute-form */
	assert_int_equal(feed_all(&r, "GET http://h:1/metrics HTTP/1.1\r\n"
				  "host: h\r\n\r\n", 8192, &used), HREQ_DONE);
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(feed_all(&r, "GET http://h HTTP/1.0\r\n\r\n", 8192,
				  &used), HREQ_DONE);
	assert_string_equal(r.path, "/");
	/* any method token parses; the server answers 405 */
	assert_int_equal(parse("DELETE / HTTP/1.0\r\n\r\n"), HREQ_DONE);
	/* a higher minor version is HTTP/1.1 */
	assert_int_equal(parse("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), HREQ_DONE);
	/* empty value, tab in a value, obs-text */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX:\r\n"
			       "Y: a\tb \xff\r\n\r\n"), HREQ_DONE);
}

static void test_bad(void **state)
{
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
			 HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n fold\r\n\r\n"),
			 HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
			 HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n"),
			 HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\001\r\n\r\n"),
			 HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.1\rHost: a\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET  / HTTP/1.0\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.0 \r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/1.x\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET / HTTQ/1.0\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET /a#frag HTTP/1.0\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("G(T / HTTP/1.0\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse(" GET / HTTP/1.0\r\n\r\n"), HREQ_EBAD);
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n"), HREQ_EVERSION);
	assert_int_equal(parse("PROPFIND / HTTP/1.0\r\n\r\n"), HREQ_EMETHOD);
}

static void test_limits(void **state)
{
	char big[12000];
	size_t n, i;
	struct hreq r;
	size_t used;
	int rc;

	/* a path longer than HREQ_PATH_MAX */
	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', HREQ_PATH_MAX);
	snprintf(big + n + HREQ_PATH_MAX, sizeof(big) - n - HREQ_PATH_MAX,
		 " HTTP/1.0\r\n\r\n");
	assert_int_equal(parse(big), HREQ_EURI);
	/* a long query still fits the cap, and then does not */
	n = (size_t)snprintf(big, sizeof(big), "GET /?");
	memset(big + n, 'q', 9000);
	snprintf(big + n + 9000, sizeof(big) - n - 9000, " HTTP/1.0\r\n\r\n");
	assert_int_equal(parse(big), HREQ_EURI);
	/* a head over the cap: 431, however it is cut */
	n = (size_t)snprintf(big, sizeof(big),
			     "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'v', 8200);
	snprintf(big + n + 8200, sizeof(big) - n - 8200, "\r\n\r\n");
	assert_int_equal(parse(big), HREQ_ETOOBIG);
	/* exactly at the cap is fine */
	rc = feed_all(&r, "GET / HTTP/1.0\r\n\r\n", 18, &used);
	assert_int_equal(rc, HREQ_DONE);
	rc = feed_all(&r, "GET / HTTP/1.0\r\n\r\n", 17, &used);
	assert_int_equal(rc, HREQ_ETOOBIG);
	/* too many header fields */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.0\r\n");
	for (i = 0; i <= HREQ_FIELDS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "A: b\r\n");
	snprintf(big + n, sizeof(big) - n, "\r\n");
	assert_int_equal(parse(big), HREQ_ETOOBIG);
	/* an error sticks */
	assert_int_equal(hreq_feed(&r, "GET", 3, &used), HREQ_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
