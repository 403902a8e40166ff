/*
 * cluster_app: application messages between members (raft/transport.h
 * send_app): a joiner's request and its answer, control requests that a
 * follower forwards to the leader and their answers, and the status every
 * member sends its leader every status-interval. A status that is due
 * rides right behind our answer to the leader's next heartbeat (one
 * delayed acknowledgement from the leader covers both); it goes on its
 * own when no heartbeat came for a heartbeat period past due, and at once
 * when our timing or our leader changed.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <stdlib.h>

#include "node/ntp/tstate.h"

struct cl_app {
	uint64_t last_status_sent, last_status_all;
	uint64_t last_leader;      /* the leader our last status went to */
	int soon;                  /* send at the next chore */
};

void cl_status_soon(struct cluster *cl)
{
	if (cl->app)
		cl->app->soon = 1;
}

int cl_send_app(struct cluster *cl, uint64_t id, const char *address,
		const Ntpmc__AppMsg *m)
{
	uint8_t stack[2048], *buf = stack;
	size_t len = ntpmc__app_msg__get_packed_size(m);
	int rc;

	if (!cl->tr->send_app)
		return -ENOTSUP;
	if (len > RTR_APP_MAX)
		return -E2BIG;
	if (len > sizeof(stack)) {
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
	}
	ntpmc__app_msg__pack(m, buf);
	rc = cl->tr->send_app(cl->tr, id, address, buf, len);
	if (buf != stack)
		free(buf);
	return rc;
}

const char *cl_addr_of(struct cluster *cl, uint64_t id)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	unsigned i;

	for (i = 0; c && i < c->n; i++)
		if (c->servers[i].id == id)
			return c->servers[i].address;
	return NULL;
}

/* ---------------------------------------------------------------- */
/* receiving */

static void on_join_request(struct cluster *cl, const struct rtr_from *from,
			    const Ntpmc__JoinRequest *jr)
{
	struct cl_req *r;

	/* From a joiner, or from a member retrying a join whose record is
	 * committed already (its key proves it). */
	if (!cl_is_leader(cl)) {
		cl_forward_join(cl, from->id, from->key,
				from->joiner ? from->token_id : NULL, jr);
		return;
	}
	r = cl_req_join(cl, from->id, 0);
	if (r)
		cl_join_handle(cl, r, from->id, from->key,
			       from->joiner ? from->token_id : NULL, jr);
}

static void on_join_forward(struct cluster *cl, const struct rtr_from *from,
			    const Ntpmc__JoinForward *f)
{
	struct cl_req *r;

	if (!cl_is_leader(cl) || !f->req || f->joiner_key.len != IDENT_PK_LEN ||
	    (f->token_id.len != TOKEN_ID_LEN && f->token_id.len != 0))
		return;
	r = cl_req_join(cl, from->id, f->req_id);
	if (r)
		cl_join_handle(cl, r, f->joiner_id, f->joiner_key.data,
			       f->token_id.len ? f->token_id.data : NULL,
			       f->req);
}

static void on_ctl_forward(struct cluster *cl, const struct rtr_from *from,
			   const Ntpmc__CtlForward *f)
{
	struct cl_req *r;

	if (!f->command)
		return;
	r = cl_req_forwarded(cl, from->id, f->req_id);
	if (!r)
		return;
	if (!cl_is_leader(cl)) {
		cl_fail(r, CTL_ERR, "not the leader any more: retry");
		return;
	}
	cl_cmd_run(cl, r, f->command, (int)f->n_args, f->args);
}

static void on_status(struct cluster *cl, uint64_t id,
		      const Ntpmc__MemberStatus *s)
{
	struct cl_peer *p = cl_peer(cl, id, 1);

	cl_wg_status_seen(cl, id, s);
	cl_ext_status_seen(cl, id, s);
	cl_check_status_seen(cl, id, s);
	cl_cost_status_seen(cl, id, s);
	if (!p)
		return;
	p->has_status = 1;
	p->sync = s->sync;
	p->stratum = s->stratum;
	p->has_offset = s->has_offset;
	p->offset = s->offset;
	p->applied = s->applied;
	if (s->election_ms != p->election_ms) {
		p->election_ms = s->election_ms;
		cl_timing_reported(cl);
	}
}

