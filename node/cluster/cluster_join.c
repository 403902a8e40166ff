/*
 * cluster_join: becoming a member. `ntpnode init` waits to lead its
 * one-voter cluster, commits its member record (and the overlay subnet;
 * on aws or gcp the wan profile), then the first join token, prints it
 * and reports ready. `ntpnode join`
 * dials the token's members with a JoinRequest once a second until a
 * JoinReply admits it (as a spare; the leader's role policy promotes it)
 * or refuses it. It gives up after CL_JOIN_DIAL_MS without an answer;
 * while members answer that they have no leader (an election under way)
 * it waits up to CL_JOIN_LEADERLESS_WINDOWS of those, saying so.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/base/log.h"

/* An "unknown token" or "another cluster" answer may come from a member
 * whose log lags the token's creation: final only when it lasts. */
#define CL_JOIN_UNKNOWN_MS 3000

/* init: where the first member's set-up stands */
enum cl_init_state {
	CL_INIT_WAIT_LEADER,       /* until this node leads its cluster */
	CL_INIT_RECORD_SENT,       /* our member record is proposed */
	CL_INIT_TOKEN_SENT,        /* the first join token is proposed */
	CL_INIT_DONE,              /* token printed, ready reported */
};

struct cl_join {
	enum cl_init_state init;
	uint64_t started, last_try;    /* join: loop ms */
	int joined;
	uint64_t leader_hint;      /* JoinReply's leader, until raft knows */
	int last_refusal;          /* a member's last handshake refusal */
	uint64_t unknown_since;    /* loop ms of the first "unknown" in a row */
	uint64_t no_leader_ms;     /* last "no leader yet" answer; 0 none */
	uint64_t said_ms;          /* last progress line */
};

uint64_t cl_leader_hint(struct cluster *cl)
{
	return cl->join->leader_hint;
}

/* ---------------------------------------------------------------- */
/* our member record */

int cl_put_self(struct cluster *cl, cl_pend_fn done)
{
	struct fsm_member me;

	memset(&me, 0, sizeof(me));
	me.id = cl->self;
	snprintf(me.name, sizeof(me.name), "%s", cl->conf->node_name);
	snprintf(me.provider, sizeof(me.provider), "%s",
		 cl->conf->provider[0] ? cl->conf->provider : "other");
	snprintf(me.region, sizeof(me.region), "%s", cl->conf->region);
	/* version 3 only once every member applies it (cluster_announce.c
	 * adds it later otherwise) */
	if (fsm_version_ok(cl->fsm, 3))
		cl_copy(me.instance_id, sizeof(me.instance_id),
			cl->conf->instance_id);
	cl_copy(me.address, sizeof(me.address), cl->address);
	me.role = FSM_ROLE_VOTER;
	me.cmd_version = FSM_CMD_VERSION;
	memcpy(me.idkey, ident_public(cl->ident), FSM_IDKEY_LEN);
	cl_wg_fill_self(cl, &me);
	return cl_propose_member(cl, &me, done, NULL, NULL);
}

/* ---------------------------------------------------------------- */
/* init */

static void init_record_done(struct cluster *cl, struct cl_pend *p, int err,
			     int result)
{
	(void)p;
	if (err || result != FSM_OK) {
		log_warnx("init: member record not committed (%s), retrying",
			  err ? cl_raft_err(err) : "rejected");
		cl->join->init = CL_INIT_WAIT_LEADER;
		return;
	}
	cl->join->init = CL_INIT_TOKEN_SENT;
	if (cl_token_create(cl, NULL, 0, 1, 1) < 0)
		cl->join->init = CL_INIT_WAIT_LEADER;
}

static void init_progress(struct cluster *cl)
{
	if (cl->join->init != CL_INIT_WAIT_LEADER || !cl_is_leader(cl))
		return;
	cl->join->init = CL_INIT_RECORD_SENT;
	if (cl_wg_init_propose(cl) != 0 || cl_timing_init_propose(cl) != 0 ||
	    cl_put_self(cl, init_record_done) != 0)
		cl->join->init = CL_INIT_WAIT_LEADER;
}

