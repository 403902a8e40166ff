/*
 * cluster_cost: what the cost guard (node/cost) needs of the cluster.
 * - Each member's egress counters ride on its status to the leader every
 *   CLUSTER_EGRESS_EVERY_MS (not on every status: each byte of status is
 *   egress too); the leader keeps the latest per member.
 * - The leader proposes ledger entries that node/cost computed.
 * - Commands answered by the leader for node/cost: a follower forwards
 *   them like the cluster's own (cluster_cmd.c), a member without a
 *   leader answers from its own view.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/ctl/ctl.h"

#define CL_COST_CMDS 4
#define CL_COST_PEERS 64

struct cost_seen {
	uint64_t id;
	uint64_t boot;
	uint64_t bytes[CLUSTER_EGRESS_CLASSES];
	uint64_t at;               /* loop ms */
	int governor;
};

struct cost_cmd {
	struct cluster *cl;
	const char *name;
	cluster_cmd_fn fn;
	void *arg;
};

struct cl_cost {
	uint64_t boot;             /* ours, 0 until cluster_egress_set */
	uint64_t bytes[CLUSTER_EGRESS_CLASSES];
	int governor;
	uint64_t set_at;
	uint64_t last_sent;        /* loop ms */
	struct cost_seen seen[CL_COST_PEERS];
	unsigned n_seen;
	struct cost_cmd cmds[CL_COST_CMDS];
	unsigned n_cmds;
};

void cluster_egress_set(struct cluster *cl, uint64_t boot,
			const uint64_t bytes[CLUSTER_EGRESS_CLASSES],
			int governor)
{
	if (!cl || !cl->cost)
		return;
	cl->cost->boot = boot;
	cl->cost->governor = governor;
	memcpy(cl->cost->bytes, bytes, sizeof(cl->cost->bytes));
	cl->cost->set_at = cl_now(cl);
}

void cl_cost_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s,
			 uint64_t *bytes)
{
	struct cl_cost *c = cl->cost;
	uint64_t now = cl_now(cl);

	if (!c || !c->boot || (c->last_sent &&
			       now - c->last_sent < CLUSTER_EGRESS_EVERY_MS))
		return;
	c->last_sent = now;
	memcpy(bytes, c->bytes, sizeof(c->bytes));
	s->egress_boot = c->boot;
	s->egress_bytes = bytes;
	s->n_egress_bytes = CLUSTER_EGRESS_CLASSES;
	s->egress_governor = (uint32_t)c->governor;
}

static struct cost_seen *seen(struct cl_cost *c, uint64_t id, int create)
{
	unsigned i;

	for (i = 0; i < c->n_seen; i++)
		if (c->seen[i].id == id)
			return &c->seen[i];
	if (!create)
		return NULL;
	if (c->n_seen == CL_COST_PEERS) {
		/* full: the one heard from longest ago goes */
		unsigned old = 0;

		for (i = 1; i < c->n_seen; i++)
			if (c->seen[i].at < c->seen[old].at)
				old = i;
		c->seen[old] = c->seen[--c->n_seen];
	}
	memset(&c->seen[c->n_seen], 0, sizeof(c->seen[0]));
	c->seen[c->n_seen].id = id;
	return &c->seen[c->n_seen++];
}

void cl_cost_status_seen(struct cluster *cl, uint64_t id,
			 const Ntpmc__MemberStatus *s)
{
	struct cost_seen *x;
	size_t i;

	if (!cl->cost || !s->egress_boot ||
	    s->n_egress_bytes != CLUSTER_EGRESS_CLASSES ||
	    !fsm_member_find(cl->fsm, id))
		return;
	x = seen(cl->cost, id, 1);
	x->boot = s->egress_boot;
	for (i = 0; i < CLUSTER_EGRESS_CLASSES; i++)
		x->bytes[i] = s->egress_bytes[i];
	x->governor = s->egress_governor <= 2 ? (int)s->egress_governor : 0;
	x->at = cl_now(cl);
}

int cluster_egress_of(struct cluster *cl, uint64_t id,
		      struct cluster_egress *out)
{
	struct cl_cost *c = cl ? cl->cost : NULL;
	struct cost_seen *x;

	memset(out, 0, sizeof(*out));
	if (!c)
		return -ENOENT;
	if (id == cl->self) {
		if (!c->boot)
			return -ENOENT;
		out->boot = c->boot;
		memcpy(out->bytes, c->bytes, sizeof(out->bytes));
		out->age_ms = cl_now(cl) - c->set_at;
		out->governor = c->governor;
		return 0;
	}
	x = seen(c, id, 0);
	if (!x)
		return -ENOENT;
	out->boot = x->boot;
	memcpy(out->bytes, x->bytes, sizeof(out->bytes));
	out->age_ms = cl_now(cl) - x->at;
	out->governor = x->governor;
	return 0;
}

