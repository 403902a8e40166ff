/*
 * rotation: lifetime, the scheduler's clock, the tick that drives the
 * leader's reconciler, this member's status part (uptime and hooks), the
 * hook runs the leader asks of this member, the metrics view.
 */
#include "node/rotation/rot_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/base/log.h"
#include "proto/rotation.pb-c.h"

/* ---------------------------------------------------------------- */
/* clocks */

int64_t rot_now(const struct rotation *r)
{
	int64_t wall = (int64_t)cluster_wall_ms();
	const struct rot_conf *c = r->conf;

	if (!c->clock_speed)
		return wall;
	/* test-only: faster, from a start of the test's choosing */
	return c->clock_sched_ms + (wall - c->clock_real_ms) *
				   (int64_t)c->clock_speed;
}

int64_t rot_real_to_sched(const struct rotation *r, int64_t ms)
{
	return ms * (r->conf->clock_speed ? (int64_t)r->conf->clock_speed : 1);
}

const char *rot_hook_path(const struct rotation *r, const char *provider)
{
	unsigned i;

	for (i = 0; i < r->conf->n_hooks; i++)
		if (strcmp(r->conf->hook[i].provider, provider) == 0)
			return r->conf->hook[i].path;
	return NULL;
}

unsigned rot_hook_timeout(const struct rotation *r)
{
	return r->conf->hook_timeout_ms ? r->conf->hook_timeout_ms :
					  RHOOK_TIMEOUT_MS;
}

/* ---------------------------------------------------------------- */
/* proposals: counted, so that the struct outlives their answers */

struct rot_prop {
	struct rotation *r;
	rot_done_fn done;
	void *arg;
};

static void maybe_free(struct rotation *r)
{
	if (r->closing && !r->pending && !r->handles) {
		rot_lead_free(r);
		free(r->view);
		free(r);
	}
}

static void prop_done(void *arg, int err, int result)
{
	struct rot_prop *p = arg;
	struct rotation *r = p->r;

	r->pending--;
	if (!r->closing)
		p->done(r, p->arg, err, result);
	else
		free(p->arg);
	free(p);
	maybe_free(r);
}

