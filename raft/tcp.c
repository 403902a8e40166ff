#include "raft/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/log.h"
#include "raft/msgcodec.h"

#define ADDR_MAX 300

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_UP, C_CLOSING };

struct pending {
	struct pending *next;
	uint8_t *pt; /* encoded RaftMsg, sealed once the channel is up */
	size_t len;
};

struct conn {
	struct tcp *t;
	struct conn *next; /* t->conns */
	uv_tcp_t h;
	uv_timer_t timer;
	int open_handles;
	enum conn_state state;
	bool dialed;
	struct peer *peer;  /* dialed: the peer entry it serves */
	struct hs *hs;
	struct chan *chan;
	struct hs_peer who; /* after the handshake */
	struct frame_reader hsr;
	struct wire_rx rx;
	bool rx_init;
	struct pending *head, **tail;
	size_t queued_bytes; /* pending + in flight */
	unsigned queued_msgs;
	uint64_t last_rx, last_tx;
};

struct peer {
	uint64_t id; /* 0: the joiner's dial to a token member */
	char address[ADDR_MAX];
	struct conn *out;
	uint64_t next_attempt;
	uint64_t backoff;
	unsigned next_endpoint; /* joiner: token endpoint to try next */
};

struct pin {
	uint64_t id;
	uint8_t key[IDENT_PK_LEN];
};

struct tcp {
	struct rtr rtr; /* first: tcp_rtr() and the callbacks cast back */
	struct tcp_config cfg;
	struct hs_config hs;
	struct token join;
	bool joining;
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listening;
	int port;
	struct conn *conns;
	struct peer *peers;
	unsigned n_peers;
	struct pin *pins;
	unsigned n_pins;
	struct raft_server *members; /* last committed configuration */
	unsigned n_members;
	struct wire_stats stats;
	int open_handles;
	bool closing;
	void (*done)(void *);
	void *done_arg;
	uint8_t rbuf[64 * 1024]; /* one loop thread: reads never overlap */
};

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);
static void on_timer(uv_timer_t *tm);

/* --- trust: pins first (a joiner's bootstrap), then the membership --- */

static int trusted_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	struct tcp *t = ctx;
	unsigned i;

	for (i = 0; i < t->n_pins; i++) {
		if (t->pins[i].id == id) {
			memcpy(pk, t->pins[i].key, IDENT_PK_LEN);
			return 0;
		}
	}
	return t->cfg.trust.member_key(t->cfg.trust.ctx, id, pk);
}

static int trusted_token(void *ctx, const uint8_t id[TOKEN_ID_LEN],
			 uint8_t key[TOKEN_KEY_LEN])
{
	struct tcp *t = ctx;

	if (t->cfg.trust.token_key == NULL)
		return -ENOENT;
	return t->cfg.trust.token_key(t->cfg.trust.ctx, id, key);
}

int tcp_pin(struct tcp *t, uint64_t id, const uint8_t key[IDENT_PK_LEN])
{
	struct pin *p;
	unsigned i;

	for (i = 0; i < t->n_pins; i++) {
		if (t->pins[i].id == id) {
			memcpy(t->pins[i].key, key, IDENT_PK_LEN);
			return 0;
		}
	}
	p = realloc(t->pins, (t->n_pins + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	t->pins = p;
	p[t->n_pins].id = id;
	memcpy(p[t->n_pins].key, key, IDENT_PK_LEN);
	t->n_pins++;
	return 0;
}

/* --- addresses --- */

int tcp_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[ADDR_MAX];
	const char *colon, *h, *p;
	char *end;
	size_t hl;
	long port;

	if (s == NULL || strlen(s) >= ADDR_MAX)
		return -EINVAL;
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(colon - h);
		p = colon + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			return -EINVAL;
		h = s;
		hl = (size_t)(colon - s);
		p = colon + 1;
	}
	if (hl == 0 || *p == '\0')
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(p, &end, 10);
	if (errno != 0 || *end != '\0' || port < 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[')
		return uv_ip6_addr(host, (int)port,
				   (struct sockaddr_in6 *)ss) == 0
			       ? 0
			       : -EINVAL;
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0
		       ? 0
		       : -EINVAL;
}

static const char *member_address(const struct tcp *t, uint64_t id)
{
	unsigned i;

	for (i = 0; i < t->n_members; i++)
		if (t->members[i].id == id)
			return t->members[i].address;
	for (i = 0; i < t->n_peers; i++)
		if (t->peers[i].id == id)
			return t->peers[i].address;
	return "";
}

/* --- handle bookkeeping --- */

static void maybe_done(struct tcp *t)
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
	maybe_done(t);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles == 0)
		conn_free(c);
}