void cl_init_token_ready(struct cluster *cl, const char *token)
{
	if (!token) {
		log_warnx("init: first token not committed, retrying");
		cl->join->init = CL_INIT_WAIT_LEADER;
		return;
	}
	cl->join->init = CL_INIT_DONE;
	log_info("cluster %s created; member %" PRIu64 " (%s) is its first "
		 "voter", cl->cluster_id_hex, cl->self, cl->conf->node_name);
	/* Alone on the last line of stdout. */
	printf("%s\n", token);
	fflush(stdout);
	cl_ready(cl, 1);
}

/* ---------------------------------------------------------------- */
/* join */

static unsigned dial_ms(const struct cluster *cl)
{
	return cl->conf->join_dial_ms ? cl->conf->join_dial_ms :
					CL_JOIN_DIAL_MS;
}

/* Ends the join, failed, once no member answered for a dial window or
 * the members went without a leader for too long; 1 when it did. */
static int join_gives_up(struct cluster *cl, uint64_t now)
{
	struct cl_join *j = cl->join;
	uint64_t w = dial_ms(cl);
	uint64_t heard = j->no_leader_ms > j->started ? j->no_leader_ms :
							 j->started;

	if (j->no_leader_ms && now - j->started >
				       w * CL_JOIN_LEADERLESS_WINDOWS) {
		log_err("join: the members had no leader for %" PRIu64 " s; "
			"retry once `ntpctl cluster status` on a member "
			"shows one", (now - j->started) / 1000);
		cl_ready(cl, 0);
		return 1;
	}
	if (now - heard <= w)
		return 0;
	if (j->last_refusal)
		log_err("join: no member named in the token accepted the join "
			"within %" PRIu64 " s; the last refusal: %s", w / 1000,
			hs_strerror(j->last_refusal));
	else if (j->no_leader_ms)
		log_err("join: the members stopped answering %" PRIu64 " s "
			"after they said they had no leader", w / 1000);
	else
		log_err("join: no member named in the token answered within "
			"%" PRIu64 " s (unreachable, or running another "
			"release?)", w / 1000);
	cl_ready(cl, 0);
	return 1;
}

static void joiner_try(struct cluster *cl)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__JoinRequest jr = NTPMC__JOIN_REQUEST__INIT;
	char wg[IDENT_WG_B64_LEN];
	uint64_t now = cl_now(cl);

	if (join_gives_up(cl, now))
		return;
	if (cl->join->last_try && now - cl->join->last_try < 1000)
		return;
	cl->join->last_try = now;
	ident_wg_public_b64(cl->ident, wg);
	jr.name = (char *)cl->conf->node_name;
	jr.address = cl->address;
	jr.provider = (char *)(cl->conf->provider[0] ? cl->conf->provider :
			       "other");
	jr.region = (char *)cl->conf->region;
	jr.instance_id = (char *)cl->conf->instance_id;
	jr.cmd_version = FSM_CMD_VERSION;
	jr.wg_public = wg;
	cl_wg_fill_request(cl, &jr);
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_JOIN_REQUEST;
	m.join_request = &jr;
	cl_send_app(cl, 0, NULL, &m);
}

