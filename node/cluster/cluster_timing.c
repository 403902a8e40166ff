/*
 * cluster_timing: the timing in force on this member. After every applied
 * entry it resolves the keys the cluster profile sets (a replicated value,
 * else the file's, else the profile's, else the default: cluster_config.c)
 * and puts what changed in force: the election timeout at once, the
 * transport's keepalive, idle-close and user timeout (cluster_tr.c), the status interval (cluster_app.c) and the WireGuard keepalive
 * (cluster_wg.c renders it). The heartbeat follows node/cluster/cpace.h on
 * the leader: slower only once every voter reported an election timeout
 * that allows it, faster at once, and fast in bursts while it has news
 * for the followers (below). A change of timing sends our status at
 * once, so that the leader learns it without waiting an interval.
 */
#include "node/cluster/cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/cluster/ckey.h"
#include "node/cluster/cpace.h"

/* While the leader has something to tell (entries not committed, a
 * transfer or a promotion under way) and for BURST_TAIL_MS after its
 * commit index moved, it heartbeats every BURST_MS whatever the profile:
 * libraft sends a follower it thinks lagging (probe mode) at most one
 * message per heartbeat, and followers learn the commit index only from
 * the next message; at a 30 s heartbeat a write would otherwise wait up
 * to 30 s to commit and as long again to reach the followers. A burst
 * also sends every follower its heartbeat in one tick, which puts their
 * heartbeats back in step. */
#define BURST_MS 50
#define BURST_TAIL_MS 100

struct cl_times {
	struct cl_timing t;        /* what the keys say */
	int have;                  /* t resolved from the FSM at least once */
	unsigned settled;          /* heartbeat outside bursts, 0: not yet */
	uint64_t commit;           /* commit index last seen (leader) */
	uint64_t commit_at;        /* loop ms it moved */
};

/* A key's value in force as a number of ms (integers are ms already;
 * "0s" is 0); def when it does not read (a value of a newer release). */
static unsigned key_ms(struct cluster *cl, const char *key, unsigned def)
{
	const struct ckey_info *k = ckey_find(key);
	enum ckey_source src;
	char tmp[32];
	const char *v;
	long long ms;
	char *end;

	if (!k)
		return def;
	v = cl_config_value(cl, k, &src, tmp, sizeof(tmp));
	if (strcmp(v, "0s") == 0)
		return 0;
	ms = strtoll(v, &end, 10);
	if (end == v || ms < 0)
		return def;
	if (*end)
		ms = ckey_parse_duration_ms(v);
	return ms < 0 || ms > 0x7fffffffLL ? def : (unsigned)ms;
}

static void resolve(struct cluster *cl, struct cl_timing *t)
{
	memset(t, 0, sizeof(*t));
	t->election_ms = key_ms(cl, "election-timeout",
				DRV_ELECTION_TIMEOUT_MS);
	t->heartbeat_ms = key_ms(cl, "heartbeat-timeout",
				 DRV_HEARTBEAT_TIMEOUT_MS);
	t->status_ms = key_ms(cl, "status-interval", 250);
	t->tr.keepalive_ms = key_ms(cl, "transport-keepalive", 10000);
	t->tr.idle_close_ms = key_ms(cl, "transport-idle-close", 45000);
	t->tr.user_timeout_ms = key_ms(cl, "transport-user-timeout", 15000);
	t->wg_keepalive_s = key_ms(cl, "wg-keepalive", 25000) / 1000;
	if (t->status_ms == 0)
		t->status_ms = 250;
}

const struct cl_timing *cl_timing(struct cluster *cl)
{
	static struct cl_timing stopped;

	if (!cl->times) {
		/* stopping: what the defaults say */
		resolve(cl, &stopped);
		return &stopped;
	}
	if (!cl->times->have)
		resolve(cl, &cl->times->t);
	return &cl->times->t;
}

unsigned cluster_status_ms(struct cluster *cl)
{
	return cl_timing(cl)->status_ms;
}

/* ---------------------------------------------------------------- */
/* the heartbeat */

/* Whether the leader has something to tell its followers now. */
static int busy(struct cluster *cl, struct raft *r)
{
	struct cl_times *ts = cl->times;
	uint64_t commit = raft_commit_index(r), now = cl_now(cl);

	if (commit != ts->commit) {
		ts->commit = commit;
		ts->commit_at = now;
	}
	return raft_last_index(r) > commit || raft_transferee(r) ||
	       r->leader_state.promotee_id ||
	       now - ts->commit_at < BURST_TAIL_MS;
}

