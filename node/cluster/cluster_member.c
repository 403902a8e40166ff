/*
 * cluster_member: membership commands on the leader: leader transfer,
 * node remove, and the join of a new member (token consumed for its key,
 * member record, added as spare; node/cluster/cpol.h does the rest).
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"

#define MAX_JOINS_IN_FLIGHT 8

/* A joiner in flight: its id is bound to its key until the join ends,
 * so that another token holder cannot take its place (or its answer). */
struct joiner_slot {
	uint64_t id;
	uint8_t key[IDENT_PK_LEN];
};

struct cl_members {
	struct cl_req *transfer_req;   /* a leader transfer in progress */
	uint64_t transfer_target;
	int revoking_old;              /* an old-format token's revoke */
	struct joiner_slot joins_busy[MAX_JOINS_IN_FLIGHT];
};

/* ---------------------------------------------------------------- */
/* leader transfer, node remove */

void cl_cmd_transfer(struct cluster *cl, struct cl_req *r, int argc,
			 char **argv)
{
	uint64_t id = 0;
	int rc;

	if (argc > 1) {
		cl_fail(r, CTL_EUSAGE, "usage: leader transfer [NODE]");
		return;
	}
	if (cl->members->transfer_req) {
		cl_fail(r, CTL_ERR, "a leadership transfer is already running");
		return;
	}
	if (argc == 1) {
		id = cl_resolve_node(cl, argv[0]);
		if (!id) {
			cl_fail(r, CTL_ERR, "no such member");
			return;
		}
		if (id == cl->self) {
			cl_ok(r, "already the leader\n", NULL);
			return;
		}
		if (cl_conf_role(cl, id) != RAFT_VOTER) {
			cl_fail(r, CTL_ERR, "only a voter can lead");
			return;
		}
	}
	rc = drv_transfer(cl->drv, id, CL_TRANSFER_DEADLINE_MS);
	if (rc != 0) {
		cl_fail(r, CTL_ERR, "%s", cl_raft_err(rc));
		return;
	}
	cl->members->transfer_req = r;
	cl->members->transfer_target = id;
}

/* Chores: answer a transfer once it ended. */
static void transfer_chores(struct cluster *cl)
{
	char msg[128];
	uint64_t leader;
	int st;

	if (!cl->members->transfer_req)
		return;
	st = drv_transfer_state(cl->drv);
	leader = cl_leader_id(cl);
	if (st == 1 || (st == 0 && (leader == cl->self || !leader)))
		return;
	if (st < 0) {
		cl_fail(cl->members->transfer_req, CTL_ERR,
			"leadership transfer timed out");
	} else {
		snprintf(msg, sizeof(msg), "leader is now %s (%" PRIu64 ")\n",
			 cl_member_name(cl, leader), leader);
		cl_ok(cl->members->transfer_req, msg, NULL);
	}
	cl->members->transfer_req = NULL;
}

struct rm_ctx {
	uint64_t id;
	char name[FSM_NAME_MAX + 1];
};

static void rm_member_deleted(struct cluster *cl, struct cl_pend *p, int err,
			      int result)
{
	struct rm_ctx *x = p->arg;
	char msg[128];

	(void)cl;
	(void)result;
	if (err) {
		cl_fail(p->req, CTL_ERR, "%s", cl_raft_err(err));
		return;
	}
	snprintf(msg, sizeof(msg), "removed %s (%" PRIu64 ")\n", x->name,
		 x->id);
	cl_ok(p->req, msg, NULL);
}

static void rm_conf_done(struct cluster *cl, struct cl_pend *p, int err,
			 int result)
{
	struct rm_ctx *x = p->arg;
	void *buf;
	size_t len;
	int rc;

	(void)result;
	if (err) {
		cl_fail(p->req, CTL_ERR, "%s", cl_raft_err(err));
		return;
	}
	/* The configuration no longer has it: now forget its key too, so
	 * its handshakes are refused (raft/transport/hs.h member_key). */
	if (fsm_cmd_member_del(x->id, cl_wall_ms(), &buf, &len) < 0) {
		cl_fail(p->req, CTL_ERR, "out of memory");
		return;
	}
	p->arg = NULL;
	rc = cl_propose(cl, buf, len, rm_member_deleted, p->req, x);
	if (rc)
		cl_fail(p->req, CTL_ERR, "%s", cl_raft_err(rc));
}

