/*
 * The endpoint's HTTP server (node/metrics/mhttp.c) on a real loop in a
 * thread, with blocking clients on loopback: answers, 404, 405, the
 * head-size cap (431), the deadline (408 to a slowloris), malformed
 * heads (400), the connection cap.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/metrics/mhttp.h"

struct srv {
	uv_loop_t loop;
	uv_async_t stop;
	struct mhttp *h;
	pthread_t th;
	uint16_t port;
	struct mhttp_stats stats;
};

static int handler(void *arg, const char *path, struct mhttp_answer *a)
{
	a->status = strcmp(path, "/metrics") == 0 ? 200 : 404;
	a->ctype = "text/plain";
	a->body = strdup(a->status == 200 ? "m 1\n" : "nope\n");
	a->len = strlen(a->body);
	return 0;
}

static void on_stop(uv_async_t *as)
{
	struct srv *s = as->data;

	mhttp_stats(s->h, &s->stats);
	mhttp_stop(s->h);
	uv_close((uv_handle_t *)as, NULL);
}

static void *run(void *arg)
{
	struct srv *s = arg;

	uv_run(&s->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void start(struct srv *s)
{
	struct mhttp_conf c = { .max_conns = 3, .head_max = 1024,
				.head_ms = 300, .life_ms = 2000 };
	struct netaddr a;
	struct sockaddr_in *in = (struct sockaddr_in *)&a.addr;
	struct sockaddr_storage ss;

	memset(&a, 0, sizeof(a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.len = sizeof(*in);
	assert_int_equal(uv_loop_init(&s->loop), 0);
	s->h = mhttp_start(&s->loop, &a, &c, handler, s);
	assert_non_null(s->h);
	assert_int_equal(mhttp_addr(s->h, &ss), 0);
	s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	uv_async_init(&s->loop, &s->stop, on_stop);
	s->stop.data = s;
	assert_int_equal(pthread_create(&s->th, NULL, run, s), 0);
}

static void finish(struct srv *s)
{
	uv_async_send(&s->stop);
	pthread_join(s->th, NULL);
	assert_int_equal(uv_loop_close(&s->loop), 0);
}

static int dial(const struct srv *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(s->port) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Everything the server sends until it closes (or 5 s pass). */
static char *drain(int fd)
{
	static char buf[8192];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1 &&
	       (r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return buf;
}

static char *ask(const struct srv *s, const char *req, size_t len)
{
	int fd = dial(s);

	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	return drain(fd);
}

#define ASK(s, req) ask(s, req, strlen(req))

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_answers(void **state)
{
	static struct srv s;
	char big[2048], *r;
	int fds[3], fd, i;
	double t0;

	start(&s);
	r = ASK(&s, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_true(starts(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "Content-Length: 4\r\n"));
	assert_non_null(strstr(r, "Connection: close\r\n\r\nm 1\n"));
	/* HEAD: the same head, no body */
	r = ASK(&s, "HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_true(starts(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "Content-Length: 4\r\n"));
	assert_null(strstr(r, "m 1"));
	r = ASK(&s, "GET /x HTTP/1.0\r\n\r\n");
	assert_true(starts(r, "HTTP/1.1 404 "));
	r = ASK(&s, "POST /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\nab");
	assert_true(starts(r, "HTTP/1.1 405 "));
	assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
	r = ASK(&s, "GET /metrics HTTP/1.1\r\n\r\n");    /* no Host */
	assert_true(starts(r, "HTTP/1.1 400 "));
	r = ASK(&s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");  /* TLS */
	assert_true(starts(r, "HTTP/1.1 400 "));
	r = ASK(&s, "GET / HTTP/2.0\r\n\r\n");
	assert_true(starts(r, "HTTP/1.1 505 "));
	/* a head over the cap */
	i = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nX: ");
	memset(big + i, 'a', sizeof(big) - (size_t)i);
	r = ask(&s, big, sizeof(big));
	assert_true(starts(r, "HTTP/1.1 431 "));
	/* a slow client gets 408 once the deadline passed */
	t0 = now_s();
	fd = dial(&s);
	assert_int_equal(send(fd, "GET /met", 8, 0), 8);
	r = drain(fd);
	assert_true(starts(r, "HTTP/1.1 408 "));
	assert_true(now_s() - t0 >= 0.25);
	assert_true(now_s() - t0 < 2);
	/* a client that says nothing: 408 too */
	r = drain(dial(&s));
	assert_true(starts(r, "HTTP/1.1 408 "));
	/* the cap: three held open, the fourth is closed unanswered,
	 * and a request after they went is answered again */
	for (i = 0; i < 3; i++)
		fds[i] = dial(&s);
	usleep(50000);
	fd = dial(&s);
	/* the send may or may not beat the server's close: either way
	 * nothing comes back */
	(void)send(fd, "GET /metrics HTTP/1.0\r\n\r\n", 26, MSG_NOSIGNAL);
	r = drain(fd);
	assert_string_equal(r, "");
	for (i = 0; i < 3; i++)
		close(fds[i]);
	usleep(50000);
	r = ASK(&s, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_true(starts(r, "HTTP/1.1 200 OK\r\n"));
	finish(&s);
	assert_int_equal(s.stats.responses[MHTTP_C200], 3);
	assert_int_equal(s.stats.responses[MHTTP_C404], 1);
	assert_int_equal(s.stats.responses[MHTTP_C405], 1);
	assert_int_equal(s.stats.responses[MHTTP_C400], 2);
	assert_int_equal(s.stats.responses[MHTTP_C431], 1);
	assert_int_equal(s.stats.responses[MHTTP_C408], 2);
	assert_int_equal(s.stats.responses[MHTTP_C505], 1);
	assert_int_equal(s.stats.rejected, 1);
}

/* An address this machine does not have (TEST-NET-1, RFC 5737) binds:
 * IP_FREEBIND, for an overlay address the mesh configures later. Nothing
 * is sent. */
static void test_freebind(void **state)
{
	struct netaddr a;
	struct sockaddr_in *in = (struct sockaddr_in *)&a.addr;
	uv_loop_t loop;
	struct mhttp *h;

	memset(&a, 0, sizeof(a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0xc0000263);        /* 192.0.2.99 */
	a.len = sizeof(*in);
	assert_int_equal(uv_loop_init(&loop), 0);
	h = mhttp_start(&loop, &a, NULL, handler, NULL);
	assert_non_null(h);
	mhttp_stop(h);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_freebind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
