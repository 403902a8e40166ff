/* ntpsim's scenario syntax (command line and file) and its status file. */
#include "tools/sim.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sim_server_defaults(struct sim_server *s)
{
	memset(s, 0, sizeof(*s));
	s->stratum = 1;
	s->precision = -20;
	s->refid = ('G' << 24) | ('P' << 16) | ('S' << 8);
	s->root_disp = 10e-6;
}

void sim_scenario_init(struct sim_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->seed = 1;
	sc->slot = 1.0;
}

int sim_parse_double(const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int sim_parse_duration(const char *text, double *out)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = { { "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "us", 1e-6 },
		      { "ns", 1e-9 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno != 0 || !isfinite(v))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			*out = v * units[i].scale;
			return 0;
		}
	}
	return -1;
}

static int parse_int(const char *text, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* "A:B" as two durations. */
static int parse_pair(const char *text, double *a, double *b)
{
	char buf[64];
	char *colon;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	colon = strchr(buf, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	return sim_parse_duration(buf, a) == 0 &&
			       sim_parse_duration(colon + 1, b) == 0 ?
		       0 :
		       -1;
}

static int parse_loss(const char *text, double *out)
{
	char buf[32];
	size_t n = strlen(text);
	double v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	if (buf[n - 1] == '%')
		buf[n - 1] = '\0';
	if (sim_parse_double(buf, &v) != 0 || v < 0 || v > 100)
		return -1;
	*out = v / 100;
	return 0;
}

static int parse_refid(const char *text, uint32_t *out)
{
	struct in_addr a;
	size_t n = strlen(text);
	uint32_t v = 0;

	if (inet_pton(AF_INET, text, &a) == 1) {
		*out = ntohl(a.s_addr);
		return 0;
	}
	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isprint((unsigned char)text[i]))
			return -1;
		v |= (uint32_t)(unsigned char)text[i] << (24 - 8 * i);
	}
	*out = v;
	return 0;
}

static int nonneg(double v)
{
	return v >= 0 && v < 3600;
}

/* One key=value of a server spec; returns 0 or -1 (message printed). */
static int server_key(struct sim_server *s, const char *key, const char *val,
		      const char *where)
{
	double d = 0, e = 0;
	int ok = 0;

	if (strcmp(key, "port") == 0) {
		int p = 0;

		ok = parse_int(val, 0, 65535, &p) == 0;
		s->port = (uint16_t)p;
	} else if (strcmp(key, "offset") == 0) {
		ok = sim_parse_duration(val, &s->offset) == 0;
	} else if (strcmp(key, "drift") == 0) {
		ok = sim_parse_double(val, &s->drift_ppm) == 0 &&
		     fabs(s->drift_ppm) <= 1e5;
	} else if (strcmp(key, "step") == 0) {
		ok = s->n_steps < SIM_MAX_STEPS &&
		     parse_pair(val, &d, &e) == 0 && d >= 0;
		if (ok)
			s->steps[s->n_steps++] =
				(struct sim_step){ .at = d, .size = e };
	} else if (strcmp(key, "down") == 0) {
		ok = s->n_down < SIM_MAX_DOWN &&
		     parse_pair(val, &d, &e) == 0 && d >= 0 && e > d;
		if (ok)
			s->down[s->n_down++] =
				(struct sim_window){ .from = d, .to = e };
	} else if (strcmp(key, "stratum") == 0) {
		ok = parse_int(val, 0, 16, &s->stratum) == 0;
	} else if (strcmp(key, "li") == 0) {
		ok = parse_int(val, 0, 3, &s->li) == 0;
	} else if (strcmp(key, "precision") == 0) {
		ok = parse_int(val, -32, 0, &s->precision) == 0;
	} else if (strcmp(key, "refid") == 0) {
		ok = parse_refid(val, &s->refid) == 0;
	} else if (strcmp(key, "rootdelay") == 0) {
		ok = sim_parse_duration(val, &s->root_delay) == 0 &&
		     s->root_delay >= 0 && s->root_delay < 65536;
	} else if (strcmp(key, "rootdisp") == 0) {
		ok = sim_parse_duration(val, &s->root_disp) == 0 &&
		     s->root_disp >= 0 && s->root_disp < 65536;
	} else if (strcmp(key, "kod") == 0) {
		ok = strlen(val) >= 1 && strlen(val) <= 4;
		for (size_t i = 0; ok && val[i]; i++)
			ok = isupper((unsigned char)val[i]);
		if (ok)
			strcpy(s->kod, val);
	} else if (strcmp(key, "delay") == 0) {
		ok = sim_parse_duration(val, &d) == 0 && nonneg(d);
		s->fwd.base = s->ret.base = d;
	} else if (strcmp(key, "fwd") == 0) {
		ok = sim_parse_duration(val, &s->fwd.base) == 0 &&
		     nonneg(s->fwd.base);
	} else if (strcmp(key, "ret") == 0) {
		ok = sim_parse_duration(val, &s->ret.base) == 0 &&
		     nonneg(s->ret.base);
	} else if (strcmp(key, "jitter") == 0) {
		ok = sim_parse_duration(val, &d) == 0 && nonneg(d);
		s->fwd.jitter = s->ret.jitter = d;
	} else if (strcmp(key, "fwdjitter") == 0) {
		ok = sim_parse_duration(val, &s->fwd.jitter) == 0 &&
		     nonneg(s->fwd.jitter);
	} else if (strcmp(key, "retjitter") == 0) {
		ok = sim_parse_duration(val, &s->ret.jitter) == 0 &&
		     nonneg(s->ret.jitter);
	} else if (strcmp(key, "loss") == 0) {
		ok = parse_loss(val, &d) == 0;
		s->fwd.loss = s->ret.loss = d;
	} else if (strcmp(key, "fwdloss") == 0) {
		ok = parse_loss(val, &s->fwd.loss) == 0;
	} else if (strcmp(key, "retloss") == 0) {
		ok = parse_loss(val, &s->ret.loss) == 0;
	} else {
		fprintf(stderr, "%s: unknown server key '%s'\n", where, key);
		return -1;
	}
	if (!ok) {
		fprintf(stderr, "%s: bad value '%s' for %s\n", where, val, key);
		return -1;
	}
	return 0;
}