int rot_propose(struct rotation *r, void *buf, size_t len, rot_done_fn done,
		void *arg)
{
	struct rot_prop *p;
	int rc;

	if (r->closing) {
		free(buf);
		free(arg);
		return -1;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		free(buf);
		free(arg);
		return -1;
	}
	p->r = r;
	p->done = done;
	p->arg = arg;
	r->pending++;
	rc = cluster_propose(r->cl, buf, len, prop_done, p);
	if (rc) {
		r->pending--;
		free(p);
		free(arg);
		log_debug("rotation: proposal refused: %s",
			  cluster_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* this member's status part */

/* How long this process has run (ms; 0 when /proc does not say): the
 * ledger counts from the daemon's start, not from the rotation's. */
static uint64_t process_age_ms(void)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	double up = 0;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n;
	FILE *f;
	int i;

	f = fopen("/proc/self/stat", "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* after the command's ")": state is field 3, starttime field 22 */
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1 || hz <= 0)
		return 0;
	f = fopen("/proc/uptime", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	if (up * 1000 < (double)start * 1000 / hz)
		return 0;
	return (uint64_t)(up * 1000 - (double)start * 1000 / hz);
}

static void publish_status(struct rotation *r)
{
	Ntpmc__Rot__RotStatus s = NTPMC__ROT__ROT_STATUS__INIT;
	char *hooks[ROT_MAX_HOOKS];
	uint8_t buf[512];
	uint64_t up = uv_now(r->loop) - r->start_loop_ms;
	unsigned i;
	size_t len;

	for (i = 0; i < r->conf->n_hooks; i++)
		hooks[i] = (char *)r->conf->hook[i].provider;
	s.hooks = hooks;
	s.n_hooks = r->conf->n_hooks;
	/* when we started, in served time: follows a clock step */
	s.up_since_ms = cluster_wall_ms() - up;
	len = ntpmc__rot__rot_status__get_packed_size(&s);
	if (len > sizeof(buf))
		return;
	ntpmc__rot__rot_status__pack(&s, buf);
	cluster_status_set(r->cl, ROT_KIND, buf, len);
}

/* ---------------------------------------------------------------- */
/* messages */

static void on_msg(void *arg, uint64_t from, const void *buf, size_t len)
{
	struct rotation *r = arg;
	Ntpmc__Rot__RotMsg *m;

	if (r->closing)
		return;
	m = ntpmc__rot__rot_msg__unpack(NULL, len, buf);
	if (!m)
		return;
	if (m->version != 1)
		goto out;
	if (m->body_case == NTPMC__ROT__ROT_MSG__BODY_REQ && m->req->action &&
	    m->req->provider && m->req->region && m->req->instance_id) {
		int action = rhook_action_of(m->req->action);

		/* only the leader asks (from is authenticated) */
		if (action >= 0 && from == cluster_leader(r->cl))
			rot_job_request(r, from, m->req->req_id, action,
					m->req->provider, m->req->region,
					m->req->instance_id);
	} else if (m->body_case == NTPMC__ROT__ROT_MSG__BODY_RELAY &&
		   m->relay->action) {
		rot_es_relay(r, from, m->relay->req_id,
			     rhook_action_of(m->relay->action),
			     m->relay->member);
	} else if (m->body_case == NTPMC__ROT__ROT_MSG__BODY_RES) {
		struct rhook_result res;

		memset(&res, 0, sizeof(res));
		res.ok = m->res->ok;
		res.state = m->res->state <= RHOOK_PENDING ?
			    (int)m->res->state : RHOOK_UNKNOWN;
		snprintf(res.detail, sizeof(res.detail), "%s",
			 m->res->detail ? m->res->detail : "");
		if (!rot_es_answer(r, from, m->res->req_id, &res) && r->lead)
			rot_call_answer(r, from, m->res->req_id, &res);
	}
out:
	ntpmc__rot__rot_msg__free_unpacked(m, NULL);
}

/* ---------------------------------------------------------------- */
/* the tick */

static void on_tick(uv_timer_t *t)
{
	struct rotation *r = t->data;

	publish_status(r);
	rot_es_chores(r);
	rot_rec_run(r);
}

static void on_soon(uv_timer_t *t)
{
	rot_rec_run(t->data);
}

void rot_soon(struct rotation *r)
{
	if (!r->closing && !uv_is_active((uv_handle_t *)&r->soon))
		uv_timer_start(&r->soon, on_soon, ROT_SOON_MS, 0);
}

/* An applied entry (schedule, membership, a step): look again soon. */
static void on_applied(void *arg)
{
	struct rotation *r = arg;

	if (r->lead)
		rot_soon(r);
}

/* ---------------------------------------------------------------- */
/* lifetime */

int rotation_start(struct rotation **out, uv_loop_t *loop,
		   struct cluster *cl, const struct rot_conf *c)
{
	struct rotation *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->view = calloc(1, sizeof(*r->view));
	if (!r->view) {
		free(r);
		return -1;
	}
	r->loop = loop;
	r->cl = cl;
	r->conf = c;
	r->start_loop_ms = uv_now(loop) - process_age_ms();
	if (cluster_observe(cl, on_applied, r) < 0 ||
	    cluster_msg_handler(cl, ROT_KIND, on_msg, r) < 0 ||
	    cluster_config_checker(cl, rot_check_config, r) < 0) {
		free(r->view);
		free(r);
		return -1;
	}
	uv_timer_init(loop, &r->tick);
	uv_timer_init(loop, &r->soon);
	r->tick.data = r->soon.data = r;
	r->handles = 2;
	publish_status(r);
	uv_timer_start(&r->tick, on_tick, ROT_TICK_MS, ROT_TICK_MS);
	if (c->clock_speed)
		log_warnx("TEST-ONLY rotation-test-clock: the rotation's "
			  "schedule and hours ledger run %ux; never use this "
			  "outside tests", c->clock_speed);
	*out = r;
	return 0;
}

int rotation_register(struct rotation *r, struct ctl *ctl)
{
	if (rot_cmd_register(r, ctl) < 0)
		return -1;
	return rot_stop_register(r, ctl);
}

void rotation_set_health(struct rotation *r, rotation_suspect_fn fn,
			 void *arg)
{
	r->suspect = fn;
	r->suspect_arg = arg;
}

void rotation_planned(struct rotation *r, rotation_planned_fn fn, void *arg)
{
	struct rot_view *v = r->view;
	size_t i;

	if (r->closing || rot_view_build(r) < 0)
		return;
	for (i = 0; i < v->n; i++)
		fn(arg, v->m[i].fm->name, v->out[i].on);
}

int rotation_planned_on(struct rotation *r, uint64_t id)
{
	struct rot_view *v = r->view;
	uint64_t now = uv_now(r->loop);
	size_t i;

	if (r->closing)
		return 1;
	/* Leader placement asks once per member in one pass: one view per
	 * loop tick serves them all. */
	if (!r->placed_ok || r->placed_at != now) {
		r->placed_ok = rot_view_build(r) == 0;
		r->placed_at = now;
	}
	if (!r->placed_ok)
		return 1;
	for (i = 0; i < v->n; i++)
		if (v->m[i].fm->id == id)
			return v->out[i].on;
	return 1;
}

unsigned rotation_alerts(struct rotation *r)
{
	unsigned n, i;

	if (r->closing || !r->lead)
		return 0;
	n = r->lead->n_alerts;
	for (i = 0; i < r->lead->n_mem; i++)
		n += r->lead->mem[i].alert[0] != 0;
	return n;
}

static void on_closed(uv_handle_t *h)
{
	struct rotation *r = h->data;

	r->handles--;
	maybe_free(r);
}

void rotation_stop(struct rotation *r)
{
	if (!r || r->closing)
		return;
	r->closing = 1;
	rot_jobs_cancel(r);
	rot_es_cancel(r);
	if (r->lead)
		rot_calls_cancel(r, r->lead);
	uv_close((uv_handle_t *)&r->tick, on_closed);
	uv_close((uv_handle_t *)&r->soon, on_closed);
}
