/*
 * cluster_announce: a member's own record follows its config and its
 * build. When the committed record's provider, region, instance id or
 * command version differ from what this member has (a config edited and
 * the daemon restarted, an upgraded binary), the member re-announces them
 * to the leader, once a second until the record is committed. The leader
 * writes the record with those fields and everything else copied; an
 * instance id is version 3 (raft/fsm.h), written only once every member
 * applies version 3, so an upgrade goes: every member announces its new
 * command version (a version 1 record), then the instance ids follow.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"

#define ANNOUNCE_CMD "member announce"  /* forwarded only, never on ntpctl */
#define ANNOUNCE_RETRY_MS 1000
#define ANNOUNCE_WAIT_V2_MS 30000

struct cl_announce {
	uint64_t next_ms;          /* loop ms of the next try */
};

/* What this member's record should say. */
struct wanted {
	const char *provider, *region, *instance_id;
	uint32_t version;
};

static void wanted_of(struct cluster *cl, struct wanted *w)
{
	w->provider = cl->conf->provider[0] ? cl->conf->provider : "other";
	w->region = cl->conf->region;
	w->instance_id = cl->conf->instance_id;
	w->version = FSM_CMD_VERSION;
}

static int provider_ok(const char *p)
{
	size_t i, n = strlen(p);

	if (!n || n > 15)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return 0;
	return 1;
}

/* The record old with w's fields; what version 3 allows. Returns 1 when
 * it differs from old. */
static int record_for(struct cluster *cl, const struct fsm_member *old,
		      const struct wanted *w, struct fsm_member *m)
{
	*m = *old;
	cl_copy(m->provider, sizeof(m->provider), w->provider);
	cl_copy(m->region, sizeof(m->region), w->region);
	m->cmd_version = w->version;
	if (fsm_version_ok(cl->fsm, 3))
		cl_copy(m->instance_id, sizeof(m->instance_id),
			w->instance_id);
	return strcmp(m->provider, old->provider) != 0 ||
	       strcmp(m->region, old->region) != 0 ||
	       strcmp(m->instance_id, old->instance_id) != 0 ||
	       m->cmd_version != old->cmd_version;
}

static void put_done(struct cluster *cl, struct cl_pend *p, int err,
		     int result)
{
	(void)cl;
	if (!p->req)
		return;
	if (err || result != FSM_OK)
		cl_fail(p->req, CTL_ERR, "%s", err ? cl_raft_err(err) :
			"the member record was refused");
	else
		cl_ok(p->req, "member record updated\n", NULL);
}

/* On the leader: id's record with w, proposed unless unchanged; r (may be
 * NULL) is answered. */
static void announce_put(struct cluster *cl, uint64_t id,
			 const struct wanted *w, struct cl_req *r)
{
	const struct fsm_member *old = cl_member_latest(cl, id);
	struct fsm_member m;
	int rc;

	if (!old) {
		if (r)
			cl_fail(r, CTL_ERR, "not a member");
		return;
	}
	if (!record_for(cl, old, w, &m)) {
		if (r)
			cl_ok(r, "member record unchanged\n", NULL);
		return;
	}
	log_info("member %" PRIu64 " (%s) announces provider %s, region %s, "
		 "instance-id %s, FSM version %u", id, old->name, m.provider,
		 m.region[0] ? m.region : "-",
		 m.instance_id[0] ? m.instance_id : "-", m.cmd_version);
	rc = cl_propose_member(cl, &m, put_done, r, NULL);
	if (rc && r)
		cl_fail(r, CTL_ERR, "%s", cl_raft_err(rc));
}

int cl_announce_forwarded(struct cluster *cl, struct cl_req *r,
			  const char *command, int argc, char **argv)
{
	struct wanted w;
	char *end;
	unsigned long v;

	if (strcmp(command, ANNOUNCE_CMD) != 0)
		return 0;
	/* only a member's own record, named by its authenticated id */
	if (argc != 4 || r->call || !r->peer || !provider_ok(argv[0]) ||
	    strlen(argv[1]) > FSM_NAME_MAX ||
	    strlen(argv[2]) > FSM_INSTANCE_MAX) {
		cl_fail(r, CTL_ERR, "member announce refused");
		return 1;
	}
	v = strtoul(argv[3], &end, 10);
	if (*end || v < 1 || v > 1000) {
		cl_fail(r, CTL_ERR, "member announce refused");
		return 1;
	}
	w.provider = argv[0];
	w.region = argv[1];
	w.instance_id = argv[2];
	w.version = (uint32_t)v;
	announce_put(cl, r->peer, &w, r);
	return 1;
}

static void announce_chores(struct cluster *cl)
{
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);
	Ntpmc__AppMsg msg = NTPMC__APP_MSG__INIT;
	Ntpmc__CtlForward f = NTPMC__CTL_FORWARD__INIT;
	uint64_t leader = cl_leader_id(cl), now = cl_now(cl);
	struct fsm_member m;
	struct wanted w;
	char ver[16], *args[4];

	if (!me || !cl->ready_done || !leader ||
	    now < cl->announce->next_ms)
		return;
	wanted_of(cl, &w);
	if (!record_for(cl, me, &w, &m)) {
		/* at most the instance id differs, waiting for version 3 on
		 * every member: ask now and then */
		if (strcmp(me->instance_id, w.instance_id) == 0)
			return;
		cl->announce->next_ms = now + ANNOUNCE_WAIT_V2_MS;
	} else {
		cl->announce->next_ms = now + ANNOUNCE_RETRY_MS;
	}
	if (leader == cl->self) {
		announce_put(cl, cl->self, &w, NULL);
		return;
	}
	if (!cl_addr_of(cl, leader))
		return;
	/* req_id 0: no answer is waited for, the committed record is */
	snprintf(ver, sizeof(ver), "%u", w.version);
	args[0] = (char *)w.provider;
	args[1] = (char *)w.region;
	args[2] = (char *)w.instance_id;
	args[3] = ver;
	f.command = (char *)ANNOUNCE_CMD;
	f.n_args = 4;
	f.args = args;
	msg.version = 1;
	msg.body_case = NTPMC__APP_MSG__BODY_CTL_FORWARD;
	msg.ctl_forward = &f;
	cl_send_app(cl, leader, cl_addr_of(cl, leader), &msg);
}

static int announce_init(struct cluster *cl)
{
	cl->announce = calloc(1, sizeof(*cl->announce));
	return cl->announce ? 0 : -1;
}

static void announce_stop(struct cluster *cl)
{
	free(cl->announce);
	cl->announce = NULL;
}

const struct cl_module cl_announce_module = {
	announce_init, announce_chores, announce_stop,
};
