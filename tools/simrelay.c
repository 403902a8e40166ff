/* ntpsim's UDP delay relays: see simrelay.h. */
#include "tools/simrelay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 32              /* per relay */
#define MAX_HELD 4096               /* datagrams in flight, all relays */
#define DGRAM_MAX 1500

struct client {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd;                     /* towards the target */
};

struct relay {
	struct sim_relay_spec spec;
	struct sockaddr_storage to;
	socklen_t to_len;
	int fd;                     /* the listening socket */
	struct client cl[MAX_CLIENTS];
	int n_cl;
	uint64_t seed, n_draws;     /* draws keyed by datagram count */
	uint64_t in, out, lost, dropped;
};

struct held {
	int64_t due;
	int fd;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	size_t len;
	uint8_t buf[DGRAM_MAX];
};

struct relays {
	struct relay r[SIM_MAX_RELAYS];
	int n;
	struct held *held;
	int n_held;
};

static int parse_ipport(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char buf[64], *colon;
	long port;
	char *end;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (buf[0] == '[' && colon[-1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		colon[-1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, buf + 1, &a->sin6_addr) == 1 ? 0 : -1;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET, buf, &a->sin_addr) == 1 ? 0 : -1;
	}
}

int sim_parse_relay(struct sim_relay_spec *r, const char *spec,
		    const char *where)
{
	char buf[1024], rest[1024];
	struct sockaddr_storage ss;
	socklen_t len;
	char *p, *tok;
	size_t used = 0;

	memset(r, 0, sizeof(*r));
	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "%s: relay spec too long\n", where);
		return -1;
	}
	strcpy(buf, spec);
	p = buf;
	rest[0] = 0;
	/* to=IP:PORT is ours; the rest is a server spec (its path keys) */
	while ((tok = strsep(&p, ",")) != NULL) {
		if (strncmp(tok, "to=", 3) == 0) {
			if (strlen(tok + 3) >= sizeof(r->to) ||
			    parse_ipport(tok + 3, &ss, &len) != 0) {
				fprintf(stderr, "%s: to=IP:PORT, got '%s'\n",
					where, tok + 3);
				return -1;
			}
			strcpy(r->to, tok + 3);
			continue;
		}
		used += (size_t)snprintf(rest + used, sizeof(rest) - used,
					 "%s%s", used ? "," : "", tok);
	}
	if (!r->to[0]) {
		fprintf(stderr, "%s: a relay needs to=IP:PORT\n", where);
		return -1;
	}
	return sim_parse_server(&r->path, rest, where);
}

