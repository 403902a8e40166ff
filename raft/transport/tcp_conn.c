/* One cluster connection: handshake, records, queue, timers (raft/transport/tcp.h). */
#include "raft/transport/tcp_int.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "raft/msgcodec.h"

static void conn_flush(struct conn *c);
static void on_timer(uv_timer_t *tm);

/* --- handle bookkeeping --- */

void tcp_maybe_done(struct tcp *t)
{
	if (t->closing && t->open_handles == 0 && t->done != NULL) {
		void (*done)(void *) = t->done;

		t->done = NULL;
		done(t->done_arg);
	}
}

static void conn_free(struct conn *c)
{
	struct pending *p, *n;
	struct tcp *t = c->t;
	struct conn **pp;

	for (pp = &t->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	for (p = c->head; p != NULL; p = n) {
		n = p->next;
		free(p->pt);
		free(p);
	}
	if (c->rx_init)
		wire_rx_free(&c->rx);
	frame_reader_free(&c->hsr);
	hs_free(c->hs);
	chan_free(c->chan);
	free(c);
	t->open_handles--;
	tcp_maybe_done(t);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles == 0)
		conn_free(c);
}

void tcp_conn_close(struct conn *c)
{
	if (c->state == C_CLOSING)
		return;
	if (!c->dialed && c->state == C_HANDSHAKE)
		c->t->hs_pending--;
	c->state = C_CLOSING;
	c->t->stats.conns_closed++;
	if (c->peer != NULL && c->peer->out == c)
		c->peer->out = NULL;
	c->peer = NULL;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
	uv_close((uv_handle_t *)&c->h, conn_handle_closed);
}

/* A dialed connection failed before it was usable: back off. */
static void conn_fail(struct conn *c)
{
	struct peer *p = c->peer;

	if (p != NULL && c->state != C_UP) {
		p->backoff = p->backoff ? p->backoff * 2 : TCP_BACKOFF_MIN_MS;
		if (p->backoff > TCP_BACKOFF_MAX_MS)
			p->backoff = TCP_BACKOFF_MAX_MS;
		p->next_attempt = uv_now(c->t->loop) + p->backoff;
	}
	tcp_conn_close(c);
}

static struct conn *conn_new(struct tcp *t, bool dialed)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->t = t;
	c->dialed = dialed;
	c->tail = &c->head;
	frame_reader_init(&c->hsr, HS_MSG_MAX);
	if (uv_tcp_init(t->loop, &c->h) != 0) {
		free(c);
		return NULL;
	}
	uv_timer_init(t->loop, &c->timer);
	c->h.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->last_rx = c->last_tx = uv_now(t->loop);
	c->next = t->conns;
	t->conns = c;
	t->open_handles++;
	return c;
}

/* --- writing --- */

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = w->c;

	c->queued_bytes -= w->len;
	c->queued_msgs--;
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		conn_fail(c);
}

/* Writes len bytes produced by fill(); counted against the queue. */
static int conn_write_raw(struct conn *c, const uint8_t *hdr, size_t hlen,
			  const uint8_t *body, size_t blen)
{
	struct wreq *w = malloc(sizeof(*w) + hlen + blen);
	uv_buf_t b;
	int rc;

	if (w == NULL)
		return -ENOMEM;
	w->c = c;
	w->len = hlen + blen;
	memcpy(w->data, hdr, hlen);
	memcpy(w->data + hlen, body, blen);
	b = uv_buf_init((char *)w->data, (unsigned)w->len);
	c->queued_bytes += w->len;
	c->queued_msgs++;
	rc = uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, write_done);
	if (rc != 0) {
		c->queued_bytes -= w->len;
		c->queued_msgs--;
		free(w);
		return -EIO;
	}
	c->last_tx = uv_now(c->t->loop);
	return 0;
}

static int conn_send_hs(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t hdr[4];

	frame_put_len(hdr, (uint32_t)len);
	return conn_write_raw(c, hdr, 4, msg, len);
}

