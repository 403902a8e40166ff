/*
 * The endpoint's routes, the minute sampler and `pool-check`: what ties
 * the views, the cluster, the store and the HTTP server together.
 */
#include "node/metrics/metrics.h"
#include "node/base/log.h"
#include "node/cluster/cluster.h"
#include "node/ctl/ctl.h"
#include "node/metrics/mexp.h"
#include "node/metrics/mhttp.h"
#include "node/metrics/pchk.h"
#include "node/metrics/phist.h"
#include "node/ntp/tstate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_MAX_SOURCES 64
#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_CTYPE "text/plain; charset=utf-8"
#define FIRST_SAMPLE_MS 5000

struct metrics {
	uv_loop_t *loop;
	const struct metrics_views *v;
	struct cluster *cl;
	struct st *st;
	const char *version;
	uint64_t start_ns;
	uv_timer_t sample;
	struct mhttp *http;
	int store_failing;
};

static double up_seconds(const struct metrics *m)
{
	return (double)(uv_hrtime() - m->start_ns) / 1e9;
}

static void tracking(const struct metrics *m, struct metrics_tracking *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->state, sizeof(t->state), "unsynchronized");
	t->leap = 3;
	if (m->v->tracking)
		m->v->tracking(m->v->arg, t);
}

static int answer_text(struct mhttp_answer *a, int status, const char *s)
{
	a->status = status;
	a->ctype = TEXT_CTYPE;
	a->body = strdup(s);
	a->len = a->body ? strlen(s) : 0;
	return a->body ? 0 : -1;
}

static int render(struct metrics *m, struct mhttp_answer *a)
{
	struct metrics_source *src = NULL;
	struct metrics_crosscheck *xc = NULL;
	struct metrics_rotation *rot = NULL;
	struct metrics_tracking tr;
	struct metrics_serving sv;
	struct metrics_egress eg;
	struct cluster_view cv;
	struct mhttp_stats hs;
	struct mexp_in in = { 0 };
	int i, n = m->v->n_sources ? m->v->n_sources(m->v->arg) : 0;

	if (n > METRICS_MAX_SOURCES)
		n = METRICS_MAX_SOURCES;
	if (n > 0 && m->v->source) {
		src = calloc((size_t)n, sizeof(*src));
		if (!src)
			return -1;
		for (i = 0; i < n; i++)
			m->v->source(m->v->arg, i, &src[i]);
	}
	tracking(m, &tr);
	memset(&sv, 0, sizeof(sv));
	if (m->v->serving)
		m->v->serving(m->v->arg, &sv);
	if (m->v->crosscheck) {
		xc = calloc(1, sizeof(*xc));
		if (!xc) {
			free(src);
			return -1;
		}
		m->v->crosscheck(m->v->arg, xc);
	}
	memset(&eg, 0, sizeof(eg));
	if (m->v->egress)
		m->v->egress(m->v->arg, &eg);
	if (m->v->rotation) {
		rot = calloc(1, sizeof(*rot));
		if (!rot) {
			free(src);
			free(xc);
			return -1;
		}
		m->v->rotation(m->v->arg, rot);
	}
	cluster_view(m->cl, &cv);
	mhttp_stats(m->http, &hs);
	in.version = m->version;
	in.up_s = up_seconds(m);
	in.tr = &tr;
	in.src = src;
	in.n_src = src ? n : 0;
	in.sv = &sv;
	in.cv = m->cl ? &cv : NULL;
	in.http = &hs;
	in.xc = xc;
	in.eg = &eg;
	in.rot = rot;
	a->status = 200;
	a->ctype = PROM_CTYPE;
	a->body = mexp_render(&in, &a->len);
	free(src);
	free(xc);
	free(rot);
	return a->body ? 0 : -1;
}

/* 200 while the member serves and its replies claim synchronization;
 * 503 once they carry LI 3 (load balancers, uptime checks). */
static int health(struct metrics *m, struct mhttp_answer *a)
{
	struct metrics_serving sv = { 0 };
	struct tstate ts;

	if (m->v->serving)
		m->v->serving(m->v->arg, &sv);
	tstate_read(&ts);
	if (!sv.running)
		return answer_text(a, 503, "not serving\n");
	if (ts.leap == 3)
		return answer_text(a, 503, "unsynchronized: replies carry "
				   "LI 3\n");
	return answer_text(a, 200, "ok\n");
}

static int route(void *arg, const char *path, struct mhttp_answer *a)
{
	struct metrics *m = arg;

	if (strcmp(path, "/metrics") == 0)
		return render(m, a);
	if (strcmp(path, "/health") == 0)
		return health(m, a);
	return answer_text(a, 404, "not found: try /metrics or /health\n");
}

/* ---------------------------------------------------------------- */
/* history */

/* The served time's minute: the history is on the scale the member serves
 * (node/ntp/tstate.h), not the kernel clock's. */
static int64_t unix_minute(void)
{
	return tstate_now_ns(NULL) / 60000000000LL;
}

static void take_sample(struct metrics *m, struct phist_sample *s)
{
	struct metrics_tracking t;
	int measured;

	tracking(m, &t);
	memset(s, 0, sizeof(*s));
	s->minute = unix_minute();
	s->synced = t.leap != 3 && t.stratum != 0;
	s->stratum = t.stratum;
	s->sources = t.sources;
	s->reachable = t.reachable;
	/* the local clock measures nothing: its offsets are unknown */
	measured = s->synced && t.ref_time_ns && strcmp(t.state, "local");
	s->offset = measured ? t.last_offset : NAN;
	s->jitter = measured ? t.jitter : NAN;
	s->freq_ppm = strcmp(t.state, "local") ? t.freq_ppm : NAN;
	s->peer_offset = NAN;
}

