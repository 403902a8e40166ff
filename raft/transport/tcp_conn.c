/* One cluster connection: handshake, records, queue, timers (raft/transport/tcp.h). */
#include "raft/transport/tcp_int.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "raft/msgcodec.h"
#include "raft/transport/tcpinfo.h"

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
		wire_plain_free(p->pt, p->len);
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

void tcp_conn_count_sent(struct conn *c)
{
	uv_os_fd_t fd;
	uint32_t segs;
	uint64_t retrans;

	if (c->state == C_CLOSING ||
	    uv_fileno((uv_handle_t *)&c->h, &fd) != 0 ||
	    tcpinfo_sent(fd, &segs, &retrans) < 0)
		return;
	/* unsigned differences: the kernel's 32-bit count may wrap */
	c->t->stats.tx_packets += (uint32_t)(segs - c->ti_segs);
	if (retrans > c->ti_retrans)
		c->t->stats.tx_retrans_bytes += retrans - c->ti_retrans;
	c->ti_segs = segs;
	c->ti_retrans = retrans;
}

void tcp_conn_close(struct conn *c)
{
	if (c->state == C_CLOSING)
		return;
	tcp_conn_count_sent(c);
	c->state = C_CLOSING;
	c->t->stats.conns_closed++;
	if (c->peer != NULL && c->peer->out == c)
		c->peer->out = NULL;
	if (c->peer != NULL && c->peer->next == c)
		c->peer->next = NULL;
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
	else if (c->close_after_write && c->queued_msgs == 0)
		tcp_conn_close(c);
}