static void pace(struct cluster *cl)
{
	struct cl_times *ts = cl->times;
	const struct raft_configuration *c;
	struct cpace_voter v[CL_MAX_PEERS];
	unsigned target, h, was, i;
	size_t n = 0;
	struct raft *r;

	if (!ts || !cl->drv || drv_failed(cl->drv))
		return;
	r = drv_raft(cl->drv);
	/* The keys are first resolved while the log is replayed, before the
	 * driver exists (drv_open applies what is committed): the driver then
	 * starts with the file's or the built-in election timeout, and the
	 * profile's must be put in force here, or a restarted member would
	 * run wan with lan's 500 ms (a leader stepping down, a follower
	 * standing, after half a second without contact). */
	if (r->election_timeout != cl_timing(cl)->election_ms)
		raft_set_election_timeout(r, cl_timing(cl)->election_ms);
	target = cl_timing(cl)->heartbeat_ms;
	if (!ts->settled)
		ts->settled = r->heartbeat_timeout;
	was = ts->settled;
	if (!cl_is_leader(cl)) {
		/* A follower sends no heartbeats; it only never keeps a
		 * slower one than asked for, so that it starts leading at a
		 * pace its voters allow (cpace decides once it leads). */
		if (target < ts->settled)
			ts->settled = target;
		if (r->heartbeat_timeout != ts->settled)
			raft_set_heartbeat_timeout(r, ts->settled);
		return;
	}
	c = drv_conf(cl->drv);
	for (i = 0; c && i < c->n && n < CL_MAX_PEERS; i++) {
		const struct cl_peer *p;

		if (c->servers[i].role != RAFT_VOTER ||
		    c->servers[i].id == cl->self)
			continue;
		p = cl_peer(cl, c->servers[i].id, 0);
		v[n].reachable = cl_reachable(cl, c->servers[i].id);
		v[n].election_ms = p ? p->election_ms : 0;
		n++;
	}
	ts->settled = cpace_heartbeat(target, ts->settled, v, n);
	if (ts->settled != was) {
		if (ts->settled < target)
			log_info("raft heartbeat %u ms (was %u; %u once every "
				 "voter waits long enough)", ts->settled, was,
				 target);
		else
			log_info("raft heartbeat %u ms (was %u)", ts->settled,
				 was);
	}
	h = ts->settled;
	if (h > BURST_MS && busy(cl, r))
		h = BURST_MS;
	if (r->heartbeat_timeout != h)
		raft_set_heartbeat_timeout(r, h);
}

void cl_timing_kick(struct cluster *cl)
{
	pace(cl);
}

unsigned cl_heartbeat_in_force(struct cluster *cl)
{
	return cl->times && cl->times->settled ? cl->times->settled :
	       cl_timing(cl)->heartbeat_ms;
}

void cl_timing_reported(struct cluster *cl)
{
	pace(cl);
}

/* ---------------------------------------------------------------- */
/* the observer: keys -> what is in force */

static void timing_apply(struct cluster *cl)
{
	struct cl_times *ts = cl->times;
	struct cl_timing n, old = ts->t;
	int had = ts->have;
	const char *prof = fsm_config_get(cl->fsm, CKEY_CLUSTER_PROFILE);

	resolve(cl, &n);
	ts->have = 1;
	if (had && memcmp(&n, &old, sizeof(n)) == 0)
		return;
	ts->t = n;
	if (cl->drv && (!had || n.election_ms != old.election_ms))
		raft_set_election_timeout(drv_raft(cl->drv), n.election_ms);
	if (!had || memcmp(&n.tr, &old.tr, sizeof(n.tr)) != 0)
		cl_tr_timing(cl, &n.tr);
	log_info("timing (profile %s): election %u ms, heartbeat %u ms, "
		 "status every %u ms; transport keepalive %u ms, idle close "
		 "%u ms, user timeout %u ms; wireguard keepalive %u s",
		 prof ? prof : "lan, default", n.election_ms, n.heartbeat_ms,
		 n.status_ms, n.tr.keepalive_ms, n.tr.idle_close_ms,
		 n.tr.user_timeout_ms, n.wg_keepalive_s);
	cl_status_soon(cl);
	pace(cl);
}

/* init on a cloud VM: the fleet spans providers, its bytes cost money. */
int cl_timing_init_propose(struct cluster *cl)
{
	const char *p = cl->conf->provider;
	void *buf;
	size_t len;

	if (fsm_config_get(cl->fsm, CKEY_CLUSTER_PROFILE) ||
	    (strcmp(p, "aws") != 0 && strcmp(p, "gcp") != 0))
		return 0;
	log_info("init: provider %s: cluster-profile wan (docs/cost.md)", p);
	if (fsm_cmd_config_set(CKEY_CLUSTER_PROFILE, "wan", cl_wall_ms(), &buf,
			       &len) < 0)
		return -1;
	return cl_propose(cl, buf, len, NULL, NULL, NULL) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- */
/* the module */

static int timing_init(struct cluster *cl)
{
	cl->times = calloc(1, sizeof(*cl->times));
	if (!cl->times)
		return -1;
	cl_observe(cl, timing_apply);
	return 0;
}

static void timing_chores(struct cluster *cl)
{
	pace(cl);
}

static void timing_stop(struct cluster *cl)
{
	free(cl->times);
	cl->times = NULL;
}

const struct cl_module cl_timing_module = {
	timing_init, timing_chores, timing_stop,
};
