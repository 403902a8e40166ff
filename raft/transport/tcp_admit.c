/*
 * The cluster port's listeners and admission before authentication
 * (raft/transport/tcp.h): our own listening sockets, so that a refused
 * connection is closed before anything is allocated for it; the caps per
 * source and in all, with eviction of strangers; the second admission of a
 * parsed hello (hs_trust.admit) as a member's or a joiner's handshake.
 */
#include "raft/transport/tcp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ACCEPT_PAUSE_MS 100 /* accept() out of descriptors: retry after */

static void on_listen_readable(uv_poll_t *p, int status, int events);

/* --- log --- */

void tcp_log_limited(struct tcp *t, const char *fmt, ...)
{
	uint64_t now = uv_now(t->loop);
	char msg[320], more[48] = "";
	va_list ap;

	/* Strangers must not flood the log; the counters keep the full
	 * story. */
	if (now < t->log_next) {
		t->log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->log_suppressed)
		snprintf(more, sizeof(more), " (%" PRIu64 " more not logged)",
			 t->log_suppressed);
	rlog(&t->cfg.log, RLOG_WARN, "cluster: %s%s", msg, more);
	t->log_next = now + TCP_LOG_EVERY_MS;
	t->log_suppressed = 0;
}

void tcp_src_text(const struct sockaddr_storage *ss, char out[SRC_TEXT_MAX])
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, SRC_TEXT_MAX, "[%s]:%u", ip,
			 (unsigned)ntohs(a->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, SRC_TEXT_MAX, "%s:%u", ip,
			 (unsigned)ntohs(a->sin_port));
	} else {
		snprintf(out, SRC_TEXT_MAX, "?");
	}
}

/* --- who is asking --- */

/* The host part as 16 bytes (IPv4 as ::ffff:a.b.c.d), and how many of
 * them make "one source": an IPv6 host may hold a whole /64. */
