/*
 * cluster_cost: what the cost guard (node/cost) needs of the cluster.
 * - Each member's egress counters ride on its status to the leader every
 *   CLUSTER_EGRESS_EVERY_MS (not on every status: each byte of status is
 *   egress too); the leader keeps the latest per member.
 * - The leader proposes ledger entries that node/cost computed.
 * Its commands and the replicated state it reads go through the
 * subsystem API of cluster_ext.c.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/ctl/ctl.h"

#define CL_COST_PEERS 64

struct cost_seen {
	uint64_t id;
	uint64_t boot;
	uint64_t bytes[CLUSTER_EGRESS_CLASSES];
	uint64_t at;               /* loop ms */
	int governor;
};

struct cl_cost {
	uint64_t boot;             /* ours, 0 until cluster_egress_set */
	uint64_t bytes[CLUSTER_EGRESS_CLASSES];
	int governor;
	uint64_t set_at;
	uint64_t last_sent;        /* loop ms */
	struct cost_seen seen[CL_COST_PEERS];
	unsigned n_seen;
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

	if (!cl->drv || !cl->ready_done || !cl_is_leader(cl) ||
	    !fsm_version_ok(cl->fsm, 4))
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