/* Seals one plaintext and writes it (channel up). */
static int conn_send_sealed(struct conn *c, const uint8_t *pt, size_t len)
{
	size_t n = chan_sealed_len(len);
	struct wreq *w = malloc(sizeof(*w) + n);
	uv_buf_t b;
	int rc;

	if (w == NULL)
		return -ENOMEM;
	rc = chan_seal(c->chan, pt, len, w->data, n);
	if (rc != 0) {
		free(w);
		return rc;
	}
	w->c = c;
	w->len = n;
	b = uv_buf_init((char *)w->data, (unsigned)n);
	c->queued_bytes += n;
	c->queued_msgs++;
	if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, write_done) != 0) {
		c->queued_bytes -= n;
		c->queued_msgs--;
		free(w);
		return -EIO;
	}
	if (len > 0)
		c->t->stats.frames_tx++;
	c->last_tx = uv_now(c->t->loop);
	return 0;
}

/* Queues (or sends) an encoded frame; takes pt. */
void tcp_conn_enqueue(struct conn *c, uint8_t *pt, size_t len)
{
	struct pending *p;

	if (c->queued_msgs >= TCP_QUEUE_MAX_MSGS ||
	    c->queued_bytes + len > TCP_QUEUE_MAX_BYTES) {
		c->t->stats.drops[WIRE_DROP_QUEUE_FULL]++;
		free(pt);
		return;
	}
	if (c->state == C_UP) {
		if (conn_send_sealed(c, pt, len) != 0)
			conn_fail(c);
		free(pt);
		return;
	}
	p = malloc(sizeof(*p));
	if (p == NULL) {
		free(pt);
		return;
	}
	p->next = NULL;
	p->pt = pt;
	p->len = len;
	*c->tail = p;
	c->tail = &p->next;
	c->queued_bytes += len;
	c->queued_msgs++;
}

static void conn_flush(struct conn *c)
{
	struct pending *p;

	while ((p = c->head) != NULL && c->state == C_UP) {
		c->head = p->next;
		if (c->head == NULL)
			c->tail = &c->head;
		c->queued_bytes -= p->len;
		c->queued_msgs--;
		if (conn_send_sealed(c, p->pt, p->len) != 0)
			conn_fail(c);
		free(p->pt);
		free(p);
	}
}

/* --- receiving --- */

static void sink_raft(void *ctx, struct raft_message *m)
{
	struct conn *c = ctx;
	struct tcp *t = c->t;

	m->server_id = c->who.id;
	m->server_address = tcp_member_address(t, c->who.id);
	if (t->rtr.recv != NULL)
		t->rtr.recv(t->rtr.owner, m);
	else
		msgcodec_release(m);
}

static void sink_app(void *ctx, const uint8_t *buf, size_t len)
{
	struct conn *c = ctx;
	struct tcp *t = c->t;
	struct rtr_from from;

	if (t->rtr.app_recv == NULL) {
		t->stats.drops[WIRE_DROP_NO_APP]++;
		return;
	}
	memset(&from, 0, sizeof(from));
	from.id = c->who.id;
	/* Only the accepting side sees a token-authenticated peer. */
	from.joiner = !c->dialed && c->who.join;
	memcpy(from.key, c->who.key, sizeof(from.key));
	memcpy(from.token_id, c->who.token_id, sizeof(from.token_id));
	t->rtr.app_recv(t->rtr.app_owner, &from, buf, len);
}

/* How often an open connection's timer looks: twice per keepalive period
 * or idle-close period, whichever is shorter. */
static uint64_t tick_ms(const struct tcp *t)
{
	uint64_t p = t->timing.idle_close_ms;

	if (t->timing.keepalive_ms && t->timing.keepalive_ms < p)
		p = t->timing.keepalive_ms;
	return p / 2 >= 500 ? p / 2 : 500;
}

