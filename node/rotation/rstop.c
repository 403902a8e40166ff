/*
 * rstop: the daemon's side of `ntpctl emergency-shutdown` (docs/cost.md)
 * and `rotation freeze|resume` (docs/rotation.md).
 *
 * ntpctl carries the shutdown out in steps, printing each as it goes: a
 * backup, `rotation freeze` (the leader commits the freeze: the
 * reconciler then takes no step and runs no hook, rrec.c), then
 * `emergency-shutdown plan` (the members in the order to act on them:
 * those only the leader can reach, the others, the leader, this member
 * last; and who can run each one's hook), then one request
 * `emergency-shutdown ACTION NAME` per member and action (stop, or
 * terminate then release), answered once the hook ended. A step runs the
 * provider's hook here when this member has it; otherwise the leader runs
 * it (itself, or on a member that has the hook: rcall.c), asked with a
 * RotRelay message. Without a leader only the hooks here can act: the
 * steps work from this member's own applied membership. This member's
 * own stop runs here, last: its answer may go down with the VM (ntpctl
 * then sees ntpnode go away).
 */
#include "node/rotation/rot_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/json.h"
#include "node/base/log.h"
#include "node/base/strbuf.h"
#include "node/ctl/ctl.h"
#include "proto/rotation.pb-c.h"

#define ES_MARGIN_MS 10000      /* a relay's deadline past the hook's */
#define ES_ERR_MAX 400

/* ---------------------------------------------------------------- */
/* rotation freeze | resume (the leader answers) */

struct freeze_ctx {
	struct cl_req *req;
	int frozen;
};

static void freeze_done(struct rotation *r, void *arg, int err, int result)
{
	struct freeze_ctx *x = arg;

	(void)r;
	if (err)
		cluster_reply(x->req, CTL_ERR, cluster_strerror(err), NULL,
			      NULL);
	else if (result == FSM_ENOKEY)
		cluster_reply(x->req, CTL_ERR, "the rotation is not frozen",
			      NULL, NULL);
	else if (result != FSM_OK)
		cluster_reply(x->req, CTL_ERR, "refused by the replicated "
			      "state", NULL, NULL);
	else
		cluster_reply(x->req, CTL_OK, NULL, x->frozen ?
			      "rotation frozen: no step and no hook until "
			      "ntpctl rotation resume\n" :
			      "rotation resumed\n", NULL);
	free(x);
}