static void conn_close(struct conn *c)
{
	if (c->state == C_CLOSING)
		return;
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
	conn_close(c);
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
static void conn_enqueue(struct conn *c, uint8_t *pt, size_t len)
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
	m->server_address = member_address(t, c->who.id);
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
	/* From now on: pings on idle dialed links, idle accepted ones close. */
	uv_timer_start(&c->timer, on_timer, TCP_PING_MS / 2, TCP_PING_MS / 2);
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
				conn_close(o);
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
		c->t->stats.hs_failed[-rc < HS_ERR_COUNT ? -rc : 0]++;
		log_warnx("cluster: handshake with %s peer failed: %s",
			  c->dialed ? "dialed" : "accepted", hs_strerror(rc));
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
			conn_close(c);
	}
}

static void set_sockopts(struct conn *c)
{
	uv_os_fd_t fd;
	unsigned int ms = TCP_USER_TIMEOUT_MS;

	uv_tcp_nodelay(&c->h, 1);
	uv_tcp_keepalive(&c->h, 1, 5);
	/* Unacknowledged data for this long aborts the connection: a dead
	 * peer is noticed without waiting for the kernel's retries. */
	if (uv_fileno((uv_handle_t *)&c->h, &fd) == 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
				 sizeof(ms));
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
	if (!c->dialed && now - c->last_rx >= TCP_RX_IDLE_MS) {
		conn_close(c);
		return;
	}
	if (c->dialed && now - c->last_tx >= TCP_PING_MS &&
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

static struct peer *peer_get(struct tcp *t, uint64_t id)
{
	struct peer *p;
	unsigned i;

	for (i = 0; i < t->n_peers; i++)
		if (t->peers[i].id == id)
			return &t->peers[i];
	p = realloc(t->peers, (t->n_peers + 1) * sizeof(*p));
	if (p == NULL)
		return NULL;
	/* Connections point at peer entries: fix them after the move. */
	if (p != t->peers) {
		struct conn *c;

		for (c = t->conns; c != NULL; c = c->next)
			if (c->peer != NULL)
				c->peer = p + (c->peer - t->peers);
	}
	t->peers = p;
	p = &t->peers[t->n_peers++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	return p;
}

static struct conn *dial(struct tcp *t, struct peer *p)
{
	struct sockaddr_storage ss;
	uv_connect_t *req;
	struct conn *c;
	int rc;

	if (tcp_parse_addr(p->address, &ss) != 0)
		return NULL;
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
	uv_timer_start(&c->timer, on_timer, TCP_HS_TIMEOUT_MS, TCP_PING_MS);
	return c;
}

/*
 * The connection to use for traffic to id at address, dialing if needed.
 * App messages to a joiner use the connection it opened; raft messages
 * always go over a connection authenticated in member mode.
 */
static struct conn *route(struct tcp *t, uint64_t id, const char *address,
			  bool app)
{
	struct peer *p;
	struct conn *c;

	if (t->closing)
		return NULL;
	if (id != 0 && app) {
		/* A joiner is reached on the connection it opened. */
		for (c = t->conns; c != NULL; c = c->next)
			if (!c->dialed && c->state == C_UP && c->who.join &&
			    c->who.id == id)
				return c;
	}
	if (id == 0 && !t->joining)
		return NULL;
	p = peer_get(t, id);
	if (p == NULL)
		return NULL;
	if (id == 0) {
		if (p->out == NULL) {
			const char *ep = t->join.members[p->next_endpoint %
							  t->join.n_members]
					       .endpoint;

			snprintf(p->address, sizeof(p->address), "%s", ep);
		}
	} else if (address != NULL && strcmp(p->address, address) != 0) {
		/* The member moved: drop the old connection. */
		if (p->out != NULL)
			conn_close(p->out);
		snprintf(p->address, sizeof(p->address), "%s", address);
		p->backoff = 0;
		p->next_attempt = 0;
	}
	if (p->out != NULL)
		return p->out;
	if (uv_now(t->loop) < p->next_attempt)
		return NULL;
	if (id == 0)
		p->next_endpoint++;
	return dial(t, p);
}

static int tr_send(struct rtr *r, raft_id id, const char *address,
		   const struct raft_message *msg)
{
	struct tcp *t = (struct tcp *)r;
	struct conn *c;
	uint8_t *pt;
	size_t len;
	int rc;

	if (id == 0 || id == t->cfg.self_id)
		return -EINVAL;
	rc = msgcodec_encode(msg, t->cfg.self_id, CHAN_PLAIN_MAX, &pt, &len);
	if (rc != 0) {
		t->stats.drops[WIRE_DROP_UNENCODABLE]++;
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	c = route(t, id, address, false);
	if (c == NULL) {
		t->stats.drops[WIRE_DROP_NO_ROUTE]++;
		free(pt);
		return 0;
	}
	conn_enqueue(c, pt, len);
	return 0;
}

static int tr_send_app(struct rtr *r, raft_id id, const char *address,
		       const void *buf, size_t len)
{
	struct tcp *t = (struct tcp *)r;
	struct conn *c;
	uint8_t *pt;
	size_t n;
	int rc;

	if (len > RTR_APP_MAX)
		return -E2BIG;
	if (id == t->cfg.self_id)
		return -EINVAL;
	rc = msgcodec_encode_app(t->cfg.self_id, buf, len, CHAN_PLAIN_MAX, &pt,
				 &n);
	if (rc != 0)
		return rc;
	c = route(t, id, address, true);
	if (c == NULL) {
		t->stats.drops[WIRE_DROP_NO_ROUTE]++;
		free(pt);
		return 0;
	}
	conn_enqueue(c, pt, n);
	return 0;
}

/* A committed configuration: close what is no longer a member's. */
static void tr_members(struct rtr *r, const struct raft_configuration *conf)
{
	struct tcp *t = (struct tcp *)r;
	struct raft_server *m;
	struct conn *c;
	unsigned i;

	m = calloc(conf->n ? conf->n : 1, sizeof(*m));
	if (m == NULL)
		return;
	for (i = 0; i < conf->n; i++) {
		m[i].id = conf->servers[i].id;
		m[i].role = conf->servers[i].role;
		m[i].address = strdup(conf->servers[i].address);
	}
	for (i = 0; i < t->n_members; i++)
		free(t->members[i].address);
	free(t->members);
	t->members = m;
	t->n_members = conf->n;
	/* The FSM now speaks for the membership. */
	free(t->pins);
	t->pins = NULL;
	t->n_pins = 0;
	for (c = t->conns; c != NULL; c = c->next) {
		uint64_t id = c->dialed && c->peer ? c->peer->id : c->who.id;
		bool member = false;

		if (c->state == C_CLOSING || (!c->dialed && c->who.join) ||
		    (c->dialed && id == 0))
			continue; /* joiners' connections live on their own */
		if (!c->dialed && c->state != C_UP)
			continue;
		for (i = 0; i < conf->n; i++)
			member |= conf->servers[i].id == id;
		if (!member)
			conn_close(c);
	}
}

/* --- accepting --- */

static void on_accept(uv_stream_t *s, int status)
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
		conn_close(c);
		return;
	}
	set_sockopts(c);
	c->state = C_HANDSHAKE;
	uv_timer_start(&c->timer, on_timer, TCP_HS_TIMEOUT_MS, TCP_PING_MS);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
		conn_close(c);
}

static void listener_closed(uv_handle_t *h)
{
	struct tcp *t = h->data;

	t->open_handles--;
	maybe_done(t);
}

/* --- lifecycle --- */

static void free_on_close(uv_handle_t *h)
{
	free(h->data);
}

int tcp_new(const struct tcp_config *cfg, struct tcp **out)
{
	struct sockaddr_storage ss;
	struct tcp *t;
	int rc, len;

	if (cfg->self_id == 0 || cfg->ident == NULL ||
	    cfg->trust.member_key == NULL)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->cfg = *cfg;
	t->loop = cfg->loop;
	memcpy(t->hs.cluster_id, cfg->cluster_id, HS_CLUSTER_ID_LEN);
	t->hs.self_id = cfg->self_id;
	t->hs.ident = cfg->ident;
	t->hs.trust.member_key = trusted_key;
	t->hs.trust.token_key = trusted_token;
	t->hs.trust.ctx = t;
	if (cfg->join != NULL) {
		if (cfg->join->n_members == 0) {
			free(t);
			return -EINVAL;
		}
		t->join = *cfg->join;
		t->joining = true;
	}
	t->cfg.join = NULL;
	t->rtr.send = tr_send;
	t->rtr.members = tr_members;
	t->rtr.send_app = tr_send_app;
	if (cfg->listen != NULL) {
		rc = tcp_parse_addr(cfg->listen, &ss);
		if (rc != 0)
			goto err;
		uv_tcp_init(t->loop, &t->listener);
		t->listener.data = t;
		t->open_handles++;
		t->listening = true;
		rc = uv_tcp_bind(&t->listener, (struct sockaddr *)&ss, 0);
		if (rc == 0)
			rc = uv_listen((uv_stream_t *)&t->listener, 64,
				       on_accept);
		if (rc != 0) {
			log_warnx("cluster: listen on %s: %s", cfg->listen,
				  uv_strerror(rc));
			rc = -EADDRNOTAVAIL;
			goto err;
		}
		len = sizeof(ss);
		uv_tcp_getsockname(&t->listener, (struct sockaddr *)&ss, &len);
		t->port = ntohs(ss.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&ss)->sin6_port
					: ((struct sockaddr_in *)&ss)->sin_port);
	}
	*out = t;
	return 0;
err:
	sodium_memzero(&t->join, sizeof(t->join));
	if (t->listening)
		/* Freed once the loop has closed the listener. */
		uv_close((uv_handle_t *)&t->listener, free_on_close);
	else
		free(t);
	return rc;
}

struct rtr *tcp_rtr(struct tcp *t)
{
	return &t->rtr;
}

int tcp_port(const struct tcp *t)
{
	return t->port;
}

const struct wire_stats *tcp_stats(const struct tcp *t)
{
	return &t->stats;
}

unsigned tcp_established(const struct tcp *t)
{
	const struct conn *c;
	unsigned n = 0;

	for (c = t->conns; c != NULL; c = c->next)
		n += c->state == C_UP;
	return n;
}

static void free_all(struct tcp *t)
{
	unsigned i;

	for (i = 0; i < t->n_members; i++)
		free(t->members[i].address);
	free(t->members);
	free(t->peers);
	free(t->pins);
	sodium_memzero(&t->join, sizeof(t->join));
	free(t);
}

struct close_ctx {
	void (*done)(void *);
	void *arg;
	struct tcp *t;
};

static void close_done(void *arg)
{
	struct close_ctx *cc = arg;

	free_all(cc->t);
	if (cc->done != NULL)
		cc->done(cc->arg);
	free(cc);
}

void tcp_close(struct tcp *t, void (*done)(void *arg), void *arg)
{
	struct close_ctx *cc = malloc(sizeof(*cc));
	struct conn *c, *n;

	if (cc == NULL)
		abort(); /* cannot even record how to finish closing */
	cc->done = done;
	cc->arg = arg;
	cc->t = t;
	t->closing = true;
	t->done = close_done;
	t->done_arg = cc;
	for (c = t->conns; c != NULL; c = n) {
		n = c->next;
		conn_close(c);
	}
	if (t->listening) {
		t->listening = false;
		uv_close((uv_handle_t *)&t->listener, listener_closed);
	}
	maybe_done(t);
}