void cl_on_app(void *owner, const struct rtr_from *from, const void *buf,
	       size_t len)
{
	struct cluster *cl = owner;
	Ntpmc__AppMsg *m;

	m = ntpmc__app_msg__unpack(NULL, len, buf);
	if (!m)
		return;
	if (m->version != 1)
		goto out;
	cl_peer_heard(cl, from->id);
	/* A joiner may only ask to join. */
	if (from->joiner && m->body_case != NTPMC__APP_MSG__BODY_JOIN_REQUEST)
		goto out;
	switch (m->body_case) {
	case NTPMC__APP_MSG__BODY_JOIN_REQUEST:
		on_join_request(cl, from, m->join_request);
		break;
	case NTPMC__APP_MSG__BODY_JOIN_FORWARD:
		on_join_forward(cl, from, m->join_forward);
		break;
	case NTPMC__APP_MSG__BODY_JOIN_REPLY:
		cl_join_reply(cl, m->join_reply);
		break;
	case NTPMC__APP_MSG__BODY_CTL_FORWARD:
		on_ctl_forward(cl, from, m->ctl_forward);
		break;
	case NTPMC__APP_MSG__BODY_CTL_REPLY:
		cl_forward_answered(cl, m->ctl_reply);
		break;
	case NTPMC__APP_MSG__BODY_STATUS:
		on_status(cl, from->id, m->status);
		break;
	case NTPMC__APP_MSG__BODY_EXT:
		cl_ext_on_msg(cl, from->id, m->ext);
		break;
	default:
		break;
	}
out:
	ntpmc__app_msg__free_unpacked(m, NULL);
}

/* ---------------------------------------------------------------- */
/* our status, to the leader */

static void status_to(struct cluster *cl, uint64_t id, const char *address,
		      void *arg)
{
	cl_send_app(cl, id, address, arg);
}

static void send_status(struct cluster *cl, struct cl_app *a)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__MemberStatus s = NTPMC__MEMBER_STATUS__INIT;
	Ntpmc__Ext ext[CL_EXT_STATUS_MAX], *ext_p[CL_EXT_STATUS_MAX];
	Ntpmc__CheckStatus cs = NTPMC__CHECK_STATUS__INIT;
	uint64_t leader = cl_leader_id(cl), egress[CLUSTER_EGRESS_CLASSES];
	struct tstate ts;

	/* A spare gets no raft traffic: it shows it is up to the leader
	 * named in its JoinReply, so the role policy can promote it. */
	if (!leader)
		leader = cl_leader_hint(cl);
	a->last_status_sent = cl_now(cl);
	a->soon = 0;
	a->last_leader = leader;
	if (leader == cl->self)
		return;
	/* No leader known: once a second to every member (below). */
	if (!leader && cl_now(cl) - a->last_status_all < 1000)
		return;
	tstate_read(&ts);
	s.sync = ts.leap != 3 && ts.stratum != 0;
	s.stratum = ts.stratum;
	s.has_offset = 1;
	s.offset = ts.corr_offset;
	s.applied = drv_applied(cl->drv);
	s.election_ms = drv_raft(cl->drv)->election_timeout;
	cl_wg_fill_status(cl, &s);
	cl_ext_fill_status(cl, &s, ext, ext_p);
	cl_check_fill_status(cl, &s, &cs);
	cl_cost_fill_status(cl, &s, egress);
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_STATUS;
	m.status = &s;
	if (leader) {
		cl_send_app(cl, leader, cl_addr_of(cl, leader) ?
			    cl_addr_of(cl, leader) :
			    cl_member_address(cl, leader), &m);
		return;
	}
	/* No leader known (a restarted spare hears no raft traffic): tell
	 * every member we know of, once a second, so that the leader sees
	 * us up and its role policy can use us. */
	a->last_status_all = cl_now(cl);
	cl_boot_each(cl, status_to, &m);
}

/* ---------------------------------------------------------------- */
/* the module */

static int app_init(struct cluster *cl)
{
	cl->app = calloc(1, sizeof(*cl->app));
	return cl->app ? 0 : -1;
}

void cl_status_heartbeat(struct cluster *cl)
{
	struct cl_app *a = cl->app;

	if (a && cl_now(cl) - a->last_status_sent >= cl_timing(cl)->status_ms)
		send_status(cl, a);
}

static void app_chores(struct cluster *cl)
{
	struct cl_app *a = cl->app;
	const struct cl_timing *t = cl_timing(cl);
	uint64_t leader = cl_leader_id(cl);

	if (a->soon || (leader && leader != a->last_leader) ||
	    cl_now(cl) - a->last_status_sent >= t->status_ms +
	    t->heartbeat_ms)
		send_status(cl, a);
}

static void app_stop(struct cluster *cl)
{
	free(cl->app);
	cl->app = NULL;
}

const struct cl_module cl_app_module = {
	app_init, app_chores, app_stop,
};
