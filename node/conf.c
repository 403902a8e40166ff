/*
 * Config file parser: one directive per line, '#' starts a comment (at the
 * start of a word), words are separated by blanks. Table-driven: each
 * directive is one row naming its parser. Every error is printed as
 * FILE:LINE: problem, parsing goes on to find the rest, and the load fails
 * if there was any.
 */
#include "node/conf.h"
#include "node/conf_parse.h"
#include "node/conf_cluster.h"
#include "node/conf_wg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX_WORDS 32
#define CONF_MAX_LINE 4096
#define CONF_MAX_FILE (1024 * 1024)

static FILE *conf_errf;

struct directive {
	const char *name;
	const char *usage;
	int (*parse)(struct conf_ctx *x, int argc, char **argv);
	int once;       /* may appear only once in a file */
};

void conf_set_error_stream(FILE *f)
{
	conf_errf = f;
}

void conf_error(struct conf_ctx *x, const char *fmt, ...)
{
	FILE *f = conf_errf ? conf_errf : stderr;
	va_list ap;

	if (x->line > 0)
		fprintf(f, "%s:%d: ", x->file, x->line);
	else
		fprintf(f, "%s: ", x->file);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	x->errors++;
}

int conf_word_is(const char *s, const char *word)
{
	return strcasecmp(s, word) == 0;
}

int conf_parse_int(struct conf_ctx *x, const char *what, const char *s,
		   long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0') {
		conf_error(x, "%s must be a whole number, got '%s'", what, s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		conf_error(x, "%s must be between %ld and %ld, got '%s'", what,
			   min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

int conf_parse_ip(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */

static int parse_port(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "port", argv[1], 1, 65535, &v) < 0)
		return -1;
	x->c->wildcard_port = (uint16_t)v;
	return 0;
}

static int same_listen(const struct conf_listen *a,
		       const struct conf_listen *b)
{
	return a->len == b->len && memcmp(&a->addr, &b->addr, a->len) == 0;
}

static int parse_listen(struct conf_ctx *x, int argc, char **argv)
{
	struct conf *c = x->c;
	struct conf_listen l = { 0 };
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
	if (c->n_listen == CONF_MAX_LISTEN) {
		conf_error(x, "listen: at most %d listen lines",
			   CONF_MAX_LISTEN);
		return -1;
	}
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l.addr;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons((uint16_t)port);
		l.len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l.addr;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons((uint16_t)port);
		l.len = sizeof(*sin6);
	}
	/* Ports of lines without one are filled in at the end (`port`). */
	x->listen_line[c->n_listen] = x->line;
	x->listen_port_set[c->n_listen] = argc == 4;
	c->listen[c->n_listen++] = l;
	return 0;
}

static int parse_local(struct conf_ctx *x, int argc, char **argv)
{
	long v = 10;    /* chrony's default stratum for `local` */

	if (argc != 1 && !(argc == 3 && conf_word_is(argv[1], "stratum"))) {
		conf_error(x, "usage: local stratum N");
		return -1;
	}
	if (argc == 3 &&
	    conf_parse_int(x, "local stratum", argv[2], 1, 15, &v) < 0)
		return -1;
	x->c->local_stratum = (int)v;
	return 0;
}

static int parse_serve_threads(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "serve-threads", argv[1], 1,
			   CONF_MAX_SERVE_THREADS, &v) < 0)
		return -1;
	x->c->serve_threads = (int)v;
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
	struct conf_ratelimit r = x->c->ratelimit;
	int seen[4] = { 0 };
	int i, k, bad = 0;
	long v;

	if (argc == 2 && conf_word_is(argv[1], "off")) {
		x->c->ratelimit.enabled = 0;
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
	x->c->ratelimit = r;
	return 0;
}

