/*
 * cluster_drain: moving votes and leadership on purpose.
 *
 * - The leader's role policy (node/cluster/cpol.h) runs here on the raft
 *   configuration plus what only the FSM knows: the `drained` flag and the
 *   rotation's `parked` flag.
 * - ntpctl node drain NODE commits the flag; the policy then promotes a
 *   replacement if one is coming, hands leadership away if NODE leads, and
 *   demotes NODE to spare. The command answers once NODE is spare (or
 *   after DRAIN_WAIT_MS, saying what is left). node undrain clears it.
 * - cluster_handoff(): a leader asked to exit first transfers leadership,
 *   so that a planned restart costs no election timeout.
 */
#include "node/cluster/cluster_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/cluster/cpol.h"
#include "node/base/log.h"

/* Under the follower's forward deadline (CL_FWD_DEADLINE_MS): a forwarded
 * drain is answered by us, not by the follower's timeout. */
#define DRAIN_WAIT_MS 2500

struct cl_drain {
	struct cl_drain *next;
	struct cl_req *req;
	uint64_t id;
	uint64_t deadline;         /* loop ms */
};

struct cl_drains {
	/* drains answered once their member is spare */
	struct cl_drain *waiting;
	/* the handoff of a leader that exits (cluster_handoff) */
	struct cl_handoff {
		void (*done)(void *arg);
		void *arg;
		uint64_t until;    /* loop ms; 0: no handoff running */
		uint64_t to;
	} handoff;
	/* The last refused role change, said again only after
	 * REFUSED_REPEAT_MS: the policy retries on every tick. */
	int refused_rc;
	uint64_t refused_at;       /* loop ms */
};

#define REFUSED_REPEAT_MS 30000

static void waiting_chores(struct cluster *cl);

/* ---------------------------------------------------------------- */
/* the policy */

/* The configuration as the policy sees it; returns the member count. */
static unsigned pol_view(struct cluster *cl, struct cpol_member *m)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct raft *r = drv_raft(cl->drv);
	unsigned i, n = 0;

	for (i = 0; c && i < c->n && n < CL_MAX_PEERS; i++, n++) {
		const struct fsm_member *fm =
			fsm_member_find(cl->fsm, c->servers[i].id);
		const struct fsm_rot *rot;
		int st = RAFT_CATCH_UP_NONE, peers, has, verdict;
		double off;
		raft_index mi = 0;

		m[n].id = c->servers[i].id;
		m[n].role = c->servers[i].role;
		m[n].reachable = cl_reachable(cl, m[n].id);
		m[n].drained = fm && fm->drained;
		/* the rotation's flag (node/rotation), not the operator's */
		rot = fsm_rot_find(cl->fsm, m[n].id);
		m[n].parked = rot && rot->parked;
		m[n].match = raft_match_index(r, m[n].id, &mi) == 0 ? mi : 0;
		/* a voter or standby the log has not reached (the leader is
		 * current by definition) */
		m[n].lagging = m[n].id != cl->self &&
			       m[n].role != RAFT_SPARE &&
			       m[n].match + CLUSTER_CAUGHT_UP <
			       raft_last_index(r);
		/* as each member itself reports it */
		verdict = cl_check_of(cl, m[n].id, &peers, &has, &off);
		m[n].check_ok = verdict == CLUSTER_CHECK_OK;
		m[n].suspect = verdict == CLUSTER_CHECK_SUSPECT;
		if (m[n].role == RAFT_STANDBY) {
			drv_catch_up_status(cl->drv, m[n].id, &st);
			/* Already level with us: raft only ends a catch-up
			 * round on progress, so one started now would never
			 * finish (libraft's own raft_assign skips it too). */
			if (st != RAFT_CATCH_UP_RUNNING &&
			    m[n].match >= raft_last_index(r))
				st = RAFT_CATCH_UP_FINISHED;
		}
		m[n].catch_up = st;
	}
	return n;
}

int cl_voter_target(struct cluster *cl)
{
	struct cpol_member m[CL_MAX_PEERS];

	return cpol_target_voters(m, pol_view(cl, m));
}

static unsigned self_index(const struct cpol_member *m, unsigned n,
			   uint64_t self)
{
	unsigned i;

	for (i = 0; i < n && m[i].id != self; i++)
		;
	return i < n ? i : 0;
}

