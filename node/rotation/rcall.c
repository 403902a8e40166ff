/*
 * rcall: provider hooks on behalf of the leader. The leader runs an
 * action itself when it has the provider's hook, else asks a reachable
 * member that says (in its status part) it has one, never the member the
 * action is for. A call has a deadline (the hook's timeout and a margin);
 * one not answered by then, or whose member is no longer heard, failed.
 * The other side: a member runs
 * the hooks the leader asks of it, at most ROT_JOBS_MAX at a time.
 */
#include "node/rotation/rot_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "proto/rotation.pb-c.h"

#define CALL_MARGIN_MS 10000

/* Whether member id says it has a hook for provider (its status part). */
static int has_hook(struct rotation *r, uint64_t id, const char *provider)
{
	Ntpmc__Rot__RotStatus *s;
	const void *buf;
	size_t len, i;
	int yes = 0;

	if (cluster_status_get(r->cl, id, ROT_KIND, &buf, &len, NULL) < 0)
		return 0;
	s = ntpmc__rot__rot_status__unpack(NULL, len, buf);
	if (!s)
		return 0;
	for (i = 0; i < s->n_hooks; i++)
		yes |= s->hooks[i] && strcmp(s->hooks[i], provider) == 0;
	ntpmc__rot__rot_status__free_unpacked(s, NULL);
	return yes;
}

int rot_runner(struct rotation *r, const struct fsm_member *m, int action,
	       uint64_t *peer)
{
	const struct fsm *f = cluster_fsm(r->cl);
	uint64_t self = cluster_self(r->cl), best = 0;
	struct cluster_peer_view cv;
	unsigned i;

	/* a stop never runs on the VM it stops: the answer would be lost */
	if (rot_hook_path(r, m->provider) &&
	    !(action == RHOOK_STOP && m->id == self)) {
		*peer = 0;
		return 0;
	}
	if (!cluster_is_leader(r->cl))
		return -1;         /* only the leader hears who has hooks */
	for (i = 0; i < fsm_member_count(f); i++) {
		uint64_t id = fsm_member_at(f, i)->id;

		/* never the member itself: a stop would cut it off from
		 * its answer, a start or status could not run at all */
		if (id == self || id == m->id)
			continue;
		cluster_peer_view(r->cl, id, &cv);
		if (!cv.reachable || !has_hook(r, id, m->provider))
			continue;
		if (!best || id < best)
			best = id;
	}
	if (!best)
		return -1;
	*peer = best;
	return 0;
}

/* ---------------------------------------------------------------- */
/* the leader's calls */

static struct rot_call *call_slot(struct rot_lead *l)
{
	unsigned i;

	for (i = 0; i < ROT_CALLS_MAX; i++)
		if (!l->calls[i].used)
			return &l->calls[i];
	return NULL;
}

int rot_call_busy(struct rotation *r, uint64_t member, int action)
{
	unsigned i;

	for (i = 0; r->lead && i < ROT_CALLS_MAX; i++)
		if (r->lead->calls[i].used &&
		    r->lead->calls[i].member == member &&
		    (action < 0 || r->lead->calls[i].action == action))
			return 1;
	return 0;
}

/* Ends call c with res (its slot is free before the reconciler hears). */
static void call_end(struct rotation *r, struct rot_call *c,
		     const struct rhook_result *res)
{
	uint64_t member = c->member;
	int action = c->action;
	rot_hook_fn fn = c->fn;
	void *fn_arg = c->fn_arg;

	/* the cloud took it: for the ledger, when it was asked */
	if (res->ok && r->lead && action == RHOOK_START)
		rot_mem(r, member)->start_asked = c->asked;
	else if (res->ok && r->lead && action == RHOOK_STOP)
		rot_mem(r, member)->stop_asked = c->asked;

	memset(c, 0, sizeof(*c));
	if (fn)
		fn(r, fn_arg, res);
	else
		rot_call_done(r, member, action, res);
}

static void on_local(void *arg, const struct rhook_result *res)
{
	struct rot_call *c = arg;

	c->local = NULL;
	call_end(c->r, c, res);
}

