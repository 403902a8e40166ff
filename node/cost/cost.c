/* cost: the cost guard's runtime; see cost.h. */
#include "node/cost/cost.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/child.h"
#include "node/base/json.h"
#include "node/base/log.h"
#include "node/cluster/cluster.h"
#include "node/cluster/ckey.h"
#include "node/ctl/ctl.h"
#include "node/cost/costview.h"
#include "node/cost/governor.h"
#include "node/cost/ledger.h"
#include "node/cost/vmhours.h"
#include "node/ntp/tstate.h"
#include "raft/fsm.h"

#define TICK_MS 1000
#define RATIO_EVERY_MS 10000
#define GOV_EVERY_MS 10000

struct cost {
	uv_loop_t *loop;
	struct cluster *cl;
	const struct cost_conf *conf;
	const struct cost_hooks *hooks;
	int stopping;
	int alerting;                   /* a crossing being recorded */
	struct child *hook;             /* the alert hook running, or NULL */
	char event[512];                /* its stdin */
	uv_timer_t timer;
	uint64_t boot;
	struct egress_meter meter;
	uint64_t last_commit;           /* loop ms */
	uint64_t last_ratio;            /* loop ms */
	int has_ratio;
	double ratio;
	/* the governor */
	uint64_t gov_last;              /* loop ms of the last decision */
	uint64_t gov_other;             /* non-ntp bytes then */
	uint64_t gov_drops;             /* its drops then */
	uint64_t gov_rate;              /* B/s now, 0 none */
	int gov_state;                  /* enum gov_state */
};

static uint64_t wall_ms(void)
{
	int64_t ns = tstate_now_ns(NULL);

	return ns > 0 ? (uint64_t)ns / 1000000 : 0;
}

/* The member's latest committed entry of any month (the cursor). */
static const struct fsm_ledger *latest(const struct fsm *f, uint64_t id)
{
	const struct fsm_ledger *best = NULL, *e;
	unsigned i;

	for (i = 0; i < fsm_ledger_count(f); i++) {
		e = fsm_ledger_at(f, i);
		if (e->id == id &&
		    (!best || strcmp(e->month, best->month) > 0))
			best = e;
	}
	return best;
}

static const char *provider_of(const struct fsm_member *m)
{
	return m && m->provider[0] ? m->provider : "other";
}

/* The provider's key: aws and gcp have their own, the rest "other". */
static const char *key_for(struct cluster *cl, const char *prefix,
			   const char *provider)
{
	char key[64];

	if (strcmp(provider, "aws") && strcmp(provider, "gcp"))
		provider = "other";
	snprintf(key, sizeof(key), "%s-%s", prefix, provider);
	return cluster_key_value(cl, key);
}

static double price_of(struct cluster *cl, const char *prefix,
		       const char *provider)
{
	const char *v = key_for(cl, prefix, provider);
	long long t = ckey_price_tenk(v);

	return t > 0 ? (double)t / 10000 : 0;
}

/* Free hours a month in ms from an hours key (ckey.c T_ALLOW: N hours,
 * `month` = every hour of the month for one VM or address, `none`); no
 * key (other providers): none. */
static uint64_t free_ms_of(struct cluster *cl, const char *prefix,
			   const char *provider, const char *month)
{
	const char *v = key_for(cl, prefix, provider);

	if (!v || strcmp(v, "none") == 0)
		return 0;
	if (strcmp(v, "month") == 0)
		return ledger_month_end_ms(month) -
		       ledger_month_start_ms(month);
	return strtoull(v, NULL, 10) * VMHOURS_HOUR_MS;
}

static uint64_t allowance_of(struct cluster *cl, const char *provider)
{
	const char *v = key_for(cl, "egress-allowance", provider);
	unsigned long long b;
	char *end;

	if (!v)
		return 0;
	/* canonical: digits and a decimal unit (ckey.c fmt_bytes) */
	b = strtoull(v, &end, 10);
	switch (*end) {
	case 'k': return b * 1000ULL;
	case 'M': return b * 1000000ULL;
	case 'G': return b * 1000000000ULL;
	case 'T': return b * 1000000000000ULL;
	default: return b;
	}
}

/* ---------------------------------------------------------------- */
/* the leader's commits */