static void policy_conf_done(struct cluster *cl, struct cl_pend *p, int err,
			     int result)
{
	(void)p;
	(void)result;
	if (err)
		log_warnx("role change not committed: %s", cl_raft_err(err));
}

/* One raft configuration change (or catch-up, or transfer) at a time. */
static void policy_run(struct cluster *cl)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct cpol_member m[CL_MAX_PEERS];
	struct raft_configuration nc;
	struct cpol_action a;
	unsigned i, n;
	int rc = 0;

	if (!c || cl_conf_busy(cl) || raft_transferee(drv_raft(cl->drv)) ||
	    cl->drains->handoff.until)
		return;
	n = pol_view(cl, m);
	a = cpol_next(m, n, cl->self);
	switch (a.kind) {
	case CPOL_NONE:
		return;
	case CPOL_CATCH_UP:
		log_info("catching up %" PRIu64 " before promoting it", a.id);
		drv_catch_up(cl->drv, a.id);
		return;
	case CPOL_TRANSFER:
		log_info("role policy: this leader is %s: leadership to "
			 "%s (%" PRIu64 ")", m[self_index(m, n, cl->self)].suspect ?
			 "a cross-check suspect" : "leaving (drained or parked)",
			 cl_member_name(cl, a.id), a.id);
		rc = drv_transfer(cl->drv, a.id, CL_TRANSFER_DEADLINE_MS);
		if (rc)
			log_warnx("leadership transfer refused: %s",
				  cl_raft_err(rc));
		return;
	case CPOL_SET_ROLE:
		break;
	}
	raft_configuration_init(&nc);
	for (i = 0; i < c->n && rc == 0; i++)
		rc = raft_configuration_add(&nc, c->servers[i].id,
					    c->servers[i].address,
					    c->servers[i].id == a.id ?
					    a.role : c->servers[i].role);
	if (rc == 0)
		rc = cl_change(cl, &nc, policy_conf_done, NULL, NULL);
	if (rc == 0) {
		log_info("role policy: %" PRIu64 " -> %s", a.id,
			 raft_role_name(a.role));
		cl->drains->refused_rc = 0;
	} else if (rc != cl->drains->refused_rc ||
		   cl_now(cl) >= cl->drains->refused_at + REFUSED_REPEAT_MS) {
		log_warnx("role policy: %" PRIu64 " -> %s refused: %s "
			  "(retried on every tick; said again every %d s)",
			  a.id, raft_role_name(a.role), cl_raft_err(rc),
			  REFUSED_REPEAT_MS / 1000);
		cl->drains->refused_rc = rc;
		cl->drains->refused_at = cl_now(cl);
	}
	raft_configuration_close(&nc);
}

/* ---------------------------------------------------------------- */
/* node drain | undrain */

/* The member's record with the flag set to `on`, proposed; arg is taken
 * (free()d after done, or on failure). */
static int put_drained(struct cluster *cl, const struct fsm_member *old,
		       int on, cl_pend_fn done, struct cl_req *r, void *arg)
{
	struct fsm_member m = *old;    /* member_put replaces it all */

	m.drained = on;
	return cl_propose_member(cl, &m, done, r, arg);
}

/* NODE resolved to a member with a record; replies and returns NULL when
 * not. */
static const struct fsm_member *drain_target(struct cluster *cl,
					     struct cl_req *r, int argc,
					     char **argv, const char *usage)
{
	const struct fsm_member *fm;
	char msg[160];
	uint64_t id;

	if (argc != 1) {
		cl_fail(r, CTL_EUSAGE, "%s", usage);
		return NULL;
	}
	id = cl_resolve_node(cl, argv[0]);
	fm = id ? cl_member_latest(cl, id) : NULL;
	if (!fm) {
		snprintf(msg, sizeof(msg), "no such member: %.64s (ntpctl "
			 "cluster status lists them)", argv[0]);
		cl_fail(r, CTL_ERR, "%s", msg);
	}
	return fm;
}

/* How far a drain got: 2 spare (as this member's configuration says), 1
 * this drained leader handed over (the new leader demotes it, and as a
 * spare it will not hear of that), 0 still on its way. */
