/* The serving directives: listen, port, serve-threads, ratelimit,
 * allow/deny (docs/configuration.md). They fill struct serve_conf. */
#include "node/daemon/conf_parse.h"

#include <arpa/inet.h>
#include <string.h>

static int parse_port(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "port", argv[1], 1, 65535, &v) < 0)
		return -1;
	x->c->serve.wildcard_port = (uint16_t)v;
	return 0;
}

static int same_addr(const struct netaddr *a, const struct netaddr *b)
{
	return a->len == b->len && memcmp(&a->addr, &b->addr, a->len) == 0;
}

static int parse_listen(struct conf_ctx *x, int argc, char **argv)
{
	struct serve_conf *c = &x->c->serve;
	uint8_t a[16];
	long port = 0;
	int fam;

	if (argc != 2 && !(argc == 4 && conf_word_is(argv[2], "port"))) {
		conf_error(x, "usage: listen ADDRESS [port N]");
		return -1;
	}
	if (conf_parse_ip(argv[1], &fam, a) < 0) {
		conf_error(x, "listen: '%s' is not a numeric IPv4 or IPv6 "
			   "address (names are not resolved)", argv[1]);
		return -1;
	}
	/* Port 0: the kernel picks one (tests); the start-up log shows it. */
	if (argc == 4 &&
	    conf_parse_int(x, "listen port", argv[3], 0, 65535, &port) < 0)
		return -1;
	if (c->n_listen == SERVE_MAX_LISTEN) {
		conf_error(x, "listen: at most %d listen lines",
			   SERVE_MAX_LISTEN);
		return -1;
	}
	/* Ports of lines without one are filled in at the end (`port`). */
	x->listen_line[c->n_listen] = x->line;
	x->listen_port_set[c->n_listen] = argc == 4;
	conf_sockaddr(fam, a, (uint16_t)port, &c->listen[c->n_listen++]);
	return 0;
}

static int parse_serve_threads(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "serve-threads", argv[1], 1, SERVE_MAX_THREADS,
			   &v) < 0)
		return -1;
	x->c->serve.threads = (int)v;
	return 0;
}

static int parse_ratelimit(struct conf_ctx *x, int argc, char **argv)
{
	/* Ranges as chrony's ratelimit; entries bounds the table's memory. */
	static const struct {
		const char *name;
		long min, max;
	} opt[] = {
		{ "interval", -19, 12 },
		{ "burst", 1, 255 },
		{ "leak", 1, 4 },
		{ "entries", 1024, 16777216 },
	};
	struct rl_conf r = x->c->serve.ratelimit;
	int seen[4] = { 0 };
	int i, k, bad = 0;
	long v;

	if (argc == 2 && conf_word_is(argv[1], "off")) {
		x->c->serve.ratelimit.enabled = 0;
		return 0;
	}
	if (argc % 2 == 0) {
		conf_error(x, "usage: ratelimit off | ratelimit [interval N] "
			   "[burst N] [leak N] [entries N]");
		return -1;
	}
	for (i = 1; i < argc; i += 2) {
		for (k = 0; k < 4; k++)
			if (conf_word_is(argv[i], opt[k].name))
				break;
		if (k == 4) {
			conf_error(x, "ratelimit: unknown option '%s' (interval, "
				   "burst, leak, entries)", argv[i]);
			bad = 1;
			continue;
		}
		if (seen[k]++) {
			conf_error(x, "ratelimit: '%s' given twice", opt[k].name);
			bad = 1;
			continue;
		}
		if (conf_parse_int(x, opt[k].name, argv[i + 1], opt[k].min,
				   opt[k].max, &v) < 0) {
			bad = 1;
			continue;
		}
		switch (k) {
		case 0: r.interval = (int)v; break;
		case 1: r.burst = (int)v; break;
		case 2: r.leak = (int)v; break;
		default: r.entries = (uint32_t)v; break;
		}
	}
	if (bad)
		return -1;
	r.enabled = 1;
	x->c->serve.ratelimit = r;
	return 0;
}

static int add_rule(struct conf_ctx *x, int family, const uint8_t *a,
		    int prefix, int allow)
{
	struct serve_conf *c = &x->c->serve;
	struct acl_rule *s;

	if (c->n_acl == SERVE_MAX_ACL) {
		conf_error(x, "at most %d allow/deny subnets", SERVE_MAX_ACL);
		return -1;
	}
	s = &c->acl[c->n_acl++];
	s->family = family;
	memcpy(s->addr, a, 16);
	s->prefix = prefix;
	s->allow = allow;
	return 0;
}

static int parse_acl(struct conf_ctx *x, int argc, char **argv)
{
	static const uint8_t zero[16];
	int allow = conf_word_is(argv[0], "allow");
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint8_t a[16];
	long prefix;
	int fam, max, i;

	if (conf_word_is(argv[1], "all")) {
		if (add_rule(x, AF_INET, zero, 0, allow) < 0)
			return -1;
		return add_rule(x, AF_INET6, zero, 0, allow);
	}
	if (strlen(argv[1]) >= sizeof(buf)) {
		conf_error(x, "%s: '%s' is not a subnet", argv[0], argv[1]);
		return -1;
	}
	strcpy(buf, argv[1]);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (conf_parse_ip(buf, &fam, a) < 0) {
		conf_error(x, "%s: '%s' is not a numeric address or "
			   "ADDRESS/PREFIX (or 'all')", argv[0], argv[1]);
		return -1;
	}
	max = fam == AF_INET ? 32 : 128;
	prefix = max;
	if (slash && conf_parse_int(x, "prefix length", slash + 1, 0, max,
				    &prefix) < 0)
		return -1;
	for (i = 0; i < max; i++) {
		if (i >= prefix && (a[i / 8] & (0x80 >> (i % 8)))) {
			conf_error(x, "%s: %s has bits set past the /%ld "
				   "prefix", argv[0], argv[1], prefix);
			return -1;
		}
	}
	return add_rule(x, fam, a, (int)prefix, allow);
}

const struct conf_directive conf_serve_directives[] = {
	{ "listen", "listen ADDRESS [port N]", parse_listen, 1, 3, 0, 0 },
	{ "port", "port N", parse_port, 1, 1, 1, 0 },
	{ "serve-threads", "serve-threads N", parse_serve_threads, 1, 1, 1, 0 },
	{ "ratelimit", "ratelimit off | ratelimit [interval N] [burst N] "
	  "[leak N] [entries N]", parse_ratelimit, 0, 8, 1, 0 },
	{ "allow", "allow SUBNET|all", parse_acl, 1, 1, 0, 0 },
	{ "deny", "deny SUBNET|all", parse_acl, 1, 1, 0, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};

void conf_serve_finish(struct conf_ctx *x)
{
	struct serve_conf *c = &x->c->serve;
	int i;

	for (i = 0; i < c->n_listen; i++) {
		struct sockaddr *sa = (struct sockaddr *)&c->listen[i].addr;
		uint16_t p = htons(c->wildcard_port);

		if (x->listen_port_set[i])
			continue;
		if (sa->sa_family == AF_INET)
			((struct sockaddr_in *)sa)->sin_port = p;
		else
			((struct sockaddr_in6 *)sa)->sin6_port = p;
	}
	/* Two lines may name the same address once ports are known. */
	for (i = 0; i < c->n_listen; i++) {
		for (int j = 0; j < i; j++) {
			if (!same_addr(&c->listen[i], &c->listen[j]))
				continue;
			x->line = x->listen_line[i];
			conf_error(x, "listen: same address and port as line %d",
				   x->listen_line[j]);
			break;
		}
	}
}
