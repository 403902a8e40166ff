#include "node/metrics/pchk.h"
#include "node/base/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The fleet's thresholds (docs/monitoring.md, infra/monitoring/rules). */
#define STRATUM_TARGET 2
#define STRATUM_CRIT 3
#define OFFSET_TARGET 0.010
#define OFFSET_WARN 0.050
#define JITTER_TARGET 0.050
#define JITTER_WARN 0.100
#define FREQ_TARGET 5.0
#define FREQ_WARN 10.0
#define UPTIME_POOL 0.99
#define UPTIME_CRIT 0.95
/* The history may start a few minutes into the window and still cover
 * it: the first sample is taken at a minute boundary. */
#define COVER_SLACK_MIN 5

static const char *const status_name[] = { "pass", "warn", "fail",
					   "unknown" };

int pchk_is_ntp_pool(const char *name)
{
	static const char pool[] = "pool.ntp.org";
	size_t n = strlen(name), p = sizeof(pool) - 1;

	while (n && name[n - 1] == '.')   /* a fully qualified name */
		n--;
	if (n < p || strncasecmp(name + n - p, pool, p) != 0)
		return 0;
	return n == p || name[n - p - 1] == '.';
}

static struct pchk_line *line(struct pchk_result *r, const char *name,
			      enum pchk_status st, double v, const char *unit,
			      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static struct pchk_line *line(struct pchk_result *r, const char *name,
			      enum pchk_status st, double v, const char *unit,
			      const char *fmt, ...)
{
	struct pchk_line *l = &r->l[r->n++];
	va_list ap;

	l->name = name;
	l->status = st;
	l->value = v;
	l->unit = unit;
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
	va_end(ap);
	return l;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q quantile (nearest rank) of |field| over the synced samples with
 * a value; NaN when there is none. */
static double quantile(const struct pchk_in *in, size_t off, double q,
		       double *max)
{
	double *v = malloc(sizeof(double) * (in->n ? in->n : 1));
	size_t i, k = 0;
	double out = NAN;

	*max = NAN;
	if (!v)
		return NAN;
	for (i = 0; i < in->n; i++) {
		double x = *(const double *)((const char *)&in->s[i] + off);

		if (in->s[i].synced && !isnan(x))
			v[k++] = fabs(x);
	}
	if (k) {
		qsort(v, k, sizeof(*v), cmp_double);
		i = (size_t)ceil(q * (double)k);
		out = v[i ? i - 1 : 0];
		*max = v[k - 1];
	}
	free(v);
	return out;
}

/* pass under target, warn up to the warning threshold, fail above. */
static enum pchk_status grade(double v, double target, double warn)
{
	if (isnan(v))
		return PCHK_UNKNOWN;
	return v < target ? PCHK_PASS : v <= warn ? PCHK_WARN : PCHK_FAIL;
}

static void history(const struct pchk_in *in, struct pchk_result *r,
		    int64_t start)
{
	int64_t want = (int64_t)in->hours * 60;
	double have = (double)(in->now - start) / 60.0;

	if (!in->first || start >= in->now) {
		line(r, "history", PCHK_FAIL, 0, "h", "no samples yet: the "
		     "member records one a minute while it runs");
		return;
	}
	if (in->now - start >= want - COVER_SLACK_MIN)
		line(r, "history", PCHK_PASS, have, "h", "%.1f h of the %d h "
		     "asked for, one sample a minute", have, in->hours);
	else
		line(r, "history", PCHK_FAIL, have, "h", "only %.1f h of the "
		     "%d h asked for (the pool asks for 48 h): keep the member "
		     "running", have, in->hours);
	if (in->bad)
		line(r, "records", PCHK_WARN, in->bad, "", "%u hour record%s "
		     "of the history could not be read and were skipped",
		     in->bad, in->bad == 1 ? "" : "s");
}

static void availability(const struct pchk_in *in, struct pchk_result *r,
			 int64_t start)
{
	size_t i, synced = 0;
	double span = (double)(in->now - start), a;

	for (i = 0; i < in->n; i++)
		synced += in->s[i].synced != 0;
	if (!in->first || span <= 0) {
		line(r, "availability", PCHK_UNKNOWN, NAN, "%",
		     "no minutes to judge");
		return;
	}
	/* a minute without a sample is a minute the member was down */
	a = (double)synced / span;
	if (a > 1)
		a = 1;
	line(r, "availability", a > UPTIME_POOL ? PCHK_PASS : PCHK_FAIL,
	     100 * a, "%", "%.2f %% of %.0f minutes served and synchronized "
	     "(pool: above 99 %%; fleet: critical under 95 %%)%s", 100 * a,
	     span, a < UPTIME_CRIT ? ": critical" : "");
}

static void stratum(const struct pchk_in *in, struct pchk_result *r)
{
	size_t i, k = 0;
	int max = 0;

	for (i = 0; i < in->n; i++) {
		if (!in->s[i].synced)
			continue;
		k++;
		if (in->s[i].stratum > max)
			max = in->s[i].stratum;
	}
	if (!k) {
		line(r, "stratum", PCHK_UNKNOWN, NAN, "", "never synchronized "
		     "in the window");
		return;
	}
	line(r, "stratum", max <= STRATUM_TARGET ? PCHK_PASS :
	     max <= STRATUM_CRIT ? PCHK_WARN : PCHK_FAIL, max, "",
	     "highest %d (fleet target %d, critical above %d)", max,
	     STRATUM_TARGET, STRATUM_CRIT);
}

static void spread(const struct pchk_in *in, struct pchk_result *r,
		   const char *name, size_t off, double target, double warn,
		   double scale, const char *unit, const char *what)
{
	double max, q = quantile(in, off, 0.99, &max);

	if (isnan(q)) {
		line(r, name, PCHK_UNKNOWN, NAN, unit, "no %s measured while "
		     "synchronized", what);
		return;
	}
	line(r, name, grade(q, target, warn), q * scale, unit, "%s p99 "
	     "%.3f %s, max %.3f %s (fleet target under %g %s, warning "
	     "above %g %s)", what, q * scale, unit, max * scale, unit,
	     target * scale, unit, warn * scale, unit);
}

static void upstreams(const struct pchk_in *in, struct pchk_result *r)
{
	int i;

	if (in->n_up == 0) {
		line(r, "upstreams", PCHK_FAIL, 0, "", "no upstream "
		     "configured: a pool server needs real time sources");
		return;
	}
	for (i = 0; i < in->n_up; i++) {
		if (pchk_is_ntp_pool(in->upstreams[i])) {
			line(r, "upstreams", PCHK_FAIL, in->n_up, "", "'%s' is "
			     "pool.ntp.org: the pool asks its servers to use "
			     "static upstreams, not the pool",
			     in->upstreams[i]);
			return;
		}
	}
	line(r, "upstreams", PCHK_PASS, in->n_up, "", "%d configured, none "
	     "is pool.ntp.org", in->n_up);
}

void pchk_eval(const struct pchk_in *in, struct pchk_result *r)
{
	int64_t from = in->now - (int64_t)in->hours * 60;
	int64_t start = in->first > from ? in->first : from;
	int i;

	memset(r, 0, sizeof(*r));
	r->hours = in->hours;
	r->from = from;
	r->to = in->now;
	r->samples = in->n;
	history(in, r, start);
	availability(in, r, start);
	stratum(in, r);
	spread(in, r, "offset", offsetof(struct phist_sample, offset),
	       OFFSET_TARGET, OFFSET_WARN, 1e3, "ms", "offset to the sources");
	spread(in, r, "jitter", offsetof(struct phist_sample, jitter),
	       JITTER_TARGET, JITTER_WARN, 1e3, "ms", "jitter");
	spread(in, r, "frequency", offsetof(struct phist_sample, freq_ppm),
	       FREQ_TARGET, FREQ_WARN, 1, "ppm", "frequency");
	{
		double max, q = quantile(in, offsetof(struct phist_sample,
						      peer_offset), 0.99, &max);

		if (isnan(q))
			line(r, "peers", PCHK_UNKNOWN, NAN, "ms", "no offset to "
			     "the peers measured (the members do not "
			     "cross-check their clocks yet)");
		else
			line(r, "peers", grade(q, OFFSET_TARGET, OFFSET_WARN),
			     q * 1e3, "ms", "offset to the peers p99 %.3f ms, "
			     "max %.3f ms", q * 1e3, max * 1e3);
	}
	upstreams(in, r);
	r->ready = 1;
	for (i = 0; i < r->n; i++)
		if (r->l[i].status == PCHK_FAIL)
			r->ready = 0;
}

static void utc(int64_t minute, char *out, size_t len)
{
	time_t t = (time_t)(minute * 60);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, len, "?");
}

char *pchk_text(const struct pchk_result *r)
{
	char from[32], to[32], *t = NULL;
	int i, fails = 0, warns = 0, unknown = 0;
	size_t len;
	FILE *f;

	f = open_memstream(&t, &len);
	if (!f)
		return NULL;
	utc(r->from, from, sizeof(from));
	utc(r->to, to, sizeof(to));
	fprintf(f, "pool-check over the last %d h (%s to %s), %zu minute%s "
		"sampled\n", r->hours, from, to, r->samples,
		r->samples == 1 ? "" : "s");
	for (i = 0; i < r->n; i++) {
		const struct pchk_line *l = &r->l[i];
		char st[8];
		int k;

		fails += l->status == PCHK_FAIL;
		warns += l->status == PCHK_WARN;
		unknown += l->status == PCHK_UNKNOWN;
		for (k = 0; status_name[l->status][k]; k++)
			st[k] = (char)(status_name[l->status][k] - 32);
		st[k] = '\0';
		fprintf(f, "  %-8s %-13s %s\n", st, l->name, l->detail);
	}
	fprintf(f, "verdict: %s (%d failed, %d warning%s, %d unknown)\n",
		r->ready ? "meets the pool's entry conditions" :
		"not ready for the pool", fails, warns, warns == 1 ? "" : "s",
		unknown);
	if (fclose(f) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

char *pchk_json(const struct pchk_result *r)
{
	struct json *j = json_new();
	char *out;
	int i;

	if (!j)
		return NULL;
	json_obj_begin(j, NULL);
	json_int(j, "hours", r->hours);
	json_int(j, "from", r->from * 60);
	json_int(j, "to", r->to * 60);
	json_uint(j, "samples", r->samples);
	json_bool(j, "ready", r->ready);
	json_arr_begin(j, "checks");
	for (i = 0; i < r->n; i++) {
		const struct pchk_line *l = &r->l[i];

		json_obj_begin(j, NULL);
		json_str(j, "name", l->name);
		json_str(j, "status", status_name[l->status]);
		json_double(j, "value", l->value);
		json_str(j, "unit", l->unit);
		json_str(j, "detail", l->detail);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	out = json_finish(j);
	json_free(j);
	return out;
}