static void commit_all(struct cost *c, uint64_t now_ms)
{
	const struct fsm *f = cluster_fsm(c->cl);
	struct cluster_egress eg;
	struct ledger_report r;
	struct fsm_ledger out;
	char month[8];
	unsigned i;
	int rc;

	if (!f || !now_ms)
		return;
	ledger_month(now_ms, month);
	for (i = 0; i < fsm_member_count(f); i++) {
		const struct fsm_member *m = fsm_member_at(f, i);

		if (cluster_egress_of(c->cl, m->id, &eg) < 0)
			continue;
		r.boot = eg.boot;
		memcpy(r.bytes, eg.bytes, sizeof(r.bytes));
		if (!ledger_fold(fsm_ledger_find(f, month, m->id),
				 latest(f, m->id), &r, month, m->id,
				 provider_of(m), now_ms, &out))
			continue;
		rc = cluster_ledger_put(c->cl, &out);
		if (rc < 0) {
			log_debug("cost: ledger entry for %s not proposed: %s",
				  m->name, strerror(-rc));
			return;
		}
	}
}

/* ---------------------------------------------------------------- */
/* the view */

/* When the member was first seen: its oldest egress ledger entry's
 * first commit (the state keeps FSM_LEDGER_MAX entries); 0 never. */
static uint64_t first_seen(const struct fsm *f, uint64_t id)
{
	const struct fsm_ledger *e;
	uint64_t first = 0;
	unsigned i;

	for (i = 0; i < fsm_ledger_count(f); i++) {
		e = fsm_ledger_at(f, i);
		if (e->id == id && e->first_ms && (!first || e->first_ms < first))
			first = e->first_ms;
	}
	return first;
}

/* How far the hours ledger has counted: its latest count of any
 * member (the leader commits them together, once an hour). */
static uint64_t hours_asof(const struct fsm *f)
{
	uint64_t asof = 0;
	unsigned i;

	for (i = 0; i < fsm_hours_count(f); i++)
		if (fsm_hours_at(f, i)->counted_to > asof)
			asof = fsm_hours_at(f, i)->counted_to;
	return asof;
}

static void add_hours(struct costview_member *m, struct cluster *cl,
		      const struct fsm *f, uint64_t id, const char *month,
		      uint64_t now_ms)
{
	const char *st = key_for(cl, "ipv4-static", m->provider);
	struct vmhours_in in;
	struct vmhours out;

	memset(&in, 0, sizeof(in));
	in.h = fsm_hours_find(f, id);
	in.month = vmhours_month(month);
	in.start_ms = ledger_month_start_ms(month);
	in.end_ms = ledger_month_end_ms(month);
	in.now_ms = now_ms;
	in.asof_ms = hours_asof(f);
	in.first_ms = first_seen(f, id);
	in.static_ip = st && strcmp(st, "on") == 0;
	in.removed = !fsm_member_find(f, id);
	if (!in.month || in.end_ms <= in.start_ms)
		return;
	vmhours_member(&in, &out);
	m->vm_ms = out.vm_ms;
	m->vm_proj_ms = out.vm_proj_ms;
	m->ip_ms = out.ip_ms;
	m->ip_proj_ms = out.ip_proj_ms;
}

static void add_member(struct costview *v, struct cluster *cl,
		       const struct fsm *f, uint64_t id, const char *name,
		       const char *provider, uint64_t now_ms)
{
	const struct fsm_ledger *cur = fsm_ledger_find(f, v->month, id);
	const struct fsm_ledger *last = latest(f, id);
	struct costview_member *m = &v->mem[v->n_mem];
	struct costview_provider *p;
	struct cluster_egress eg;
	struct ledger_report r;
	struct fsm_ledger proj;
	uint64_t delta[FSM_LEDGER_CLASSES];
	int k;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->provider, sizeof(m->provider), "%s", provider);
	memset(&r, 0, sizeof(r));
	if (cluster_egress_of(cl, id, &eg) == 0) {
		r.boot = eg.boot;
		memcpy(r.bytes, eg.bytes, sizeof(r.bytes));
	}
	ledger_delta(last, &r, delta);
	for (k = 0; k < EGRESS_NCLASS; k++)
		m->bytes[k] = (cur ? cur->bytes[k] : 0) + delta[k];
	memset(&proj, 0, sizeof(proj));
	if (cur)
		proj = *cur;
	else if (last)
		proj.day_bytes = last->day_bytes;
	snprintf(proj.month, sizeof(proj.month), "%s", v->month);
	m->projected = ledger_projected(&proj, ledger_total(m->bytes), now_ms);
	/* what the member reported (our own: what we set) */
	m->governor = gov_state_name(r.boot ? eg.governor : GOV_OFF);
	add_hours(m, cl, f, id, v->month, now_ms);
	v->n_mem++;
	p = costview_add(v, m);
	if (p) {
		p->allowance = allowance_of(cl, provider);
		p->price_gb = price_of(cl, "price-egress-gb", provider);
		p->vm_free_ms = free_ms_of(cl, "allowance", provider, v->month);
		p->price_vm_h = price_of(cl, "price-instance-hour", provider);
		p->ip_free_ms = free_ms_of(cl, "ipv4-allowance", provider,
					   v->month);
		p->price_ip_h = price_of(cl, "price-ipv4-hour", provider);
	}
}

