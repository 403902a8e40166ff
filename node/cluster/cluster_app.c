/*
 * cluster_app: application messages between members (raft/transport.h
 * send_app): a joiner's request and its answer, control requests that a
 * follower forwards to the leader and their answers, members' status.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/ctl/ctl.h"
#include "node/base/log.h"
#include "node/cluster/wg/wgjoin.h"
/* ---------------------------------------------------------------- */
/* app messages */

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

void cl_reply(struct cl_req *r, int status, const char *error,
	      const char *text, const char *json)
{
	struct cluster *cl = r->cl;

	if (r->relay) {
		r->relay(r, status, error, text, json);
		return;
	}
	if (r->call) {
		ctl_reply(r->call, status, error, text, json);
	} else if (r->forwarded_join) {
		Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
		Ntpmc__JoinReply jr = NTPMC__JOIN_REPLY__INIT;

		uint64_t ids[CL_MAX_PEERS];
		ProtobufCBinaryData keys[CL_MAX_PEERS];
		char *addrs[CL_MAX_PEERS];
		struct wgj_reply_buf wb;  /* WireGuard mesh (cluster_wg.c) */
		unsigned i, n = fsm_member_count(cl->fsm);

		jr.status = status;
		jr.error = (char *)(error ? error : "");
		jr.leader_id = cl_leader_id(cl);
		for (i = 0; status == 0 && i < n && i < CL_MAX_PEERS; i++) {
			const struct fsm_member *fm = fsm_member_at(cl->fsm, i);

			ids[i] = fm->id;
			keys[i].data = (uint8_t *)fm->idkey;
			keys[i].len = FSM_IDKEY_LEN;
			addrs[i] = (char *)fm->address;
			jr.n_member_ids = jr.n_member_keys = i + 1;
			jr.n_member_addresses = i + 1;
		}
		jr.member_ids = ids;
		jr.member_keys = keys;
		jr.member_addresses = addrs;
		if (status == 0)
			cl_wg_fill_reply(cl, &jr, &wb);
		m.version = 1;
		m.body_case = NTPMC__APP_MSG__BODY_JOIN_REPLY;
		m.join_reply = &jr;
		cl_send_app(cl, r->peer, NULL, &m);
	} else {
		Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
		Ntpmc__CtlForwardReply fr = NTPMC__CTL_FORWARD_REPLY__INIT;

		fr.req_id = r->req_id;
		fr.status = status;
		fr.error = (char *)(error ? error : "");
		fr.text = (char *)(text ? text : "");
		fr.json = (char *)(json ? json : "");
		m.version = 1;
		m.body_case = NTPMC__APP_MSG__BODY_CTL_REPLY;
		m.ctl_reply = &fr;
		cl_send_app(cl, r->peer, cl_addr_of(cl, r->peer), &m);
	}
	free(r);
}

void cl_reply_data(struct cl_req *r, int status, const char *error,
		   const char *text, const char *json, const void *data,
		   size_t len)
{
	if (r->relay || !r->call) {
		cl_reply(r, status, error, text, json);
		return;
	}
	ctl_reply_data(r->call, status, error, text, json, data, len);
	free(r);
}

struct cl_req *cl_req_local(struct cluster *cl, struct ctl_call *call)
{
	struct cl_req *r = calloc(1, sizeof(*r));

	if (!r) {
		ctl_reply(call, 1, "out of memory", NULL, NULL);
		return NULL;
	}
	r->cl = cl;
	r->call = call;
	return r;
}

/* Follower: send the request to the leader, answer when it answers. */
static int leader_silent(struct cluster *cl, uint64_t leader)
{
	struct cl_peer *p = cl_peer(cl, leader, 0);
	uint64_t lim = (cl->conf->heartbeat_timeout_ms ?
			cl->conf->heartbeat_timeout_ms :
			DRV_HEARTBEAT_TIMEOUT_MS) * CL_SILENT_HEARTBEATS;

	if (lim < CL_SILENT_MIN_MS)
		lim = CL_SILENT_MIN_MS;
	return !p || !p->last_ms || cl_now(cl) - p->last_ms > lim;
}