static int add_subnet(struct conf_ctx *x, int family, const uint8_t *a,
		      int prefix, int allow)
{
	struct conf *c = x->c;
	struct conf_subnet *s;

	if (c->n_acl == CONF_MAX_ACL) {
		conf_error(x, "at most %d allow/deny subnets", CONF_MAX_ACL);
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
		if (add_subnet(x, AF_INET, zero, 0, allow) < 0)
			return -1;
		return add_subnet(x, AF_INET6, zero, 0, allow);
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
	return add_subnet(x, fam, a, (int)prefix, allow);
}

static int copy_path(struct conf_ctx *x, const char *what, char *dst,
		     size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap) {
		conf_error(x, "%s: path is %zu bytes long, at most %zu fit",
			   what, n, cap - 1);
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static int parse_control(struct conf_ctx *x, int argc, char **argv)
{
	return copy_path(x, "control", x->c->control, sizeof(x->c->control),
			 argv[1]);
}

static int parse_datadir(struct conf_ctx *x, int argc, char **argv)
{
	/* Room for the files the daemon keeps inside ("/lock", LMDB). */
	return copy_path(x, "datadir", x->c->datadir,
			 sizeof(x->c->datadir) - 64, argv[1]);
}

static int parse_discipline(struct conf_ctx *x, int argc, char **argv)
{
	if (conf_word_is(argv[1], "virtual"))
		x->c->discipline = CONF_DISCIPLINE_VIRTUAL;
	else if (conf_word_is(argv[1], "kernel"))
		x->c->discipline = CONF_DISCIPLINE_KERNEL;
	else {
		conf_error(x, "discipline: '%s' is neither 'virtual' nor "
			   "'kernel'", argv[1]);
		return -1;
	}
	return 0;
}

/*
 * The directives. min/max count the words after the directive; usage is
 * printed when the count is wrong. Later issues add rows here.
 */
static const struct {
	struct directive d;
	int min, max;
} directives[] = {
	{ { "listen", "listen ADDRESS [port N]", parse_listen, 0 }, 1, 3 },
	{ { "port", "port N", parse_port, 1 }, 1, 1 },
	{ { "local", "local stratum N", parse_local, 1 }, 0, 2 },
	{ { "serve-threads", "serve-threads N", parse_serve_threads, 1 }, 1, 1 },
	/* WireGuard mesh (conf_wg.c) */
	{ { "wireguard-interface", "wireguard-interface NAME [port N]",
	    conf_parse_wireguard_interface, 1 }, 1, 3 },
	{ { "wireguard-endpoint", "wireguard-endpoint IP[:PORT]",
	    conf_parse_wireguard_endpoint, 1 }, 1, 1 },
	{ { "ratelimit", "ratelimit off | ratelimit [interval N] [burst N] "
	    "[leak N] [entries N]", parse_ratelimit, 1 }, 0, 8 },
	{ { "allow", "allow SUBNET|all", parse_acl, 0 }, 1, 1 },
	{ { "deny", "deny SUBNET|all", parse_acl, 0 }, 1, 1 },
	{ { "control", "control PATH", parse_control, 1 }, 1, 1 },
	{ { "datadir", "datadir PATH", parse_datadir, 1 }, 1, 1 },
	{ { "discipline", "discipline virtual|kernel", parse_discipline, 1 },
	  1, 1 },
	/* time engine (conftime.c) */
	{ { "upstream", "upstream HOST [port N] [minpoll N] [maxpoll N] "
	    "[iburst] [prefer] [smearing]", conf_parse_upstream, 0 }, 1, 10 },
	{ { "pool", "pool NAME [port N] [minpoll N] [maxpoll N] [iburst] "
	    "[prefer] [smearing] [maxsources N]", conf_parse_upstream, 0 },
	  1, 12 },
	{ { "minsources", "minsources N", conf_parse_minsources, 1 }, 1, 1 },
	{ { "maxdistance", "maxdistance SECONDS", conf_parse_maxdistance, 1 },
	  1, 1 },
	{ { "maxslewrate", "maxslewrate PPM", conf_parse_maxslewrate, 1 },
	  1, 1 },
	{ { "makestep", "makestep THRESHOLD LIMIT", conf_parse_makestep, 1 },
	  2, 2 },
	{ { "holdover", "holdover SECONDS", conf_parse_holdover, 1 }, 1, 1 },
	{ { "leapfile", "leapfile PATH", conf_parse_leapfile, 1 }, 1, 1 },
	{ { "hostsfile", "hostsfile PATH (test-only)", conf_parse_hostsfile, 1 },
	  1, 1 },
	{ { "clock-error", "clock-error offset SECONDS drift PPM (test-only)",
	    conf_parse_clock_error, 1 }, 4, 4 },
	/* cluster (conf_cluster.c) */
	{ { "node-name", "node-name NAME", conf_parse_node_name, 1 }, 1, 1 },
	{ { "cluster-listen", "cluster-listen ADDRESS [port N]",
	    conf_parse_cluster_listen, 1 }, 1, 3 },
	{ { "cluster-advertise", "cluster-advertise HOST [port N]",
	    conf_parse_cluster_advertise, 1 }, 1, 3 },
	{ { "provider", "provider aws|gcp|other", conf_parse_provider, 1 },
	  1, 1 },
	{ { "region", "region NAME", conf_parse_region, 1 }, 1, 1 },
	{ { "election-timeout", "election-timeout MS",
	    conf_parse_election_timeout, 1 }, 1, 1 },
	{ { "heartbeat-timeout", "heartbeat-timeout MS",
	    conf_parse_heartbeat_timeout, 1 }, 1, 1 },
	{ { "mapsize", "mapsize BYTES[k|m|g]", conf_parse_mapsize, 1 }, 1, 1 },
};

#define N_DIRECTIVES (sizeof(directives) / sizeof(directives[0]))

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->wildcard_port = CONF_DEFAULT_NTP_PORT;
	c->ratelimit.enabled = 1;
	c->ratelimit.interval = CONF_DEFAULT_RL_INTERVAL;
	c->ratelimit.burst = CONF_DEFAULT_RL_BURST;
	c->ratelimit.leak = CONF_DEFAULT_RL_LEAK;
	c->ratelimit.entries = CONF_DEFAULT_RL_ENTRIES;
	strcpy(c->control, CONF_DEFAULT_CONTROL);
	strcpy(c->datadir, CONF_DEFAULT_DATADIR);
	c->discipline = CONF_DISCIPLINE_VIRTUAL;
	conf_time_defaults(&c->time);
}

/* Splits in place; '#' at the start of a word ends the line. */
static int split_words(char *s, char **w, int max)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == max)
			return -1;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static void parse_line(struct conf_ctx *x, char *line, int *once_line)
{
	char *w[CONF_MAX_WORDS];
	size_t i;
	int n;

	n = split_words(line, w, CONF_MAX_WORDS);
	if (n < 0) {
		conf_error(x, "more than %d words", CONF_MAX_WORDS);
		return;
	}
	if (n == 0)
		return;
	for (i = 0; i < N_DIRECTIVES; i++)
		if (conf_word_is(w[0], directives[i].d.name))
			break;
	if (i == N_DIRECTIVES) {
		conf_error(x, "unknown directive '%s'", w[0]);
		return;
	}
	if (n - 1 < directives[i].min || n - 1 > directives[i].max) {
		conf_error(x, "usage: %s", directives[i].d.usage);
		return;
	}
	if (directives[i].d.once && once_line[i]) {
		conf_error(x, "'%s' already set at line %d",
			   directives[i].d.name, once_line[i]);
		return;
	}
	if (directives[i].d.parse(x, n, w) == 0)
		once_line[i] = x->line;
}