void cl_cmd_remove(struct cluster *cl, struct cl_req *r, int argc,
		       char **argv)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct raft_configuration nc;
	struct rm_ctx *x;
	uint64_t id;
	unsigned i;
	int rc = 0;

	if (argc != 1) {
		cl_fail(r, CTL_EUSAGE, "usage: node remove NODE");
		return;
	}
	id = cl_resolve_node(cl, argv[0]);
	if (!id) {
		cl_fail(r, CTL_ERR, "no such member");
		return;
	}
	if (id == cl->self) {
		cl_fail(r, CTL_ERR,
			"that member is the leader: run `ntpctl leader "
			"transfer` first");
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	x->id = id;
	snprintf(x->name, sizeof(x->name), "%s", cl_member_name(cl, id));
	raft_configuration_init(&nc);
	for (i = 0; i < c->n && rc == 0; i++)
		if (c->servers[i].id != id)
			rc = raft_configuration_add(&nc, c->servers[i].id,
						    c->servers[i].address,
						    c->servers[i].role);
	if (rc == 0)
		rc = cl_change(cl, &nc, rm_conf_done, r, x);
	else
		free(x);
	raft_configuration_close(&nc);
	if (rc)
		cl_fail(r, CTL_ERR, "%s", cl_raft_err(rc));
}

/* Join, on the leader: consume the token for this key, record the member,
 * add it as spare; the role policy does the rest. */
struct join_ctx {
	uint64_t id;
	struct fsm_member m;
	unsigned char pk[FSM_TOKEN_PK_LEN];   /* the token's public key */
};

/* Marks id (with key) in flight, or clears it. -EBUSY: no slot left. */
static int join_busy(struct cluster *cl, uint64_t id, const uint8_t *key,
		     int on)
{
	struct joiner_slot *b = cl->members->joins_busy;
	unsigned i;

	for (i = 0; i < MAX_JOINS_IN_FLIGHT; i++) {
		if (on && !b[i].id) {
			b[i].id = id;
			memcpy(b[i].key, key, IDENT_PK_LEN);
			return 0;
		}
		if (!on && b[i].id == id)
			memset(&b[i], 0, sizeof(b[i]));
	}
	if (!on)
		cl_wg_release(cl, id);  /* its overlay reservation */
	return on ? -EBUSY : 0;
}

/* 1: id is in flight with this key, -1: with another key, 0: not. */
static int join_is_busy(struct cluster *cl, uint64_t id, const uint8_t *key)
{
	const struct joiner_slot *b = cl->members->joins_busy;
	unsigned i;

	for (i = 0; i < MAX_JOINS_IN_FLIGHT; i++)
		if (b[i].id == id)
			return memcmp(b[i].key, key, IDENT_PK_LEN) == 0 ? 1 : -1;
	return 0;
}

static void join_fail(struct cl_req *r, uint64_t id, const char *why)
{
	join_busy(r->cl, id, NULL, 0);
	log_warnx("join of %" PRIu64 " refused: %s", id, why);
	cl_reply(r, CL_JOIN_REFUSED, why, NULL, NULL);
}

/* Raft was busy (another change in flight, leadership moving): the
 * joiner asks again; its token, bound to its key, still admits it. */
static void join_later(struct cl_req *r, uint64_t id, int rc)
{
	join_busy(r->cl, id, NULL, 0);
	/* debug: the joiner asks again at its next chore (50 ms) for as
	 * long as a configuration change is in flight */
	log_debug("join of %" PRIu64 " postponed: %s", id, cl_raft_err(rc));
	cl_reply(r, CL_JOIN_RETRY, cl_raft_err(rc), NULL, NULL);
}

static void join_conf_done(struct cluster *cl, struct cl_pend *p, int err,
			   int result)
{
	struct join_ctx *j = p->arg;

	(void)cl;
	(void)result;
	if (err) {
		join_later(p->req, j->id, err);
		return;
	}
	join_busy(cl, j->id, NULL, 0);
	log_info("member %" PRIu64 " (%s) joined as spare", j->id, j->m.name);
	cl_reply(p->req, CL_JOIN_OK, NULL, NULL, NULL);
}

