/* The time-engine directives (docs/time-engine.md lists them). They fill
 * struct sync_conf. */
#include "node/daemon/conf_parse.h"

#include <string.h>

#include "node/time/leap.h"

static int valid_host(const char *h)
{
	size_t n = strlen(h), i;

	if (n == 0 || n > SYNC_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':' || c == '_'))
			return 0;
	}
	return 1;
}

/* upstream HOST [port N] [minpoll N] [maxpoll N] [iburst] [prefer]
 *   [smearing]
 * pool NAME [same options] [maxsources N] */
static int parse_upstream(struct conf_ctx *x, int argc, char **argv)
{
	struct sync_conf *t = &x->c->time;
	struct sync_upstream u;
	int pool = conf_word_is(argv[0], "pool"), i, rc = 0;
	int minset = 0, maxset = 0;
	long v;

	if (t->n_up == SYNC_MAX_UPSTREAM) {
		conf_error(x, "at most %d upstream and pool lines",
			   SYNC_MAX_UPSTREAM);
		return -1;
	}
	memset(&u, 0, sizeof(u));
	if (!valid_host(argv[1])) {
		conf_error(x, "%s: '%s' is not a host name or address",
			   argv[0], argv[1]);
		return -1;
	}
	strcpy(u.host, argv[1]);
	u.port = SYNC_DEFAULT_NTP_PORT;
	u.minpoll = SYNC_DEFAULT_MINPOLL;
	u.maxpoll = SYNC_DEFAULT_MAXPOLL;
	u.pool = (uint8_t)pool;
	u.maxsources = pool ? SYNC_DEFAULT_MAXSOURCES : 1;

	for (i = 2; i < argc; i++) {
		const char *k = argv[i];
		int has_val = i + 1 < argc;

		if (conf_word_is(k, "iburst")) {
			u.iburst = 1;
		} else if (conf_word_is(k, "prefer")) {
			u.prefer = 1;
		} else if (conf_word_is(k, "smearing")) {
			u.smearing = 1;
		} else if (conf_word_is(k, "port") && has_val) {
			if (conf_parse_int(x, "port", argv[++i], 1, 65535, &v))
				rc = -1;
			else
				u.port = (uint16_t)v;
		} else if (conf_word_is(k, "minpoll") && has_val) {
			if (conf_parse_int(x, "minpoll", argv[++i],
					   SYNC_POLL_MIN, SYNC_POLL_MAX, &v))
				rc = -1;
			else {
				u.minpoll = (int8_t)v;
				minset = 1;
			}
		} else if (conf_word_is(k, "maxpoll") && has_val) {
			if (conf_parse_int(x, "maxpoll", argv[++i],
					   SYNC_POLL_MIN, SYNC_POLL_MAX, &v))
				rc = -1;
			else {
				u.maxpoll = (int8_t)v;
				maxset = 1;
			}
		} else if (pool && conf_word_is(k, "maxsources") && has_val) {
			if (conf_parse_int(x, "maxsources", argv[++i], 1, 16, &v))
				rc = -1;
			else
				u.maxsources = (int)v;
		} else {
			conf_error(x, "%s: unknown or incomplete option '%s'",
				   argv[0], k);
			rc = -1;
		}
	}
	if (rc)
		return -1;
	/* chrony: a lone minpoll above the default maxpoll raises it */
	if (minset && !maxset && u.maxpoll < u.minpoll)
		u.maxpoll = u.minpoll;
	if (maxset && !minset && u.minpoll > u.maxpoll)
		u.minpoll = u.maxpoll;
	if (u.minpoll > u.maxpoll) {
		conf_error(x, "%s: minpoll %d is above maxpoll %d", argv[0],
			   u.minpoll, u.maxpoll);
		return -1;
	}
	for (i = 0; i < t->n_up; i++)
		if (strcmp(t->up[i].host, u.host) == 0 &&
		    t->up[i].port == u.port) {
			conf_error(x, "%s: '%s' is already configured",
				   argv[0], u.host);
			return -1;
		}
	if (!t->n_up)
		x->up_line = x->line;
	t->up[t->n_up++] = u;
	return 0;
}

static int parse_minsources(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_int(x, "minsources", argv[1], 1, 64, &v))
		return -1;
	x->c->time.minsources = (int)v;
	return 0;
}

static int parse_maxdistance(struct conf_ctx *x, int argc, char **argv)
{
	return conf_parse_double(x, "maxdistance", argv[1], 1e-6, 16.0,
			    &x->c->time.maxdistance);
}

static int parse_maxslewrate(struct conf_ctx *x, int argc, char **argv)
{
	return conf_parse_double(x, "maxslewrate (ppm)", argv[1], 1.0, 100000.0,
			    &x->c->time.maxslewrate);
}

