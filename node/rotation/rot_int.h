/*
 * Internals of node/rotation, split by concern:
 *
 *   rotation.c  lifetime, the scheduler's clock, the tick, this member's
 *               status part, hook runs the leader asks of this member,
 *               the metrics view
 *   rview.c     the state as the planner and the reconciler see it: each
 *               member's schedule, hours, state and whether it serves
 *   rrec.c      the leader's reconciler: one safe step at a time
 *   rcall.c     hook calls of the leader: run here or on a member that
 *               has the hook, retried with back-off
 *   rledger_run.c the leader's hours ledger: uptime reports, hourly commits
 *   rcmd.c      rotation set|unset|status|plan, the min-serving check
 *   rstop.c     rotation freeze|resume, emergency-shutdown's steps
 *
 * and the pure parts: rwin (windows), rplan (plan), rcal (months),
 * rledger (ledger arithmetic), rhook (running one hook).
 */
#ifndef NTPMC_ROT_INT_H
#define NTPMC_ROT_INT_H

#include <stdint.h>
#include <uv.h>

#include "node/cluster/cluster.h"
#include "node/rotation/rhook.h"
#include "node/rotation/rotation.h"
#include "node/rotation/rplan.h"
#include "node/rotation/rwin.h"
#include "raft/fsm.h"

#define ROT_KIND "rotation"            /* cluster message and status kind */
#define ROT_TICK_MS 1000               /* re-evaluation at least this often */
#define ROT_SOON_MS 100                /* after an applied entry */
#define ROT_POLL_MS 600000             /* hook status of a stopped member */
#define ROT_POLL_UNREACH_MS 15000      /* ... of a running one not heard */
#define ROT_POLL_STEP_MS 2000          /* ... that a start or stop waits on */
#define ROT_RETRY_MIN_MS 2000          /* a failed hook: back-off from ... */
#define ROT_RETRY_MAX_MS 60000         /* ... doubling up to this */
#define ROT_ALERT_TRIES 3              /* failures before an alert */
#define ROT_CALLS_MAX 16               /* hook calls in flight */
#define ROT_JOBS_MAX 8                 /* hooks run here for the leader */
#define ROT_CHECK_DAYS 7               /* rotation set's simulation */
#define ROT_DAY_MS 86400000LL
#define ROT_ALERTS_MAX 8
#define ROT_START_TIMEOUT_DEFAULT "600s"

/* Phases of a rotation record (raft/fsm.h fsm_rot.phase), by state. */
enum { ROT_RN_PLANNED, ROT_RN_FOUND };                /* running */
enum { ROT_ST_HOOK, ROT_ST_WAIT };                    /* starting */
enum { ROT_SP_LEADER, ROT_SP_VOTE, ROT_SP_DRAIN, ROT_SP_HOOK,
       ROT_SP_FAILED };                               /* stopping */
enum { ROT_SD_PLANNED, ROT_SD_FAILED, ROT_SD_FOUND }; /* stopped */

/* ---- rview.c: one evaluation's picture ---- */
struct rot_mview {
	const struct fsm_member *fm;
	const struct fsm_rot *rec;     /* NULL: never touched: running */
	int state;                     /* enum fsm_rot_state */
	int phase;
	struct cluster_peer_view cv;
	int suspect;
	int has_hook_runner;           /* someone can run its provider's hook */
	int serving;                   /* counted: running, reachable, synced,
					* not suspect, not parked */
	int64_t committed_ms;          /* ledger, this month */
	int64_t pending_ms;            /* counted since, not committed yet */
	const char *windows;           /* the entry that applies; NULL none */
	const char *entry;             /* its target */
};

struct rot_view {
	int64_t now;                   /* scheduler ms */
	uint64_t wall;                 /* served ms */
	int min_serving;
	int64_t start_timeout_ms;
	struct rplan plan;             /* inputs, same index as m[] */
	struct rot_mview m[RPLAN_MAX];
	size_t n;
	struct rwin win[FSM_SCHED_MAX];
	struct rplan_out out[RPLAN_MAX];
	int voters;                    /* in the configuration now */
};