const struct fsm *cluster_fsm(struct cluster *cl)
{
	return cl && cl->fsm && cl->ready_done ? cl->fsm : NULL;
}

int cluster_is_leader(struct cluster *cl)
{
	return cl && cl->drv && cl->ready_done && cl_is_leader(cl);
}

static void ledger_done(struct cluster *cl, struct cl_pend *p, int err,
			int result)
{
	(void)cl;
	(void)p;
	(void)err;
	(void)result;
}

int cluster_ledger_put(struct cluster *cl, const struct fsm_ledger *e)
{
	void *buf;
	size_t len;

	if (!cluster_is_leader(cl) || !fsm_version_ok(cl->fsm, 3))
		return -EAGAIN;
	if (fsm_cmd_ledger(e, cl_wall_ms(), &buf, &len) < 0)
		return -ENOMEM;
	return cl_propose(cl, buf, len, ledger_done, NULL, NULL) == 0 ?
		       0 : -EAGAIN;
}

struct alert_wait {
	void (*done)(void *arg, int ok);
	void *arg;
};

static void alert_done(struct cluster *cl, struct cl_pend *p, int err,
		       int result)
{
	struct alert_wait *w = p->arg;

	(void)cl;
	w->done(w->arg, err == 0 && result == FSM_OK);
}

int cluster_cost_alert(struct cluster *cl, const char *value,
		       void (*done)(void *arg, int ok), void *arg)
{
	struct alert_wait *w;
	void *buf;
	size_t len;

	if (!cluster_is_leader(cl))
		return -EAGAIN;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->done = done;
	w->arg = arg;
	if (fsm_cmd_config_set(CLUSTER_COST_ALERT_KEY, value, cl_wall_ms(),
			       &buf, &len) < 0) {
		free(w);
		return -ENOMEM;
	}
	/* w is cl_propose's arg: free()d after alert_done */
	if (cl_propose(cl, buf, len, alert_done, NULL, w) != 0)
		return -EAGAIN;
	return 0;
}

/* ---------------------------------------------------------------- */
/* commands answered for node/cost */

static void run(struct cost_cmd *k, struct cl_req *r, int local, int argc,
		char **argv)
{
	char *text = NULL, *json = NULL;

	if (k->fn(k->arg, local, argc, argv, &text, &json) < 0) {
		cl_fail(r, CTL_ERR, "%s", text ? text : "out of memory");
	} else {
		cl_ok(r, text, json);
	}
	free(text);
	free(json);
}

static struct cost_cmd *find_cmd(struct cluster *cl, const char *name)
{
	unsigned i;

	for (i = 0; cl->cost && i < cl->cost->n_cmds; i++)
		if (strcmp(cl->cost->cmds[i].name, name) == 0)
			return &cl->cost->cmds[i];
	return NULL;
}

int cl_cost_forwarded(struct cluster *cl, struct cl_req *r,
		      const char *command, int argc, char **argv)
{
	struct cost_cmd *k = find_cmd(cl, command);

	if (!k)
		return -1;
	run(k, r, 0, argc, argv);
	return 0;
}

static void on_ctl(void *arg, struct ctl_call *call, int argc, char **argv)
{
	struct cost_cmd *k = arg;
	struct cluster *cl = k->cl;
	struct cl_req *r = cl_req_local(cl, call);

	if (!r)
		return;
	if (cl_is_leader(cl) ||
	    cl_forward(cl, r, k->name, argc, argv, 0) != 0)
		run(k, r, !cl_is_leader(cl), argc, argv);
}

int cluster_command(struct cluster *cl, struct ctl *ctl, const char *name,
		    cluster_cmd_fn fn, void *arg)
{
	struct cost_cmd *k;

	if (!cl || !cl->cost || cl->cost->n_cmds == CL_COST_CMDS)
		return -1;
	k = &cl->cost->cmds[cl->cost->n_cmds];
	k->cl = cl;
	k->name = name;
	k->fn = fn;
	k->arg = arg;
	if (ctl_register(ctl, name, on_ctl, k) < 0)
		return -1;
	cl->cost->n_cmds++;
	return 0;
}

/* ---------------------------------------------------------------- */

static int cost_init(struct cluster *cl)
{
	cl->cost = calloc(1, sizeof(*cl->cost));
	return cl->cost ? 0 : -1;
}

static void cost_stop(struct cluster *cl)
{
	free(cl->cost);
	cl->cost = NULL;
}

const struct cl_module cl_cost_module = {
	cost_init, NULL, cost_stop,
};
