/*
 * rrec: the leader's reconciler. Each evaluation (every ROT_TICK_MS, and
 * ROT_SOON_MS after an applied entry) builds the picture (rview.c), plans
 * (rplan.h) and takes at most one step, committing the step and its
 * reason (a rotation record, raft/fsm.h) before acting on it:
 *
 *  start   starting/hook: the provider hook `start` (retried with back-off)
 *          starting/wait: until the member serves: reachable, synced,
 *          caught up, a voter when the role policy wants one (the policy
 *          promotes it: it is no longer parked); not by
 *          rotation-start-timeout: stopped again, the outgoing one stays
 *          running
 *  stop    stopping/leader: parked, so the role policy moves leadership
 *          away first (when it leads), then its vote (spare)
 *          stopping/vote -> stopping/drain: out of every count, still
 *          answering NTP -> stopping/hook: the hook `stop`, then its
 *          `status` until stopped -> stopped
 *
 * Make before break: a member is only stopped while every member planned
 * on serves and the others still count min(min-serving, members) serving;
 * a runtime shortfall (a crash, a failed start) only holds stops. One
 * member is in transition at a time. A member found stopped (or running)
 * by its hook's status while the rotation thought otherwise is recorded so
 * and the plan goes on from there. The FSM holds every step: a new leader
 * takes over where the last one was, repeating a hook action (they are
 * idempotent) whose outcome it does not know.
 *
 * Frozen (raft/fsm.h fsm_frozen: ntpctl emergency-shutdown, rotation
 * freeze): no step and no hook at all, so nothing is started again; the
 * hours ledger still counts. rotation resume lifts it and the reconciler
 * goes on from what it finds.
 */
#include "node/rotation/rot_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/rotation/rcal.h"

/* snprintf into a fixed reason: cut to fit (names and details are
 * bounded where they enter; a reason only keeps the buffer's bound) */