/* ---- the leader's memory (lost with leadership: the FSM has the rest) */
struct rot_mem {
	uint64_t id;
	int64_t up_since, last_seen;   /* scheduler ms, ledger */
	uint64_t polled_at;            /* loop ms of the last status asked */
	int hook_state;                /* its last answer (rhook_state) */
	uint64_t hook_state_at;        /* loop ms, 0 never */
	int tries;                     /* failed hook runs of the step */
	uint64_t retry_at;             /* loop ms */
	int acted;                     /* the step's hook action succeeded */
	uint64_t acted_at;             /* loop ms */
	char alert[FSM_REASON_MAX + 1];/* a hook that keeps failing, "" */
	/* scheduler ms this leader asked the cloud to start / stop it: the
	 * VM runs (is billed) from the one to the other */
	int64_t start_asked, stop_asked;
	char why[FSM_REASON_MAX + 1];  /* what the step waits for, "" */
};

/* A hook call's end for someone other than the reconciler (the
 * emergency shutdown): res NULL when it was cancelled (leadership lost,
 * the rotation stopping: r->closing) and will never end. */
typedef void (*rot_hook_fn)(struct rotation *r, void *arg,
			    const struct rhook_result *res);

struct rot_call {
	struct rotation *r;
	int used;
	rot_hook_fn fn;                /* NULL: the reconciler's */
	void *fn_arg;
	uint64_t member;               /* whose VM */
	int action;
	uint64_t peer;                 /* run there; 0: here */
	uint64_t req_id;
	uint64_t deadline;             /* loop ms */
	int64_t asked;                 /* scheduler ms it was asked */
	struct rhook *local;
};

struct rot_lead {
	unsigned gen;                  /* tells a stale answer from ours */
	struct rot_mem mem[RPLAN_MAX];
	size_t n_mem;
	struct rot_call calls[ROT_CALLS_MAX];
	uint64_t next_req;
	int busy;                      /* a step proposal in flight */
	int64_t ledger_hour;           /* scheduler hour last committed */
	int ledger_busy;
	/* plan alerts (an allowance min-serving keeps from being kept) */
	char alerts[ROT_ALERTS_MAX][FSM_REASON_MAX + 1];
	unsigned n_alerts;
	char blocked[FSM_REASON_MAX + 1]; /* why nothing moves, "" */
};

/* An emergency shutdown step waiting for a hook (rstop.c). */
#define ROT_ES_MAX 8
struct rot_es {
	struct rotation *r;
	int used;
	struct cl_req *req;            /* ntpctl's request; NULL: a relay */
	uint64_t from, from_req;       /* leader: the relay it answers */
	uint64_t leader, req_id;       /* a relay this member sent */
	uint64_t deadline;             /* loop ms, relays sent */
	struct rhook *h;               /* the hook run here */
	int action;
	char name[FSM_NAME_MAX + 1];
	char provider[16];
};

/* A hook this member runs for the leader. */
struct rot_job {
	struct rotation *owner;
	int used;
	uint64_t leader, req_id;
	struct rhook *h;
};

struct rotation {
	uv_loop_t *loop;
	struct cluster *cl;
	const struct rot_conf *conf;
	uv_timer_t tick, soon;
	int handles;                   /* open uv handles */
	int closing;
	int pending;                   /* proposals not answered yet */
	uint64_t start_loop_ms;        /* for our uptime */
	rotation_suspect_fn suspect;
	void *suspect_arg;
	struct rot_lead *lead;         /* leader only */
	struct rot_job jobs[ROT_JOBS_MAX];
	struct rot_es es[ROT_ES_MAX];
	uint64_t es_next;              /* relay request ids */
	struct rot_view *view;         /* scratch, one evaluation at a time */
	uint64_t placed_at;            /* loop ms the view was built for */
	int placed_ok;                 /* rotation_planned_on */
};

/* ---- rotation.c ---- */
int64_t rot_now(const struct rotation *r);          /* scheduler ms */
int64_t rot_real_to_sched(const struct rotation *r, int64_t ms);
/* The local hook for provider, or NULL. */
const char *rot_hook_path(const struct rotation *r, const char *provider);
unsigned rot_hook_timeout(const struct rotation *r);
/* Proposes buf (taken) with done(r, arg, err, result); counts it. arg
 * (malloc()ed or NULL) is the done's to free; on failure (-1, done never
 * runs) and after a stop it is freed here. */
typedef void (*rot_done_fn)(struct rotation *r, void *arg, int err,
			    int result);
int rot_propose(struct rotation *r, void *buf, size_t len, rot_done_fn done,
		void *arg);
void rot_soon(struct rotation *r);

/* ---- rview.c ---- */
/* Fills r->view from the replicated state (and, on the leader, its
 * memory). 0, or -1 when the state cannot be read (never expected). */