static int send_req(struct rotation *r, uint64_t peer, uint64_t req_id,
		    int action, const struct fsm_member *m)
{
	Ntpmc__Rot__RotMsg msg = NTPMC__ROT__ROT_MSG__INIT;
	Ntpmc__Rot__RotHookReq q = NTPMC__ROT__ROT_HOOK_REQ__INIT;
	uint8_t buf[512];
	size_t len;

	q.req_id = req_id;
	q.action = (char *)rhook_action_name(action);
	q.provider = (char *)m->provider;
	q.region = (char *)m->region;
	q.instance_id = (char *)m->instance_id;
	msg.version = 1;
	msg.body_case = NTPMC__ROT__ROT_MSG__BODY_REQ;
	msg.req = &q;
	len = ntpmc__rot__rot_msg__get_packed_size(&msg);
	if (len > sizeof(buf))
		return -E2BIG;
	ntpmc__rot__rot_msg__pack(&msg, buf);
	return cluster_msg_send(r->cl, peer, ROT_KIND, buf, len);
}

int rot_call(struct rotation *r, const struct fsm_member *m, int action)
{
	return rot_call_fn(r, m, action, NULL, NULL);
}

int rot_call_fn(struct rotation *r, const struct fsm_member *m, int action,
		rot_hook_fn fn, void *arg)
{
	struct rot_lead *l = r->lead;
	struct rhook_call hc;
	struct rot_call *c;
	uint64_t peer;
	int rc;

	if (!l || !m->instance_id[0] || rot_runner(r, m, action, &peer) < 0)
		return -1;
	c = call_slot(l);
	if (!c)
		return -1;
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->used = 1;
	c->member = m->id;
	c->action = action;
	c->fn = fn;
	c->fn_arg = arg;
	c->peer = peer;
	c->deadline = uv_now(r->loop) + rot_hook_timeout(r) + CALL_MARGIN_MS;
	c->asked = rot_now(r);
	if (!peer) {
		memset(&hc, 0, sizeof(hc));
		hc.path = rot_hook_path(r, m->provider);
		hc.timeout_ms = rot_hook_timeout(r);
		hc.action = action;
		hc.provider = m->provider;
		hc.region = m->region;
		hc.instance = m->instance_id;
		rc = rhook_run(r->loop, &hc, on_local, c, &c->local);
	} else {
		c->req_id = ++l->next_req;
		rc = send_req(r, peer, c->req_id, action, m);
	}
	if (rc < 0) {
		log_warnx("rotation: cannot run the %s hook %s for %s: %s",
			  m->provider, rhook_action_name(action), m->name,
			  strerror(-rc));
		memset(c, 0, sizeof(*c));
		return -1;
	}
	if (action == RHOOK_STATUS)
		log_debug("rotation: hook status %s (%s %s)%s", m->name,
			  m->provider, m->instance_id, peer ? " elsewhere" :
			  "");
	else if (peer)
		log_info("rotation: hook %s %s (%s %s) on member %s",
			 rhook_action_name(action), m->name, m->provider,
			 m->instance_id, fsm_member_find(cluster_fsm(r->cl),
							 peer) ?
			 fsm_member_find(cluster_fsm(r->cl), peer)->name : "?");
	else
		log_info("rotation: hook %s %s (%s %s) here",
			 rhook_action_name(action), m->name, m->provider,
			 m->instance_id);
	return 0;
}

void rot_call_answer(struct rotation *r, uint64_t from, uint64_t req_id,
		     const struct rhook_result *res)
{
	unsigned i;

	for (i = 0; r->lead && i < ROT_CALLS_MAX; i++) {
		struct rot_call *c = &r->lead->calls[i];

		if (c->used && c->peer && c->peer == from && c->req_id == req_id) {
			call_end(r, c, res);
			return;
		}
	}
}