int cl_forward(struct cluster *cl, struct cl_req *r, const char *command,
	       int argc, char **argv, int status_fallback)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__CtlForward f = NTPMC__CTL_FORWARD__INIT;
	uint64_t leader = cl_leader_id(cl);
	struct cl_fwd *w;

	if (!leader || leader == cl->self || !cl_addr_of(cl, leader))
		return -ENOENT;
	/* A leader silent for several heartbeats is most likely gone (the
	 * election has not ended yet): a status answers from this member's
	 * view at once instead of after the whole forward deadline. */
	if (status_fallback && leader_silent(cl, leader))
		return -ETIMEDOUT;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->req_id = ++cl->next_req_id;
	w->req = r;
	w->status_fallback = status_fallback;
	w->deadline = cl_now(cl) + (status_fallback ? CL_STATUS_DEADLINE_MS :
				    CL_FWD_DEADLINE_MS);
	f.req_id = w->req_id;
	f.command = (char *)command;
	f.n_args = (size_t)argc;
	f.args = argv;
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_CTL_FORWARD;
	m.ctl_forward = &f;
	if (cl_send_app(cl, leader, cl_addr_of(cl, leader), &m) < 0) {
		free(w);
		return -EIO;
	}
	w->next = cl->fwd;
	cl->fwd = w;
	return 0;
}

static struct cl_fwd *fwd_take(struct cluster *cl, uint64_t req_id)
{
	struct cl_fwd **pp, *w;

	for (pp = &cl->fwd; (w = *pp); pp = &w->next)
		if (w->req_id == req_id) {
			*pp = w->next;
			return w;
		}
	return NULL;
}

void cl_check_forwards(struct cluster *cl)
{
	struct cl_fwd **pp = &cl->fwd, *w;
	uint64_t now = cl_now(cl);

	while ((w = *pp)) {
		if (now < w->deadline) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (w->status_fallback)
			cl_status_local(cl, w->req, 1);
		else
			cl_reply(w->req, 1, "the leader did not answer in "
				 "time (no leader reachable?): retry", NULL,
				 NULL);
		free(w);
	}
}

/* Follower, on behalf of a joiner that reached us: ask the leader. */
static void join_forward(struct cluster *cl, const struct rtr_from *from,
			 const Ntpmc__JoinRequest *jr)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__JoinForward f = NTPMC__JOIN_FORWARD__INIT;
	uint64_t leader = cl_leader_id(cl);
	struct cl_fwd *w;
	struct cl_req *r;

	if (!leader || !cl_addr_of(cl, leader))
		return; /* the joiner retries */
	r = calloc(1, sizeof(*r));
	w = calloc(1, sizeof(*w));
	if (!r || !w) {
		free(r);
		free(w);
		return;
	}
	r->cl = cl;
	r->peer = from->id;
	r->forwarded_join = 1;
	w->req_id = ++cl->next_req_id;
	w->req = r;
	w->joiner = from->id;
	w->deadline = cl_now(cl) + CL_PROPOSE_DEADLINE_MS * 2;
	f.req_id = w->req_id;
	f.joiner_id = from->id;
	f.joiner_key.data = (uint8_t *)from->key;
	f.joiner_key.len = sizeof(from->key);
	f.token_id.data = (uint8_t *)from->token_id;
	f.token_id.len = from->joiner ? sizeof(from->token_id) : 0;
	f.req = (Ntpmc__JoinRequest *)jr;
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_JOIN_FORWARD;
	m.join_forward = &f;
	if (cl_send_app(cl, leader, cl_addr_of(cl, leader), &m) < 0) {
		free(r);
		free(w);
		return;
	}
	w->next = cl->fwd;
	cl->fwd = w;
}

static void joiner_got_reply(struct cluster *cl, const Ntpmc__JoinReply *jr)
{
	size_t i;

	if (cl->mode != CLUSTER_JOIN || cl->joined || cl->ready_done)
		return;
	if (jr->status == CL_JOIN_RETRY) {
		cl->join_last_try = 0;  /* ask again at the next chore */
		return;
	}
	if (jr->status != 0) {
		log_err("join refused: %s", jr->error && *jr->error ?
			jr->error : "no reason given");
		cl->ready_done = 1;
		cl->ready(cl->ready_arg, cl, 0);
		return;
	}
	/* WireGuard: the mesh first; the joiner is reachable only once
	 * it is applied (the reply may predate its record: ask again) */
	switch (cl_wg_on_reply(cl, jr)) {
	case 0:
		break;
	case -EAGAIN:
		cl->join_last_try = 0;
		return;
	default:
		cl->ready_done = 1;
		cl->ready(cl->ready_arg, cl, 0);
		return;
	}
	if (st_local_put(cl->st, CLUSTER_K_CLUSTER_ID, cl->cluster_id,
			 sizeof(cl->cluster_id)) < 0) {
		log_err("join: cannot record the membership in the store");
		cl->ready_done = 1;
		cl->ready(cl->ready_arg, cl, 0);
		return;
	}
	/* Members dialing us are checked against these keys until our own
	 * log has the membership (trust_member_key in cluster.c). */
	cl->n_boot = 0;
	for (i = 0; i < jr->n_member_ids && i < jr->n_member_keys &&
		    cl->n_boot < CL_MAX_PEERS; i++) {
		if (jr->member_keys[i].len != IDENT_PK_LEN)
			continue;
		cl->boot[cl->n_boot].id = jr->member_ids[i];
		memcpy(cl->boot[cl->n_boot].key, jr->member_keys[i].data,
		       IDENT_PK_LEN);
		cl_copy(cl->boot[cl->n_boot].address,
			sizeof(cl->boot[0].address),
			i < jr->n_member_addresses ? jr->member_addresses[i] :
			"");
		cl->n_boot++;
	}
	cl->leader_hint = jr->leader_id;
	if (cl_boot_save(cl) < 0)
		log_warnx("join: cannot save the members' keys");
	cl->joined = 1;
	token_wipe(&cl->join_tok);
	log_info("joined cluster %s as %" PRIu64 " (spare; the leader "
		 "promotes it once caught up)", cl->cluster_id_hex, cl->self);
	cl->ready_done = 1;
	cl->ready(cl->ready_arg, cl, 1);
}