static int drain_progress(struct cluster *cl, uint64_t id)
{
	uint64_t leader = cl_leader_id(cl);

	if (cl_conf_role(cl, id) == RAFT_SPARE)
		return 2;
	return id == cl->self && leader && leader != cl->self;
}

static void drain_reply(struct cluster *cl, struct cl_req *r, uint64_t id,
			int progress)
{
	uint64_t leader = cl_leader_id(cl);
	const char *ln = leader ? cl_member_name(cl, leader) : "none";
	char msg[320];

	if (progress == 2)
		snprintf(msg, sizeof(msg), "drained %s (%" PRIu64 "): spare "
			 "now; leader is %s (%" PRIu64 ")\n",
			 cl_member_name(cl, id), id, ln, leader);
	else if (progress == 1)
		snprintf(msg, sizeof(msg), "drained %s (%" PRIu64 "): "
			 "leadership moved to %s (%" PRIu64 "), which demotes "
			 "it to spare\n", cl_member_name(cl, id), id, ln,
			 leader);
	else
		snprintf(msg, sizeof(msg), "drained %s (%" PRIu64 "): "
			 "recorded; still %s, the role policy is moving its "
			 "vote away (see ntpctl cluster status)\n",
			 cl_member_name(cl, id), id,
			 raft_role_name(cl_conf_role(cl, id)));
	cl_ok(r, msg, NULL);
}

static void drain_committed(struct cluster *cl, struct cl_pend *p, int err,
			    int result)
{
	struct cl_drain *w = p->arg;

	if (err || result != FSM_OK) {
		cl_fail(p->req, CTL_ERR, "%s", err ? cl_raft_err(err) :
			 "the member record was refused");
		return;
	}
	p->arg = NULL;             /* the waiter lives on in cl->drains */
	w->deadline = cl_now(cl) + DRAIN_WAIT_MS;
	w->next = cl->drains->waiting;
	cl->drains->waiting = w;
	waiting_chores(cl);
}