/* makestep THRESHOLD LIMIT (chrony: LIMIT -1 = step in every update) */
static int parse_makestep(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	if (conf_parse_double(x, "makestep threshold", argv[1], 0.0, 1e9,
			 &x->c->time.makestep))
		return -1;
	if (conf_parse_int(x, "makestep limit", argv[2], -1, 1000000, &v))
		return -1;
	x->c->time.makestep_limit = (int)v;
	return 0;
}

static int parse_holdover(struct conf_ctx *x, int argc, char **argv)
{
	return conf_parse_double(x, "holdover", argv[1], 0.0, 30 * 86400.0,
			    &x->c->time.holdover);
}

static int parse_path(struct conf_ctx *x, const char *what, const char *s,
		      char *out, size_t len)
{
	if (s[0] != '/') {
		conf_error(x, "%s must be an absolute path, got '%s'", what, s);
		return -1;
	}
	if (strlen(s) >= len) {
		conf_error(x, "%s: path too long", what);
		return -1;
	}
	strcpy(out, s);
	return 0;
}

/* The file is read (and must parse) at load time; expiry is checked when
 * the engine starts and at every leap decision. */
static int parse_leapfile(struct conf_ctx *x, int argc, char **argv)
{
	struct leap_list *l;
	char err[256];

	if (parse_path(x, "leapfile", argv[1], x->c->time.leapfile,
		       sizeof(x->c->time.leapfile)))
		return -1;
	if (leap_load(argv[1], &l, err, sizeof(err)) < 0) {
		conf_error(x, "leapfile: %s", err);
		return -1;
	}
	leap_free(l);
	return 0;
}

static int parse_hostsfile(struct conf_ctx *x, int argc, char **argv)
{
	return parse_path(x, "hostsfile", argv[1], x->c->time.hostsfile,
			  sizeof(x->c->time.hostsfile));
}

/* clock-error offset SECONDS drift PPM (test-only) */
static int parse_clock_error(struct conf_ctx *x, int argc, char **argv)
{
	struct sync_conf *t = &x->c->time;

	if (!conf_word_is(argv[1], "offset") || !conf_word_is(argv[3], "drift")) {
		conf_error(x, "usage: clock-error offset SECONDS drift PPM");
		return -1;
	}
	if (conf_parse_double(x, "clock-error offset", argv[2], -1e6, 1e6,
			 &t->clock_error_offset) ||
	    conf_parse_double(x, "clock-error drift", argv[4], -10000, 10000,
			 &t->clock_error_drift))
		return -1;
	t->clock_error_set = 1;
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
	x->c->time.local_stratum = (int)v;
	return 0;
}

static int parse_discipline(struct conf_ctx *x, int argc, char **argv)
{
	if (conf_word_is(argv[1], "virtual"))
		x->c->time.discipline = DISC_VIRTUAL;
	else if (conf_word_is(argv[1], "kernel"))
		x->c->time.discipline = DISC_KERNEL;
	else {
		conf_error(x, "discipline: '%s' is neither 'virtual' nor "
			   "'kernel'", argv[1]);
		return -1;
	}
	return 0;
}

const struct conf_directive conf_time_directives[] = {
	{ "local", "local stratum N", parse_local, 0, 2, 1, 0 },
	{ "discipline", "discipline virtual|kernel", parse_discipline, 1, 1,
	  1, 0 },
	{ "upstream", "upstream HOST [port N] [minpoll N] [maxpoll N] "
	  "[iburst] [prefer] [smearing]", parse_upstream, 1, 10, 0, 0 },
	{ "pool", "pool NAME [port N] [minpoll N] [maxpoll N] [iburst] "
	  "[prefer] [smearing] [maxsources N]", parse_upstream, 1, 12, 0, 0 },
	{ "minsources", "minsources N", parse_minsources, 1, 1, 1, 0 },
	{ "maxdistance", "maxdistance SECONDS", parse_maxdistance, 1, 1, 1, 0 },
	{ "maxslewrate", "maxslewrate PPM", parse_maxslewrate, 1, 1, 1, 0 },
	{ "makestep", "makestep THRESHOLD LIMIT", parse_makestep, 2, 2, 1, 0 },
	{ "holdover", "holdover SECONDS", parse_holdover, 1, 1, 1, 0 },
	{ "leapfile", "leapfile PATH", parse_leapfile, 1, 1, 1, 0 },
	{ "hostsfile", "hostsfile PATH", parse_hostsfile, 1, 1, 1, 1 },
	{ "clock-error", "clock-error offset SECONDS drift PPM",
	  parse_clock_error, 4, 4, 1, 1 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};

void conf_time_finish(struct conf_ctx *x)
{
	struct conf *c = x->c;

	/* A pool server never presents a free-running clock as synced. */
	if (c->time.local_stratum && c->time.n_up) {
		x->line = x->up_line;
		conf_error(x, "upstream/pool: not allowed with 'local stratum' "
			   "(a free-running clock must never look synchronized)");
	}
}