__attribute__((format(printf, 3, 4)))
static void fmt(char *dst, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(dst, n, f, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- */
/* the leader's memory */

static unsigned lead_gen;

struct rot_mem *rot_mem(struct rotation *r, uint64_t id)
{
	struct rot_lead *l = r->lead;
	size_t i;

	for (i = 0; i < l->n_mem; i++)
		if (l->mem[i].id == id)
			return &l->mem[i];
	if (l->n_mem == RPLAN_MAX) {
		/* former members' slots are reused */
		for (i = 0; i < l->n_mem; i++)
			if (!fsm_member_find(cluster_fsm(r->cl), l->mem[i].id))
				break;
		if (i == l->n_mem)
			i = 0;
	} else {
		i = l->n_mem++;
	}
	memset(&l->mem[i], 0, sizeof(l->mem[i]));
	l->mem[i].id = id;
	return &l->mem[i];
}

void rot_lead_free(struct rotation *r)
{
	if (!r->lead)
		return;
	rot_calls_cancel(r, r->lead);
	free(r->lead);
	r->lead = NULL;
}

static int lead_start(struct rotation *r)
{
	r->lead = calloc(1, sizeof(*r->lead));
	if (!r->lead)
		return -1;
	r->lead->gen = ++lead_gen;
	r->lead->ledger_hour = -1;
	log_info("rotation: this member leads: reconciling from the "
		 "replicated state");
	return 0;
}

/* ---------------------------------------------------------------- */
/* alerts */

static void note_done(struct rotation *r, void *arg, int err, int result)
{
	(void)r;
	(void)arg;
	if (err || result != FSM_OK)
		log_debug("rotation: alert not recorded (%d, %d)", err, result);
}

void rot_alert(struct rotation *r, const char *fmt, ...)
{
	char text[FSM_REASON_MAX + 1];
	va_list ap;
	void *buf;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warnx("rotation alert: %s", text);
	if (fsm_cmd_note(text, cluster_wall_ms(), &buf, &len) == 0)
		rot_propose(r, buf, len, note_done, NULL);
}

/* The plan's alerts (an allowance held over by min-serving), raised
 * once each. */
static void plan_alerts(struct rotation *r)
{
	struct rot_view *v = r->view;
	struct rot_lead *l = r->lead;
	char now[ROT_ALERTS_MAX][FSM_REASON_MAX + 1];
	unsigned n = 0, i, k;

	for (i = 0; i < v->n && n < ROT_ALERTS_MAX; i++) {
		if (!v->out[i].alert)
			continue;
		fmt(now[n++], sizeof(now[0]), "%s allowance at %d%%: %s "
			 "held on for min-serving %d", v->m[i].fm->provider,
			 v->out[i].pct, v->m[i].fm->name, v->min_serving);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < l->n_alerts; k++)
			if (strcmp(l->alerts[k], now[i]) == 0)
				break;
		if (k == l->n_alerts)
			rot_alert(r, "%s", now[i]);
	}
	memcpy(l->alerts, now, sizeof(now[0]) * n);
	l->n_alerts = n;
}

/* ---------------------------------------------------------------- */
/* steps */

struct step_arg {
	unsigned gen;
};

static void step_done(struct rotation *r, void *arg, int err, int result)
{
	struct step_arg *a = arg;

	if (r->lead && r->lead->gen == a->gen) {
		r->lead->busy = 0;
		if (err || result != FSM_OK)
			log_warnx("rotation: step not committed (%s): trying "
				  "again", err ? cluster_strerror(err) :
				  "refused by the replicated state");
		rot_soon(r);
	}
	free(a);
}

/* Commits member i's next step; the reconciler acts once it applied. */
__attribute__((format(printf, 6, 7)))
static void step(struct rotation *r, size_t i, int state, int phase,
		 int parked, const char *fmt, ...)
{
	struct rot_view *v = r->view;
	const struct fsm_member *fm = v->m[i].fm;
	struct rot_mem *mem = rot_mem(r, fm->id);
	struct step_arg *a;
	struct fsm_rot rec;
	va_list ap;
	void *buf;
	size_t len;

	memset(&rec, 0, sizeof(rec));
	rec.id = fm->id;
	rec.state = state;
	rec.phase = phase;
	rec.parked = parked;
	rec.sched_ms = (uint64_t)v->now;
	va_start(ap, fmt);
	vsnprintf(rec.reason, sizeof(rec.reason), fmt, ap);
	va_end(ap);
	a = malloc(sizeof(*a));
	if (!a || fsm_cmd_rot_set(&rec, cluster_wall_ms(), &buf, &len) < 0) {
		free(a);
		return;
	}
	a->gen = r->lead->gen;
	/* a fresh step: its hook action is still to do */
	mem->acted = 0;
	mem->tries = 0;
	mem->retry_at = 0;
	mem->hook_state = RHOOK_UNKNOWN;
	mem->hook_state_at = 0;
	log_info("rotation: %s -> %s%s: %s", fm->name,
		 fsm_rot_state_name(state), parked ? " (parked)" : "",
		 rec.reason);
	r->lead->busy = 1;	/* before: a single voter answers at once */
	if (rot_propose(r, buf, len, step_done, a) < 0)
		r->lead->busy = 0;
}

__attribute__((format(printf, 3, 4)))
static void waits(struct rotation *r, size_t i, const char *fmt, ...)
{
	struct rot_mem *mem = rot_mem(r, r->view->m[i].fm->id);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mem->why, sizeof(mem->why), fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- */
/* hook results */

static uint64_t backoff(int tries)
{
	uint64_t ms = ROT_RETRY_MIN_MS;

	while (--tries > 0 && ms < ROT_RETRY_MAX_MS)
		ms *= 2;
	return ms < ROT_RETRY_MAX_MS ? ms : ROT_RETRY_MAX_MS;
}

void rot_call_done(struct rotation *r, uint64_t member, int action,
		   const struct rhook_result *res)
{
	const struct fsm_member *fm;
	struct rot_mem *mem;
	uint64_t now = uv_now(r->loop);

	if (r->closing || !r->lead)
		return;
	fm = fsm_member_find(cluster_fsm(r->cl), member);
	mem = rot_mem(r, member);
	if (action == RHOOK_STATUS) {
		mem->hook_state = res->ok ? res->state : RHOOK_UNKNOWN;
		mem->hook_state_at = now;
		if (!res->ok)
			log_warnx("rotation: hook status for %s failed (%s)",
				  fm ? fm->name : "?", res->detail);
		rot_soon(r);
		return;
	}
	if (res->ok) {
		mem->acted = 1;
		mem->acted_at = now;
		mem->tries = 0;
		mem->alert[0] = 0;
	} else {
		mem->tries++;
		mem->retry_at = now + backoff(mem->tries);
		log_warnx("rotation: hook %s for %s failed (%s): trying again "
			  "in %" PRIu64 " s", rhook_action_name(action),
			  fm ? fm->name : "?", res->detail,
			  backoff(mem->tries) / 1000);
		if (mem->tries == ROT_ALERT_TRIES) {
			fmt(mem->alert, sizeof(mem->alert), "hook %s for "
				 "%s failed %d times: %s",
				 rhook_action_name(action), fm ? fm->name : "?",
				 mem->tries, res->detail);
			rot_alert(r, "%s", mem->alert);
		}
	}
	rot_soon(r);
}

/* Runs action for member i unless one runs or it waits for a retry. */
static void act(struct rotation *r, size_t i, int action)
{
	const struct fsm_member *fm = r->view->m[i].fm;
	struct rot_mem *mem = rot_mem(r, fm->id);
	uint64_t now = uv_now(r->loop);

	if (rot_call_busy(r, fm->id, -1)) {
		waits(r, i, "hook %s running", rhook_action_name(action));
		return;
	}
	if (now < mem->retry_at) {
		waits(r, i, "hook %s failed %d time%s, again in %" PRIu64 " s",
		      rhook_action_name(action), mem->tries,
		      mem->tries == 1 ? "" : "s",
		      (mem->retry_at - now + 999) / 1000);
		return;
	}
	if (action == RHOOK_STATUS)
		mem->polled_at = now;
	if (rot_call(r, fm, action) < 0)
		waits(r, i, "no hook for %s%s", fm->provider,
		      fm->instance_id[0] ? "" : " (no instance-id)");
}

/* ---------------------------------------------------------------- */
/* the steps of a member in transition */

static void advance_start(struct rotation *r, size_t i)
{
	struct rot_view *v = r->view;
	const struct rot_mview *mv = &v->m[i];
	struct rot_mem *mem = rot_mem(r, mv->fm->id);
	uint64_t now = uv_now(r->loop);

	if (mv->phase == ROT_ST_HOOK) {
		if (mem->acted)
			step(r, i, FSM_ROT_STARTING, ROT_ST_WAIT, 0,
			     "start requested: waiting for it to serve");
		else
			act(r, i, RHOOK_START);
		return;
	}
	/* Only a member heard after the start counts: the VM's previous run
	 * still looks reachable for an election timeout. (Its status may be
	 * older: under the wan profile one comes every minute.) */
	if (rot_view_ready(v, i, cluster_voter_target(r->cl)) &&
	    (mv->fm->id == cluster_self(r->cl) ||
	     mv->cv.heard_ms > mem->acted_at)) {
		step(r, i, FSM_ROT_RUNNING, ROT_RN_PLANNED, 0,
		     "serving: synced, caught up%s",
		     mv->cv.role == CLUSTER_VOTER ? ", voter" : "");
		return;
	}
	if (v->wall > mv->rec->since_ms + (uint64_t)v->start_timeout_ms) {
		rot_alert(r, "%s did not serve within %lld s of its start: "
			  "stopping it again", mv->fm->name,
			  (long long)v->start_timeout_ms / 1000);
		step(r, i, FSM_ROT_STOPPING, ROT_SP_FAILED, 1,
		     "not serving within %lld s of its start: stopping it "
		     "again", (long long)v->start_timeout_ms / 1000);
		return;
	}
	if (now - mem->polled_at >= ROT_POLL_STEP_MS * 5 &&
	    !rot_call_busy(r, mv->fm->id, -1))
		act(r, i, RHOOK_STATUS);
	waits(r, i, "waiting for it to serve: %s",
	      !mv->cv.reachable ? "not heard yet" :
	      !mv->cv.synced ? "not synchronized yet" :
	      !mv->cv.caught_up ? "catching up" :
	      mv->suspect ? "suspect (clock cross-check)" :
	      "not a voter yet");
}

static void advance_stop(struct rotation *r, size_t i)
{
	struct rot_view *v = r->view;
	const struct rot_mview *mv = &v->m[i];
	struct rot_mem *mem = rot_mem(r, mv->fm->id);
	char why[FSM_REASON_MAX + 1];
	uint64_t now = uv_now(r->loop);
	int failed = mv->phase == ROT_SP_FAILED;

	/* the plan changed before the VM was touched: it stays */
	if (v->out[i].on && mv->phase < ROT_SP_HOOK) {
		rplan_reason(&v->plan, &v->out[i], &v->plan.m[i], why,
			     sizeof(why));
		step(r, i, FSM_ROT_RUNNING, ROT_RN_PLANNED, 0, "stays on: %s",
		     why);
		return;
	}
	switch (mv->phase) {
	case ROT_SP_LEADER:
		if (cluster_leader(r->cl) == mv->fm->id) {
			waits(r, i, "leadership moving away (role policy)");
			return;
		}
		step(r, i, FSM_ROT_STOPPING, ROT_SP_VOTE, 1,
		     "not the leader: its vote moves away (role policy)");
		return;
	case ROT_SP_VOTE:
		if (mv->cv.role != CLUSTER_SPARE && mv->cv.role != -1) {
			waits(r, i, "its vote is moving away (role policy)");
			return;
		}
		step(r, i, FSM_ROT_STOPPING, ROT_SP_DRAIN, 1,
		     "spare: out of every count, still answering NTP");
		return;
	case ROT_SP_DRAIN:
		step(r, i, FSM_ROT_STOPPING, ROT_SP_HOOK, 1,
		     "drained: stopping the VM");
		return;
	default:
		break;
	}
	if (!mem->acted) {
		act(r, i, RHOOK_STOP);
		return;
	}
	if (mem->hook_state == RHOOK_STOPPED &&
	    mem->hook_state_at > mem->acted_at) {
		if (failed)
			step(r, i, FSM_ROT_STOPPED, ROT_SD_FAILED, 1,
			     "its start failed: stopped again, tried again "
			     "after rotation-start-timeout");
		else
			step(r, i, FSM_ROT_STOPPED, ROT_SD_PLANNED, 1,
			     "stopped (hook status)");
		return;
	}
	if (now - mem->polled_at >= ROT_POLL_STEP_MS)
		act(r, i, RHOOK_STATUS);
	waits(r, i, "waiting for the VM to stop (hook status: %s)",
	      mem->hook_state_at ? rhook_state_name(mem->hook_state) :
	      "not asked yet");
}

/* ---------------------------------------------------------------- */
/* settled members: hook status, found states */

static int settled_running(const struct rot_mview *mv)
{
	return mv->state == FSM_ROT_RUNNING;
}

/* Polls the hook status of settled members that are not where the
 * rotation thinks they are; 1 when a found state was committed. */
static int polls(struct rotation *r)
{
	struct rot_view *v = r->view;
	uint64_t now = uv_now(r->loop);
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct rot_mview *mv = &v->m[i];
		struct rot_mem *mem = rot_mem(r, mv->fm->id);
		int fresh = mem->hook_state_at &&
			    mem->hook_state_at >= mem->polled_at;
		uint64_t every;

		if (!mv->fm->instance_id[0] ||
		    mv->state == FSM_ROT_STARTING ||
		    mv->state == FSM_ROT_STOPPING)
			continue;
		if (settled_running(mv) && !mv->cv.reachable && fresh &&
		    mem->hook_state == RHOOK_STOPPED && !r->lead->busy) {
			step(r, i, FSM_ROT_STOPPED, ROT_SD_FOUND, 1,
			     "found stopped (hook status), not by the "
			     "rotation");
			return 1;
		}
		if (mv->state == FSM_ROT_STOPPED && mv->cv.reachable &&
		    mv->cv.has_status && fresh &&
		    mem->hook_state == RHOOK_RUNNING && !r->lead->busy) {
			step(r, i, FSM_ROT_RUNNING, ROT_RN_FOUND, 0,
			     "found running (hook status), not started by "
			     "the rotation");
			return 1;
		}
		if (settled_running(mv))
			every = mv->cv.reachable ? 0 : ROT_POLL_UNREACH_MS;
		else
			every = mv->cv.reachable ? ROT_POLL_UNREACH_MS :
				ROT_POLL_MS;
		if (every && now - mem->polled_at >= every &&
		    !rot_call_busy(r, mv->fm->id, -1)) {
			mem->polled_at = now;
			rot_call(r, mv->fm, RHOOK_STATUS);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* the evaluation */

static int needed(const struct rot_view *v)
{
	return v->min_serving < (int)v->n ? v->min_serving : (int)v->n;
}

/* Starts one member planned on that is stopped; 1 when a step began. */
static int start_one(struct rotation *r)
{
	struct rot_view *v = r->view;
	char why[FSM_REASON_MAX + 1];
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct rot_mview *mv = &v->m[i];

		if (!v->out[i].on || mv->state != FSM_ROT_STOPPED)
			continue;
		if (!v->plan.m[i].can_run) {
			waits(r, i, mv->phase == ROT_SD_FAILED ?
			      "its last start failed: not before "
			      "rotation-start-timeout has passed" :
			      !mv->fm->instance_id[0] ? "no instance-id" :
			      "no member has a hook for %s", mv->fm->provider);
			continue;
		}
		rplan_reason(&v->plan, &v->out[i], &v->plan.m[i], why,
			     sizeof(why));
		step(r, i, FSM_ROT_STARTING, ROT_ST_HOOK, 0, "%s: starting the "
		     "VM", why);
		return 1;
	}
	return 0;
}

/* Stops one member planned off, make before break; 1 when it began. */
static void stop_one(struct rotation *r)
{
	struct rot_view *v = r->view;
	struct rot_lead *l = r->lead;
	char why[FSM_REASON_MAX + 1];
	uint64_t peer;
	size_t i, k;
	int cnt;

	l->blocked[0] = 0;
	for (i = 0; i < v->n; i++) {
		const struct rot_mview *mv = &v->m[i];

		if (v->out[i].on && v->plan.m[i].can_run && !mv->serving) {
			fmt(l->blocked, sizeof(l->blocked), "waiting: %s "
				 "is planned on but not serving (make before "
				 "break)", mv->fm->name);
			break;
		}
	}
	for (i = 0; i < v->n; i++) {
		const struct rot_mview *mv = &v->m[i];

		if (v->out[i].on || mv->state != FSM_ROT_RUNNING)
			continue;
		if (l->blocked[0]) {
			waits(r, i, "%s", l->blocked + strlen("waiting: "));
			continue;
		}
		if (!mv->fm->instance_id[0]) {
			waits(r, i, "no instance-id: cannot stop it");
			continue;
		}
		if (rot_runner(r, mv->fm, RHOOK_STOP, &peer) < 0) {
			waits(r, i, "no other member has a hook for %s",
			      mv->fm->provider);
			continue;
		}
		for (cnt = 0, k = 0; k < v->n; k++)
			cnt += k != i && v->m[k].serving;
		if (cnt < needed(v)) {
			waits(r, i, "held: min-serving %d (%d other%s serving)",
			      v->min_serving, cnt, cnt == 1 ? "" : "s");
			continue;
		}
		rplan_reason(&v->plan, &v->out[i], &v->plan.m[i], why,
			     sizeof(why));
		step(r, i, FSM_ROT_STOPPING, ROT_SP_LEADER, 1, "%s: leadership "
		     "and vote move away first", why);
		return;
	}
}

int rot_frozen_why(const struct fsm *f, char *why, size_t len)
{
	const char *reason;
	uint64_t since;
	char when[32];

	if (!fsm_frozen(f, &since, &reason))
		return 0;
	rcal_fmt((int64_t)since, when, sizeof(when));
	fmt(why, len, "frozen since %s UTC%s%s: no step and no hook until "
	    "ntpctl rotation resume", when, reason[0] ? " by " : "", reason);
	return 1;
}

void rot_rec_run(struct rotation *r)
{
	struct rot_view *v = r->view;
	size_t i;

	if (r->closing)
		return;
	if (!cluster_is_leader(r->cl)) {
		if (r->lead) {
			log_info("rotation: no longer the leader");
			rot_lead_free(r);
		}
		return;
	}
	if (!r->lead && lead_start(r) < 0)
		return;
	rot_calls_chores(r);
	if (!fsm_version_ok(cluster_fsm(r->cl), 3)) {
		snprintf(r->lead->blocked, sizeof(r->lead->blocked),
			 "waiting: every member must apply FSM version 3 "
			 "(upgrade those on an older build)");
		return;
	}
	rot_ledger_observe(r);
	if (rot_view_build(r) < 0)
		return;
	rot_ledger_commit(r);
	for (i = 0; i < v->n; i++)
		rot_mem(r, v->m[i].fm->id)->why[0] = 0;
	if (rot_frozen_why(cluster_fsm(r->cl), r->lead->blocked,
			   sizeof(r->lead->blocked)))
		return;
	if (strncmp(r->lead->blocked, "frozen", 6) == 0)
		r->lead->blocked[0] = 0;       /* resumed */
	plan_alerts(r);
	if (r->lead->busy || polls(r))
		return;
	/* one member in transition at a time */
	for (i = 0; i < v->n; i++) {
		if (v->m[i].state == FSM_ROT_STARTING) {
			advance_start(r, i);
			return;
		}
		if (v->m[i].state == FSM_ROT_STOPPING) {
			advance_stop(r, i);
			return;
		}
	}
	if (start_one(r))
		return;
	stop_one(r);
}

/* ---------------------------------------------------------------- */
/* what the status shows */

const char *rot_state_shown(struct rotation *r, size_t i)
{
	const struct rot_mview *mv = &r->view->m[i];
	struct rot_mem *mem = r->lead ? rot_mem(r, mv->fm->id) : NULL;

	if (mv->state == FSM_ROT_RUNNING && !mv->cv.reachable &&
	    !(mem && mem->hook_state_at && mem->hook_state == RHOOK_RUNNING))
		return "unknown";
	return fsm_rot_state_name(mv->state);
}

void rot_reason(struct rotation *r, size_t i, char *buf, size_t len)
{
	struct rot_view *v = r->view;
	const struct rot_mview *mv = &v->m[i];
	struct rot_mem *mem = r->lead ? rot_mem(r, mv->fm->id) : NULL;
	char plan[FSM_REASON_MAX + 1];

	rplan_reason(&v->plan, &v->out[i], &v->plan.m[i], plan, sizeof(plan));
	if (mv->state == FSM_ROT_STARTING || mv->state == FSM_ROT_STOPPING ||
	    (mv->state == FSM_ROT_STOPPED && mv->phase != ROT_SD_PLANNED) ||
	    (mv->state == FSM_ROT_RUNNING && mv->phase == ROT_RN_FOUND &&
	     v->out[i].on))
		snprintf(plan, sizeof(plan), "%s", mv->rec->reason);
	if (mem && mem->alert[0])
		snprintf(buf, len, "%s; alert: %s", plan, mem->alert);
	else if (mem && mem->why[0])
		snprintf(buf, len, "%s; %s", plan, mem->why);
	else
		snprintf(buf, len, "%s", plan);
}
