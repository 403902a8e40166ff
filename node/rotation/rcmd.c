/*
 * rcmd: the rotation's control commands (rows in node/ctl/ctlcmd.c; the
 * leader answers them, a follower forwards): rotation set|unset change
 * the replicated schedule after simulating the next 7 days, rotation
 * status says what the leader plans and why, rotation plan what it would
 * do over the next days. And the same 7-day check for `config set
 * min-serving`.
 */
#include "node/rotation/rot_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/json.h"
#include "node/base/strbuf.h"
#include "node/ctl/ctl.h"
#include "node/rotation/rcal.h"

#define PLAN_STEPS_MAX 512
#define PLAN_DAYS_MAX 62
#define MSG_MAX 512

/* ---------------------------------------------------------------- */
/* targets and the 7-day check */

static int provider_has_members(const struct fsm *f, const char *p)
{
	unsigned i;

	for (i = 0; i < fsm_member_count(f); i++)
		if (strcmp(fsm_member_at(f, i)->provider, p) == 0)
			return 1;
	return 0;
}

/* TARGET -> "member:NAME" or "provider:NAME" in out. */
static int resolve_target(const struct fsm *f, const char *arg, char *out,
			  size_t len, char *err, size_t errlen)
{
	const char *name;

	if (strncmp(arg, "member:", 7) == 0) {
		name = arg + 7;
		if (!fsm_member_named(f, name)) {
			snprintf(err, errlen, "unknown target '%.80s': no "
				 "member is called '%.64s' (ntpctl cluster "
				 "status lists them)", arg, name);
			return -1;
		}
		snprintf(out, len, "member:%s", name);
		return 0;
	}
	if (strncmp(arg, "provider:", 9) == 0) {
		name = arg + 9;
		if (!provider_has_members(f, name)) {
			snprintf(err, errlen, "unknown target '%.80s': no "
				 "member has provider '%.64s'", arg, name);
			return -1;
		}
		snprintf(out, len, "provider:%s", name);
		return 0;
	}
	if (fsm_member_named(f, arg)) {
		snprintf(out, len, "member:%s", arg);
		return 0;
	}
	if (provider_has_members(f, arg)) {
		snprintf(out, len, "provider:%s", arg);
		return 0;
	}
	snprintf(err, errlen, "unknown target '%.80s': neither a member nor "
		 "a provider that has members (member:NAME or provider:NAME "
		 "to say which)", arg);
	return -1;
}

/* The view's plan with target's windows replaced by w (NULL: the entry
 * removed), for the simulation. */
static void plan_with(struct rot_view *v, const struct fsm *f,
		      const char *target, const struct rwin *w)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct fsm_member *fm = v->m[i].fm;
		char own[FSM_TARGET_MAX + 1], prov[FSM_TARGET_MAX + 1];
		const struct fsm_sched *s;
		unsigned k;

		snprintf(own, sizeof(own), "member:%s", fm->name);
		snprintf(prov, sizeof(prov), "provider:%s", fm->provider);
		if (strcmp(target, own) == 0 ||
		    (strcmp(target, prov) == 0 && !fsm_sched_find(f, own))) {
			if (w) {
				v->plan.m[i].win = w;
				continue;
			}
			/* removed: the provider's entry, else always */
			v->plan.m[i].win = NULL;
			s = strcmp(target, own) == 0 ? fsm_sched_find(f, prov) :
			    NULL;
			for (k = 0; s && k < fsm_sched_count(f); k++)
				if (fsm_sched_at(f, k) == s)
					v->plan.m[i].win = &v->win[k];
		}
	}
}

/* The check's verdict: 0 fine, else -1 with the first moment in err. */
static int first_short(struct rot_view *v, char *err, size_t errlen)
{
	char when[32], day[32];
	int planned = 0, need;
	int64_t t;

	t = rplan_first_short(&v->plan, v->now, ROT_CHECK_DAYS * ROT_DAY_MS,
			      &planned);
	if (t == INT64_MAX)
		return 0;
	need = v->plan.min_serving < (int)v->n ? v->plan.min_serving :
						(int)v->n;
	rcal_fmt(t, when, sizeof(when));
	rwin_fmt(t, day, sizeof(day));
	snprintf(err, errlen, "at %s UTC (%s) only %d of %zu members would "
		 "be planned on, fewer than min(min-serving %d, members %zu) "
		 "= %d", when, day, planned, v->n, v->plan.min_serving, v->n,
		 need);
	return -1;
}