static void join_add_spare(struct cluster *cl, struct cl_req *r,
			   struct join_ctx *j)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct raft_configuration nc;
	unsigned i;
	int rc = 0;

	if (cl_conf_role(cl, j->id) >= 0) {  /* a retry after the change */
		join_busy(cl, j->id, NULL, 0);
		cl_reply(r, CL_JOIN_OK, NULL, NULL, NULL);
		free(j);
		return;
	}
	raft_configuration_init(&nc);
	for (i = 0; c && i < c->n && rc == 0; i++)
		rc = raft_configuration_add(&nc, c->servers[i].id,
					    c->servers[i].address,
					    c->servers[i].role);
	if (rc == 0)
		rc = raft_configuration_add(&nc, j->id, j->m.address,
					    RAFT_SPARE);
	if (rc == 0) {
		uint64_t id = j->id;

		rc = cl_change(cl, &nc, join_conf_done, r, j);
		if (rc)
			join_later(r, id, rc);
	} else {
		join_fail(r, j->id, "cannot build the configuration");
		free(j);
	}
	raft_configuration_close(&nc);
}

static void join_member_done(struct cluster *cl, struct cl_pend *p, int err,
			     int result)
{
	struct join_ctx *j = p->arg;

	if (err) {
		join_later(p->req, j->id, err);
		return;
	}
	if (result != FSM_OK) {
		join_fail(p->req, j->id, "the member record was refused");
		return;
	}
	p->arg = NULL;
	join_add_spare(cl, p->req, j);
}

static void join_token_done(struct cluster *cl, struct cl_pend *p, int err,
			    int result)
{
	struct join_ctx *j = p->arg;
	uint64_t id = j->id;
	int rc;

	if (err) {
		join_later(p->req, j->id, err);
		return;
	}
	switch (result) {
	case FSM_OK:
		break;
	case FSM_EEXPIRED:
		join_fail(p->req, j->id, "the join token expired");
		return;
	case FSM_EUSED:
		join_fail(p->req, j->id, "the join token was already used");
		return;
	case FSM_EREVOKED:
		join_fail(p->req, j->id, "the join token was revoked");
		return;
	default:
		join_fail(p->req, j->id, "the join token is unknown or revoked");
		return;
	}
	p->arg = NULL;
	/* j is free()d when the proposal fails */
	rc = cl_propose_member(cl, &j->m, join_member_done, p->req, j);
	if (rc)
		join_later(p->req, id, rc);
}