int sim_parse_server(struct sim_server *s, const char *spec, const char *where)
{
	char buf[1024];
	char *rest, *tok;
	unsigned char a[16];
	int rc = 0;

	sim_server_defaults(s);
	if (strlen(spec) >= sizeof(buf)) {
		fprintf(stderr, "%s: server spec too long\n", where);
		return -1;
	}
	strcpy(buf, spec);
	rest = buf;
	tok = strsep(&rest, ",");
	if (tok == NULL || strlen(tok) >= sizeof(s->addr) ||
	    (inet_pton(AF_INET, tok, a) != 1 &&
	     inet_pton(AF_INET6, tok, a) != 1)) {
		fprintf(stderr, "%s: server spec must start with an IP address\n",
			where);
		return -1;
	}
	strcpy(s->addr, tok);
	while (rc == 0 && (tok = strsep(&rest, ",")) != NULL) {
		char *eq = strchr(tok, '=');

		if (eq == NULL) {
			fprintf(stderr, "%s: expected key=value, got '%s'\n",
				where, tok);
			return -1;
		}
		*eq = '\0';
		rc = server_key(s, tok, eq + 1, where);
	}
	return rc;
}

static char *trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

static int scenario_line(struct sim_scenario *sc, char *line, const char *where)
{
	char *arg = line;
	double d;

	while (*arg && !isspace((unsigned char)*arg))
		arg++;
	if (*arg)
		*arg++ = '\0';
	arg = trim(arg);
	if (strcmp(line, "server") == 0) {
		if (sc->n_servers >= SIM_MAX_SERVERS) {
			fprintf(stderr, "%s: too many servers (max %d)\n", where,
				SIM_MAX_SERVERS);
			return -1;
		}
		return sim_parse_server(&sc->servers[sc->n_servers++], arg,
					where);
	}
	if (strcmp(line, "seed") == 0) {
		char *end;

		errno = 0;
		sc->seed = strtoull(arg, &end, 0);
		if (end == arg || *end || errno) {
			fprintf(stderr, "%s: bad seed '%s'\n", where, arg);
			return -1;
		}
		return 0;
	}
	if (strcmp(line, "slot") == 0 && sim_parse_duration(arg, &d) == 0 &&
	    d >= 1e-6) {
		sc->slot = d;
		return 0;
	}
	if (strcmp(line, "truth-offset") == 0 &&
	    sim_parse_duration(arg, &d) == 0) {
		sc->truth.offset = d;
		return 0;
	}
	if (strcmp(line, "truth-drift") == 0 && sim_parse_double(arg, &d) == 0 &&
	    fabs(d) <= 1e5) {
		sc->truth.drift_ppm = d;
		return 0;
	}
	fprintf(stderr, "%s: bad line '%s %s'\n", where, line, arg);
	return -1;
}

int sim_load_scenario(struct sim_scenario *sc, const char *path)
{
	char line[1024], where[512];
	FILE *f = fopen(path, "r");
	int n = 0, rc = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *hash;

		n++;
		snprintf(where, sizeof(where), "%s:%d", path, n);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "%s: line too long\n", where);
			rc = -1;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		p = trim(line);
		if (*p && scenario_line(sc, p, where) != 0)
			rc = -1;
	}
	fclose(f);
	return rc;
}

int sim_write_status(const struct sim_scenario *sc, const char *path)
{
	char tmp[4096];
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "ntpsim 1\npid %ld\nseed %" PRIu64 "\nslot %.9f\n",
		(long)getpid(), sc->seed, sc->slot);
	fprintf(f, "t0_ns %" PRId64 "\ntruth_offset %.9f\ntruth_drift_ppm %.6f\n",
		sc->truth.t0_ns, sc->truth.offset, sc->truth.drift_ppm);
	for (int i = 0; i < sc->n_servers; i++) {
		const struct sim_server *s = &sc->servers[i];

		fprintf(f, "server %s %u offset %.9f drift %.6f stratum %d "
			   "steps %d\n",
			s->addr, s->port, s->offset, s->drift_ppm, s->stratum,
			s->n_steps);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	return rc;
}

int sim_read_truth(const char *path, struct sim_truth *out)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int seen = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		long long v;
		double d;

		if (sscanf(line, "t0_ns %lld", &v) == 1) {
			out->t0_ns = v;
			seen |= 1;
		} else if (sscanf(line, "truth_offset %lf", &d) == 1) {
			out->offset = d;
			seen |= 2;
		} else if (sscanf(line, "truth_drift_ppm %lf", &d) == 1) {
			out->drift_ppm = d;
			seen |= 4;
		}
	}
	fclose(f);
	return seen == 7 ? 0 : -1;
}