void rot_calls_chores(struct rotation *r)
{
	struct rhook_result res;
	uint64_t now = uv_now(r->loop);
	unsigned i;

	for (i = 0; r->lead && i < ROT_CALLS_MAX; i++) {
		struct rot_call *c = &r->lead->calls[i];

		struct cluster_peer_view cv;

		if (!c->used || !c->peer)
			continue;
		cluster_peer_view(r->cl, c->peer, &cv);
		if (now < c->deadline && cv.reachable)
			continue;
		memset(&res, 0, sizeof(res));
		snprintf(res.detail, sizeof(res.detail), "member %" PRIu64
			 " %s", c->peer, cv.reachable ? "did not answer in time" :
			 "that runs it is no longer heard");
		call_end(r, c, &res);
	}
}

void rot_calls_cancel(struct rotation *r, struct rot_lead *l)
{
	unsigned i;

	for (i = 0; i < ROT_CALLS_MAX; i++) {
		struct rot_call c = l->calls[i];

		if (c.used && c.local)
			rhook_cancel(c.local);
		memset(&l->calls[i], 0, sizeof(l->calls[i]));
		if (c.used && c.fn)
			c.fn(r, c.fn_arg, NULL);
	}
}

/* ---------------------------------------------------------------- */
/* hooks this member runs for the leader */

void rot_send_res(struct rotation *r, uint64_t to, uint64_t req_id,
		  const struct rhook_result *res)
{
	Ntpmc__Rot__RotMsg msg = NTPMC__ROT__ROT_MSG__INIT;
	Ntpmc__Rot__RotHookRes a = NTPMC__ROT__ROT_HOOK_RES__INIT;
	uint8_t buf[512];
	size_t len;

	a.req_id = req_id;
	a.ok = res->ok != 0;
	a.state = (uint32_t)res->state;
	a.detail = (char *)res->detail;
	msg.version = 1;
	msg.body_case = NTPMC__ROT__ROT_MSG__BODY_RES;
	msg.res = &a;
	len = ntpmc__rot__rot_msg__get_packed_size(&msg);
	if (len > sizeof(buf))
		return;
	ntpmc__rot__rot_msg__pack(&msg, buf);
	cluster_msg_send(r->cl, to, ROT_KIND, buf, len);
}

static void on_job(void *arg, const struct rhook_result *res)
{
	struct rot_job *j = arg;

	j->h = NULL;
	j->used = 0;
	rot_send_res(j->owner, j->leader, j->req_id, res);
}

void rot_job_request(struct rotation *r, uint64_t from, uint64_t req_id,
		     int action, const char *provider, const char *region,
		     const char *instance)
{
	struct rhook_result res;
	struct rhook_call hc;
	struct rot_job *j = NULL;
	unsigned i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < ROT_JOBS_MAX; i++)
		if (r->jobs[i].used && r->jobs[i].leader == from &&
		    r->jobs[i].req_id == req_id)
			return;        /* already running it */
	for (i = 0; i < ROT_JOBS_MAX && !j; i++)
		if (!r->jobs[i].used)
			j = &r->jobs[i];
	memset(&hc, 0, sizeof(hc));
	hc.path = rot_hook_path(r, provider);
	hc.timeout_ms = rot_hook_timeout(r);
	hc.action = action;
	hc.provider = provider;
	hc.region = region;
	hc.instance = instance;
	if (!hc.path || !j) {
		snprintf(res.detail, sizeof(res.detail), "%s",
			 !hc.path ? "no hook for that provider here" :
			 "too many hooks running here");
		rot_send_res(r, from, req_id, &res);
		return;
	}
	j->used = 1;
	j->owner = r;
	j->leader = from;
	j->req_id = req_id;
	if (rhook_run(r->loop, &hc, on_job, j, &j->h) < 0) {
		j->used = 0;
		snprintf(res.detail, sizeof(res.detail), "cannot run the hook");
		rot_send_res(r, from, req_id, &res);
		return;
	}
	log_info("rotation: running the %s hook %s %s for the leader",
		 provider, rhook_action_name(action), instance);
}

void rot_jobs_cancel(struct rotation *r)
{
	unsigned i;

	for (i = 0; i < ROT_JOBS_MAX; i++) {
		if (r->jobs[i].used)
			rhook_cancel(r->jobs[i].h);
		memset(&r->jobs[i], 0, sizeof(r->jobs[i]));
	}
}
