/*
 * Config file reader: one directive per line, '#' starts a comment (at the
 * start of a word), words are separated by blanks. Table-driven: each
 * module of the parser owns a table of its directives (conf_parse.h); a
 * line is dispatched to its row. Every error is printed as FILE:LINE:
 * problem, parsing goes on to find the rest, and the load fails if there
 * was any.
 */
#include "node/daemon/conf.h"
#include "node/daemon/conf_parse.h"
#include "node/ctl/ctlframe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX_WORDS 32
#define CONF_MAX_LINE 4096
#define CONF_MAX_FILE (1024 * 1024)

static int parse_control(struct conf_ctx *x, int argc, char **argv)
{
	return conf_copy_path(x, "control", x->c->control,
			      sizeof(x->c->control), argv[1]);
}

static int parse_datadir(struct conf_ctx *x, int argc, char **argv)
{
	/* Room for the files the daemon keeps inside ("/lock", LMDB). */
	if (conf_copy_path(x, "datadir", x->c->datadir,
			   sizeof(x->c->datadir) - 64, argv[1]) < 0)
		return -1;
	memcpy(x->c->cluster.datadir, x->c->datadir,
	       sizeof(x->c->cluster.datadir));
	return 0;
}

/* Test-only directives (clock-error, hostsfile, test-hang, crosscheck-port)
 * are refused unless the file says `test-mode yes`, so a production config
 * cannot carry one by accident. */
static int parse_test_mode(struct conf_ctx *x, int argc, char **argv)
{
	if (conf_word_is(argv[1], "yes"))
		x->test_mode = 1;
	else if (conf_word_is(argv[1], "no"))
		x->test_mode = 0;
	else {
		conf_error(x, "test-mode: '%s' is neither 'yes' nor 'no'",
			   argv[1]);
		return -1;
	}
	return 0;
}

/* test-hang loop|serve SECONDS: test-only, so the service watchdog can be
 * seen to fire (tests/integration/sd-watchdog.sh): the event loop, or one
 * serving thread, stops SECONDS after the start. */
static int parse_test_hang(struct conf_ctx *x, int argc, char **argv)
{
	long s;

	if (conf_parse_int(x, "test-hang seconds", argv[2], 1, 86400, &s) < 0)
		return -1;
	if (conf_word_is(argv[1], "loop"))
		x->c->test_hang_loop_s = (int)s;
	else if (conf_word_is(argv[1], "serve"))
		x->c->serve.test_stall_s = (int)s;
	else {
		conf_error(x, "test-hang: '%s' is neither 'loop' nor 'serve'",
			   argv[1]);
		return -1;
	}
	return 0;
}

static const struct conf_directive daemon_directives[] = {
	{ "control", "control PATH", parse_control, 1, 1, 1, 0 },
	{ "datadir", "datadir PATH", parse_datadir, 1, 1, 1, 0 },
	{ "test-mode", "test-mode yes|no", parse_test_mode, 1, 1, 1, 0 },
	{ "test-hang", "test-hang loop|serve SECONDS", parse_test_hang, 2, 2,
	  0, 1 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};

static const struct conf_directive *const tables[] = {
	daemon_directives, conf_serve_directives, conf_time_directives,
	conf_cluster_directives, conf_metrics_directives,
	conf_crosscheck_directives, conf_cost_directives,
	conf_rotation_directives,
};

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))
/* Lines where each `once` directive was seen, indexed by table and row. */
#define MAX_ROWS 32

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->control, CTL_DEFAULT_SOCKET);
	strcpy(c->datadir, CONF_DEFAULT_DATADIR);
	c->serve.wildcard_port = SYNC_DEFAULT_NTP_PORT;
	c->serve.ratelimit.enabled = 1;
	c->serve.ratelimit.interval = RL_DEFAULT_INTERVAL;
	c->serve.ratelimit.burst = RL_DEFAULT_BURST;
	c->serve.ratelimit.leak = RL_DEFAULT_LEAK;
	c->serve.ratelimit.entries = RL_DEFAULT_ENTRIES;
	sync_conf_defaults(&c->time);
	strcpy(c->cluster.datadir, CONF_DEFAULT_DATADIR);
}

void conf_each_directive(void (*fn)(void *arg, const char *name,
				    const char *usage, int test_only),
			 void *arg)
{
	size_t t, r;

	for (t = 0; t < N_TABLES; t++)
		for (r = 0; tables[t][r].name; r++)
			fn(arg, tables[t][r].name, tables[t][r].usage,
			   tables[t][r].test_only);
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

static const struct conf_directive *lookup(const char *name, size_t *t,
					  size_t *r)
{
	for (*t = 0; *t < N_TABLES; (*t)++)
		for (*r = 0; tables[*t][*r].name; (*r)++)
			if (conf_word_is(name, tables[*t][*r].name))
				return &tables[*t][*r];
	return NULL;
}

static void parse_line(struct conf_ctx *x, char *line,
		       int once_line[N_TABLES][MAX_ROWS])
{
	const struct conf_directive *d;
	char *w[CONF_MAX_WORDS];
	size_t t, r;
	int n;

	n = split_words(line, w, CONF_MAX_WORDS);
	if (n < 0) {
		conf_error(x, "more than %d words", CONF_MAX_WORDS);
		return;
	}
	if (n == 0)
		return;
	d = lookup(w[0], &t, &r);
	if (!d) {
		conf_error(x, "unknown directive '%s'", w[0]);
		return;
	}
	if (n - 1 < d->min || n - 1 > d->max) {
		conf_error(x, "usage: %s%s", d->usage,
			   d->test_only ? " (test-only)" : "");
		return;
	}
	if (d->once && once_line[t][r]) {
		conf_error(x, "'%s' already set at line %d", d->name,
			   once_line[t][r]);
		return;
	}
	/* Judged once the whole file is read: test-mode may come later. */
	if (d->test_only && x->n_test_only < 8) {
		x->test_only[x->n_test_only].line = x->line;
		x->test_only[x->n_test_only++].name = d->name;
	}
	if (d->parse(x, n, w) == 0)
		once_line[t][r] = x->line;
}

/* After every line: what depends on more than one directive. */
static void finish(struct conf_ctx *x)
{
	int i;

	for (i = 0; i < x->n_test_only && !x->test_mode; i++) {
		x->line = x->test_only[i].line;
		conf_error(x, "%s is test-only: add 'test-mode yes'",
			   x->test_only[i].name);
	}
	conf_serve_finish(x);
	conf_time_finish(x);
	conf_cluster_finish(x);
}

int conf_load_text(struct conf *c, const char *name, const char *text)
{
	int once_line[N_TABLES][MAX_ROWS] = { { 0 } };
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