static void conn_up(struct conn *c)
{
	struct tcp *t = c->t;
	struct conn *o;

	if (!c->dialed)
		t->hs_pending--;
	hs_peer_info(c->hs, &c->who);
	c->chan = hs_take_chan(c->hs);
	hs_free(c->hs);
	c->hs = NULL;
	frame_reader_free(&c->hsr);
	c->state = C_UP;
	wire_rx_init(&c->rx, c->chan, c->who.id, !c->dialed && c->who.join,
		     &t->stats);
	c->rx_init = true;
	/* From now on: pings on idle dialed links, idle accepted ones close. */
	uv_timer_start(&c->timer, on_timer, tick_ms(t), tick_ms(t));
	if (c->dialed) {
		t->stats.conns_out++;
		if (c->peer != NULL)
			c->peer->backoff = 0;
		if (c->peer != NULL && c->peer->id == 0 && c->who.id != 0)
			/* The member the token reached is trusted as such
			 * until the membership says otherwise. */
			tcp_pin(t, c->who.id, c->who.key);
	} else {
		t->stats.conns_in++;
		/* One accepted connection per peer: the newest wins. */
		for (o = t->conns; o != NULL; o = o->next)
			if (o != c && !o->dialed && o->state == C_UP &&
			    o->who.id == c->who.id)
				tcp_conn_close(o);
	}
	conn_flush(c);
}

static int conn_hs_input(struct conn *c, const uint8_t *rec, size_t len)
{
	uint8_t out[HS_MSG_MAX];
	size_t n = 0;
	int rc;

	rc = hs_recv(c->hs, rec, len, out, sizeof(out), &n);
	if (rc != 0) {
		struct tcp *t = c->t;
		uint64_t now = uv_now(t->loop);

		t->stats.hs_failed[-rc < HS_ERR_COUNT ? -rc : 0]++;
		/* At most one line a second: strangers must not flood the
		 * log; the counters keep the full story. */
		if (now >= t->log_next) {
			rlog(&t->cfg.log, RLOG_WARN, "cluster: handshake with %s peer failed: %s"
				  " (%" PRIu64 " more not logged)",
				  c->dialed ? "dialed" : "accepted",
				  hs_strerror(rc), t->log_suppressed);
			t->log_next = now + 1000;
			t->log_suppressed = 0;
		} else {
			t->log_suppressed++;
		}
		return rc;
	}
	if (n > 0 && conn_send_hs(c, out, n) != 0)
		return -EIO;
	if (hs_done(c->hs))
		conn_up(c);
	return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)c->t->rbuf, sizeof(c->t->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	const uint8_t *data = (const uint8_t *)buf->base, *rec;
	size_t n, used, len;
	int rc;

	if (c->state == C_CLOSING)
		return;
	if (nread < 0) {
		if (c->rx_init)
			wire_rx_eof(&c->rx);
		else if (frame_reader_pending(&c->hsr) > 0)
			c->t->stats.drops[WIRE_DROP_TRUNCATED]++;
		conn_fail(c);
		return;
	}
	n = (size_t)nread;
	c->last_rx = uv_now(c->t->loop);
	while (n > 0 && c->state == C_HANDSHAKE) {
		rc = frame_reader_feed(&c->hsr, data, n, &used, &rec, &len);
		if (rc < 0) {
			c->t->stats.hs_failed[HS_ERR_MALFORMED]++;
			conn_fail(c);
			return;
		}
		data += used;
		n -= used;
		if (rc == 1 && conn_hs_input(c, rec, len) != 0) {
			conn_fail(c);
			return;
		}
	}
	if (n > 0 && c->state == C_UP) {
		struct wire_sink sink = { sink_raft, sink_app, c };

		/* The sink may close c (via the driver); it stays allocated
		 * until its handles are closed, after this callback. */
		if (wire_rx_feed(&c->rx, data, n, &sink) != 0)
			tcp_conn_close(c);
	}
}

static void set_sockopts(struct conn *c)
{
	const struct tcp_timing *tm = &c->t->timing;
	unsigned int ms = tm->user_timeout_ms;
	uv_os_fd_t fd;

	uv_tcp_nodelay(&c->h, 1);
	/* The kernel probes a connection idle for half the keepalive
	 * period; none at all when the profile turns keepalives off (each
	 * probe and its answer are bytes out: docs/cost.md). */
	if (tm->keepalive_ms)
		uv_tcp_keepalive(&c->h, 1, tm->keepalive_ms / 2000 ?
				 tm->keepalive_ms / 2000 : 1);
	else
		uv_tcp_keepalive(&c->h, 0, 0);
	/* Unacknowledged data for this long aborts the connection: a dead
	 * peer is noticed without waiting for the kernel's retries. */
	if (uv_fileno((uv_handle_t *)&c->h, &fd) == 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
				 sizeof(ms));
}

