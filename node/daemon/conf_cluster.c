/*
 * The cluster directives (docs/cluster.md): node-name, cluster-listen,
 * cluster-advertise, provider, region, instance-id, election-timeout,
 * heartbeat-timeout, mapsize, and the WireGuard mesh's
 * wireguard-interface and wireguard-endpoint. They fill struct
 * cluster_conf; conf_cluster_finish() runs the checks that involve several
 * directives once the file is read.
 */
#include "node/daemon/conf_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/base/hostport.h"

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

static int parse_node_name(struct conf_ctx *x, int argc, char **argv)
{
	if (!name_ok(argv[1], sizeof(x->c->cluster.node_name) - 1)) {
		conf_error(x, "node-name: 1 to %zu letters, digits, '.', '_' "
			   "or '-'", sizeof(x->c->cluster.node_name) - 1);
		return -1;
	}
	strcpy(x->c->cluster.node_name, argv[1]);
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

static int parse_cluster_listen(struct conf_ctx *x, int argc, char **argv)
{
	struct netaddr *l = &x->c->cluster.listen;
	long port = CLUSTER_DEFAULT_PORT;
	uint8_t a[16];
	int fam;

	if (conf_parse_ip(argv[1], &fam, a) < 0) {
		conf_error(x, "cluster-listen: '%s' is not an IPv4 or IPv6 "
			   "address", argv[1]);
		return -1;
	}
	if (opt_port(x, "cluster-listen", argc, argv, &port) < 0)
		return -1;
	conf_sockaddr(fam, a, (uint16_t)port, l);
	x->c->cluster.listen_set = 1;
	return 0;
}

static int parse_cluster_advertise(struct conf_ctx *x, int argc, char **argv)
{
	uint8_t a[16];
	long port = 0;
	int fam;

	/* An IP literal or a DNS name (resolved when dialed). */
	if (conf_parse_ip(argv[1], &fam, a) < 0 &&
	    !name_ok(argv[1], 253)) {
		conf_error(x, "cluster-advertise: '%s' is neither an address "
			   "nor a host name", argv[1]);
		return -1;
	}
	if (opt_port(x, "cluster-advertise", argc, argv, &port) < 0)
		return -1;
	/* "host", "[v6]" or with ":port"; without one the cluster adds
	 * cluster-listen's (cluster_advertise) */
	if (hostport_join(argv[1], (unsigned)port, x->c->cluster.advertise,
			  sizeof(x->c->cluster.advertise)) < 0) {
		conf_error(x, "cluster-advertise: '%s' is too long", argv[1]);
		return -1;
	}
	return 0;
}

/* 1-15 of [a-z0-9-], case-folded: aws and gcp have their hooks and
 * allowances (docs/rotation.md), anything else (`fake`) is just a name. */
static int parse_provider(struct conf_ctx *x, int argc, char **argv)
{
	char *p = x->c->cluster.provider;
	size_t i, n = strlen(argv[1]);

	for (i = 0; i < n && n < sizeof(x->c->cluster.provider); i++) {
		char ch = (char)tolower((unsigned char)argv[1][i]);

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-'))
			break;
		p[i] = ch;
	}
	if (!n || i != n) {
		conf_error(x, "provider: '%s' is not 1 to %zu of a-z, 0-9 or "
			   "'-' (aws, gcp, or any name such as fake)",
			   argv[1], sizeof(x->c->cluster.provider) - 1);
		p[0] = 0;
		return -1;
	}
	p[n] = 0;
	return 0;
}

/* The cloud's id of this VM (cloud-init fills it from the metadata
 * service): what the provider hooks are called with. */
static int parse_instance_id(struct conf_ctx *x, int argc, char **argv)
{
	if (!name_ok(argv[1], sizeof(x->c->cluster.instance_id) - 1)) {
		conf_error(x, "instance-id: 1 to %zu letters, digits, '.', "
			   "'_' or '-'", sizeof(x->c->cluster.instance_id) - 1);
		return -1;
	}
	strcpy(x->c->cluster.instance_id, argv[1]);
	return 0;
}

static int parse_region(struct conf_ctx *x, int argc, char **argv)
{
	if (!name_ok(argv[1], sizeof(x->c->cluster.region) - 1)) {
		conf_error(x, "region: 1 to %zu letters, digits, '.', '_' or "
			   "'-'", sizeof(x->c->cluster.region) - 1);
		return -1;
	}
	strcpy(x->c->cluster.region, argv[1]);
	return 0;
}

static int parse_election_timeout(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "election-timeout (ms)", argv[1], 100, 600000,
			   &v) < 0)
		return -1;
	x->c->cluster.election_timeout_ms = (unsigned)v;
	return 0;
}

static int parse_heartbeat_timeout(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "heartbeat-timeout (ms)", argv[1], 10, 300000,
			   &v) < 0)
		return -1;
	x->c->cluster.heartbeat_timeout_ms = (unsigned)v;
	return 0;
}