static unsigned host_of(const struct sockaddr_storage *ss, uint8_t h[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(h, 0, 16);
	if (ss->ss_family == AF_INET) {
		memcpy(h, mapped, 12);
		memcpy(h + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 16;
	}
	if (ss->ss_family != AF_INET6)
		return 16;
	memcpy(h, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	return memcmp(h, mapped, 12) == 0 ? 16 : 8;
}

static bool same_host(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b, bool prefix)
{
	uint8_t ha[16], hb[16];
	unsigned n = host_of(a, ha);

	host_of(b, hb);
	return memcmp(ha, hb, prefix ? n : 16) == 0;
}

static bool host_in(const struct tcp *t, const char *address,
		    const struct sockaddr_storage *src)
{
	struct sockaddr_storage ss;

	return address[0] && t->cfg.parse_addr(address, &ss) == 0 &&
	       same_host(&ss, src, false);
}

/* A member's address: the committed configuration's, or one we dial. */
static bool member_source(const struct tcp *t,
			  const struct sockaddr_storage *src)
{
	unsigned i;

	for (i = 0; i < t->n_members; i++)
		if (host_in(t, t->members[i].address, src))
			return true;
	for (i = 0; i < t->n_peers; i++)
		if (t->peers[i].id != 0 && host_in(t, t->peers[i].address, src))
			return true;
	return false;
}

static bool prehello(const struct conn *c)
{
	return !c->dialed && c->state == C_HANDSHAKE && c->stage == S_PREHELLO;
}

static bool older(const struct conn *a, const struct conn *b)
{
	return b == NULL || a->accepted_at < b->accepted_at;
}

/*
 * Admission of an accepted socket, before anything is allocated for it.
 * Returns true to let it in; otherwise *why says which cap refused it.
 * When every pending slot is taken, the oldest is given to it (evicted,
 * counted): a stranger's first, a member address's only when there is no
 * stranger's (a flood from a member's own address, a shared NAT), so
 * that a hello that comes at once always gets through.
 */
static bool admit_socket(struct tcp *t, const struct sockaddr_storage *src,
			 bool from_member, enum wire_refuse *why)
{
	struct conn *c, *stranger = NULL, *member = NULL;
	unsigned total = 0, same = 0;
	char text[SRC_TEXT_MAX];

	for (c = t->conns; c != NULL; c = c->next) {
		if (!prehello(c))
			continue;
		total++;
		if (!c->from_member && same_host(&c->src, src, true))
			same++;
		if (!c->from_member && older(c, stranger))
			stranger = c;
		if (c->from_member && older(c, member))
			member = c;
	}
	if (!from_member && same >= TCP_PREHELLO_PER_SOURCE) {
		*why = WIRE_REFUSE_SOURCE;
		return false;
	}
	if (total < TCP_PREHELLO_MAX)
		return true;
	c = stranger != NULL ? stranger : member;
	t->stats.refused[WIRE_REFUSE_EVICTED]++;
	tcp_src_text(&c->src, text);
	tcp_log_limited(t, "closed a connection from %s: no hello yet, and "
			"every pending handshake slot is taken", text);
	tcp_conn_close(c);
	return true;
}

static const char *refuse_text(enum wire_refuse why)
{
	return why == WIRE_REFUSE_SOURCE
		       ? "too many pending handshakes from that address"
		       : wire_refuse_name(why);
}

/* --- listeners --- */

static void accept_resume(uv_timer_t *tm)
{
	struct tcp *t = tm->data;
	unsigned i;

	for (i = 0; i < 2; i++)
		if (t->lst[i].open && !t->closing)
			uv_poll_start(&t->lst[i].poll, UV_READABLE,
				      on_listen_readable);
}

static void accept_pause(struct tcp *t)
{
	unsigned i;

	if (!t->pause_init) {
		uv_timer_init(t->loop, &t->accept_pause);
		t->accept_pause.data = t;
		t->open_handles++;
		t->pause_init = true;
	}
	for (i = 0; i < 2; i++)
		if (t->lst[i].open)
			uv_poll_stop(&t->lst[i].poll);
	uv_timer_start(&t->accept_pause, accept_resume, ACCEPT_PAUSE_MS, 0);
}

static void on_listen_readable(uv_poll_t *p, int status, int events)
{
	struct listener *l = p->data;
	struct tcp *t = l->t;
	struct sockaddr_storage src;
	socklen_t len;
	enum wire_refuse why;
	char text[SRC_TEXT_MAX];
	unsigned n;
	bool member;
	int fd;

	(void)events;
	if (status < 0 || t->closing)
		return;
	/* A bounded batch: a flood must not starve the loop. */
	for (n = 0; n < TCP_ACCEPT_BATCH; n++) {
		len = sizeof(src);
		fd = accept4(l->fd, (struct sockaddr *)&src, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of descriptors or memory: the socket stays
			 * readable, so wait rather than spin. */
			t->stats.refused[WIRE_REFUSE_ACCEPT]++;
			tcp_log_limited(t, "accept on the cluster port: %s",
					strerror(errno));
			accept_pause(t);
			return;
		}
		member = member_source(t, &src);
		if (!admit_socket(t, &src, member, &why)) {
			close(fd);
			t->stats.refused[why]++;
			tcp_src_text(&src, text);
			tcp_log_limited(t, "refused a connection from %s: %s",
					text, refuse_text(why));
			continue;
		}
		if (tcp_conn_accepted(t, fd, &src, l->kind, member) == NULL)
			t->stats.refused[WIRE_REFUSE_ACCEPT]++;
	}
}

static int bind_probe(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd, rc = 0;

	/* Without SO_REUSEPORT: fails while anyone listens on the port. */
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6
			     ? ((const struct sockaddr_in6 *)ss)->sin6_port
			     : ((const struct sockaddr_in *)ss)->sin_port);
}

/* A non-blocking listening socket: fd, or -errno. */
static int listen_socket(const struct sockaddr_storage *ss, socklen_t len,
			 bool reuseport, bool freebind)
{
	int one = 1, fd, rc = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	/* SO_REUSEADDR: a restart binds while old connections linger in
	 * TIME_WAIT (as libuv does). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				     sizeof(one)) != 0) ||
	    /* The overlay address exists only once the mesh is applied. */
	    (freebind && setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
				    sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 ||
	    listen(fd, 128) != 0)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int tcp_listen_open(struct tcp *t, unsigned which,
		    const struct sockaddr *address, enum lst_kind kind,
		    bool reuseport, bool freebind)
{
	struct listener *l = &t->lst[which];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc;

	if (l->open)
		return -EALREADY;
	if (address->sa_family != AF_INET && address->sa_family != AF_INET6)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, address, address->sa_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
				       : sizeof(struct sockaddr_in);
	/* A port shared through SO_REUSEPORT must still be ours alone: a
	 * second daemon on it must fail as it would without. */
	if (reuseport && which == 0 && port_of(&ss) != 0) {
		rc = bind_probe(&ss, len);
		if (rc != 0)
			return rc;
	}
	fd = listen_socket(&ss, len, reuseport, freebind);
	if (fd < 0)
		return fd;
	rc = uv_poll_init_socket(t->loop, &l->poll, fd);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	l->t = t;
	l->fd = fd;
	l->kind = kind;
	l->open = true;
	l->poll.data = l;
	t->open_handles++;
	uv_poll_start(&l->poll, UV_READABLE, on_listen_readable);
	len = sizeof(ss);
	if (which == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		t->port = port_of(&ss);
	return 0;
}

static void poll_closed(uv_handle_t *h)
{
	struct listener *l = h->data;
	struct tcp *t = l->t;

	close(l->fd);
	l->fd = -1;
	t->open_handles--;
	tcp_maybe_done(t);
}

static void pause_closed(uv_handle_t *h)
{
	struct tcp *t = h->data;

	t->open_handles--;
	tcp_maybe_done(t);
}

void tcp_listen_close(struct tcp *t)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		if (!t->lst[i].open)
			continue;
		t->lst[i].open = false;
		uv_poll_stop(&t->lst[i].poll);
		uv_close((uv_handle_t *)&t->lst[i].poll, poll_closed);
	}
	if (t->pause_init) {
		t->pause_init = false;
		uv_timer_stop(&t->accept_pause);
		uv_close((uv_handle_t *)&t->accept_pause, pause_closed);
	}
}

int tcp_member_listen(struct tcp *t, const char *address)
{
	struct sockaddr_storage ss;
	int rc;

	if (t->closing)
		return -ECANCELED;
	if (t->cfg.parse_addr(address, &ss) != 0)
		return -EINVAL;
	rc = tcp_listen_open(t, 1, (const struct sockaddr *)&ss, LST_MEMBER,
			     true, true);
	if (rc == 0 && t->lst[0].open)
		t->lst[0].kind = LST_JOIN;
	return rc;
}

/* --- the hello --- */

int tcp_admit_hello(void *ctx, const struct hs_hello_info *hi)
{
	struct conn *c = ctx, *o;
	struct tcp *t = c->t;
	unsigned members = 0, joins = 0, per_token = 0;

	if (c->dialed)
		return 0;
	if ((hi->join && c->via == LST_MEMBER) ||
	    (!hi->join && c->via == LST_JOIN))
		return -HS_ERR_WRONG_PORT;
	for (o = t->conns; o != NULL; o = o->next) {
		if (o == c || o->dialed || o->state == C_CLOSING)
			continue;
		if (o->stage == S_MEMBER && o->state == C_HANDSHAKE)
			members++;
		if (o->stage != S_JOIN)
			continue;
		joins++;
		if (hi->join &&
		    memcmp(o->hello_token, hi->token_id, TOKEN_ID_LEN) == 0)
			per_token++;
		/* A joiner in flight keeps its id: another key under it is
		 * refused, never put in its place. */
		if (hi->join && o->hello_id == hi->client_id &&
		    memcmp(o->hello_key, hi->client_key, IDENT_PK_LEN) != 0)
			return -HS_ERR_ID_TAKEN;
	}
	if (hi->join ? joins >= TCP_JOIN_MAX || per_token >= TCP_JOIN_PER_TOKEN
		     : members >= TCP_HS_MEMBER_MAX)
		return -HS_ERR_BUSY;
	c->stage = hi->join ? S_JOIN : S_MEMBER;
	c->hello_id = hi->client_id;
	memcpy(c->hello_key, hi->client_key, IDENT_PK_LEN);
	if (hi->join)
		memcpy(c->hello_token, hi->token_id, TOKEN_ID_LEN);
	return 0;
}
