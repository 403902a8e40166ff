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

/* --- trust: the membership first, then pins (a joiner's bootstrap) --- */

static int trusted_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	struct tcp *t = ((struct conn *)ctx)->t;
	unsigned i;

	/* After tcp_close() the owner may already have freed what its trust
	 * callbacks read (cluster_stop frees the FSM right after): refuse. */
	if (t->closing)
		return -ENOENT;
	if (t->cfg.trust.member_key(t->cfg.trust.ctx, id, pk) == 0)
		return 0;
	for (i = 0; i < t->n_pins; i++) {
		if (t->pins[i].id == id) {
			memcpy(pk, t->pins[i].key, IDENT_PK_LEN);
			return 0;
		}
	}
	return -ENOENT;
}

static enum hs_token_state trusted_token(void *ctx,
					 const uint8_t id[TOKEN_ID_LEN],
					 const uint8_t joiner[IDENT_PK_LEN],
					 uint8_t pk[TOKEN_PK_LEN])
{
	struct tcp *t = ((struct conn *)ctx)->t;

	if (t->closing || t->cfg.trust.token == NULL)
		return HS_TOKEN_UNKNOWN;
	return t->cfg.trust.token(t->cfg.trust.ctx, id, joiner, pk);
}

void tcp_hs_config(struct conn *c, struct hs_config *out)
{
	*out = c->t->hs;
	out->trust.ctx = c;
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

const char *tcp_member_address(const struct tcp *t, uint64_t id)
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
			const char *ep = t->join->members[p->next_endpoint %
							   t->join->n_members]
					       .endpoint;

			snprintf(p->address, sizeof(p->address), "%s", ep);
		}
	} else if (address != NULL && strcmp(p->address, address) != 0) {
		/* The member moved: drop the old connection. */
		if (p->out != NULL)
			tcp_conn_close(p->out);
		if (p->next != NULL)
			tcp_conn_close(p->next);
		snprintf(p->address, sizeof(p->address), "%s", address);
		p->warned = false;
		p->backoff = 0;
		p->next_attempt = 0;
	}
	if (p->out != NULL)
		return p->out;
	if (uv_now(t->loop) < p->next_attempt)
		return NULL;
	if (id == 0)
		p->next_endpoint++;
	return tcp_dial(t, p);
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
		wire_plain_free(pt, len);
		return 0;
	}
	tcp_conn_enqueue(c, pt, len);
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
		wire_plain_free(pt, n);
		return 0;
	}
	tcp_conn_enqueue(c, pt, n);
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
	/* Pins of nodes outside the committed configuration go: the FSM
	 * may lag the configuration on a new member, so pins of members
	 * stay (the FSM's answer is asked first anyway). */
	for (i = 0; i < t->n_pins;) {
		unsigned j;
		bool in = false;

		for (j = 0; j < conf->n; j++)
			in |= conf->servers[j].id == t->pins[i].id;
		if (in)
			i++;
		else
			t->pins[i] = t->pins[--t->n_pins];
	}
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
			tcp_conn_close(c);
	}
}

static int tr_member_listen(struct rtr *r, const char *address)
{
	return tcp_member_listen((struct tcp *)r, address);
}

/* The join committed: the token goes back to its owner, and the
 * connection dialed with it closes (members now dial us by id). */
static void tr_join_done(struct rtr *r)
{
	struct tcp *t = (struct tcp *)r;
	struct conn *c;

	t->join = NULL;
	t->joining = false;
	for (c = t->conns; c != NULL; c = c->next)
		if (c->dialed && c->peer != NULL && c->peer->id == 0)
			tcp_conn_close(c);
}

/* --- lifecycle --- */

void tcp_set_timing(struct tcp *t, const struct tcp_timing *tm)
{
	struct conn *c;

	t->timing = *tm;
	if (t->timing.keepalive_ms && t->timing.keepalive_ms < 1000)
		t->timing.keepalive_ms = 1000;
	if (t->timing.idle_close_ms < 1000)
		t->timing.idle_close_ms = 1000;
	if (t->timing.user_timeout_ms < 1000)
		t->timing.user_timeout_ms = 1000;
	for (c = t->conns; c != NULL; c = c->next)
		tcp_conn_retime(c);
}

int tcp_new(const struct tcp_config *cfg, struct tcp **out)
{
	struct tcp *t;
	int rc;

	if (cfg->self_id == 0 || cfg->ident == NULL ||
	    cfg->trust.member_key == NULL || cfg->parse_addr == NULL ||
	    (cfg->listen != NULL && cfg->listen->sa_family != AF_INET &&
	     cfg->listen->sa_family != AF_INET6))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->cfg = *cfg;
	t->loop = cfg->loop;
	t->timing.keepalive_ms = TCP_PING_MS;
	t->timing.idle_close_ms = TCP_RX_IDLE_MS;
	t->timing.user_timeout_ms = TCP_USER_TIMEOUT_MS;
	memcpy(t->hs.cluster_id, cfg->cluster_id, HS_CLUSTER_ID_LEN);
	t->hs.self_id = cfg->self_id;
	t->hs.ident = cfg->ident;
	t->hs.trust.member_key = trusted_key;
	t->hs.trust.token = trusted_token;
	t->hs.trust.admit = tcp_admit_hello;
	if (cfg->join != NULL) {
		if (cfg->join->n_members == 0) {
			free(t);
			return -EINVAL;
		}
		t->join = cfg->join;
		t->joining = true;
	}
	t->cfg.join = NULL;
	t->rtr.send = tr_send;
	t->rtr.members = tr_members;
	t->rtr.send_app = tr_send_app;
	t->rtr.join_done = tr_join_done;
	t->rtr.member_listen = tr_member_listen;
	t->cfg.listen = NULL;      /* the caller's: not kept */
	if (cfg->listen != NULL) {
		rc = tcp_listen_open(t, 0, cfg->listen, LST_ANY,
				     cfg->share_port, false);
		if (rc != 0) {
			rlog(&t->cfg.log, RLOG_WARN, "cluster: cannot listen: %s",
			     strerror(-rc));
			free(t);
			return rc == -EINVAL ? rc : -EADDRNOTAVAIL;
		}
	}
	*out = t;
	return 0;
}

struct rtr *tcp_rtr(struct tcp *t)
{
	return &t->rtr;
}

struct tcp *tcp_of_rtr(struct rtr *r)
{
	return (struct tcp *)r;    /* the rtr is the struct's first member */
}

int tcp_port(const struct tcp *t)
{
	return t->port;
}

const struct wire_stats *tcp_stats(const struct tcp *t)
{
	return &t->stats;
}

void tcp_count_sent(struct tcp *t)
{
	struct conn *c;

	for (c = t->conns; c != NULL; c = c->next)
		tcp_conn_count_sent(c);
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
		tcp_conn_close(c);
	}
	tcp_listen_close(t);
	tcp_maybe_done(t);
}
