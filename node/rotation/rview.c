/*
 * rview: the replicated state as the planner and the reconciler see it,
 * built fresh for each evaluation: every member's schedule entry, hours
 * this month, rotation state, health, and the plan for now.
 */
#include "node/rotation/rot_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/cluster/ckey.h"
#include "node/rotation/rcal.h"

/* A replicated key, else its default (node/cluster/ckey.h). */
static const char *key(const struct fsm *f, const char *name)
{
	const char *v = fsm_config_get(f, name);
	const struct ckey_info *k;

	if (v)
		return v;
	k = ckey_find(name);
	return k ? k->def : "";
}

int rot_min_serving(const struct fsm *f)
{
	int n = atoi(key(f, "min-serving"));

	return n > 0 ? n : 1;
}

void rot_allowances(const struct fsm *f, struct rplan *p)
{
	static const char *const prov[] = { "aws", "gcp" };
	char name[32];
	size_t i;

	p->n_allow = 0;
	for (i = 0; i < sizeof(prov) / sizeof(prov[0]); i++) {
		struct rplan_allow *a = &p->allow[p->n_allow];
		const char *v;

		snprintf(name, sizeof(name), "allowance-%s", prov[i]);
		v = key(f, name);
		if (strcmp(v, "none") == 0)
			continue;
		memset(a, 0, sizeof(*a));
		snprintf(a->provider, sizeof(a->provider), "%s", prov[i]);
		if (strcmp(v, "month") == 0)
			a->vms = 1;
		else
			a->hours = atoll(v);
		p->n_allow++;
	}
}

const char *rot_windows_for(const struct fsm *f, const struct fsm_member *fm,
			    const char **target)
{
	const struct fsm_sched *s;
	char t[FSM_TARGET_MAX + 1];

	/* a member's own entry overrides its provider's */
	snprintf(t, sizeof(t), "member:%s", fm->name);
	s = fsm_sched_find(f, t);
	if (!s) {
		snprintf(t, sizeof(t), "provider:%s", fm->provider);
		s = fsm_sched_find(f, t);
	}
	if (target)
		*target = s ? s->target : NULL;
	return s ? s->windows : NULL;
}

int rot_view_find(const struct rot_view *v, uint64_t id)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->m[i].fm->id == id)
			return (int)i;
	return -1;
}

void rot_fmt_hours(int64_t ms, char *out, size_t len)
{
	snprintf(out, len, "%.1f", (double)ms / RCAL_HOUR_MS);
}

/* Running time of m this month: committed, and what the leader has seen
 * since (pending). */
static void hours_of(struct rotation *r, struct rot_view *v,
		     struct rot_mview *mv)
{
	const struct fsm_hours *h = fsm_hours_find(cluster_fsm(r->cl),
						   mv->fm->id);
	uint32_t month = rcal_month(v->now);
	int64_t from, mstart = rcal_month_start(v->now);
	struct rot_mem *mem = r->lead ? rot_mem(r, mv->fm->id) : NULL;

	mv->committed_ms = 0;
	mv->pending_ms = 0;
	if (h && h->month == month)
		mv->committed_ms = (int64_t)h->ms;
	if (!mem || !mem->last_seen)
		return;
	from = h ? (int64_t)h->counted_to : 0;
	if (mem->up_since > from)
		from = mem->up_since;
	if (from < mstart)
		from = mstart;
	if (mem->last_seen > from)
		mv->pending_ms = mem->last_seen - from;
}