static void arm_sample(struct metrics *m);

static void on_sample(uv_timer_t *t)
{
	struct metrics *m = t->data;
	struct phist_sample s;
	int rc;

	take_sample(m, &s);
	rc = phist_record(m->st, &s);
	if (rc < 0 && !m->store_failing)
		log_warnx("metrics: cannot keep the history sample: %s",
			  strerror(-rc));
	else if (rc == 0 && m->store_failing)
		log_info("metrics: history samples are kept again");
	m->store_failing = rc < 0;
	arm_sample(m);
}

/* A second past each minute boundary, so each minute gets its sample. */
static void arm_sample(struct metrics *m)
{
	uint64_t ms = (uint64_t)(tstate_now_ns(NULL) / 1000000) % 60000;

	uv_timer_start(&m->sample, on_sample, 61000 - ms, 0);
}

/* ---------------------------------------------------------------- */
/* pool-check */

static int parse_hours(int argc, char **argv, int *hours)
{
	char *end;
	long v;

	*hours = PCHK_DEFAULT_HOURS;
	if (argc == 0)
		return 0;
	if (argc != 2 || strcmp(argv[0], "--hours") != 0)
		return -1;
	errno = 0;
	v = strtol(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || v < 1 || v > PCHK_MAX_HOURS)
		return -1;
	*hours = (int)v;
	return 0;
}

/* The configured upstream names, each once (a pool's members share it). */
static int upstream_names(struct metrics *m, const char ***out,
			  struct metrics_source **src)
{
	int i, j, k = 0, n = m->v->n_sources ? m->v->n_sources(m->v->arg) : 0;
	const char **names;

	*out = NULL;
	*src = NULL;
	if (n <= 0 || !m->v->source)
		return 0;
	if (n > METRICS_MAX_SOURCES)
		n = METRICS_MAX_SOURCES;
	*src = calloc((size_t)n, sizeof(**src));
	names = calloc((size_t)n, sizeof(*names));
	if (!*src || !names) {
		free(*src);
		free(names);
		*src = NULL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		m->v->source(m->v->arg, i, &(*src)[i]);
		for (j = 0; j < k && strcmp(names[j], (*src)[i].name); j++)
			;
		if (j == k)
			names[k++] = (*src)[i].name;
	}
	*out = names;
	return k;
}

static void on_pool_check(void *arg, struct ctl_call *call, int argc,
			  char **argv)
{
	struct metrics *m = arg;
	struct metrics_source *src = NULL;
	struct phist_sample *s = NULL;
	struct pchk_result *r = NULL;
	struct pchk_in in = { 0 };
	const char **names = NULL;
	char *text = NULL, *json = NULL;
	int hours, rc;

	if (parse_hours(argc, argv, &hours) < 0) {
		ctl_reply(call, CTL_EUSAGE, "usage: pool-check [--hours N] "
			  "(N: 1..72, default 48)", NULL, NULL);
		return;
	}
	if (!m->st) {
		ctl_reply(call, CTL_ERR, "no history: the node-local store "
			  "could not be opened", NULL, NULL);
		return;
	}
	in.now = unix_minute() + 1;
	in.hours = hours;
	rc = phist_load(m->st, in.now - (int64_t)hours * 60, in.now, &s, &in.n,
			&in.first, &in.bad);
	if (rc == 0)
		rc = upstream_names(m, &names, &src);
	r = malloc(sizeof(*r));
	if (rc < 0 || !r) {
		ctl_reply(call, CTL_ERR, "out of memory", NULL, NULL);
		goto out;
	}
	in.s = s;
	in.upstreams = names;
	in.n_up = rc;
	pchk_eval(&in, r);
	text = pchk_text(r);
	json = pchk_json(r);
	if (text && json)
		ctl_reply(call, CTL_OK, NULL, text, json);
	else
		ctl_reply(call, CTL_ERR, "out of memory", NULL, NULL);
out:
	free(text);
	free(json);
	free(r);
	free(names);
	free(src);
	free(s);
}

/* ---------------------------------------------------------------- */

static void log_listening(const struct mhttp *h)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (mhttp_addr(h, &ss) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		log_info("metrics: http://%s:%d/metrics and /health", host,
			 port);
	} else {
		const struct sockaddr_in6 *a = (const void *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		log_info("metrics: http://[%s]:%d/metrics and /health", host,
			 port);
	}
}

struct metrics *metrics_start(uv_loop_t *loop, const struct metrics_conf *c,
			      const struct metrics_views *views,
			      struct cluster *cl, struct st *st,
			      const char *version)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->loop = loop;
	m->v = views;
	m->cl = cl;
	m->st = st;
	m->version = version;
	m->start_ns = uv_hrtime();
	if (c->listen_set) {
		m->http = mhttp_start(loop, &c->listen, NULL, route, m);
		if (!m->http) {
			free(m);
			return NULL;
		}
		log_listening(m->http);
	}
	uv_timer_init(loop, &m->sample);
	m->sample.data = m;
	/* the first sample soon, so that a start is on record at once */
	if (st)
		uv_timer_start(&m->sample, on_sample, FIRST_SAMPLE_MS, 0);
	return m;
}

int metrics_register(struct metrics *m, struct ctl *ctl)
{
	return ctl_register(ctl, "pool-check", on_pool_check, m);
}

static void sample_closed(uv_handle_t *h)
{
	free(h->data);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	mhttp_stop(m->http);
	uv_close((uv_handle_t *)&m->sample, sample_closed);
}
