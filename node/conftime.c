/* Time-engine directives (docs/time-engine.md lists them). */
#include "node/conf.h"
#include "node/conf_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/leap.h"

void conf_time_defaults(struct conf_time *t)
{
	memset(t, 0, sizeof(*t));
	t->minsources = 1;
	t->maxdistance = CONF_DEFAULT_MAXDISTANCE;
	t->maxslewrate = CONF_DEFAULT_MAXSLEWRATE;
	t->makestep = CONF_DEFAULT_MAKESTEP;
	t->makestep_limit = CONF_DEFAULT_MAKESTEP_LIMIT;
	t->holdover = CONF_DEFAULT_HOLDOVER;
}

static int parse_double(struct conf_ctx *x, const char *what, const char *s,
			double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v)) {
		conf_error(x, "%s must be a number, got '%s'", what, s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		conf_error(x, "%s must be between %g and %g, got '%s'", what,
			   min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int valid_host(const char *h)
{
	size_t n = strlen(h), i;

	if (n == 0 || n > CONF_HOST_MAX)
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
int conf_parse_upstream(struct conf_ctx *x, int argc, char **argv)
{
	struct conf_time *t = &x->c->time;
	struct conf_upstream u;
	int pool = conf_word_is(argv[0], "pool"), i, rc = 0;
	int minset = 0, maxset = 0;
	long v;

	if (t->n_up == CONF_MAX_UPSTREAM) {
		conf_error(x, "at most %d upstream and pool lines",
			   CONF_MAX_UPSTREAM);
		return -1;
	}
	memset(&u, 0, sizeof(u));
	if (!valid_host(argv[1])) {
		conf_error(x, "%s: '%s' is not a host name or address",
			   argv[0], argv[1]);
		return -1;
	}
	strcpy(u.host, argv[1]);
	u.port = CONF_DEFAULT_NTP_PORT;
	u.minpoll = CONF_DEFAULT_MINPOLL;
	u.maxpoll = CONF_DEFAULT_MAXPOLL;
	u.pool = (uint8_t)pool;
	u.maxsources = pool ? CONF_DEFAULT_MAXSOURCES : 1;

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
					   CONF_POLL_MIN, CONF_POLL_MAX, &v))
				rc = -1;
			else {
				u.minpoll = (int8_t)v;
				minset = 1;
			}
		} else if (conf_word_is(k, "maxpoll") && has_val) {
			if (conf_parse_int(x, "maxpoll", argv[++i],
					   CONF_POLL_MIN, CONF_POLL_MAX, &v))
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
		t->up_line = x->line;
	t->up[t->n_up++] = u;
	return 0;
}

int conf_parse_minsources(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_int(x, "minsources", argv[1], 1, 64, &v))
		return -1;
	x->c->time.minsources = (int)v;
	return 0;
}

int conf_parse_maxdistance(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	return parse_double(x, "maxdistance", argv[1], 1e-6, 16.0,
			    &x->c->time.maxdistance);
}

int conf_parse_maxslewrate(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	return parse_double(x, "maxslewrate (ppm)", argv[1], 1.0, 100000.0,
			    &x->c->time.maxslewrate);
}

/* makestep THRESHOLD LIMIT (chrony: LIMIT -1 = step in every update) */
int conf_parse_makestep(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (parse_double(x, "makestep threshold", argv[1], 0.0, 1e9,
			 &x->c->time.makestep))
		return -1;
	if (conf_parse_int(x, "makestep limit", argv[2], -1, 1000000, &v))
		return -1;
	x->c->time.makestep_limit = (int)v;
	return 0;
}

int conf_parse_holdover(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	return parse_double(x, "holdover", argv[1], 0.0, 30 * 86400.0,
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
int conf_parse_leapfile(struct conf_ctx *x, int argc, char **argv)
{
	struct leap_list *l;
	char err[256];

	(void)argc;
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

int conf_parse_hostsfile(struct conf_ctx *x, int argc, char **argv)
{
	(void)argc;
	return parse_path(x, "hostsfile", argv[1], x->c->time.hostsfile,
			  sizeof(x->c->time.hostsfile));
}

/* clock-error offset SECONDS drift PPM (test-only) */
int conf_parse_clock_error(struct conf_ctx *x, int argc, char **argv)
{
	struct conf_time *t = &x->c->time;

	(void)argc;
	if (!conf_word_is(argv[1], "offset") || !conf_word_is(argv[3], "drift")) {
		conf_error(x, "usage: clock-error offset SECONDS drift PPM");
		return -1;
	}
	if (parse_double(x, "clock-error offset", argv[2], -1e6, 1e6,
			 &t->clock_error_offset) ||
	    parse_double(x, "clock-error drift", argv[4], -10000, 10000,
			 &t->clock_error_drift))
		return -1;
	t->clock_error_set = 1;
	return 0;
}

void conf_time_finish(struct conf_ctx *x)
{
	struct conf *c = x->c;

	/* A pool server never presents a free-running clock as synced. */
	if (c->local_stratum && c->time.n_up) {
		x->line = c->time.up_line;
		conf_error(x, "upstream/pool: not allowed with 'local stratum' "
			   "(a free-running clock must never look synchronized)");
	}
}