int rot_view_build(struct rotation *r)
{
	const struct fsm *f = cluster_fsm(r->cl);
	struct rot_view *v = r->view;
	char canon[RWIN_TEXT_MAX + 1], err[160];
	unsigned i, k, ns = fsm_sched_count(f);
	long long ms;
	uint64_t peer;

	memset(&v->plan, 0, sizeof(v->plan));
	v->n = 0;
	v->voters = 0;
	v->now = rot_now(r);
	v->wall = cluster_wall_ms();
	v->min_serving = rot_min_serving(f);
	ms = ckey_parse_duration_ms(key(f, "rotation-start-timeout"));
	v->start_timeout_ms = ms > 0 ? ms : 600000;
	v->plan.min_serving = v->min_serving;
	rot_allowances(f, &v->plan);
	for (i = 0; i < ns && i < FSM_SCHED_MAX; i++)
		if (rwin_parse(fsm_sched_at(f, i)->windows, &v->win[i], canon,
			       err, sizeof(err)) < 0) {
			/* stored entries were checked: a newer syntax? */
			log_warnx("rotation: schedule %s unreadable here (%s): "
				  "taken as always", fsm_sched_at(f, i)->target,
				  err);
			rwin_parse("always", &v->win[i], canon, err,
				   sizeof(err));
		}
	for (i = 0; i < fsm_member_count(f) && v->n < RPLAN_MAX; i++) {
		const struct fsm_member *fm = fsm_member_at(f, i);
		struct rot_mview *mv = &v->m[v->n];
		struct rplan_member *pm = &v->plan.m[v->n];
		const char *target;
		int failed_wait;

		memset(mv, 0, sizeof(*mv));
		mv->fm = fm;
		mv->rec = fsm_rot_find(f, fm->id);
		mv->state = mv->rec ? mv->rec->state : FSM_ROT_RUNNING;
		mv->phase = mv->rec ? mv->rec->phase : 0;
		cluster_peer_view(r->cl, fm->id, &mv->cv);
		/* the cross-check's verdict, replicated (node/crosscheck),
		 * or what the daemon's seam says */
		mv->suspect = fm->suspect ||
			      (r->suspect && r->suspect(r->suspect_arg, fm->id));
		mv->has_hook_runner = fm->instance_id[0] &&
				      rot_runner(r, fm, RHOOK_START, &peer) == 0;
		/* counted until it is drained: then only answering NTP */
		mv->serving = (mv->state == FSM_ROT_RUNNING ||
			       (mv->state == FSM_ROT_STOPPING &&
				mv->phase < ROT_SP_DRAIN)) &&
			      mv->cv.reachable && mv->cv.has_status &&
			      mv->cv.synced && !mv->suspect &&
			      !(mv->state == FSM_ROT_RUNNING && mv->rec &&
				mv->rec->parked);
		v->voters += mv->cv.role == CLUSTER_VOTER;
		hours_of(r, v, mv);
		mv->windows = rot_windows_for(f, fm, &target);
		mv->entry = target;

		pm->id = fm->id;
		snprintf(pm->name, sizeof(pm->name), "%s", fm->name);
		snprintf(pm->provider, sizeof(pm->provider), "%s",
			 fm->provider);
		pm->win = NULL;
		for (k = 0; mv->entry && k < ns && k < FSM_SCHED_MAX; k++)
			if (strcmp(fsm_sched_at(f, k)->target, mv->entry) == 0)
				pm->win = &v->win[k];
		pm->running = mv->state == FSM_ROT_RUNNING ||
			      mv->state == FSM_ROT_STARTING ||
			      (mv->state == FSM_ROT_STOPPING &&
			       mv->phase < ROT_SP_HOOK);
		/* a start that failed is not tried again for a while */
		failed_wait = mv->state == FSM_ROT_STOPPED &&
			      mv->phase == ROT_SD_FAILED &&
			      v->wall < mv->rec->since_ms +
					(uint64_t)v->start_timeout_ms;
		pm->can_run = pm->running ||
			      (mv->has_hook_runner && !failed_wait);
		pm->used_ms = mv->committed_ms + mv->pending_ms;
		v->n++;
	}
	v->plan.n = v->n;
	rplan_at(&v->plan, v->now, v->out);
	return 0;
}

int rot_view_ready(const struct rot_view *v, size_t i, int voter_target)
{
	const struct rot_mview *mv = &v->m[i];

	return mv->cv.reachable && mv->cv.has_status && mv->cv.synced &&
	       !mv->suspect && mv->cv.caught_up &&
	       (mv->cv.role == CLUSTER_VOTER || v->voters >= voter_target);
}