void cl_join_reply(struct cluster *cl, const Ntpmc__JoinReply *jr)
{
	if (cl->mode != CLUSTER_JOIN || cl->join->joined || cl->ready_done)
		return;
	if (jr->status == CL_JOIN_RETRY) {
		cl->join->last_try = 0;  /* ask again at the next chore */
		return;
	}
	if (jr->status == CL_JOIN_NO_LEADER) {
		/* asked again at the next second's dial */
		uint64_t now = cl_now(cl);

		cl->join->no_leader_ms = now;
		if (now - cl->join->said_ms >= 10000) {
			cl->join->said_ms = now;
			log_info("join: the members have no leader yet "
				 "(an election is under way); waiting, "
				 "%" PRIu64 " s so far",
				 (now - cl->join->started) / 1000);
		}
		return;
	}
	if (jr->status != CL_JOIN_OK) {
		log_err("join refused: %s", jr->error && *jr->error ?
			jr->error : "no reason given");
		cl_ready(cl, 0);
		return;
	}
	/* WireGuard: the mesh first; the joiner is reachable only once
	 * it is applied (the reply may predate its record: ask again) */
	switch (cl_wg_on_reply(cl, jr)) {
	case 0:
		break;
	case -EAGAIN:
		cl->join->last_try = 0;
		return;
	default:
		cl_ready(cl, 0);
		return;
	}
	if (st_local_put(cl->st, CLUSTER_K_CLUSTER_ID, cl->cluster_id,
			 sizeof(cl->cluster_id)) < 0) {
		log_err("join: cannot record the membership in the store");
		cl_ready(cl, 0);
		return;
	}
	/* Members dialing us are checked against these keys until our own
	 * log has the membership (cluster_ident.c). */
	if (cl_boot_from_reply(cl, jr) < 0)
		log_warnx("join: cannot save the members' keys");
	cl->join->leader_hint = jr->leader_id;
	cl->join->joined = 1;
	/* Committed: the token's secret has served; wipe it now. */
	if (cl->tr->join_done)
		cl->tr->join_done(cl->tr);
	token_free(cl->join_tok);
	cl->join_tok = NULL;
	log_info("joined cluster %s as %" PRIu64 " (spare; the leader "
		 "promotes it once caught up)", cl->cluster_id_hex, cl->self);
	cl_ready(cl, 1);
}

/* A member refused our token's handshake (raft/transport.h
 * join_refused): what it says of the token is final at once; an unknown
 * token or another cluster only when it lasts (a lagging member). */
void cl_join_refused(void *owner, int reason)
{
	struct cluster *cl = owner;
	const char *hint = "";
	uint64_t now = cl_now(cl);

	if (cl->mode != CLUSTER_JOIN || cl->join->joined || cl->ready_done)
		return;
	cl->join->last_refusal = reason;
	switch (-reason) {
	case HS_ERR_TOKEN_USED:
	case HS_ERR_TOKEN_EXPIRED:
	case HS_ERR_TOKEN_REVOKED:
		hint = "; create a new one with `ntpctl token create`";
		break;
	case HS_ERR_VERSION:
		hint = ": join with the members' ntpnode release";
		break;
	case HS_ERR_TOKEN:
	case HS_ERR_CLUSTER:
		if (!cl->join->unknown_since)
			cl->join->unknown_since = now;
		if (now - cl->join->unknown_since < CL_JOIN_UNKNOWN_MS)
			return;
		break;
	default: /* busy and the like: the next dial may do */
		cl->join->unknown_since = 0;
		log_debug("join: a member refused the handshake (%s); "
			  "retrying", hs_strerror(reason));
		return;
	}
	log_err("join refused: %s%s", hs_strerror(reason), hint);
	cl_ready(cl, 0);
}

/* ---------------------------------------------------------------- */
/* the module */

static int join_init(struct cluster *cl)
{
	cl->join = calloc(1, sizeof(*cl->join));
	if (!cl->join)
		return -1;
	cl->join->started = cl_now(cl);
	return 0;
}

static void join_chores(struct cluster *cl)
{
	if (cl->ready_done)
		return;
	if (cl->mode == CLUSTER_JOIN)
		joiner_try(cl);
	else if (cl->mode == CLUSTER_INIT)
		init_progress(cl);
}

static void join_stop(struct cluster *cl)
{
	free(cl->join);
	cl->join = NULL;
}

const struct cl_module cl_join_module = {
	join_init, join_chores, join_stop,
};