void cl_on_app(void *owner, const struct rtr_from *from, const void *buf,
		   size_t len)
{
	struct cluster *cl = owner;
	Ntpmc__AppMsg *m;
	struct cl_peer *p;
	struct cl_fwd *w;

	m = ntpmc__app_msg__unpack(NULL, len, buf);
	if (!m)
		return;
	if (m->version != 1)
		goto out;
	p = cl_peer(cl, from->id, 1);
	if (p)
		p->last_ms = cl_now(cl);
	/* A joiner may only ask to join. */
	if (from->joiner && m->body_case != NTPMC__APP_MSG__BODY_JOIN_REQUEST)
		goto out;
	switch (m->body_case) {
	case NTPMC__APP_MSG__BODY_JOIN_REQUEST:
		/* From a joiner, or from a member retrying a join whose
		 * record is committed already (its key proves it). */
		if (cl_is_leader(cl)) {
			struct cl_req *r = calloc(1, sizeof(*r));

			if (!r)
				break;
			r->cl = cl;
			r->peer = from->id;
			r->forwarded_join = 1;
			cl_join_handle(cl, r, from->id, from->key,
				       from->joiner ? from->token_id : NULL,
				       m->join_request);
		} else {
			join_forward(cl, from, m->join_request);
		}
		break;
	case NTPMC__APP_MSG__BODY_JOIN_FORWARD: {
		Ntpmc__JoinForward *f = m->join_forward;
		struct cl_req *r;

		if (!cl_is_leader(cl) || !f->req ||
		    f->joiner_key.len != 32 ||
		    (f->token_id.len != 8 && f->token_id.len != 0))
			break;
		r = calloc(1, sizeof(*r));
		if (!r)
			break;
		r->cl = cl;
		r->peer = from->id;
		r->req_id = f->req_id;
		cl_join_handle(cl, r, f->joiner_id, f->joiner_key.data,
			       f->token_id.len ? f->token_id.data : NULL,
			       f->req);
		break;
	}
	case NTPMC__APP_MSG__BODY_JOIN_REPLY:
		joiner_got_reply(cl, m->join_reply);
		break;
	case NTPMC__APP_MSG__BODY_CTL_FORWARD: {
		Ntpmc__CtlForward *f = m->ctl_forward;
		struct cl_req *r;

		if (!f->command)
			break;
		r = calloc(1, sizeof(*r));
		if (!r)
			break;
		r->cl = cl;
		r->peer = from->id;
		r->req_id = f->req_id;
		if (!cl_is_leader(cl)) {
			cl_reply(r, 1, "not the leader any more: retry", NULL,
				 NULL);
			break;
		}
		cl_cmd_run(cl, r, f->command, (int)f->n_args, f->args);
		break;
	}
	case NTPMC__APP_MSG__BODY_CTL_REPLY: {
		Ntpmc__CtlForwardReply *fr = m->ctl_reply;

		w = fwd_take(cl, fr->req_id);
		if (!w)
			break;
		if (w->joiner)
			cl_reply(w->req, fr->status, fr->error, NULL, NULL);
		else
			cl_reply(w->req, fr->status,
				 fr->error && *fr->error ? fr->error : NULL,
				 fr->text && *fr->text ? fr->text : NULL,
				 fr->json && *fr->json ? fr->json : NULL);
		free(w);
		break;
	}
	case NTPMC__APP_MSG__BODY_STATUS:
		cl_wg_status_seen(cl, from->id, m->status);
		if (p) {
			p->has_status = 1;
			p->sync = m->status->sync;
			p->stratum = m->status->stratum;
			p->has_offset = m->status->has_offset;
			p->offset = m->status->offset;
			p->applied = m->status->applied;
		}
		break;
	default:
		break;
	}
out:
	ntpmc__app_msg__free_unpacked(m, NULL);
	cl_rearm(cl);
}