/* Fills v (v->mem allocated, the caller frees it); -1 when not a member
 * yet, -ENOMEM. */
static int build_view(struct cost *c, struct costview *v, int local)
{
	const struct fsm *f = cluster_fsm(c->cl);
	uint64_t now_ms = wall_ms();
	unsigned i, n;
	const char *b;

	memset(v, 0, sizeof(*v));
	if (!f || !now_ms)
		return -1;
	ledger_month(now_ms, v->month);
	v->local = local;
	b = cluster_key_value(c->cl, "budget-usd");
	v->budget_usd = b ? strtod(b, NULL) : 0;
	n = fsm_member_count(f) + fsm_ledger_count(f);
	v->mem = calloc(n + 1, sizeof(*v->mem));
	if (!v->mem)
		return -ENOMEM;
	for (i = 0; i < fsm_member_count(f); i++) {
		const struct fsm_member *m = fsm_member_at(f, i);

		add_member(v, c->cl, f, m->id, m->name, provider_of(m), now_ms);
	}
	/* members gone this month still cost what they sent */
	for (i = 0; i < fsm_ledger_count(f); i++) {
		const struct fsm_ledger *e = fsm_ledger_at(f, i);
		char name[32];

		if (strcmp(e->month, v->month) || fsm_member_find(f, e->id))
			continue;
		snprintf(name, sizeof(name), "(removed %" PRIu64 ")", e->id);
		add_member(v, c->cl, f, e->id, name,
			   e->provider[0] ? e->provider : "other", now_ms);
	}
	costview_price(v);
	return 0;
}