static void count_tx(struct conn *c, size_t n)
{
	struct wire_stats *s = &c->t->stats;

	s->tx_bytes += n;
	s->tx_segments += (n + WIRE_TX_SEGMENT - 1) / WIRE_TX_SEGMENT;
	s->tx_seg_len16[WIRE_TX_SEGMENT % 16] += n / WIRE_TX_SEGMENT;
	if (n % WIRE_TX_SEGMENT)
		s->tx_seg_len16[n % WIRE_TX_SEGMENT % 16]++;
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
	count_tx(c, w->len);
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
	c->tx_total += n;
	count_tx(c, n);
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
		wire_plain_free(pt, len);
		return;
	}
	if (c->state == C_UP) {
		if (conn_send_sealed(c, pt, len) != 0)
			conn_fail(c);
		wire_plain_free(pt, len);
		return;
	}
	p = malloc(sizeof(*p));
	if (p == NULL) {
		wire_plain_free(pt, len);
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
		wire_plain_free(p->pt, p->len);
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

/* The timer's period on an established connection: pings and idle
 * checks, re-handshake and superseded deadlines; twice per keepalive or
 * idle-close period when that is shorter than the default's. A wake-up costs no
 * bytes, so a slow profile does not slow it down. */
static uint64_t tick_ms(const struct tcp *t)
{
	uint64_t p = TCP_PING_MS;
	unsigned rh = t->cfg.rehandshake_ms;

	if (t->timing.keepalive_ms && t->timing.keepalive_ms < p)
		p = t->timing.keepalive_ms;
	if (t->timing.idle_close_ms < p)
		p = t->timing.idle_close_ms;
	if (rh && rh < p)
		p = rh;
	return p / 2 + 1;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;

	free(req);
	if (status < 0 && status != UV_ECANCELED)
		tcp_conn_close(c);
}

/* A dialed connection that its successor replaced: what it has queued
 * goes out, then its write side shuts; the receiver reads to the end and
 * closes, and we close on its end of file (or TCP_SUPERSEDED_MS). Closing
 * at once could reset what the receiver has not read yet. */
static void conn_retire(struct conn *c)
{
	uv_shutdown_t *req = malloc(sizeof(*req));

	c->retiring = true;
	c->superseded_at = uv_now(c->t->loop);
	if (c->peer != NULL && c->peer->out == c)
		c->peer->out = NULL;
	c->peer = NULL;
	if (req == NULL) {
		tcp_conn_close(c);
		return;
	}
	req->data = c;
	if (uv_shutdown(req, (uv_stream_t *)&c->h, on_shutdown) != 0) {
		free(req);
		tcp_conn_close(c);
	}
}

static void conn_up(struct conn *c)
{
	struct tcp *t = c->t;
	struct conn *o;

	hs_peer_info(c->hs, &c->who);
	c->chan = hs_take_chan(c->hs);
	hs_free(c->hs);
	c->hs = NULL;
	frame_reader_free(&c->hsr);
	c->state = C_UP;
	wire_rx_init(&c->rx, c->chan, c->who.id, !c->dialed && c->who.join,
		     &t->stats);
	c->rx_init = true;
	c->up_at = uv_now(t->loop);
	/* From now on: pings on idle dialed links, idle accepted ones close. */
	uv_timer_start(&c->timer, on_timer, tick_ms(t), tick_ms(t));
	if (c->dialed) {
		t->stats.conns_out++;
		if (c->peer != NULL)
			c->peer->backoff = 0;
		if (c->peer != NULL && c->peer->next == c) {
			/* A re-handshake: traffic moves here, the old one
			 * drains. */
			o = c->peer->out;
			c->peer->out = c;
			c->peer->next = NULL;
			if (o != NULL)
				conn_retire(o);
		}
		if (c->peer != NULL && c->peer->id == 0 && c->who.id != 0)
			/* The member the token reached is trusted as such
			 * until the membership says otherwise. */
			tcp_pin(t, c->who.id, c->who.key);
	} else {
		t->stats.conns_in++;
		/* One accepted connection per peer: the newest wins. A
		 * joiner's older one closes at once; a member's is read to
		 * its end (a re-handshake: what it still carries is not
		 * lost) for at most TCP_SUPERSEDED_MS. */
		for (o = t->conns; o != NULL; o = o->next) {
			if (o == c || o->dialed || o->state != C_UP ||
			    o->who.id != c->who.id)
				continue;
			if (c->who.join)
				tcp_conn_close(o);
			else if (!o->superseded_at)
				o->superseded_at = uv_now(t->loop);
		}
	}
	conn_flush(c);
}

/* Who the peer of c is, for a log line. */
static void peer_text(const struct conn *c, char out[SRC_TEXT_MAX])
{
	if (!c->dialed)
		tcp_src_text(&c->src, out);
	else
		snprintf(out, SRC_TEXT_MAX, "%.63s",
			 c->peer != NULL ? c->peer->address : "?");
}

static void hs_failed(struct conn *c, int rc)
{
	struct tcp *t = c->t;
	bool by_peer = hs_refused_by_peer(c->hs);
	unsigned why = -rc < HS_ERR_COUNT ? (unsigned)-rc : 0;
	char who[SRC_TEXT_MAX];

	if (by_peer)
		t->stats.hs_refused[why]++;
	else
		t->stats.hs_failed[why]++;
	peer_text(c, who);
	tcp_log_limited(t, "handshake with %s (%s) failed: %s%s", who,
			c->dialed ? "dialed" : "accepted",
			by_peer ? "refused by the peer: " : "",
			hs_strerror(rc));
	if (by_peer && c->dialed && c->peer != NULL && c->peer->id == 0 &&
	    t->rtr.join_refused != NULL)
		t->rtr.join_refused(t->rtr.app_owner, rc);
}

static int conn_hs_input(struct conn *c, const uint8_t *rec, size_t len)
{
	uint8_t out[HS_MSG_MAX];
	size_t n = 0;
	int rc;

	if (c->hs == NULL) {
		/* Accepted: the hello is here, admitted so far by the
		 * listener; now the handshake's state. */
		struct hs_config hc;

		tcp_hs_config(c, &hc);
		if (hs_server_new(&hc, &c->hs) != 0) {
			c->t->stats.hs_failed[HS_ERR_INTERNAL]++;
			return -HS_ERR_INTERNAL;
		}
	}
	rc = hs_recv(c->hs, rec, len, out, sizeof(out), &n);
	if (rc != 0) {
		hs_failed(c, rc);
		/* A refusal tells the peer why, then the connection goes. */
		if (n > 0 && conn_send_hs(c, out, n) == 0) {
			c->close_after_write = true;
			uv_read_stop((uv_stream_t *)&c->h);
			return 0;
		}
		return rc;
	}
	if (!c->dialed && c->stage != S_PREHELLO && c->state == C_HANDSHAKE &&
	    !hs_done(c->hs)) {
		/* The hello is admitted: the rest of the handshake gets what
		 * is left of TCP_HS_TIMEOUT_MS. */
		uint64_t spent = uv_now(c->t->loop) - c->accepted_at;

		uv_timer_start(&c->timer, on_timer,
			       spent < TCP_HS_TIMEOUT_MS
				       ? TCP_HS_TIMEOUT_MS - spent
				       : 1,
			       TCP_PING_MS);
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
		if (c->dialed && c->state == C_HANDSHAKE) {
			char who[SRC_TEXT_MAX];

			/* No refusal we could read: a node of an older
			 * release closes on our hello without one. */
			peer_text(c, who);
			tcp_log_limited(c->t, "handshake with %s (dialed): the "
					"peer closed the connection (a node of "
					"another release?)", who);
		}
		conn_fail(c);
		return;
	}
	n = (size_t)nread;
	c->last_rx = uv_now(c->t->loop);
	if (n > 0)
		c->t->stats.rx_reads++;
	while (n > 0 && c->state == C_HANDSHAKE && !c->close_after_write) {
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

static struct conn *dial(struct tcp *t, struct peer *p, bool successor);

/* A member connection we dialed long ago, or that carried much: a fresh
 * handshake replaces it (new ephemeral keys), without a gap. */
static void rehandshake_due(struct conn *c, uint64_t now)
{
	struct tcp *t = c->t;
	struct peer *p = c->peer;
	uint64_t after = t->cfg.rehandshake_ms ? t->cfg.rehandshake_ms
					       : TCP_REHANDSHAKE_MS;

	if (p == NULL || p->id == 0 || p->out != c || p->next != NULL ||
	    now < p->next_attempt)
		return;
	if (now - c->up_at >= after || c->tx_total >= TCP_REHANDSHAKE_BYTES)
		dial(t, p, true);
}

static void on_timer(uv_timer_t *tm)
{
	struct conn *c = tm->data;
	uint64_t now = uv_now(c->t->loop);
	uint8_t none = 0;

	if (c->state != C_UP) {
		/* A deadline: the hello's, or the whole handshake's. */
		enum wire_refuse why = !c->dialed && c->stage == S_PREHELLO
					       ? WIRE_REFUSE_HELLO_TIMEOUT
					       : WIRE_REFUSE_HS_TIMEOUT;
		char who[SRC_TEXT_MAX];

		c->t->stats.refused[why]++;
		if (!c->dialed) {
			peer_text(c, who);
			tcp_log_limited(c->t, "closed a connection from %s: "
					"%s", who,
					why == WIRE_REFUSE_HELLO_TIMEOUT
						? "no hello in time"
						: "handshake not done in time");
		}
		conn_fail(c);
		return;
	}
	if ((!c->dialed && now - c->last_rx >= c->t->timing.idle_close_ms) ||
	    (c->superseded_at && now - c->superseded_at >= TCP_SUPERSEDED_MS)) {
		tcp_conn_close(c);
		return;
	}
	if (!c->dialed || c->retiring)
		return;
	if (c->t->timing.keepalive_ms &&
	    now - c->last_tx >= c->t->timing.keepalive_ms &&
	    c->queued_msgs < TCP_QUEUE_MAX_MSGS) {
		if (conn_send_sealed(c, &none, 0) != 0) {
			conn_fail(c);
			return;
		}
	}
	rehandshake_due(c, now);
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
	return dial(t, p, false);
}

/* A new connection to p: its connection, or (successor) the one that
 * replaces it once up (p->next). */
static struct conn *dial(struct tcp *t, struct peer *p, bool successor)
{
	struct hs_config hc;
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
	if (successor)
		p->next = c;
	else
		p->out = c;
	tcp_hs_config(c, &hc);
	if (p->id == 0)
		rc = hs_client_new_join(&hc, t->join, &c->hs);
	else
		rc = hs_client_new(&hc, p->id, &c->hs);
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

struct conn *tcp_conn_accepted(struct tcp *t, int fd,
			       const struct sockaddr_storage *src,
			       enum lst_kind via, bool from_member)
{
	struct conn *c = conn_new(t, false);

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->src = *src;
	c->via = via;
	c->from_member = from_member;
	c->stage = S_PREHELLO;
	c->accepted_at = uv_now(t->loop);
	if (uv_tcp_open(&c->h, fd) != 0) {
		close(fd);
		tcp_conn_close(c);
		return NULL;
	}
	set_sockopts(c);
	c->state = C_HANDSHAKE;
	uv_timer_start(&c->timer, on_timer, TCP_HELLO_TIMEOUT_MS, TCP_PING_MS);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0) {
		tcp_conn_close(c);
		return NULL;
	}
	return c;
}
