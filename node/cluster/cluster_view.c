/* cluster_view(): the member's raft state and the membership counts, as
 * cluster status computes them (cstat.c), without building a status. */
#include <string.h>

#include "node/base/wirelen.h"
#include "node/cluster/cluster_int.h"
#include "node/cluster/cstat.h"

void cluster_view(struct cluster *cl, struct cluster_view *v)
{
	const struct raft_configuration *c;
	struct raft *raft;
	unsigned i, up = 0;
	long ft;

	memset(v, 0, sizeof(*v));
	v->role = "";
	if (!cl || !cl->drv || !cl->ready_done)
		return;
	raft = drv_raft(cl->drv);
	v->member = 1;
	v->is_leader = cl_is_leader(cl);
	v->term = raft_current_term(raft);
	v->commit_index = raft_commit_index(raft);
	v->applied_index = drv_applied(cl->drv);
	c = drv_conf(cl->drv);
	for (i = 0; c && i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];

		if (s->id == cl->self)
			v->role = cstat_role_name(s->role);
		switch (s->role) {
		case RAFT_VOTER:
			v->voters++;
			up += cl_reachable(cl, s->id) != 0;
			break;
		case RAFT_STANDBY:
			v->standbys++;
			break;
		default:
			v->spares++;
			break;
		}
	}
	/* as cstat_fault_tolerance(): reachable voters minus the quorum */
	ft = (long)up - (long)(v->voters / 2 + 1);
	v->fault_tolerance = v->voters && ft > 0 ? (int)ft : 0;
}

uint64_t cluster_egress(struct cluster *cl)
{
	const struct cluster_transport *t;
	uint64_t bytes = 0, len16[16] = { 0 }, packets = 0;

	if (!cl || !cl->tr)
		return 0;
	t = cl->hooks.transport;
	if (!t || !t->egress)
		return 0;
	t->egress(t->arg, cl->tr, &bytes, len16, &packets);
	/* Over the mesh each packet is wrapped again, padded to 16 bytes
	 * (wirelen_tcp_stream); checked against the kernel per member by
	 * tests/integration/cluster-egress-kernel.sh (docs/cost.md). */
	return wirelen_tcp_stream(cl->conf->wg_interface[0] != 0, bytes,
				  len16, packets);
}