int rot_check_config(void *arg, const char *key, const char *value,
		     char *err, size_t errlen)
{
	struct rotation *r = arg;
	char why[300];

	if (strcmp(key, "min-serving") != 0 || r->closing)
		return 0;
	if (rot_view_build(r) < 0)
		return 0;
	r->view->plan.min_serving = atoi(value);
	if (first_short(r->view, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "refused, nothing changed: with min-serving %s "
		 "the schedule falls short within %d days: %s", value,
		 ROT_CHECK_DAYS, why);
	return -1;
}

/* ---------------------------------------------------------------- */
/* rotation set | unset */

struct set_ctx {
	struct cl_req *req;
	char text[MSG_MAX];
};

static void set_done(struct rotation *r, void *arg, int err, int result)
{
	struct set_ctx *x = arg;

	(void)r;
	if (err)
		cluster_reply(x->req, CTL_ERR, cluster_strerror(err), NULL,
			      NULL);
	else if (result != FSM_OK)
		cluster_reply(x->req, CTL_ERR, result == FSM_EFULL ?
			      "the schedule is full (64 entries)" :
			      "refused by the replicated state", NULL, NULL);
	else
		cluster_reply(x->req, CTL_OK, NULL, x->text, NULL);
	free(x);
}

/* Options come first, in table order: "--force" if given. */
static int take_force(int *argc, char ***argv)
{
	if (*argc > 0 && strcmp((*argv)[0], "--force") == 0) {
		(*argc)--;
		(*argv)++;
		return 1;
	}
	return 0;
}

static void store(struct rotation *r, struct cl_req *req, const char *target,
		  const char *windows, int conflict, const char *why)
{
	struct set_ctx *x = calloc(1, sizeof(*x));
	void *buf;
	size_t len;

	if (!x || fsm_cmd_sched_set(target, windows, conflict,
				    cluster_wall_ms(), &buf, &len) < 0) {
		free(x);
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	x->req = req;
	if (!windows[0])
		snprintf(x->text, sizeof(x->text), "%s: entry removed%s%s\n",
			 target, conflict ? " (conflict: " : "",
			 conflict ? why : "");
	else
		snprintf(x->text, sizeof(x->text), "%s: %s%s%s%s\n", target,
			 windows, conflict ? " (stored marked conflict: " : "",
			 conflict ? why : "", conflict ? "; members held on "
			 "for min-serving)" : "");
	if (rot_propose(r, buf, len, set_done, x) < 0)
		cluster_reply(req, CTL_ERR, "cannot propose now (leadership "
			      "changing?): retry", NULL, NULL);
}

static void cmd_set(void *arg, struct cl_req *req, int argc, char **argv)
{
	struct rotation *r = arg;
	const struct fsm *f = cluster_fsm(r->cl);
	char target[FSM_TARGET_MAX + 1], err[MSG_MAX], why[300];
	char canon[RWIN_TEXT_MAX + 1];
	struct strbuf text = STRBUF_INIT;
	struct rwin *w;
	int force = take_force(&argc, &argv), i, conflict = 0;

	if (argc < 2) {
		cluster_reply(req, CTL_EUSAGE, "usage: rotation set [--force] "
			      "TARGET WINDOWS", NULL, NULL);
		return;
	}
	if (!fsm_version_ok(f, 3)) {
		cluster_reply(req, CTL_ERR, "every member must run a build "
			      "with FSM version 3 first", NULL, NULL);
		return;
	}
	if (resolve_target(f, argv[0], target, sizeof(target), err,
			   sizeof(err)) < 0) {
		cluster_reply(req, CTL_EUSAGE, err, NULL, NULL);
		return;
	}
	/* WINDOWS: the remaining arguments joined by one space */
	for (i = 1; i < argc; i++)
		strbuf_addf(&text, "%s%s", i > 1 ? " " : "", argv[i]);
	w = malloc(sizeof(*w));
	if (!w || strbuf_error(&text)) {
		free(w);
		strbuf_release(&text);
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	if (rwin_parse(strbuf_str(&text), w, canon, err, sizeof(err)) < 0) {
		free(w);
		strbuf_release(&text);
		cluster_reply(req, CTL_EUSAGE, err, NULL, NULL);
		return;
	}
	strbuf_release(&text);
	rot_view_build(r);
	plan_with(r->view, f, target, w);
	if (first_short(r->view, why, sizeof(why)) < 0) {
		if (!force) {
			snprintf(err, sizeof(err), "refused, nothing changed: "
				 "%s (--force stores it marked conflict; then "
				 "members are held on)", why);
			free(w);
			cluster_reply(req, CTL_ERR, err, NULL, NULL);
			return;
		}
		conflict = 1;
	}
	free(w);
	store(r, req, target, canon, conflict, why);
}

static void cmd_unset(void *arg, struct cl_req *req, int argc, char **argv)
{
	struct rotation *r = arg;
	const struct fsm *f = cluster_fsm(r->cl);
	char target[FSM_TARGET_MAX + 1], err[MSG_MAX], why[300];
	int force = take_force(&argc, &argv), conflict = 0;

	if (argc != 1) {
		cluster_reply(req, CTL_EUSAGE, "usage: rotation unset [--force] "
			      "TARGET", NULL, NULL);
		return;
	}
	if (resolve_target(f, argv[0], target, sizeof(target), err,
			   sizeof(err)) < 0) {
		cluster_reply(req, CTL_EUSAGE, err, NULL, NULL);
		return;
	}
	if (!fsm_sched_find(f, target)) {
		snprintf(err, sizeof(err), "%s has no schedule entry", target);
		cluster_reply(req, CTL_ERR, err, NULL, NULL);
		return;
	}
	rot_view_build(r);
	plan_with(r->view, f, target, NULL);
	if (first_short(r->view, why, sizeof(why)) < 0) {
		if (!force) {
			snprintf(err, sizeof(err), "refused, nothing changed: "
				 "%s (--force removes it anyway)", why);
			cluster_reply(req, CTL_ERR, err, NULL, NULL);
			return;
		}
		conflict = 1;
	}
	store(r, req, target, "", conflict, why);
}

/* ---------------------------------------------------------------- */
/* rotation status */

static int64_t provider_used(const struct rot_view *v, const char *p)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->m[i].fm->provider, p) == 0)
			sum += v->plan.m[i].used_ms;
	return sum;
}