/* After every line: what depends on more than one directive. */
static void finish(struct conf_ctx *x)
{
	struct conf *c = x->c;
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
			if (!same_listen(&c->listen[i], &c->listen[j]))
				continue;
			x->line = x->listen_line[i];
			conf_error(x, "listen: same address and port as line %d",
				   x->listen_line[j]);
			break;
		}
	}
	conf_time_finish(x);
	conf_cluster_finish(x);
}

int conf_load_text(struct conf *c, const char *name, const char *text)
{
	int once_line[N_DIRECTIVES] = { 0 };
	struct conf_ctx x = { .c = c, .file = name };
	char line[CONF_MAX_LINE + 1];
	const char *p = text;

	conf_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", name);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		x.line++;
		if (len > CONF_MAX_LINE) {
			conf_error(&x, "line longer than %d bytes",
				   CONF_MAX_LINE);
		} else {
			memcpy(line, p, len);
			line[len] = '\0';
			if (len && line[len - 1] == '\r')
				line[len - 1] = '\0';
			parse_line(&x, line, once_line);
		}
		p += len + (nl != NULL);
	}
	finish(&x);
	return x.errors ? -1 : 0;
}

/*
 * Reads until EOF, so that /dev/null, /dev/stdin and `-c <(...)` work as
 * well as regular files; the size cap applies to what is read.
 */
int conf_load(struct conf *c, const char *path)
{
	struct conf_ctx x = { .c = c, .file = path };
	struct stat st;
	char *text = NULL;
	size_t have = 0;
	ssize_t n;
	int fd, rc = -1;

	conf_defaults(c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		conf_error(&x, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		conf_error(&x, "is a directory");
		goto out;
	}
	text = malloc(CONF_MAX_FILE + 2);
	if (!text) {
		conf_error(&x, "out of memory");
		goto out;
	}
	for (;;) {
		n = read(fd, text + have, CONF_MAX_FILE + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf_error(&x, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > CONF_MAX_FILE) {
			conf_error(&x, "larger than %d bytes", CONF_MAX_FILE);
			goto out;
		}
	}
	text[have] = '\0';
	if (strlen(text) != have) {
		/* A NUL would silently end the text: name its line instead. */
		x.line = 1;
		for (const char *q = text; *q; q++)
			x.line += *q == '\n';
		conf_error(&x, "NUL byte in line");
		goto out;
	}
	rc = conf_load_text(c, path, text);
out:
	free(text);
	close(fd);
	return rc;
}