void cl_join_handle(struct cluster *cl, struct cl_req *r, uint64_t joiner,
		    const uint8_t *key, const uint8_t *token_id,
		    const Ntpmc__JoinRequest *jr)
{
	const struct fsm_member *old;
	struct join_ctx *j;
	uint64_t tid = 0;
	unsigned i;
	void *buf;
	size_t len;
	int rc, found = 0;

	switch (join_is_busy(cl, joiner, key)) {
	case 1:         /* the joiner re-sent it meanwhile */
		free(r);
		return;
	case -1:        /* another key under that id: never displaced */
		cl_reply(r, CL_JOIN_REFUSED, "that raft id is in use by "
			 "another joiner", NULL, NULL);
		return;
	}
	/* In flight from here: every answer below ends it. */
	if (join_busy(cl, joiner, key, 1) < 0) {
		cl_reply(r, CL_JOIN_RETRY, "too many joins at once", NULL,
			 NULL);
		return;
	}
	if (!joiner || !jr->name || !*jr->name ||
	    strlen(jr->name) > FSM_NAME_MAX || !jr->address ||
	    !*jr->address || strlen(jr->address) > FSM_VALUE_MAX ||
	    (jr->region && strlen(jr->region) > FSM_NAME_MAX) ||
	    (jr->instance_id && strlen(jr->instance_id) > FSM_INSTANCE_MAX) ||
	    (jr->provider && strlen(jr->provider) >= 16)) {
		join_fail(r, joiner, "malformed join request");
		return;
	}
	old = fsm_member_find(cl->fsm, joiner);
	if (old && memcmp(old->idkey, key, FSM_IDKEY_LEN) != 0) {
		join_fail(r, joiner, "that raft id belongs to another member");
		return;
	}
	if (old) {
		/* A retry: token consumed and record committed already. */
		j = calloc(1, sizeof(*j));
		if (!j) {
			join_fail(r, joiner, "out of memory");
			return;
		}
		j->id = joiner;
		j->m = *old;
		join_add_spare(cl, r, j);
		return;
	}
	if (!token_id) {
		join_fail(r, joiner, "not a member and no join token");
		return;
	}
	for (i = 0; i < fsm_member_count(cl->fsm); i++) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);

		if (m->id != joiner && strcmp(m->name, jr->name) == 0) {
			join_fail(r, joiner, "that node-name is taken by "
				  "another member");
			return;
		}
	}
	if (jr->cmd_version < 1) {
		join_fail(r, joiner, "the joiner's FSM version is too old");
		return;
	}
	for (i = 0; i < TOKEN_ID_LEN; i++)
		tid = tid << 8 | token_id[i];
	j = calloc(1, sizeof(*j));
	if (!j) {
		join_fail(r, joiner, "out of memory");
		return;
	}
	for (i = 0; i < fsm_token_count(cl->fsm); i++) {
		const struct fsm_token *t = fsm_token_at(cl->fsm, i);

		if (t->id == tid && t->has_pubkey) {
			memcpy(j->pk, t->pubkey, sizeof(j->pk));
			found = 1;
		}
	}
	if (!found) {
		free(j);
		join_fail(r, joiner, "the join token is unknown");
		return;
	}
	j->id = joiner;
	j->m.id = joiner;
	snprintf(j->m.name, sizeof(j->m.name), "%s", jr->name);
	snprintf(j->m.provider, sizeof(j->m.provider), "%s",
		 jr->provider && *jr->provider ? jr->provider : "other");
	snprintf(j->m.region, sizeof(j->m.region), "%s",
		 jr->region ? jr->region : "");
	/* version 3: else the joiner re-announces it (cluster_announce.c) */
	if (jr->instance_id && fsm_version_ok(cl->fsm, 3))
		snprintf(j->m.instance_id, sizeof(j->m.instance_id), "%s",
			 jr->instance_id);
	snprintf(j->m.address, sizeof(j->m.address), "%s", jr->address);
	j->m.role = FSM_ROLE_SPARE;
	j->m.cmd_version = jr->cmd_version;
	memcpy(j->m.idkey, key, FSM_IDKEY_LEN);
	{	/* WireGuard: overlay allocated before the member is added */
		char why[160];

		if (cl_wg_join_member(cl, jr, &j->m, why, sizeof(why)) < 0) {
			free(j);
			join_fail(r, joiner, why);
			return;
		}
	}
	if (fsm_cmd_token_use(j->pk, key, cl_wall_ms(), &buf, &len) < 0) {
		free(j);
		join_fail(r, joiner, "out of memory");
		return;
	}
	rc = cl_propose(cl, buf, len, join_token_done, r, j);
	if (rc)
		join_later(r, joiner, rc);
}


/* ---------------------------------------------------------------- */
/* tokens of the older format */

static void old_token_revoked(struct cluster *cl, struct cl_pend *p, int err,
			      int result)
{
	(void)p;
	(void)err;
	(void)result;
	cl->members->revoking_old = 0;  /* the next chore looks again */
}

/*
 * Leader: a token of the older format stored its MAC key, which was
 * enough to join; this release never accepts one (no handshake of that
 * version, no token string of that format), and revokes them, one per
 * commit, so that the value leaves the replicated state and every backup
 * taken from now on (audited as any revoke).
 */
static void old_tokens_chores(struct cluster *cl)
{
	unsigned i;
	void *buf;
	size_t len;

	if (cl->members->revoking_old || !cl_is_leader(cl))
		return;
	for (i = 0; i < fsm_token_count(cl->fsm); i++) {
		const struct fsm_token *t = fsm_token_at(cl->fsm, i);

		if (t->has_pubkey)
			continue;
		if (fsm_cmd_token_revoke(t->id, cl_wall_ms(), &buf, &len) < 0)
			return;
		log_info("revoking join token %016" PRIx64 " of the older "
			 "format (this release accepts key-pair tokens only)",
			 t->id);
		cl->members->revoking_old = 1;
		if (cl_propose(cl, buf, len, old_token_revoked, NULL, NULL))
			cl->members->revoking_old = 0;
		return;
	}
}

static void members_chores(struct cluster *cl)
{
	transfer_chores(cl);
	old_tokens_chores(cl);
}

/* ---------------------------------------------------------------- */
/* the module */

static int members_init(struct cluster *cl)
{
	cl->members = calloc(1, sizeof(*cl->members));
	return cl->members ? 0 : -1;
}

static void members_stop(struct cluster *cl)
{
	if (!cl->members)
		return;
	if (cl->members->transfer_req)
		cl_fail(cl->members->transfer_req, CTL_ERR, "shutting down");
	free(cl->members);
	cl->members = NULL;
}

const struct cl_module cl_members_module = {
	members_init, members_chores, members_stop,
};