static int on_status(void *arg, int local, int argc, char **argv,
		     char **text, char **json)
{
	struct cost *c = arg;
	struct costview v;
	int rc;

	(void)argc;
	(void)argv;
	rc = build_view(c, &v, local);
	if (rc < 0) {
		free(v.mem);
		*text = strdup(rc == -ENOMEM ? "out of memory" :
			       "not a committed member yet, or no served time");
		return -1;
	}
	*text = costview_text(&v);
	*json = costview_json(&v);
	free(v.mem);
	if (!*text || !*json) {
		free(*text);
		free(*json);
		*json = NULL;
		*text = NULL;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* the governor */

/* Our month so far, every class: the committed entry plus what this
 * process counted since its cursor. */
static uint64_t own_month(struct cost *c, const struct fsm *f,
			  const char *month)
{
	uint64_t self = cluster_self_id(c->cl), delta[FSM_LEDGER_CLASSES];
	const struct fsm_ledger *cur = fsm_ledger_find(f, month, self);
	struct ledger_report r;

	r.boot = c->boot;
	memcpy(r.bytes, c->meter.total.bytes, sizeof(r.bytes));
	ledger_delta(latest(f, self), &r, delta);
	return (cur ? ledger_total(cur->bytes) : 0) + ledger_total(delta);
}

static void govern(struct cost *c, uint64_t now)
{
	const struct fsm *f = cluster_fsm(c->cl);
	const struct fsm_member *me;
	uint64_t other = 0, drops, secs, now_ms = wall_ms();
	struct gov_in in;
	const char *on;
	char month[8];
	unsigned i, n = 0;
	int k;

	if (!f || !now_ms ||
	    !(me = fsm_member_find(f, cluster_self_id(c->cl))))
		return;
	for (k = 0; k < EGRESS_NCLASS; k++)
		if (k != EGRESS_NTP)
			other += c->meter.total.bytes[k];
	secs = c->gov_last ? (now - c->gov_last) / 1000 : 0;
	memset(&in, 0, sizeof(in));
	on = key_for(c->cl, "governor", provider_of(me));
	in.enabled = on && strcmp(on, "on") == 0;
	/* the allowance is shared by the provider's members */
	for (i = 0; i < fsm_member_count(f); i++)
		n += strcmp(provider_of(fsm_member_at(f, i)),
			    provider_of(me)) == 0;
	in.share = allowance_of(c->cl, provider_of(me)) / (n ? n : 1);
	ledger_month(now_ms, month);
	in.used = own_month(c, f, month);
	in.other_bps = secs ? (other - c->gov_other) / secs : 0;
	in.now_ms = now_ms;
	in.end_ms = ledger_month_end_ms(month);
	c->gov_rate = gov_rate(&in);
	drops = c->hooks->governor_drops(c->hooks->arg);
	c->gov_state = !c->gov_rate ? GOV_OFF :
		       drops > c->gov_drops ? GOV_LIMITING : GOV_ON;
	c->hooks->set_limit(c->hooks->arg, c->gov_rate);
	c->gov_last = now;
	c->gov_other = other;
	c->gov_drops = drops;
}

const char *cost_governor(const struct cost *c, uint64_t *rate)
{
	*rate = c ? c->gov_rate : 0;
	return gov_state_name(c ? c->gov_state : GOV_OFF);
}

/* ---------------------------------------------------------------- */
/* alerts */

static int level_of(const char *state)
{
	return strcmp(state, "ok") ? atoi(state) : 0;
}

/* The level already recorded for month (0: none). */
static int alerted(struct cost *c, const char *month)
{
	const struct fsm *f = cluster_fsm(c->cl);
	const char *v = f ? fsm_config_get(f, CLUSTER_COST_ALERT_KEY) : NULL;

	if (!v || strncmp(v, month, 7) != 0 || v[7] != ' ')
		return 0;
	return atoi(v + 8);
}

static void hook_done(void *arg, const struct child_result *r)
{
	struct cost *c = arg;

	c->hook = NULL;
	if (r->timed_out)
		log_warnx("cost: alert hook %s killed after its timeout",
			  c->conf->alert_hook);
	else if (r->exit_status != 0)
		log_warnx("cost: alert hook %s failed (exit %d, signal %d): %s",
			  c->conf->alert_hook, r->exit_status, r->term_signal,
			  r->err);
	else
		log_info("cost: alert hook %s ran", c->conf->alert_hook);
}

static void run_hook(struct cost *c)
{
	const char *argv[] = { c->conf->alert_hook, NULL };
	struct child_opts o;
	int rc;

	if (!c->conf->alert_hook[0] || c->hook)
		return;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.input = c->event;
	o.input_len = strlen(c->event);
	o.timeout_ms = c->conf->alert_timeout_ms;
	rc = child_run(c->loop, &o, hook_done, c, &c->hook);
	if (rc < 0) {
		c->hook = NULL;
		log_warnx("cost: alert hook %s: %s", c->conf->alert_hook,
			  strerror(-rc));
	}
}

static void alert_recorded(void *arg, int ok)
{
	struct cost *c = arg;

	c->alerting = 0;
	if (c->stopping)
		return;
	if (!ok) {
		log_warnx("cost: the alert could not be recorded; retried at "
			  "the next check");
		return;
	}
	run_hook(c);
}

/* Leader: a crossing above what is recorded for the month gets one
 * warning, one replicated record, one hook run. */
static void check_alert(struct cost *c, const struct costview *v)
{
	int level = level_of(v->budget_state), done = alerted(c, v->month);
	char value[256];
	struct json *j;
	char *ev;

	if (level <= done || c->alerting || !cluster_is_leader(c->cl))
		return;
	snprintf(value, sizeof(value), "%s %d: %.0f %% of the month's "
		 "allowance or budget (projected %.2f USD, budget %.2f USD)",
		 v->month, level, v->used_ratio * 100, v->projected_cost_usd,
		 v->budget_usd);
	log_warnx("cost: %s", value);
	j = json_new();
	if (!j)
		return;
	json_obj_begin(j, NULL);
	json_str(j, "event", "budget");
	json_str(j, "month", v->month);
	json_int(j, "threshold_percent", level);
	json_double(j, "used_ratio", v->used_ratio);
	json_double(j, "projected_cost_usd", v->projected_cost_usd);
	json_double(j, "budget_usd", v->budget_usd);
	json_str(j, "text", value);
	json_obj_end(j);
	ev = json_finish(j);
	json_free(j);
	if (!ev)
		return;
	snprintf(c->event, sizeof(c->event), "%s\n", ev);
	free(ev);
	c->alerting = 1;
	if (cluster_cost_alert(c->cl, value, alert_recorded, c) < 0)
		c->alerting = 0;
}

/* ---------------------------------------------------------------- */

static void tick(uv_timer_t *t)
{
	struct cost *c = t->data;
	struct egress_counts raw;
	uint64_t now = uv_now(c->loop), interval;
	long long ms;
	struct costview v;

	c->hooks->read(c->hooks->arg, &raw);
	egress_meter_fold(&c->meter, &raw, NULL);
	if (!c->cl)
		return;
	if (now - c->gov_last >= GOV_EVERY_MS)
		govern(c, now);
	cluster_egress_set(c->cl, c->boot, c->meter.total.bytes,
			   c->gov_state);
	ms = ckey_parse_duration_ms(cluster_key_value(c->cl,
						      "ledger-interval"));
	interval = ms > 0 ? (uint64_t)ms : 300000;
	if (cluster_is_leader(c->cl) && now - c->last_commit >= interval) {
		c->last_commit = now;
		commit_all(c, wall_ms());
	}
	/* the leader judges crossings every tick, the others every 10 s
	 * (for their metrics) */
	if (cluster_is_leader(c->cl) ||
	    now - c->last_ratio >= RATIO_EVERY_MS) {
		c->last_ratio = now;
		if (build_view(c, &v, !cluster_is_leader(c->cl)) == 0) {
			c->has_ratio = v.budget_usd > 0 || v.used_ratio > 0;
			c->ratio = v.used_ratio;
			check_alert(c, &v);
		}
		free(v.mem);
	}
}

struct cost *cost_start(uv_loop_t *loop, struct cluster *cl,
			const struct cost_conf *conf,
			const struct cost_hooks *hooks)
{
	struct cost *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->loop = loop;
	c->cl = cl;
	c->conf = conf;
	c->hooks = hooks;
	/* a random id per process: the leader knows when our counters
	 * started over */
	while (!c->boot)
		randombytes_buf(&c->boot, sizeof(c->boot));
	c->last_commit = uv_now(loop);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	uv_timer_start(&c->timer, tick, TICK_MS, TICK_MS);
	return c;
}

/* The leader answers (a CTLCMD_LEADER row); a follower forwards to it
 * (node/cluster/cluster_ext.c). */
static void on_status_cmd(void *arg, struct cl_req *r, int argc,
			  char **argv)
{
	struct cost *c = arg;
	char *text = NULL, *json = NULL;

	if (on_status(c, !cluster_is_leader(c->cl), argc, argv, &text,
		      &json) < 0)
		cluster_reply(r, CTL_ERR, text ? text : "out of memory", NULL,
			      NULL);
	else
		cluster_reply(r, CTL_OK, NULL, text, json);
	free(text);
	free(json);
}

int cost_register(struct cost *c, struct ctl *ctl)
{
	if (!c->cl)
		return 0;
	return cluster_command(c->cl, ctl, "cost status", on_status_cmd, c);
}

uint64_t cost_provider_used(const struct cost *c, const char *provider)
{
	const struct fsm *f = c && c->cl ? cluster_fsm(c->cl) : NULL;
	const struct fsm_ledger *e;
	char month[8];
	uint64_t sum = 0;
	unsigned i, n;

	if (!f || !provider)
		return 0;
	ledger_month(cluster_wall_ms(), month);
	n = fsm_ledger_count(f);
	for (i = 0; i < n; i++) {
		e = fsm_ledger_at(f, i);
		if (strcmp(e->month, month) == 0 &&
		    strcmp(e->provider, provider) == 0)
			sum += ledger_total(e->bytes);
	}
	return sum;
}

int cost_used_ratio(const struct cost *c, double *ratio)
{
	*ratio = c && c->has_ratio ? c->ratio : 0;
	return c && c->has_ratio;
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

void cost_stop(struct cost *c)
{
	if (!c)
		return;
	c->stopping = 1;
	if (c->hook)
		child_cancel(c->hook);
	c->hook = NULL;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, closed);
}