void tcp_conn_retime(struct conn *c)
{
	if (c->state == C_HANDSHAKE || c->state == C_UP)
		set_sockopts(c);
	if (c->state == C_UP)
		uv_timer_start(&c->timer, on_timer, tick_ms(c->t),
			       tick_ms(c->t));
}

/* --- timers --- */

static void on_timer(uv_timer_t *tm)
{
	struct conn *c = tm->data;
	uint64_t now = uv_now(c->t->loop);
	uint8_t none = 0;

	if (c->state != C_UP) {
		c->t->stats.hs_failed[HS_ERR_MALFORMED]++;
		conn_fail(c); /* handshake deadline */
		return;
	}
	if (!c->dialed && now - c->last_rx >= c->t->timing.idle_close_ms) {
		tcp_conn_close(c);
		return;
	}
	if (c->dialed && c->t->timing.keepalive_ms &&
	    now - c->last_tx >= c->t->timing.keepalive_ms &&
	    c->queued_msgs < TCP_QUEUE_MAX_MSGS) {
		if (conn_send_sealed(c, &none, 0) != 0)
			conn_fail(c);
	}
}

/* --- dialing --- */

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	uint8_t out[HS_MSG_MAX];
	size_t n;

	free(req);
	if (c->state == C_CLOSING)
		return;
	if (status < 0) {
		conn_fail(c);
		return;
	}
	set_sockopts(c);
	c->state = C_HANDSHAKE;
	if (hs_start(c->hs, out, sizeof(out), &n) != 0 ||
	    conn_send_hs(c, out, n) != 0 ||
	    uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
		conn_fail(c);
}

struct conn *tcp_dial(struct tcp *t, struct peer *p)
{
	struct sockaddr_storage ss;
	uv_connect_t *req;
	struct conn *c;
	int rc;

	if (t->cfg.parse_addr(p->address, &ss) != 0) {
		/* Once per peer and address: the operator must fix it. */
		if (!p->warned) {
			rlog(&t->cfg.log, RLOG_WARN, "cluster: cannot dial node %" PRIu64
				  " at '%s': not a numeric host:port",
				  p->id, p->address);
			p->warned = true;
		}
		return NULL;
	}
	c = conn_new(t, true);
	if (c == NULL)
		return NULL;
	c->peer = p;
	p->out = c;
	if (p->id == 0)
		rc = hs_client_new_join(&t->hs, &t->join, &c->hs);
	else
		rc = hs_client_new(&t->hs, p->id, &c->hs);
	req = malloc(sizeof(*req));
	if (rc != 0 || req == NULL) {
		free(req);
		conn_fail(c);
		return NULL;
	}
	req->data = c;
	if (uv_tcp_connect(req, &c->h, (struct sockaddr *)&ss, on_connect) !=
	    0) {
		free(req);
		conn_fail(c);
		return NULL;
	}
	uv_timer_start(&c->timer, on_timer, TCP_HS_TIMEOUT_MS, tick_ms(t));
	return c;
}

/* --- accepting --- */

void tcp_on_accept(uv_stream_t *s, int status)
{
	struct tcp *t = s->data;
	struct conn *c;

	if (status < 0 || t->closing)
		return;
	c = conn_new(t, false);
	if (c == NULL)
		return;
	if (uv_accept(s, (uv_stream_t *)&c->h) != 0 ||
	    hs_server_new(&t->hs, &c->hs) != 0) {
		tcp_conn_close(c);
		return;
	}
	if (t->hs_pending >= TCP_HS_PENDING_MAX) {
		t->stats.hs_failed[HS_ERR_INTERNAL]++;
		tcp_conn_close(c);
		return;
	}
	set_sockopts(c);
	c->state = C_HANDSHAKE;
	t->hs_pending++;
	uv_timer_start(&c->timer, on_timer, TCP_HS_TIMEOUT_MS, tick_ms(t));
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
		tcp_conn_close(c);
}