int rot_view_build(struct rotation *r);
/* The schedule entry text and target that apply to member fm (NULL,
 * NULL: none), from the FSM's schedule. */
const char *rot_windows_for(const struct fsm *f, const struct fsm_member *fm,
			    const char **target);
/* Member view index of id, or -1. */
int rot_view_find(const struct rot_view *v, uint64_t id);
/* Whether member i came up fully: serving, caught up, and a voter when
 * the role policy wants more voters. */
int rot_view_ready(const struct rot_view *v, size_t i,
		   int voter_target);
/* Hours in ms as "12.5". */
void rot_fmt_hours(int64_t ms, char *out, size_t len);
/* Allowances from the replicated keys into p. */
void rot_allowances(const struct fsm *f, struct rplan *p);
int rot_min_serving(const struct fsm *f);

/* ---- rcall.c ---- */
/* Who can run provider's hook for member (never the member itself for a
 * stop): 0 and *peer (0: here), or -1. */
int rot_runner(struct rotation *r, const struct fsm_member *m, int action,
	       uint64_t *peer);
/* Starts action on m's VM; -1 (with why in the leader's waiting) when it
 * cannot now. done is rot_call_done (rrec.c). */
int rot_call(struct rotation *r, const struct fsm_member *m, int action);
/* The same, ending in fn(r, arg, res) instead of the reconciler. */
int rot_call_fn(struct rotation *r, const struct fsm_member *m, int action,
		rot_hook_fn fn, void *arg);
int rot_call_busy(struct rotation *r, uint64_t member, int action);
void rot_calls_chores(struct rotation *r);   /* deadlines */
void rot_calls_cancel(struct rotation *r, struct rot_lead *l);
/* A RotHookRes from a member. */
void rot_call_answer(struct rotation *r, uint64_t from, uint64_t req_id,
		     const struct rhook_result *res);
/* This member runs a hook for the leader (a RotHookReq). */
void rot_job_request(struct rotation *r, uint64_t from, uint64_t req_id,
		     int action, const char *provider, const char *region,
		     const char *instance);
void rot_jobs_cancel(struct rotation *r);
/* A RotHookRes to member to. */
void rot_send_res(struct rotation *r, uint64_t to, uint64_t req_id,
		  const struct rhook_result *res);

/* ---- rrec.c ---- */
void rot_rec_run(struct rotation *r);
void rot_lead_free(struct rotation *r);
struct rot_mem *rot_mem(struct rotation *r, uint64_t id);
/* A hook call ended (here or on a member). */
void rot_call_done(struct rotation *r, uint64_t member, int action,
		   const struct rhook_result *res);
/* Logs (warning) and records (audit trail) an alert. */
void rot_alert(struct rotation *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Member i's state as the status shows it, and its reason (never
 * empty). */
const char *rot_state_shown(struct rotation *r, size_t i);
void rot_reason(struct rotation *r, size_t i, char *buf, size_t len);

/* 1 when the replicated state says the rotation is frozen (no step, no
 * hook), with what the status shows as blocked in why; else 0 and why
 * untouched. */
int rot_frozen_why(const struct fsm *f, char *why, size_t len);

/* ---- rstop.c ---- */
int rot_stop_register(struct rotation *r, struct ctl *ctl);
/* Leader: a member asks it to run a hook action (RotRelay). */
void rot_es_relay(struct rotation *r, uint64_t from, uint64_t req_id,
		  int action, uint64_t member);
/* A RotHookRes: 1 when it answered one of our relays. */
int rot_es_answer(struct rotation *r, uint64_t from, uint64_t req_id,
		  const struct rhook_result *res);
void rot_es_chores(struct rotation *r);   /* relays' deadlines */
void rot_es_cancel(struct rotation *r);   /* stopping: each answered so */

/* ---- rledger_run.c ---- */
/* Before the view: what the members' status parts say of their uptime. */
void rot_ledger_observe(struct rotation *r);
/* After it: the hourly commit. */
void rot_ledger_commit(struct rotation *r);

/* ---- rcmd.c ---- */
int rot_cmd_register(struct rotation *r, struct ctl *ctl);
struct strbuf;
struct json;
void rot_reply(struct cl_req *req, struct strbuf *t, struct json *j);
/* `config set min-serving N`: the 7-day check (cluster_check_fn). */
int rot_check_config(void *arg, const char *key, const char *value,
		     char *err, size_t errlen);

#endif