static int parse_mapsize(struct conf_ctx *x, int argc, char **argv)
{
	unsigned long long v, mul = 1;
	char *end;

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
	x->c->cluster.mapsize = (size_t)(v * mul);
	return 0;
}

/* What the kernel takes as an interface name, minus a leading '-' (it
 * would read as an option to ip(8) and wg(8)). */
static int ifname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CLUSTER_WG_IFNAME_MAX || s[0] == '-' ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int parse_wireguard_interface(struct conf_ctx *x, int argc, char **argv)
{
	long port = CLUSTER_WG_PORT;

	if (!ifname_ok(argv[1])) {
		conf_error(x, "%s: '%s' is not an interface name (1-%d of "
			   "A-Z a-z 0-9 - _ ., not starting with '-')",
			   argv[0], argv[1], CLUSTER_WG_IFNAME_MAX);
		return -1;
	}
	if (argc == 3 || (argc == 4 && !conf_word_is(argv[2], "port"))) {
		conf_error(x, "%s: expected 'port N' after the name", argv[0]);
		return -1;
	}
	if (argc == 4 &&
	    conf_parse_int(x, "port", argv[3], 1, 65535, &port) < 0)
		return -1;
	strcpy(x->c->cluster.wg_interface, argv[1]);
	x->c->cluster.wg_port = (unsigned)port;
	return 0;
}

/* IP, IP:PORT or [IPv6]:PORT, numeric only: an endpoint that needs DNS
 * would make the mesh depend on a resolver (docs/cluster.md). */
static int parse_wireguard_endpoint(struct conf_ctx *x, int argc, char **argv)
{
	const char *v = argv[1];
	struct sockaddr_storage ss;
	unsigned char tmp[16];

	if (strlen(v) >= sizeof(x->c->cluster.wg_endpoint))
		goto bad;
	if (inet_pton(AF_INET, v, tmp) == 1 || inet_pton(AF_INET6, v, tmp) == 1) {
		strcpy(x->c->cluster.wg_endpoint, v);  /* the port comes later */
		return 0;
	}
	/* with a port */
	if (hostport_to_sa(v, &ss) < 0)
		goto bad;
	strcpy(x->c->cluster.wg_endpoint, v);
	return 0;
bad:
	conf_error(x, "%s: '%s' is not IP, IP:PORT or [IPv6]:PORT (numeric, "
		   "no host names)", argv[0], v);
	return -1;
}

const struct conf_directive conf_cluster_directives[] = {
	{ "node-name", "node-name NAME", parse_node_name, 1, 1, 1, 0 },
	{ "cluster-listen", "cluster-listen ADDRESS [port N]",
	  parse_cluster_listen, 1, 3, 1, 0 },
	{ "cluster-advertise", "cluster-advertise HOST [port N]",
	  parse_cluster_advertise, 1, 3, 1, 0 },
	{ "provider", "provider NAME", parse_provider, 1, 1, 1, 0 },
	{ "region", "region NAME", parse_region, 1, 1, 1, 0 },
	{ "instance-id", "instance-id ID", parse_instance_id, 1, 1, 1, 0 },
	{ "election-timeout", "election-timeout MS", parse_election_timeout,
	  1, 1, 1, 0 },
	{ "heartbeat-timeout", "heartbeat-timeout MS",
	  parse_heartbeat_timeout, 1, 1, 1, 0 },
	{ "mapsize", "mapsize BYTES[k|m|g]", parse_mapsize, 1, 1, 1, 0 },
	{ "wireguard-interface", "wireguard-interface NAME [port N]",
	  parse_wireguard_interface, 1, 3, 1, 0 },
	{ "wireguard-endpoint", "wireguard-endpoint IP[:PORT]",
	  parse_wireguard_endpoint, 1, 1, 1, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};

static int listen_is_wildcard(const struct cluster_conf *c)
{
	const struct sockaddr *sa = (const struct sockaddr *)
					    &c->listen.addr;
	static const uint8_t zero[16];

	if (sa->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
			      zero, 16) == 0;
	return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == 0;
}

void conf_cluster_finish(struct conf_ctx *x)
{
	struct cluster_conf *c = &x->c->cluster;
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
		snprintf(c->node_name, sizeof(c->node_name), "%.*s", (int)sizeof(c->node_name) - 1, host);
	}
	if (!c->listen_set)
		return;
	x->line = 0;
	if (h * 2 > e)
		conf_error(x, "heartbeat-timeout (%u ms) must be at most half "
			   "of election-timeout (%u ms)", h, e);
	if (listen_is_wildcard(c) && !c->advertise[0])
		conf_error(x, "cluster-listen is a wildcard address: "
			   "cluster-advertise must say which address members "
			   "dial");
}
