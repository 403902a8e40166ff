/*
 * A connection goes READ (head being parsed, deadline head_ms) -> WRITE
 * (the answer queued) -> LINGER (our side shut down; the client's bytes
 * are read and dropped until it closes, so that the kernel does not
 * answer unread input with a reset that could cut the answer short) ->
 * closed. MHTTP_LIFE_MS bounds the whole.
 */
#include "node/metrics/mhttp.h"
#include "node/metrics/hreq.h"
#include "node/base/log.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Linux: IPV6_FREEBIND since 4.15; IP_FREEBIND covers both before. */
#ifndef IP_FREEBIND
#define IP_FREEBIND 15
#endif

#define LINGER_MS 2000

enum { P_READ, P_WRITE, P_LINGER, P_CLOSING };

struct mconn;
static void respond_error(struct mconn *c, int status);

struct mconn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_shutdown_t sd;
	struct mhttp *h;
	struct mconn *prev, *next;
	int phase, handles;
	uint64_t start;                 /* loop ms */
	struct hreq req;
	char rbuf[1024];
	char head[256];
	char *body;
};

struct mhttp {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct mhttp_conf c;
	mhttp_handler fn;
	void *arg;
	struct mconn *conns;
	int n_conns;
	int handles;                    /* listener + connections' */
	int stopping;
	struct mhttp_stats stats;
};

int mhttp_code_of(int idx)
{
	static const int codes[] = {
#define MHTTP_CODE(c) c,
		MHTTP_CODES(MHTTP_CODE)
#undef MHTTP_CODE
	};

	return idx >= 0 && idx < (int)(sizeof(codes) / sizeof(codes[0])) ?
	       codes[idx] : 0;
}

static int code_idx(int status)
{
	int i;

	for (i = 0; i < MHTTP_C_OTHER; i++)
		if (mhttp_code_of(i) == status)
			return i;
	return MHTTP_C_OTHER;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static void maybe_free(struct mhttp *h)
{
	if (h->stopping && h->handles == 0)
		free(h);
}

static void conn_closed(uv_handle_t *hd)
{
	struct mconn *c = hd->data;
	struct mhttp *h = c->h;

	if (--c->handles > 0)
		return;
	free(c->body);
	free(c);
	h->handles--;
	maybe_free(h);
}

static void conn_close(struct mconn *c)
{
	struct mhttp *h = c->h;

	if (c->phase == P_CLOSING)
		return;
	c->phase = P_CLOSING;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->n_conns--;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void on_timer(uv_timer_t *t)
{
	struct mconn *c = t->data;

	if (c->phase == P_READ)
		respond_error(c, 408);
	else
		conn_close(c);
}

static void rearm(struct mconn *c, uint64_t ms)
{
	uint64_t used = uv_now(c->h->loop) - c->start;
	uint64_t left = used < c->h->c.life_ms ? c->h->c.life_ms - used : 1;

	uv_timer_start(&c->timer, on_timer, ms < left ? ms : left, 0);
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
	struct mconn *c = sd->data;

	if (status < 0)
		conn_close(c);
}

static void on_written(uv_write_t *wr, int status)
{
	struct mconn *c = wr->data;

	free(c->body);
	c->body = NULL;
	if (c->phase == P_CLOSING)
		return;
	if (status < 0 ||
	    uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		conn_close(c);
		return;
	}
	c->phase = P_LINGER;
	rearm(c, LINGER_MS);
}

/* Queues the answer; body (malloc()ed or NULL) is taken. */
static void respond(struct mconn *c, int status, const char *ctype,
		    char *body, size_t len, int head_only)
{
	uv_buf_t b[2];
	int n;

	c->h->stats.responses[code_idx(status)]++;
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: close\r\n\r\n",
		     status, reason(status), ctype, len,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "");
	c->body = body;
	b[0] = uv_buf_init(c->head, (unsigned)n);
	b[1] = uv_buf_init(body ? body : c->head, head_only ? 0 :
			   (unsigned)len);
	c->phase = P_WRITE;
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, b, len && !head_only ?
		     2 : 1, on_written) < 0) {
		conn_close(c);
		return;
	}
	rearm(c, c->h->c.life_ms);
}

static void respond_error(struct mconn *c, int status)
{
	char *body = NULL;
	int n = asprintf(&body, "%d %s\n", status, reason(status));

	if (n < 0) {
		conn_close(c);
		return;
	}
	respond(c, status, "text/plain; charset=utf-8", body, (size_t)n,
		!strcmp(c->req.method, "HEAD"));
}