/* Distinct providers of the members, in member order. */
static size_t providers(const struct rot_view *v, const char **out,
			size_t max)
{
	size_t i, k, n = 0;

	for (i = 0; i < v->n; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(out[k], v->m[i].fm->provider) == 0)
				break;
		if (k == n && n < max)
			out[n++] = v->m[i].fm->provider;
	}
	return n;
}

/* The rotation's lines of the audit trail: the last STATUS_LOG in the
 * JSON, the last STATUS_LOG_TEXT in the text (served time, UTC). */
#define STATUS_LOG 40
#define STATUS_LOG_TEXT 6
static void audit_tail(const struct fsm *f, struct strbuf *t, struct json *j)
{
	unsigned i, n = fsm_audit_count(f), from = n, seen = 0, k = 0;
	char when[32];

	/* where the last STATUS_LOG rotation lines begin */
	while (from > 0 && seen < STATUS_LOG)
		seen += strncmp(fsm_audit_at(f, --from, NULL), "rotation",
				8) == 0;
	strbuf_adds(t, "recent:\n");
	json_arr_begin(j, "log");
	for (i = from; i < n; i++) {
		uint64_t at;
		const char *line = fsm_audit_at(f, i, &at);

		if (strncmp(line, "rotation", 8) != 0)
			continue;
		json_obj_begin(j, NULL);
		json_uint(j, "time_ms", at);
		json_str(j, "text", line);
		json_obj_end(j);
		if (k++ + STATUS_LOG_TEXT >= seen) {
			rcal_fmt((int64_t)at, when, sizeof(when));
			strbuf_addf(t, "  %s %s\n", when, line);
		}
	}
	json_arr_end(j);
}