static int bind_udp(const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[80];
	int fd;

	snprintf(text, sizeof(text), strchr(addr, ':') ? "[%s]:%u" : "%s:%u",
		 addr, *port ? *port : 1);
	if (parse_ipport(text, &ss, &len) != 0)
		return -1;
	if (!*port) {
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		else
			((struct sockaddr_in *)&ss)->sin_port = 0;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ?
			      ((struct sockaddr_in6 *)&ss)->sin6_port :
			      ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

struct relays *relays_open(struct sim_relay_spec *r, int n, uint64_t seed)
{
	struct relays *rs = calloc(1, sizeof(*rs));
	int i;

	if (!rs || n > SIM_MAX_RELAYS)
		goto fail;
	rs->held = calloc(MAX_HELD, sizeof(*rs->held));
	if (!rs->held)
		goto fail;
	for (i = 0; i < n; i++) {
		struct relay *x = &rs->r[i];

		x->spec = r[i];
		parse_ipport(r[i].to, &x->to, &x->to_len);
		x->fd = bind_udp(r[i].path.addr, &r[i].path.port);
		if (x->fd < 0) {
			fprintf(stderr, "ntpsim: relay %s port %u: %s\n",
				r[i].path.addr, r[i].path.port, strerror(errno));
			goto fail;
		}
		x->spec.path.port = r[i].path.port;
		x->seed = seed;
		rs->n++;
	}
	return rs;
fail:
	if (rs)
		relays_close(rs);
	return NULL;
}

int relays_pollfds(const struct relays *rs, struct pollfd *pfd, int max)
{
	int i, k, n = 0;

	for (i = 0; i < rs->n; i++) {
		const struct relay *x = &rs->r[i];

		if (n < max)
			pfd[n++] = (struct pollfd){ .fd = x->fd, .events = POLLIN };
		for (k = 0; k < x->n_cl && n < max; k++)
			pfd[n++] = (struct pollfd){ .fd = x->cl[k].fd,
						    .events = POLLIN };
	}
	return n;
}

static void hold(struct relays *rs, struct relay *x, int fd,
		 const struct sockaddr_storage *dst, socklen_t dst_len,
		 const uint8_t *b, size_t len, double delay)
{
	struct held *h;

	if (rs->n_held == MAX_HELD) {
		x->dropped++;
		return;
	}
	h = &rs->held[rs->n_held++];
	h->due = sim_now_ns() + (int64_t)(delay * 1e9);
	h->fd = fd;
	h->dst = *dst;
	h->dst_len = dst_len;
	h->len = len;
	memcpy(h->buf, b, len);
}

static struct client *client_for(struct relay *x,
				 const struct sockaddr_storage *a,
				 socklen_t len)
{
	struct client *c;
	int k, fd;

	for (k = 0; k < x->n_cl; k++)
		if (x->cl[k].len == len && memcmp(&x->cl[k].addr, a, len) == 0)
			return &x->cl[k];
	if (x->n_cl == MAX_CLIENTS)
		return NULL;
	fd = socket(x->to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return NULL;
	c = &x->cl[x->n_cl++];
	memcpy(&c->addr, a, len);
	c->len = len;
	c->fd = fd;
	return c;
}

/* One draw per datagram: its forward numbers for a request, its return
 * numbers for an answer. */
static void on_datagram(struct relays *rs, struct relay *x, int from_cl,
			const uint8_t *b, size_t len,
			const struct sockaddr_storage *src, socklen_t src_len)
{
	/* Streams after the servers'; keyed by datagram count (arrival
	 * order): a relay compares no clients, it only delays them. */
	struct sim_key key = { .seed = x->seed,
			       .stream = 1000 + (uint64_t)(x - rs->r),
			       .slot = x->n_draws++ };
	struct sim_draw d;
	struct client *c;

	sim_path_draw(&x->spec.path, &key, &d);
	x->in++;
	if (from_cl < 0) {
		if (d.req_lost) {
			x->lost++;
			return;
		}
		c = client_for(x, src, src_len);
		if (!c) {
			x->dropped++;
			return;
		}
		hold(rs, x, c->fd, &x->to, x->to_len, b, len, d.fwd);
		return;
	}
	if (d.reply_lost) {
		x->lost++;
		return;
	}
	c = &x->cl[from_cl];
	hold(rs, x, x->fd, &c->addr, c->len, b, len, d.ret);
}

static void drain(struct relays *rs, struct relay *x, int fd, int from_cl)
{
	for (int k = 0; k < 256; k++) {
		uint8_t buf[DGRAM_MAX];
		struct sockaddr_storage src;
		socklen_t sl = sizeof(src);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&src, &sl);

		if (n < 0)
			return;
		on_datagram(rs, x, from_cl, buf, (size_t)n, &src, sl);
	}
}

void relays_readable(struct relays *rs, const struct pollfd *pfd, int n)
{
	int i, j, k;

	for (j = 0; j < n; j++) {
		if (!(pfd[j].revents & POLLIN))
			continue;
		for (i = 0; i < rs->n; i++) {
			struct relay *x = &rs->r[i];

			if (pfd[j].fd == x->fd) {
				drain(rs, x, x->fd, -1);
				break;
			}
			for (k = 0; k < x->n_cl; k++)
				if (pfd[j].fd == x->cl[k].fd)
					break;
			if (k < x->n_cl) {
				drain(rs, x, x->cl[k].fd, k);
				break;
			}
		}
	}
}

int64_t relays_next_due(const struct relays *rs)
{
	int64_t due = 0;
	int i;

	for (i = 0; i < rs->n_held; i++)
		if (!due || rs->held[i].due < due)
			due = rs->held[i].due;
	return due;
}

void relays_send_due(struct relays *rs)
{
	int64_t now = sim_now_ns();
	int i = 0;

	/* O(n) over what is in flight: a few dozen datagrams a second */
	while (i < rs->n_held) {
		struct held *h = &rs->held[i];

		if (h->due > now) {
			i++;
			continue;
		}
		if (sendto(h->fd, h->buf, h->len, 0,
			   (struct sockaddr *)&h->dst, h->dst_len) >= 0)
			for (int r = 0; r < rs->n; r++)
				if (rs->r[r].fd == h->fd ||
				    (h->dst_len == rs->r[r].to_len &&
				     memcmp(&h->dst, &rs->r[r].to,
					    h->dst_len) == 0)) {
					rs->r[r].out++;
					break;
				}
		*h = rs->held[--rs->n_held];
	}
}

void relays_print(const struct relays *rs, FILE *f)
{
	for (int i = 0; i < rs->n; i++) {
		const struct relay *x = &rs->r[i];

		fprintf(f, "ntpsim: relay %s:%u -> %s in %" PRIu64 " out %" PRIu64
			" lost %" PRIu64 " dropped %" PRIu64 "\n",
			x->spec.path.addr, x->spec.path.port, x->spec.to, x->in,
			x->out, x->lost, x->dropped);
	}
}

void relays_close(struct relays *rs)
{
	int i, k;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++) {
		close(rs->r[i].fd);
		for (k = 0; k < rs->r[i].n_cl; k++)
			close(rs->r[i].cl[k].fd);
	}
	free(rs->held);
	free(rs);
}
