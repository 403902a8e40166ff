/*
 * cluster_place: the leader puts itself where the egress is
 * (node/cluster/cplace.h has the rule). Every PLACE_EVERY_MS it builds each
 * member's view (voter, reachable, caught up, drained, planned on by the
 * rotation, its provider's allowance to spare) and hands leadership over
 * when the rule says so. It waits until it has led for a while (the
 * members' status must have arrived), never acts while a configuration
 * change or a transfer is under way, and after a transfer it started
 * waits PLACE_RETRY_MS before it tries again.
 */
#include "node/cluster/cluster_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/base/log.h"
#include "node/cluster/ckey.h"
#include "node/cluster/cplace.h"

#define PLACE_EVERY_MS 1000
#define PLACE_SETTLE_MIN_MS 10000  /* led at least this long (and 2 status
				      intervals) before moving */
#define PLACE_RETRY_MS 300000

struct cl_place {
	struct cluster_placement hooks;
	uint64_t last_run;
	uint64_t leading_since;     /* loop ms, 0: not leading */
	uint64_t not_before;        /* after a transfer we started */
};

void cluster_set_placement(struct cluster *cl,
			   const struct cluster_placement *p)
{
	if (cl->place)
		cl->place->hooks = *p;
}

static int planned_on(struct cluster *cl, uint64_t id)
{
	const struct cluster_placement *h = &cl->place->hooks;

	return h->planned_on ? h->planned_on(h->arg, id) != 0 : 1;
}

/* The provider's allowance in bytes (0: none) from its key, if any. */
static long long allowance(struct cluster *cl, const char *provider)
{
	char key[sizeof(CKEY_EGRESS_ALLOWANCE_PREFIX) + 16], tmp[32];
	const struct ckey_info *k;
	enum ckey_source src;
	const char *v;
	char *end;
	long long b;

	snprintf(key, sizeof(key), CKEY_EGRESS_ALLOWANCE_PREFIX "%s",
		 provider);
	k = ckey_find(key);
	if (!k)
		return 0;
	v = cl_config_value(cl, k, &src, tmp, sizeof(tmp));
	b = strtoll(v, &end, 10);
	/* canonical: digits and a unit (ckey.c fmt_bytes) */
	switch (*end) {
	case 'k': return b * 1000LL;
	case 'M': return b * 1000000LL;
	case 'G': return b * 1000000000LL;
	case 'T': return b * 1000000000000LL;
	default: return b;
	}
}

static unsigned view(struct cluster *cl, struct cplace_member *m)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	const struct cluster_placement *h = &cl->place->hooks;
	unsigned i, j, n = 0;

	for (i = 0; c && i < c->n && n < CL_MAX_PEERS; i++, n++) {
		const struct fsm_member *fm =
			fsm_member_find(cl->fsm, c->servers[i].id);
		const char *prov = fm ? fm->provider : "other";
		long long all = allowance(cl, prov), used = 0;
		unsigned sharing = 0;
		uint64_t lag = 1;

		m[n].id = c->servers[i].id;
		m[n].voter = c->servers[i].role == RAFT_VOTER;
		m[n].reachable = cl_reachable(cl, m[n].id);
		m[n].caught_up = m[n].id == cl->self ||
				 (drv_member_lag(cl->drv, m[n].id, &lag) == 0 &&
				  lag == 0);
		m[n].drained = fm && fm->drained;
		m[n].planned_on = planned_on(cl, m[n].id);
		m[n].has_allowance = all > 0;
		/* A provider's allowance is shared by its members that the
		 * plan runs (docs/cost.md). */
		for (j = 0; j < c->n; j++) {
			const struct fsm_member *o =
				fsm_member_find(cl->fsm, c->servers[j].id);

			if (o && strcmp(o->provider, prov) == 0 &&
			    planned_on(cl, o->id))
				sharing++;
		}
		if (h->egress_used)
			used = (long long)h->egress_used(h->arg, prov);
		m[n].spare = sharing ? (all - used) / (long long)sharing : 0;
	}
	return n;
}

static void place_chores(struct cluster *cl)
{
	struct cl_place *pl = cl->place;
	struct cplace_member m[CL_MAX_PEERS];
	uint64_t now = cl_now(cl), settle, to;
	unsigned n, i;
	int rc;

	if (!cl_is_leader(cl)) {
		pl->leading_since = 0;
		return;
	}
	if (!pl->leading_since)
		pl->leading_since = now;
	if (now - pl->last_run < PLACE_EVERY_MS)
		return;
	pl->last_run = now;
	settle = 2ULL * cl_timing(cl)->status_ms;
	if (settle < PLACE_SETTLE_MIN_MS)
		settle = PLACE_SETTLE_MIN_MS;
	if (now - pl->leading_since < settle || now < pl->not_before ||
	    cl_conf_busy(cl) || raft_transferee(drv_raft(cl->drv)))
		return;
	n = view(cl, m);
	to = cplace_choose(m, n, cl->self);
	if (!to)
		return;
	for (i = 0; i < n && m[i].id != to; i++)
		;
	log_info("leader placement: leadership to %s (%" PRIu64 "), %lld MB "
		 "of egress allowance to spare this month%s",
		 cl_member_name(cl, to), to, m[i].spare / 1000000,
		 planned_on(cl, cl->self) ? "" :
		 " (the rotation does not keep this member on)");
	pl->not_before = now + PLACE_RETRY_MS;
	rc = drv_transfer(cl->drv, to, CL_TRANSFER_DEADLINE_MS);
	if (rc)
		log_warnx("leader placement: transfer refused: %s",
			  cl_raft_err(rc));
}

static int place_init(struct cluster *cl)
{
	cl->place = calloc(1, sizeof(*cl->place));
	return cl->place ? 0 : -1;
}

static void place_stop(struct cluster *cl)
{
	free(cl->place);
	cl->place = NULL;
}

const struct cl_module cl_place_module = {
	place_init, place_chores, place_stop,
};