void cl_cmd_drain(struct cluster *cl, struct cl_req *r, int argc,
		  char **argv)
{
	const struct fsm_member *fm;
	struct cpol_member m[CL_MAX_PEERS];
	struct cl_drain *w;
	char msg[200];
	int rc, role;

	fm = drain_target(cl, r, argc, argv, "usage: node drain NODE");
	if (!fm)
		return;
	role = cl_conf_role(cl, fm->id);
	if (fm->drained) {
		snprintf(msg, sizeof(msg), "%s (%" PRIu64 ") is already "
			 "drained (%s now)\n", fm->name, fm->id,
			 raft_role_name(role));
		cl_ok(r, msg, NULL);
		return;
	}
	switch (cpol_drain_check(m, pol_view(cl, m), fm->id)) {
	case CPOL_DRAIN_LAST_VOTER:
		cl_fail(r, CTL_ERR,
			"refused: that member is the last voter and "
			"no other member can take its vote");
		return;
	case CPOL_DRAIN_QUORUM:
		cl_fail(r, CTL_ERR, "refused: without its vote the reachable "
			 "voters would not be a majority (quorum lost); bring "
			 "the unreachable voters back first");
		return;
	case CPOL_DRAIN_OK:
		break;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	w->req = r;
	w->id = fm->id;
	log_info("draining %s (%" PRIu64 ", %s)", fm->name, fm->id,
		 raft_role_name(role));
	rc = put_drained(cl, fm, 1, drain_committed, r, w);
	if (rc)
		cl_fail(r, CTL_ERR, "%s", cl_raft_err(rc));
}

static void undrain_done(struct cluster *cl, struct cl_pend *p, int err,
			 int result)
{
	uint64_t id = *(uint64_t *)p->arg;
	char msg[200];

	if (err || result != FSM_OK) {
		cl_fail(p->req, CTL_ERR, "%s", err ? cl_raft_err(err) :
			 "the member record was refused");
		return;
	}
	snprintf(msg, sizeof(msg), "undrained %s (%" PRIu64 "): the role "
		 "policy may promote it again\n", cl_member_name(cl, id), id);
	cl_ok(p->req, msg, NULL);
}

void cl_cmd_undrain(struct cluster *cl, struct cl_req *r, int argc,
		    char **argv)
{
	const struct fsm_member *fm;
	uint64_t *id;
	char msg[200];
	int rc;

	fm = drain_target(cl, r, argc, argv, "usage: node undrain NODE");
	if (!fm)
		return;
	if (!fm->drained) {
		snprintf(msg, sizeof(msg), "%s (%" PRIu64 ") is not drained\n",
			 fm->name, fm->id);
		cl_ok(r, msg, NULL);
		return;
	}
	id = malloc(sizeof(*id));
	if (!id) {
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	*id = fm->id;
	log_info("undraining %s (%" PRIu64 ")", fm->name, fm->id);
	rc = put_drained(cl, fm, 0, undrain_done, r, id);
	if (rc)
		cl_fail(r, CTL_ERR, "%s", cl_raft_err(rc));
}

/* ---------------------------------------------------------------- */
/* chores: drains waiting for their member, the exit handoff */

static void handoff_chores(struct cluster *cl)
{
	uint64_t leader = cl_leader_id(cl);
	struct cl_handoff *h = &cl->drains->handoff;
	void (*done)(void *arg) = h->done;

	if (!h->until)
		return;
	if (leader && leader != cl->self) {
		log_info("handoff: leader is now %s (%" PRIu64 "): exiting",
			 cl_member_name(cl, leader), leader);
	} else if (cl_now(cl) >= h->until) {
		log_warnx("handoff: %s (%" PRIu64 ") did not take over "
			  "within %d ms (%s): exiting anyway",
			  cl_member_name(cl, h->to), h->to,
			  CLUSTER_HANDOFF_MS, cl_is_leader(cl) ?
			  "still the leader" : "no leader known yet");
	} else {
		return;
	}
	h->until = 0;
	h->done = NULL;
	done(h->arg);
}

static void waiting_chores(struct cluster *cl)
{
	struct cl_drain **pp = &cl->drains->waiting, *w;
	uint64_t now = cl_now(cl);

	while ((w = *pp)) {
		int progress = drain_progress(cl, w->id);

		if (!progress && now < w->deadline) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		drain_reply(cl, w->req, w->id, progress);
		free(w);
	}
	handoff_chores(cl);
}

static void drains_chores(struct cluster *cl)
{
	waiting_chores(cl);
	/* After restore/recover, the old cluster's drained flags are not the
	 * operator's word until the clean-up has cleared those of the voters
	 * named: the policy would demote them first. */
	if (cl_is_leader(cl) && !cl_prune_pending(cl))
		policy_run(cl);
}

static int drains_init(struct cluster *cl)
{
	cl->drains = calloc(1, sizeof(*cl->drains));
	return cl->drains ? 0 : -1;
}

static void drains_stop(struct cluster *cl)
{
	struct cl_drain *w;

	if (!cl->drains)
		return;
	while ((w = cl->drains->waiting)) {
		cl->drains->waiting = w->next;
		cl_fail(w->req, CTL_ERR, "shutting down");
		free(w);
	}
	free(cl->drains);
	cl->drains = NULL;
}

const struct cl_module cl_drains_module = {
	drains_init, drains_chores, drains_stop,
};

int cluster_handoff(struct cluster *cl, void (*done)(void *arg), void *arg)
{
	struct cpol_member m[CL_MAX_PEERS];
	const struct cpol_member *to;
	int rc;

	if (!cl->drv || !cl_is_leader(cl) || cl->drains->handoff.until)
		return -1;
	to = cpol_successor(m, pol_view(cl, m), cl->self);
	if (!to) {
		log_info("handoff: no reachable voter to take over");
		return -1;
	}
	/* One that runs (ntpctl leader transfer) goes on; ours is known by
	 * its deadline. */
	if (!raft_transferee(drv_raft(cl->drv))) {
		rc = drv_transfer(cl->drv, to->id, CLUSTER_HANDOFF_MS);
		if (rc) {
			log_warnx("handoff: transfer refused (%s)",
				  cl_raft_err(rc));
			return -1;
		}
	}
	log_info("handoff: leadership to %s (%" PRIu64 ") before exiting "
		 "(at most %d ms)", cl_member_name(cl, to->id), to->id,
		 CLUSTER_HANDOFF_MS);
	cl->drains->handoff.done = done;
	cl->drains->handoff.arg = arg;
	cl->drains->handoff.to = to->id;
	cl->drains->handoff.until = cl_now(cl) + CLUSTER_HANDOFF_MS;
	return 0;
}