static void dispatch(struct mconn *c)
{
	const struct hreq *r = &c->req;
	int head = !strcmp(r->method, "HEAD");
	struct mhttp_answer a = { 0 };

	if (!head && strcmp(r->method, "GET") != 0) {
		respond_error(c, 405);
		return;
	}
	if (c->h->fn(c->h->arg, r->path, &a) < 0) {
		conn_close(c);
		return;
	}
	respond(c, a.status, a.ctype, a.body, a.len, head);
}

static void on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *buf)
{
	struct mconn *c = hd->data;

	*buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct mconn *c = s->data;
	size_t used;
	int rc;

	if (nread < 0) {
		if (c->phase == P_READ)
			c->h->stats.aborted++;
		conn_close(c);
		return;
	}
	/* What comes after the head (a body, a pipelined request) is
	 * dropped: one request per connection. */
	if (nread == 0 || c->phase != P_READ)
		return;
	rc = hreq_feed(&c->req, buf->base, (size_t)nread, &used);
	if (rc == HREQ_MORE)
		return;
	if (rc == HREQ_DONE)
		dispatch(c);
	else
		respond_error(c, -rc);
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct mhttp *h = srv->data;
	struct mconn *c;

	if (status < 0) {
		log_warnx("metrics: accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_warnx("metrics: out of memory for a connection");
		return;
	}
	c->h = h;
	c->tcp.data = c->timer.data = c->sd.data = c;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->handles = 2;
	h->handles++;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->n_conns++;
	c->start = uv_now(h->loop);
	hreq_init(&c->req, h->c.head_max);
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	/* Over the cap: closed at once, which costs the loop nothing more
	 * than the accept. */
	if (h->n_conns > h->c.max_conns) {
		h->stats.rejected++;
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_start(&c->timer, on_timer, h->c.head_ms, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		conn_close(c);
}

/* The listening socket, bound with IP_FREEBIND: the overlay address is
 * configured by the WireGuard mesh, possibly after the daemon starts. */
static int listen_fd(const struct netaddr *a)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->addr;
	int one = 1, fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
	    (sa->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			sizeof(one)) < 0) ||
	    bind(fd, sa, a->len) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void listener_closed(uv_handle_t *hd)
{
	struct mhttp *h = hd->data;

	h->handles--;
	maybe_free(h);
}

struct mhttp *mhttp_start(uv_loop_t *loop, const struct netaddr *addr,
			  const struct mhttp_conf *c, mhttp_handler fn,
			  void *arg)
{
	struct mhttp *h = calloc(1, sizeof(*h));
	int fd, rc;

	if (!h)
		return NULL;
	h->loop = loop;
	h->fn = fn;
	h->arg = arg;
	h->c.max_conns = c && c->max_conns ? c->max_conns : MHTTP_MAX_CONNS;
	h->c.head_max = c && c->head_max ? c->head_max : MHTTP_HEAD_MAX;
	h->c.head_ms = c && c->head_ms ? c->head_ms : MHTTP_HEAD_MS;
	h->c.life_ms = c && c->life_ms ? c->life_ms : MHTTP_LIFE_MS;
	fd = listen_fd(addr);
	if (fd < 0) {
		log_warnx("metrics-listen: cannot bind: %s", strerror(-fd));
		free(h);
		return NULL;
	}
	uv_tcp_init(loop, &h->listener);
	h->listener.data = h;
	h->handles = 1;
	rc = uv_tcp_open(&h->listener, fd);
	if (rc < 0)
		close(fd);      /* not the handle's yet */
	else
		rc = uv_listen((uv_stream_t *)&h->listener, 64, on_connection);
	if (rc < 0) {
		log_warnx("metrics-listen: cannot listen: %s", uv_strerror(rc));
		h->stopping = 1;
		uv_close((uv_handle_t *)&h->listener, listener_closed);
		return NULL;
	}
	return h;
}

int mhttp_addr(const struct mhttp *h, struct sockaddr_storage *out)
{
	int len = sizeof(*out);

	return uv_tcp_getsockname(&h->listener, (struct sockaddr *)out, &len);
}

void mhttp_stats(const struct mhttp *h, struct mhttp_stats *out)
{
	*out = h->stats;
}

void mhttp_stop(struct mhttp *h)
{
	if (!h)
		return;
	h->stopping = 1;
	while (h->conns)
		conn_close(h->conns);
	uv_close((uv_handle_t *)&h->listener, listener_closed);
}
