#include "node/conf_cluster.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/conf_parse.h"

/* A name for humans and tables: printable, no blanks, no quotes. */
static int name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (!n || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

int conf_parse_node_name(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	if (!name_ok(argv[1], sizeof(x->c->node_name) - 1)) {
		conf_error(x, "node-name: 1 to %zu letters, digits, '.', '_' "
			   "or '-'", sizeof(x->c->node_name) - 1);
		return -1;
	}
	strcpy(x->c->node_name, argv[1]);
	return 0;
}

/* "[port N]" after the address; *port untouched when absent. */
static int opt_port(struct conf_ctx *x, const char *what, int argc,
		    char **argv, long *port)
{
	if (argc == 2)
		return 0;
	if (argc != 4 || !conf_word_is(argv[2], "port")) {
		conf_error(x, "usage: %s ADDRESS [port N]", what);
		return -1;
	}
	return conf_parse_int(x, "port", argv[3], 1, 65535, port);
}

int conf_parse_cluster_listen(struct conf_ctx *x, int argc, char **argv)
{
	struct conf_listen *l = &x->c->cluster_listen;
	long port = CONF_CLUSTER_PORT;
	uint8_t a[16];
	int fam;

	if (conf_parse_ip(argv[1], &fam, a) < 0) {
		conf_error(x, "cluster-listen: '%s' is not an IPv4 or IPv6 "
			   "address", argv[1]);
		return -1;
	}
	if (opt_port(x, "cluster-listen", argc, argv, &port) < 0)
		return -1;
	memset(l, 0, sizeof(*l));
	if (fam == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&l->addr;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		s->sin_port = htons((uint16_t)port);
		l->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&l->addr;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		s->sin6_port = htons((uint16_t)port);
		l->len = sizeof(*s);
	}
	x->c->cluster_listen_set = 1;
	return 0;
}

int conf_parse_cluster_advertise(struct conf_ctx *x, int argc, char **argv)
{
	uint8_t a[16];
	long port = 0;
	int fam, n;

	/* An IP literal or a DNS name (resolved when dialed). */
	if (conf_parse_ip(argv[1], &fam, a) < 0 &&
	    !name_ok(argv[1], 253)) {
		conf_error(x, "cluster-advertise: '%s' is neither an address "
			   "nor a host name", argv[1]);
		return -1;
	}
	if (opt_port(x, "cluster-advertise", argc, argv, &port) < 0)
		return -1;
	if (conf_parse_ip(argv[1], &fam, a) == 0 && fam == AF_INET6)
		n = snprintf(x->c->cluster_advertise,
			     sizeof(x->c->cluster_advertise), "[%s]", argv[1]);
	else
		n = snprintf(x->c->cluster_advertise,
			     sizeof(x->c->cluster_advertise), "%s", argv[1]);
	/* The port is added by conf_cluster_finish (listen's by default). */
	if (port)
		snprintf(x->c->cluster_advertise + n,
			 sizeof(x->c->cluster_advertise) - (size_t)n, ":%ld",
			 port);
	return 0;
}

int conf_parse_provider(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	if (!conf_word_is(argv[1], "aws") && !conf_word_is(argv[1], "gcp") &&
	    !conf_word_is(argv[1], "other")) {
		conf_error(x, "provider: '%s' is not aws, gcp or other",
			   argv[1]);
		return -1;
	}
	for (size_t i = 0; i + 1 < sizeof(x->c->provider); i++) {
		x->c->provider[i] = (char)tolower((unsigned char)argv[1][i]);
		if (!argv[1][i])
			break;
	}
	return 0;
}

int conf_parse_region(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	if (!name_ok(argv[1], sizeof(x->c->region) - 1)) {
		conf_error(x, "region: 1 to %zu letters, digits, '.', '_' or "
			   "'-'", sizeof(x->c->region) - 1);
		return -1;
	}
	strcpy(x->c->region, argv[1]);
	return 0;
}

int conf_parse_election_timeout(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_int(x, "election-timeout (ms)", argv[1], 100, 60000,
			   &v) < 0)
		return -1;
	x->c->election_timeout_ms = (unsigned)v;
	return 0;
}

int conf_parse_heartbeat_timeout(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_int(x, "heartbeat-timeout (ms)", argv[1], 10, 10000,
			   &v) < 0)
		return -1;
	x->c->heartbeat_timeout_ms = (unsigned)v;
	return 0;
}

int conf_parse_mapsize(struct conf_ctx *x, int argc, char **argv)
{
	unsigned long long v, mul = 1;
	char *end;

	(void)argc;
	v = strtoull(argv[1], &end, 10);
	if (end != argv[1] && (*end == 'k' || *end == 'K'))
		mul = 1ULL << 10, end++;
	else if (end != argv[1] && (*end == 'm' || *end == 'M'))
		mul = 1ULL << 20, end++;
	else if (end != argv[1] && (*end == 'g' || *end == 'G'))
		mul = 1ULL << 30, end++;
	if (end == argv[1] || *end || argv[1][0] == '-' ||
	    v > (64ULL << 30) / mul || v * mul < (1ULL << 20)) {
		conf_error(x, "mapsize: bytes with an optional k, m or g "
			   "suffix, from 1m to 64g, got '%s'", argv[1]);
		return -1;
	}
	x->c->mapsize = (size_t)(v * mul);
	return 0;
}

static int listen_is_wildcard(const struct conf *c)
{
	const struct sockaddr *sa = (const struct sockaddr *)
					    &c->cluster_listen.addr;
	static const uint8_t zero[16];

	if (sa->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
			      zero, 16) == 0;
	return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == 0;
}

void conf_cluster_finish(struct conf_ctx *x)
{
	struct conf *c = x->c;
	unsigned e = c->election_timeout_ms ? c->election_timeout_ms : 500;
	unsigned h = c->heartbeat_timeout_ms ? c->heartbeat_timeout_ms : 50;
	char host[256];

	if (!c->node_name[0]) {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = 0;
		host[sizeof(host) - 1] = 0;
		host[strcspn(host, ".")] = 0;  /* the short name */
		if (!name_ok(host, sizeof(c->node_name) - 1))
			snprintf(host, sizeof(host), "node");
		snprintf(c->node_name, sizeof(c->node_name), "%s", host);
	}
	if (!c->cluster_listen_set)
		return;
	x->line = 0;
	if (h * 2 > e)
		conf_error(x, "heartbeat-timeout (%u ms) must be at most half "
			   "of election-timeout (%u ms)", h, e);
	if (listen_is_wildcard(c) && !c->cluster_advertise[0])
		conf_error(x, "cluster-listen is a wildcard address: "
			   "cluster-advertise must say which address members "
			   "dial");
}