static void cmd_status(void *arg, struct cl_req *req, int argc, char **argv)
{
	struct rotation *r = arg;
	const struct fsm *f = cluster_fsm(r->cl);
	struct rot_view *v = r->view;
	struct strbuf t = STRBUF_INIT;
	struct json *j = json_new();
	char when[32], day[32], reason[2 * FSM_REASON_MAX + 8], h[32], h2[32];
	const char *prov[RPLAN_MAX];
	size_t i, np;
	unsigned k;
	int serving = 0;

	(void)argv;
	if (argc) {
		json_free(j);
		cluster_reply(req, CTL_EUSAGE, "usage: rotation status", NULL,
			      NULL);
		return;
	}
	if (!j || rot_view_build(r) < 0) {
		json_free(j);
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	for (i = 0; i < v->n; i++)
		serving += v->m[i].serving;
	rcal_fmt(v->now, when, sizeof(when));
	rwin_fmt(v->now, day, sizeof(day));
	strbuf_addf(&t, "rotation at %s UTC (%s)", when, day);
	if (r->conf->clock_speed)
		strbuf_addf(&t, ", TEST clock %ux", r->conf->clock_speed);
	strbuf_addf(&t, "\nmin-serving %d: %d of %zu members serving\n",
		    v->min_serving, serving, v->n);
	if (rot_frozen_why(f, reason, sizeof(reason)))
		strbuf_addf(&t, "FROZEN: %s\n", reason + strlen("frozen "));
	else if (r->lead && r->lead->blocked[0])
		strbuf_addf(&t, "%s\n", r->lead->blocked);
	strbuf_addf(&t, "%-16s %-9s %-7s %-9s %7s  %s\n", "NAME", "PROVIDER",
		    "PLANNED", "STATE", "HOURS", "REASON");
	json_obj_begin(j, NULL);
	json_int(j, "time_ms", v->now);
	json_str(j, "time", when);
	if (r->conf->clock_speed)
		json_uint(j, "test_clock_speed", r->conf->clock_speed);
	else
		json_null(j, "test_clock_speed");
	json_int(j, "min_serving", v->min_serving);
	json_int(j, "serving", serving);
	json_str(j, "blocked", r->lead && r->lead->blocked[0] ?
		 r->lead->blocked : NULL);
	{
		const char *fr;
		uint64_t since;

		json_bool(j, "frozen", fsm_frozen(f, &since, &fr));
		json_uint(j, "frozen_since_ms", since);
		json_str(j, "freeze_reason", fsm_frozen(f, NULL, NULL) ? fr :
			 NULL);
	}
	json_arr_begin(j, "members");
	for (i = 0; i < v->n; i++) {
		const struct rot_mview *mv = &v->m[i];
		const struct fsm_hours *fh = fsm_hours_find(f, mv->fm->id);
		char id[24];

		rot_reason(r, i, reason, sizeof(reason));
		rot_fmt_hours(v->plan.m[i].used_ms, h, sizeof(h));
		strbuf_addf(&t, "%-16s %-9s %-7s %-9s %7s  %s\n", mv->fm->name,
			    mv->fm->provider, v->out[i].on ? "on" : "off",
			    rot_state_shown(r, i), h, reason);
		snprintf(id, sizeof(id), "%" PRIu64, mv->fm->id);
		json_obj_begin(j, NULL);
		json_str(j, "name", mv->fm->name);
		json_str(j, "id", id);
		json_str(j, "provider", mv->fm->provider);
		json_str(j, "instance_id", mv->fm->instance_id);
		json_str(j, "planned", v->out[i].on ? "on" : "off");
		json_str(j, "state", rot_state_shown(r, i));
		json_str(j, "reason", reason);
		json_double(j, "hours_month", (double)v->plan.m[i].used_ms /
			    RCAL_HOUR_MS);
		json_double(j, "hours_committed", (double)mv->committed_ms /
			    RCAL_HOUR_MS);
		json_uint(j, "counted_to", fh ? fh->counted_to : 0);
		json_bool(j, "parked", mv->rec && mv->rec->parked);
		json_bool(j, "serving", mv->serving);
		json_str(j, "entry", mv->entry);
		json_obj_end(j);
	}
	json_arr_end(j);
	np = providers(v, prov, RPLAN_MAX);
	strbuf_adds(&t, "hours this month:");
	json_arr_begin(j, "providers");
	for (i = 0; i < np; i++) {
		int64_t used = provider_used(v, prov[i]),
			allow = rplan_allowance_ms(&v->plan, prov[i], v->now);

		rot_fmt_hours(used, h, sizeof(h));
		json_obj_begin(j, NULL);
		json_str(j, "name", prov[i]);
		json_double(j, "hours_month", (double)used / RCAL_HOUR_MS);
		if (allow >= 0) {
			rot_fmt_hours(allow, h2, sizeof(h2));
			strbuf_addf(&t, "%s %s %s h of %s h (%lld%%)",
				    i ? ";" : "", prov[i], h, h2,
				    allow ? (long long)(used * 100 / allow) :
				    100LL);
			json_double(j, "allowance_hours",
				    (double)allow / RCAL_HOUR_MS);
		} else {
			strbuf_addf(&t, "%s %s %s h (no allowance)",
				    i ? ";" : "", prov[i], h);
			json_null(j, "allowance_hours");
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	strbuf_adds(&t, "\nschedule:");
	json_arr_begin(j, "schedule");
	for (k = 0; k < fsm_sched_count(f); k++) {
		const struct fsm_sched *s = fsm_sched_at(f, k);

		strbuf_addf(&t, "%s %s %s%s", k ? ";" : "", s->target,
			    s->windows, s->conflict ? " (conflict)" : "");
		json_obj_begin(j, NULL);
		json_str(j, "target", s->target);
		json_str(j, "windows", s->windows);
		json_bool(j, "conflict", s->conflict);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (!fsm_sched_count(f))
		strbuf_adds(&t, " none (every member always on)");
	strbuf_adds(&t, "\nalerts:");
	json_arr_begin(j, "alerts");
	k = 0;
	for (i = 0; r->lead && i < r->lead->n_alerts; i++, k++) {
		strbuf_addf(&t, "%s %s", k ? ";" : "", r->lead->alerts[i]);
		json_str(j, NULL, r->lead->alerts[i]);
	}
	for (i = 0; r->lead && i < r->lead->n_mem; i++) {
		if (!r->lead->mem[i].alert[0])
			continue;
		strbuf_addf(&t, "%s %s", k++ ? ";" : "",
			    r->lead->mem[i].alert);
		json_str(j, NULL, r->lead->mem[i].alert);
	}
	json_arr_end(j);
	strbuf_addf(&t, "%s\n", k ? "" : " none");
	audit_tail(f, &t, j);
	json_obj_end(j);
	rot_reply(req, &t, j);
}

/* Answers req with the text and JSON built in t and j, and frees both. */
void rot_reply(struct cl_req *req, struct strbuf *t, struct json *j)
{
	char *js = json_finish(j), *ts = strbuf_finish(t, NULL);

	json_free(j);
	if (js && ts)
		cluster_reply(req, CTL_OK, NULL, ts, js);
	else
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
	free(js);
	free(ts);
}

/* ---------------------------------------------------------------- */
/* rotation plan */

struct plan_step {
	int64_t at;
	size_t member;
	int on;
	char reason[FSM_REASON_MAX + 1];
};

struct plan_ctx {
	struct rot_view *v;
	struct plan_step *s;
	size_t n;
	int truncated;
};

static int on_sim(void *arg, int64_t t, size_t i, const struct rplan_out *o,
		  int first)
{
	struct plan_ctx *x = arg;
	const struct rot_mview *mv = &x->v->m[i];
	int running;

	if (first) {
		/* what has to happen now for the plan to hold */
		running = mv->state == FSM_ROT_RUNNING ||
			  mv->state == FSM_ROT_STARTING;
		if (o->on == running)
			return 0;
	}
	if (x->n == PLAN_STEPS_MAX) {
		x->truncated = 1;
		return 1;
	}
	x->s[x->n].at = t;
	x->s[x->n].member = i;
	x->s[x->n].on = o->on;
	rplan_reason(&x->v->plan, o, &x->v->plan.m[i], x->s[x->n].reason,
		     sizeof(x->s[0].reason));
	x->n++;
	return 0;
}

/* By time; at the same time starts first (make before break). */
static int step_cmp(const void *a, const void *b)
{
	const struct plan_step *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->on != y->on)
		return x->on ? -1 : 1;
	return x->member < y->member ? -1 : x->member > y->member;
}

static void cmd_plan(void *arg, struct cl_req *req, int argc, char **argv)
{
	struct rotation *r = arg;
	struct rot_view *v = r->view;
	struct plan_ctx x;
	struct strbuf t = STRBUF_INIT;
	struct json *j = json_new();
	int64_t hours[RPLAN_MAX], end;
	const char *prov[RPLAN_MAX];
	char when[32], day[32], h[32], h2[32], h3[32], *e;
	size_t i, k, np;
	long days = 7;

	if (argc == 2 && strcmp(argv[0], "--days") == 0) {
		days = strtol(argv[1], &e, 10);
		if (*e || days < 1 || days > PLAN_DAYS_MAX)
			days = -1;
	} else if (argc) {
		days = -1;
	}
	if (days < 0) {
		json_free(j);
		cluster_reply(req, CTL_EUSAGE, "usage: rotation plan [--days "
			      "N] (N from 1 to 62)", NULL, NULL);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.v = v;
	x.s = calloc(PLAN_STEPS_MAX, sizeof(*x.s));
	if (!j || !x.s || rot_view_build(r) < 0) {
		json_free(j);
		free(x.s);
		cluster_reply(req, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	rplan_sim(&v->plan, v->now, v->now + days * ROT_DAY_MS, on_sim, &x,
		  NULL);
	qsort(x.s, x.n, sizeof(x.s[0]), step_cmp);
	rcal_fmt(v->now, when, sizeof(when));
	strbuf_addf(&t, "plan from %s UTC for %ld day%s (min-serving %d)\n",
		    when, days, days == 1 ? "" : "s", v->min_serving);
	strbuf_addf(&t, "%-22s %-6s %-16s %s\n", "WHEN (UTC)", "ACTION",
		    "MEMBER", "REASON");
	json_obj_begin(j, NULL);
	json_int(j, "from_ms", v->now);
	json_int(j, "days", days);
	json_int(j, "min_serving", v->min_serving);
	json_arr_begin(j, "steps");
	for (i = 0; i < x.n; i++) {
		struct plan_step *s = &x.s[i];

		rcal_fmt(s->at, when, sizeof(when));
		rwin_fmt(s->at, day, sizeof(day));
		day[3] = 0;
		strbuf_addf(&t, "%s %-5s %-6s %-16s %s%s\n", when, day,
			    s->on ? "start" : "stop",
			    v->m[s->member].fm->name, s->reason,
			    s->on ? "" : " (once those planned on serve)");
		json_obj_begin(j, NULL);
		json_int(j, "at_ms", s->at);
		json_str(j, "at", when);
		json_str(j, "action", s->on ? "start" : "stop");
		json_str(j, "member", v->m[s->member].fm->name);
		json_str(j, "reason", s->reason);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (!x.n)
		strbuf_adds(&t, "(no step)\n");
	if (x.truncated)
		strbuf_addf(&t, "(more than %d steps: the rest is left out)\n",
			    PLAN_STEPS_MAX);
	json_bool(j, "truncated", x.truncated);
	/* the month's projection: to its end, as planned */
	end = rcal_month_end(v->now);
	rplan_sim(&v->plan, v->now, end, NULL, NULL, hours);
	rcal_fmt(end, when, sizeof(when));
	strbuf_addf(&t, "hours projected by %s UTC:", when);
	np = providers(v, prov, RPLAN_MAX);
	json_arr_begin(j, "providers");
	for (k = 0; k < np; k++) {
		int64_t used = provider_used(v, prov[k]), proj = 0,
			allow = rplan_allowance_ms(&v->plan, prov[k], v->now);
		int over;

		for (i = 0; i < v->n; i++)
			if (strcmp(v->m[i].fm->provider, prov[k]) == 0)
				proj += hours[i];
		over = allow >= 0 && proj > allow;
		rot_fmt_hours(used, h, sizeof(h));
		rot_fmt_hours(proj, h2, sizeof(h2));
		rot_fmt_hours(allow, h3, sizeof(h3));
		strbuf_addf(&t, "%s %s %s h (%s used)", k ? ";" : "", prov[k],
			    h2, h);
		if (allow >= 0)
			strbuf_addf(&t, " of %s h%s", h3, over ?
				    " OVER THE ALLOWANCE" : "");
		json_obj_begin(j, NULL);
		json_str(j, "name", prov[k]);
		json_double(j, "used_hours", (double)used / RCAL_HOUR_MS);
		json_double(j, "projected_hours", (double)proj / RCAL_HOUR_MS);
		if (allow >= 0)
			json_double(j, "allowance_hours",
				    (double)allow / RCAL_HOUR_MS);
		else
			json_null(j, "allowance_hours");
		json_bool(j, "over", over);
		json_obj_end(j);
	}
	json_arr_end(j);
	strbuf_adds(&t, "\n");
	json_obj_end(j);
	free(x.s);
	rot_reply(req, &t, j);
}

int rot_cmd_register(struct rotation *r, struct ctl *ctl)
{
	if (cluster_command(r->cl, ctl, "rotation status", cmd_status, r) < 0 ||
	    cluster_command(r->cl, ctl, "rotation plan", cmd_plan, r) < 0 ||
	    cluster_command(r->cl, ctl, "rotation set", cmd_set, r) < 0 ||
	    cluster_command(r->cl, ctl, "rotation unset", cmd_unset, r) < 0)
		return -1;
	return 0;
}