static void propose_freeze(struct rotation *r, struct cl_req *req,
			   int frozen, const char *why)
{
	const struct fsm *f = cluster_fsm(r->cl);
	struct freeze_ctx *x;
	void *buf;
	size_t len;

	if (!fsm_version_ok(f, 5)) {
		cluster_reply(req, CTL_ERR, "every member must run a build "
			      "with FSM version 5 first", NULL, NULL);
		return;
	}
	if (!frozen && !fsm_frozen(f, NULL, NULL)) {
		cluster_reply(req, CTL_ERR, "the rotation is not frozen", NULL,
			      NULL);
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x || fsm_cmd_freeze(frozen, why, cluster_wall_ms(), &buf,
				 &len) < 0) {
		free(x);
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	x->req = req;
	x->frozen = frozen;
	if (rot_propose(r, buf, len, freeze_done, x) < 0)
		cluster_reply(req, CTL_ERR, "cannot propose now (leadership "
			      "changing?): retry", NULL, NULL);
}

static void cmd_freeze(void *arg, struct cl_req *req, int argc, char **argv)
{
	struct strbuf why = STRBUF_INIT;
	int i;

	for (i = 0; i < argc; i++)
		strbuf_addf(&why, "%s%s", i ? " " : "", argv[i]);
	if (!argc)
		strbuf_adds(&why, "ntpctl rotation freeze");
	if (strbuf_error(&why)) {
		strbuf_release(&why);
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	if (strlen(strbuf_str(&why)) > FSM_REASON_MAX)
		cluster_reply(req, CTL_EUSAGE, "WHY is longer than 120 bytes",
			      NULL, NULL);
	else
		propose_freeze(arg, req, 1, strbuf_str(&why));
	strbuf_release(&why);
}

static void cmd_resume(void *arg, struct cl_req *req, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	propose_freeze(arg, req, 0, "ntpctl rotation resume");
}

/* ---------------------------------------------------------------- */
/* emergency-shutdown plan */

/* "here" (this member has the provider's hook), "leader" (the leader is
 * asked), "none": no leader; or m is the leader and this member lacks the
 * hook: when the leader's turn comes, only it and this member are left
 * running, and the leader never runs a hook against its own VM
 * (rot_runner); or, asked of the leader (the one that hears who has
 * which hook), no running member has m's provider hook now. */
static const char *runner_of(struct rotation *r, const struct fsm_member *m)
{
	uint64_t leader = cluster_leader(r->cl), peer;

	if (rot_hook_path(r, m->provider))
		return "here";
	if (!leader || m->id == leader)
		return "none";
	if (cluster_is_leader(r->cl) && rot_runner(r, m, RHOOK_STOP, &peer) < 0)
		return "none";
	return "leader";
}

static void plan_member(struct rotation *r, const struct fsm_member *m,
			int self, struct strbuf *t, struct json *j)
{
	/* tab-separated for ntpctl: names and ids carry no blank */
	strbuf_addf(t, "member\t%s\t%s\t%s\t%s\t%s\n", m->name, m->provider,
		    m->instance_id[0] ? m->instance_id : "-",
		    runner_of(r, m), self ? "self" : "-");
	json_obj_begin(j, NULL);
	json_str(j, "name", m->name);
	json_str(j, "provider", m->provider);
	json_str(j, "instance_id", m->instance_id);
	json_str(j, "runner", runner_of(r, m));
	json_bool(j, "self", self);
	json_obj_end(j);
}

static void reply_plan(struct rotation *r, struct cl_req *req)
{
	const struct fsm *f = cluster_fsm(r->cl);
	const struct fsm_member *me = fsm_member_find(f, cluster_self(r->cl));
	const struct fsm_member *lm = fsm_member_find(f,
						      cluster_leader(r->cl));
	struct strbuf t = STRBUF_INIT;
	struct json *j = json_new();
	unsigned i;

	if (!j) {
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	strbuf_addf(&t, "self\t%s\nleader\t%s\nfrozen\t%d\ntimeout\t%u\n",
		    me ? me->name : "-", lm ? lm->name : "-",
		    fsm_frozen(f, NULL, NULL), rot_hook_timeout(r));
	json_obj_begin(j, NULL);
	json_str(j, "self", me ? me->name : NULL);
	json_str(j, "leader", lm ? lm->name : NULL);
	json_bool(j, "frozen", fsm_frozen(f, NULL, NULL));
	json_uint(j, "hook_timeout_ms", rot_hook_timeout(r));
	json_arr_begin(j, "members");
	/* those only the leader can reach first (it, and the members with
	 * their hook, are still up), then the others the hooks here reach,
	 * then the leader, then this member: each in member order */
	for (i = 0; i < fsm_member_count(f); i++) {
		const struct fsm_member *m = fsm_member_at(f, i);

		if (m != me && m != lm && !rot_hook_path(r, m->provider))
			plan_member(r, m, 0, &t, j);
	}
	for (i = 0; i < fsm_member_count(f); i++) {
		const struct fsm_member *m = fsm_member_at(f, i);

		if (m != me && m != lm && rot_hook_path(r, m->provider))
			plan_member(r, m, 0, &t, j);
	}
	if (lm && lm != me)
		plan_member(r, lm, 0, &t, j);
	if (me)
		plan_member(r, me, 1, &t, j);
	json_arr_end(j);
	json_obj_end(j);
	rot_reply(req, &t, j);
}

/* ---------------------------------------------------------------- */
/* a member's hook action */

static struct rot_es *es_slot(struct rotation *r)
{
	unsigned i;

	for (i = 0; i < ROT_ES_MAX; i++)
		if (!r->es[i].used) {
			memset(&r->es[i], 0, sizeof(r->es[i]));
			r->es[i].r = r;
			r->es[i].used = 1;
			return &r->es[i];
		}
	return NULL;
}

/* The step ended: ntpctl's request answered, or the relay's member. */
static void es_end(struct rot_es *e, const struct rhook_result *res)
{
	struct rotation *r = e->r;
	char text[ES_ERR_MAX];

	e->used = 0;
	e->h = NULL;
	if (!e->req) {
		rot_send_res(r, e->from, e->from_req, res);
		return;
	}
	if (res->ok) {
		snprintf(text, sizeof(text), "%s %s %s: ok\n", e->name,
			 e->provider, rhook_action_name(e->action));
		cluster_reply(e->req, CTL_OK, NULL, text, "{\"ok\":true}");
		return;
	}
	snprintf(text, sizeof(text), "hook %s for %s (%s) failed: %s",
		 rhook_action_name(e->action), e->name, e->provider,
		 res->detail[0] ? res->detail : "no reason given");
	cluster_reply(e->req, CTL_ERR, text, NULL, NULL);
}

static void es_fail(struct rot_es *e, const char *why)
{
	struct rhook_result res;

	memset(&res, 0, sizeof(res));
	snprintf(res.detail, sizeof(res.detail), "%.*s",
		 (int)sizeof(res.detail) - 1, why);
	es_end(e, &res);
}

static void on_here(void *arg, const struct rhook_result *res)
{
	struct rot_es *e = arg;

	e->h = NULL;
	if (e->used && !e->r->closing)
		es_end(e, res);
}

static void on_call(struct rotation *r, void *arg,
		    const struct rhook_result *res)
{
	struct rot_es *e = arg;

	if (!e->used)
		return;
	if (r->closing) {
		e->used = 0;           /* stopping: nobody is answered */
		return;
	}
	if (res)
		es_end(e, res);
	else
		es_fail(e, "leadership moved while the hook ran: retry");
}

static int send_relay(struct rotation *r, struct rot_es *e,
		      const struct fsm_member *m)
{
	Ntpmc__Rot__RotMsg msg = NTPMC__ROT__ROT_MSG__INIT;
	Ntpmc__Rot__RotRelay q = NTPMC__ROT__ROT_RELAY__INIT;
	uint8_t buf[128];
	size_t len;

	q.req_id = e->req_id;
	q.action = (char *)rhook_action_name(e->action);
	q.member = m->id;
	msg.version = 1;
	msg.body_case = NTPMC__ROT__ROT_MSG__BODY_RELAY;
	msg.relay = &q;
	len = ntpmc__rot__rot_msg__get_packed_size(&msg);
	if (len > sizeof(buf))
		return -1;
	ntpmc__rot__rot_msg__pack(&msg, buf);
	return cluster_msg_send(r->cl, e->leader, ROT_KIND, buf, len);
}

/* A member that has just been elected takes up its leader's memory at
 * its next tick: a step asked before then takes it up now. */
static void lead_ready(struct rotation *r)
{
	if (!r->lead && cluster_is_leader(r->cl))
		rot_rec_run(r);
}

/* Runs action on m's VM for e: here, through the leader's calls, or by
 * asking the leader. -1 with why when it cannot start. */
static int es_start(struct rotation *r, struct rot_es *e,
		    const struct fsm_member *m, char *why, size_t len)
{
	struct rhook_call hc;

	memset(&hc, 0, sizeof(hc));
	hc.path = rot_hook_path(r, m->provider);
	if (hc.path) {
		hc.timeout_ms = rot_hook_timeout(r);
		hc.action = e->action;
		hc.provider = m->provider;
		hc.region = m->region;
		hc.instance = m->instance_id;
		if (rhook_run(r->loop, &hc, on_here, e, &e->h) == 0)
			return 0;
		snprintf(why, len, "cannot run the %s hook here",
			 m->provider);
		return -1;
	}
	if (cluster_is_leader(r->cl)) {
		lead_ready(r);
		if (r->lead && rot_call_fn(r, m, e->action, on_call, e) == 0)
			return 0;
		snprintf(why, len, "no hook for %s here and no other running "
			 "member has one", m->provider);
		return -1;
	}
	e->leader = cluster_leader(r->cl);
	if (!e->leader) {
		snprintf(why, len, "no hook for %s here, and no leader to ask "
			 "a member that has one", m->provider);
		return -1;
	}
	e->req_id = ++r->es_next;
	e->deadline = uv_now(r->loop) + rot_hook_timeout(r) + ES_MARGIN_MS;
	if (send_relay(r, e, m) == 0)
		return 0;
	snprintf(why, len, "no hook for %s here, and the leader cannot be "
		 "asked", m->provider);
	return -1;
}

static void cmd_es(void *arg, struct cl_req *req, int argc, char **argv)
{
	struct rotation *r = arg;
	const struct fsm *f = cluster_fsm(r->cl);
	const struct fsm_member *m;
	char why[RHOOK_DETAIL_MAX];
	struct rot_es *e;
	int action;

	if (argc == 1 && strcmp(argv[0], "plan") == 0) {
		reply_plan(r, req);
		return;
	}
	action = argc == 2 ? rhook_action_of(argv[0]) : -1;
	if (action != RHOOK_STOP && action != RHOOK_TERMINATE &&
	    action != RHOOK_RELEASE) {
		cluster_reply(req, CTL_EUSAGE, "emergency-shutdown: ntpctl "
			      "runs it (ntpctl emergency-shutdown --help)",
			      NULL, NULL);
		return;
	}
	m = fsm_member_named(f, argv[1]);
	if (!m) {
		snprintf(why, sizeof(why), "no member is called '%.64s'",
			 argv[1]);
		cluster_reply(req, CTL_EUSAGE, why, NULL, NULL);
		return;
	}
	if (!m->instance_id[0]) {
		snprintf(why, sizeof(why), "%s has no instance-id: no hook "
			 "can act on its VM", m->name);
		cluster_reply(req, CTL_ERR, why, NULL, NULL);
		return;
	}
	e = es_slot(r);
	if (!e) {
		cluster_reply(req, CTL_ERR, "too many steps at once", NULL,
			      NULL);
		return;
	}
	e->req = req;
	e->action = action;
	snprintf(e->name, sizeof(e->name), "%s", m->name);
	snprintf(e->provider, sizeof(e->provider), "%s", m->provider);
	log_warnx("emergency shutdown: hook %s for %s (%s %s)",
		  rhook_action_name(action), m->name, m->provider,
		  m->instance_id);
	if (es_start(r, e, m, why, sizeof(why)) < 0)
		es_fail(e, why);
}

/* ---------------------------------------------------------------- */
/* relays */

void rot_es_relay(struct rotation *r, uint64_t from, uint64_t req_id,
		  int action, uint64_t member)
{
	const struct fsm_member *m = fsm_member_find(cluster_fsm(r->cl),
						     member);
	struct rhook_result res;
	struct rot_es *e;

	memset(&res, 0, sizeof(res));
	lead_ready(r);
	if (action != RHOOK_STOP && action != RHOOK_TERMINATE &&
	    action != RHOOK_RELEASE)
		snprintf(res.detail, sizeof(res.detail), "not a shutdown "
			 "action");
	else if (!cluster_is_leader(r->cl) || !r->lead)
		snprintf(res.detail, sizeof(res.detail), "asked a member that "
			 "no longer leads: retry");
	else if (!m || !m->instance_id[0])
		snprintf(res.detail, sizeof(res.detail), "no such member, or "
			 "no instance-id");
	else if (!(e = es_slot(r)))
		snprintf(res.detail, sizeof(res.detail), "too many steps at "
			 "once");
	else {
		e->from = from;
		e->from_req = req_id;
		e->action = action;
		snprintf(e->name, sizeof(e->name), "%s", m->name);
		snprintf(e->provider, sizeof(e->provider), "%s", m->provider);
		log_warnx("emergency shutdown: hook %s for %s (%s %s), asked "
			  "by member %" PRIu64, rhook_action_name(action),
			  m->name, m->provider, m->instance_id, from);
		if (rot_call_fn(r, m, action, on_call, e) == 0)
			return;
		e->used = 0;
		snprintf(res.detail, sizeof(res.detail), "no running member "
			 "has a hook for %s", m->provider);
	}
	rot_send_res(r, from, req_id, &res);
}

int rot_es_answer(struct rotation *r, uint64_t from, uint64_t req_id,
		  const struct rhook_result *res)
{
	unsigned i;

	for (i = 0; i < ROT_ES_MAX; i++) {
		struct rot_es *e = &r->es[i];

		if (e->used && e->req && e->leader && e->leader == from &&
		    e->req_id == req_id) {
			es_end(e, res);
			return 1;
		}
	}
	return 0;
}

void rot_es_chores(struct rotation *r)
{
	uint64_t now = uv_now(r->loop);
	unsigned i;

	for (i = 0; i < ROT_ES_MAX; i++) {
		struct rot_es *e = &r->es[i];

		if (!e->used || !e->req || !e->leader)
			continue;
		if (cluster_leader(r->cl) != e->leader)
			es_fail(e, "the leader that ran the hook no longer "
				"leads: its outcome is unknown");
		else if (now >= e->deadline)
			es_fail(e, "the leader did not answer within the "
				"hook's timeout");
	}
}

void rot_es_cancel(struct rotation *r)
{
	unsigned i;

	/* before the cluster stops (node/daemon): the requests can still be
	 * answered; a step through the leader's calls finds its slot unused
	 * when they are cancelled next */
	for (i = 0; i < ROT_ES_MAX; i++) {
		struct rot_es *e = &r->es[i];

		if (!e->used)
			continue;
		if (e->h)
			rhook_cancel(e->h);
		e->h = NULL;
		e->used = 0;
		if (e->req)
			cluster_reply(e->req, CTL_ERR, "ntpnode is stopping: "
				      "the step's outcome is unknown", NULL,
				      NULL);
	}
}

int rot_stop_register(struct rotation *r, struct ctl *ctl)
{
	if (cluster_command(r->cl, ctl, "rotation freeze", cmd_freeze, r) < 0 ||
	    cluster_command(r->cl, ctl, "rotation resume", cmd_resume, r) < 0 ||
	    cluster_command(r->cl, ctl, "emergency-shutdown", cmd_es, r) < 0)
		return -1;
	return 0;
}
