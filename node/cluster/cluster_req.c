/*
 * cluster_req: control requests and what they wait for. A request is
 * answered exactly once (cl_reply); a proposal waits for its entry to be
 * applied (or a configuration change to commit); a follower's forward
 * waits for the leader's answer, and then for its own apply of the write
 * the leader acknowledged; a read waits for the apply of every write this
 * member acknowledged (read your own writes). Each wait has a deadline,
 * checked by the module's chores.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/cluster/wg/wgjoin.h"

/* A request this follower forwarded to the leader. */
struct cl_fwd {
	struct cl_fwd *next;
	uint64_t req_id;
	uint64_t deadline;
	struct cl_req *req;
	int status_fallback;       /* cluster status: answer locally on expiry */
};

/* An answer or a read held until this member has applied index. */
struct cl_hold {
	struct cl_hold *next;
	struct cl_req *req;
	uint64_t index;
	uint64_t deadline;
	/* an answer (fn NULL): what to say */
	int status;
	char *error, *text, *json;
	/* a read: what to run */
	cl_cmd_fn fn;
	int argc;
	char **argv;
};

static uint64_t applied_now(struct cluster *cl);
static void check_holds(struct cluster *cl, uint64_t applied);
static void note_acked(struct cluster *cl, uint64_t index);
static int hears_log(struct cluster *cl);

struct cl_reqs {
	struct cl_pend *pend;
	struct cl_fwd *fwd;
	struct cl_hold *hold;
	uint64_t next_req_id;
	uint64_t conf_busy;        /* index of our uncommitted conf change */
	uint64_t acked;            /* highest index acknowledged to ntpctl */
};

/* ---------------------------------------------------------------- */
/* requests and their answer */

static struct cl_req *req_new(struct cluster *cl, enum cl_req_kind kind,
			      uint64_t peer, uint64_t req_id)
{
	struct cl_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cl = cl;
	r->kind = kind;
	r->peer = peer;
	r->req_id = req_id;
	return r;
}

struct cl_req *cl_req_local(struct cluster *cl, struct ctl_call *call)
{
	struct cl_req *r = req_new(cl, CL_REQ_LOCAL, 0, 0);

	if (!r) {
		ctl_reply(call, CTL_ERR, "out of memory", NULL, NULL);
		return NULL;
	}
	r->call = call;
	return r;
}

struct cl_req *cl_req_forwarded(struct cluster *cl, uint64_t peer,
				uint64_t req_id)
{
	return req_new(cl, CL_REQ_FORWARDED, peer, req_id);
}

struct cl_req *cl_req_join(struct cluster *cl, uint64_t peer,
			   uint64_t req_id)
{
	return req_new(cl, CL_REQ_JOIN, peer, req_id);
}

/* A JoinReply: the membership (ids, keys, addresses) and the mesh. */
static void reply_join(struct cl_req *r, int status, const char *error)
{
	struct cluster *cl = r->cl;
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__JoinReply jr = NTPMC__JOIN_REPLY__INIT;
	uint64_t ids[CL_MAX_PEERS];
	ProtobufCBinaryData keys[CL_MAX_PEERS];
	char *addrs[CL_MAX_PEERS];
	struct wgj_reply_buf wb;  /* WireGuard mesh (cluster_wg.c) */
	unsigned i, n = fsm_member_count(cl->fsm);

	jr.status = (uint32_t)status;
	jr.error = (char *)(error ? error : "");
	jr.leader_id = cl_leader_id(cl);
	for (i = 0; status == CL_JOIN_OK && i < n && i < CL_MAX_PEERS; i++) {
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
	if (status == CL_JOIN_OK)
		cl_wg_fill_reply(cl, &jr, &wb);
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_JOIN_REPLY;
	m.join_reply = &jr;
	cl_send_app(cl, r->peer, NULL, &m);
}

/* To the follower that forwarded r. */
static void reply_forwarded(struct cl_req *r, int status, const char *error,
			    const char *text, const char *json)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__CtlForwardReply fr = NTPMC__CTL_FORWARD_REPLY__INIT;

	fr.req_id = r->req_id;
	fr.status = status;
	fr.error = (char *)(error ? error : "");
	fr.text = (char *)(text ? text : "");
	fr.json = (char *)(json ? json : "");
	fr.index = status == CTL_OK ? r->index : 0;
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_CTL_REPLY;
	m.ctl_reply = &fr;
	cl_send_app(r->cl, r->peer, cl_addr_of(r->cl, r->peer), &m);
}

void cl_reply(struct cl_req *r, int status, const char *error,
	      const char *text, const char *json)
{
	if (r->relay) {
		r->relay(r, status, error, text, json);
		return;
	}
	switch (r->kind) {
	case CL_REQ_LOCAL:
		if (status == CTL_OK)
			note_acked(r->cl, r->index);
		ctl_reply(r->call, status, error, text, json);
		break;
	case CL_REQ_JOIN:
		/* A join answered by a follower's forward carries the
		 * join's own status codes (enum cl_join_status). */
		if (r->req_id)
			reply_forwarded(r, status, error, NULL, NULL);
		else
			reply_join(r, status, error);
		break;
	case CL_REQ_FORWARDED:
		reply_forwarded(r, status, error, text, json);
		break;
	}
	free(r);
}

void cl_reply_data(struct cl_req *r, int status, const char *error,
		   const char *text, const char *json, const void *data,
		   size_t len)
{
	if (r->relay || r->kind != CL_REQ_LOCAL) {
		cl_reply(r, status, error, text, json);
		return;
	}
	if (status == CTL_OK)
		note_acked(r->cl, r->index);
	ctl_reply_data(r->call, status, error, text, json, data, len);
	free(r);
}

void cl_ok(struct cl_req *r, const char *text, const char *json)
{
	cl_reply(r, CTL_OK, NULL, text, json);
}

void cl_fail(struct cl_req *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cl_reply(r, status, msg, NULL, NULL);
}

/* ---------------------------------------------------------------- */
/* proposals */

static void pend_add(struct cluster *cl, struct cl_pend *p)
{
	p->deadline = cl_now(cl) + CL_PROPOSE_DEADLINE_MS;
	p->next = cl->reqs->pend;
	cl->reqs->pend = p;
}

static void pend_unlink(struct cluster *cl, struct cl_pend *p)
{
	struct cl_pend **pp;

	for (pp = &cl->reqs->pend; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void pend_finish(struct cluster *cl, struct cl_pend *p, int err,
			int result)
{
	pend_unlink(cl, p);
	if (p->is_conf && cl->reqs->conf_busy == p->index)
		cl->reqs->conf_busy = 0;
	if (p->req && !err)
		p->req->index = p->index;
	if (p->done)
		p->done(cl, p, err, result);
	free(p->arg);
	free(p->put);
	free(p);
}

/* cl_propose, with put (taken, may be NULL) kept on the waiter. */
static int propose(struct cluster *cl, void *buf, size_t len, cl_pend_fn done,
		   struct cl_req *req, void *arg, struct fsm_member *put)
{
	struct raft *r = drv_raft(cl->drv);
	struct cl_pend *p;
	uint64_t index, term;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p) {
		free(buf);
		free(arg);
		free(put);
		return RAFT_NOMEM;
	}
	/* Registered first: a single voter applies inside drv_submit, which
	 * then finishes (and frees) p before returning. */
	p->index = raft_last_index(r) + 1;
	p->term = raft_current_term(r);
	p->done = done;
	p->req = req;
	p->arg = arg;
	p->put = put;
	pend_add(cl, p);
	rc = drv_submit(cl->drv, buf, len, &index, &term);
	free(buf);
	if (rc != 0) {
		pend_unlink(cl, p);
		free(p->arg);
		free(p->put);
		free(p);
	} else {
		cl_timing_kick(cl);
	}
	return rc;
}

int cl_propose(struct cluster *cl, void *buf, size_t len, cl_pend_fn done,
	       struct cl_req *req, void *arg)
{
	return propose(cl, buf, len, done, req, arg, NULL);
}

const struct fsm_member *cl_member_latest(struct cluster *cl, uint64_t id)
{
	struct cl_pend *p;

	/* newest first (pend_add pushes on the head) */
	for (p = cl->reqs->pend; p; p = p->next)
		if (p->put && p->put->id == id)
			return p->put;
	return fsm_member_find(cl->fsm, id);
}

int cl_propose_member(struct cluster *cl, const struct fsm_member *m,
		      cl_pend_fn done, struct cl_req *req, void *arg)
{
	struct fsm_member *put = malloc(sizeof(*put));
	void *buf;
	size_t len;

	if (!put || fsm_cmd_member_put(m, cl_wall_ms(), &buf, &len) < 0) {
		free(put);
		free(arg);
		return RAFT_NOMEM;
	}
	*put = *m;
	return propose(cl, buf, len, done, req, arg, put);
}

int cl_change(struct cluster *cl, const struct raft_configuration *conf,
	      cl_pend_fn done, struct cl_req *req, void *arg)
{
	struct cl_pend *p;
	uint64_t index;
	int rc;

	if (cl->reqs->conf_busy) {
		free(arg);
		return RAFT_CANTCHANGE;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(arg);
		return RAFT_NOMEM;
	}
	rc = drv_change(cl->drv, conf, &index);
	if (rc != 0) {
		free(p);
		free(arg);
		return rc;
	}
	cl_timing_kick(cl);
	p->index = index;
	p->term = raft_current_term(drv_raft(cl->drv));
	p->is_conf = 1;
	p->done = done;
	p->req = req;
	p->arg = arg;
	cl->reqs->conf_busy = index;
	pend_add(cl, p);
	return 0;
}

static void simple_done(struct cluster *cl, struct cl_pend *p, int err,
			int result)
{
	const char *ok = p->arg;

	(void)cl;
	if (err)
		cl_fail(p->req, CTL_ERR, "%s", cl_raft_err(err));
	else if (result == FSM_ENOKEY)
		cl_fail(p->req, CTL_ERR, "no such entry");
	else if (result != FSM_OK)
		cl_fail(p->req, CTL_ERR, "refused by the replicated state");
	else
		cl_ok(p->req, ok, NULL);
}

int cl_propose_simple(struct cluster *cl, struct cl_req *r, void *buf,
		      size_t len, const char *ok_text)
{
	char *ok = strdup(ok_text);
	int rc;

	if (!ok) {
		free(buf);
		cl_fail(r, CTL_ERR, "out of memory");
		return -1;
	}
	rc = cl_propose(cl, buf, len, simple_done, r, ok);
	if (rc != 0) {
		cl_fail(r, CTL_ERR, "%s", cl_raft_err(rc));
		return -1;
	}
	return 0;
}

uint64_t cl_conf_busy(struct cluster *cl)
{
	return cl->reqs->conf_busy;
}

void cl_reqs_applied(struct cluster *cl, uint64_t index, uint64_t term,
		     int result)
{
	struct cl_pend *p, *next;

	for (p = cl->reqs->pend; p; p = next) {
		next = p->next;
		if (p->is_conf || p->index != index)
			continue;
		/* Another entry won that index: ours was lost with a term. */
		pend_finish(cl, p, p->term == term ? 0 : RAFT_LEADERSHIPLOST,
			    result);
	}
	/* The driver counts index as applied once this returns. */
	if (cl->reqs->hold)
		check_holds(cl, index > applied_now(cl) ? index :
			    applied_now(cl));
}

static void check_pending(struct cluster *cl)
{
	struct cl_pend *p, *next;
	struct raft *r = drv_raft(cl->drv);
	uint64_t now = cl_now(cl), commit = raft_commit_index(r);

	for (p = cl->reqs->pend; p; p = next) {
		next = p->next;
		if (p->is_conf && commit >= p->index)
			pend_finish(cl, p, 0, 0);
		else if (p->is_conf && raft_current_term(r) != p->term)
			/* A new leader may have dropped it; its log decides,
			 * but we stop waiting on it here. */
			pend_finish(cl, p, RAFT_LEADERSHIPLOST, 0);
		else if (now >= p->deadline)
			pend_finish(cl, p, RAFT_BUSY, 0);
	}
}

/* ---------------------------------------------------------------- */
/* read your own writes: answers and reads held for this member's apply */

static uint64_t applied_now(struct cluster *cl)
{
	return drv_applied(cl->drv);
}

/* A spare (a drained member) is sent no log: it could never apply what
 * it acknowledges, so its answers and reads do not wait (its view is
 * documented as possibly old). */
static int hears_log(struct cluster *cl)
{
	return cl_conf_role(cl, cl->self) != RAFT_SPARE;
}

static void note_acked(struct cluster *cl, uint64_t index)
{
	if (index > cl->reqs->acked && hears_log(cl))
		cl->reqs->acked = index;
}

static void hold_free(struct cl_hold *h)
{
	int i;

	free(h->error);
	free(h->text);
	free(h->json);
	for (i = 0; i < h->argc; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void hold_add(struct cluster *cl, struct cl_hold *h, uint64_t index)
{
	h->index = index;
	h->deadline = cl_now(cl) + CL_FWD_DEADLINE_MS;
	h->next = cl->reqs->hold;
	cl->reqs->hold = h;
}

/* The leader acknowledged r's write at index, which this member has not
 * applied yet: the answer waits for it (or for the deadline: the write
 * is committed, so it is acknowledged then anyway, and reads wait). */
static void hold_answer(struct cluster *cl, struct cl_req *r, int status,
			const char *error, const char *text,
			const char *json)
{
	struct cl_hold *h = calloc(1, sizeof(*h));

	if (h) {
		h->req = r;
		h->status = status;
		h->error = dup_or_null(error);
		h->text = dup_or_null(text);
		h->json = dup_or_null(json);
	}
	if (!h || (error && !h->error) || (text && !h->text) ||
	    (json && !h->json)) {
		if (h) {
			h->req = NULL;
			hold_free(h);
		}
		cl_reply(r, status, error, text, json);
		return;
	}
	hold_add(cl, h, r->index);
}

void cl_read(struct cluster *cl, struct cl_req *r, cl_cmd_fn fn, int argc,
	     char **argv)
{
	struct cl_hold *h;
	int i;

	if (applied_now(cl) >= cl->reqs->acked || !hears_log(cl)) {
		fn(cl, r, argc, argv);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (h && argc)
		h->argv = calloc((size_t)argc, sizeof(*h->argv));
	if (!h || (argc && !h->argv)) {
		free(h);
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	h->req = r;
	h->fn = fn;
	for (i = 0; i < argc; i++) {
		h->argv[i] = strdup(argv[i]);
		if (!h->argv[i]) {
			h->req = NULL;
			hold_free(h);
			cl_fail(r, CTL_ERR, "out of memory");
			return;
		}
		h->argc = i + 1;
	}
	hold_add(cl, h, cl->reqs->acked);
}

/* Releases what applied (at least) covers; on the deadline, answers hold
 * anyway and reads fail. */
static void check_holds(struct cluster *cl, uint64_t applied)
{
	struct cl_hold **pp = &cl->reqs->hold, *h;
	uint64_t now = cl_now(cl);

	while ((h = *pp)) {
		int ready = applied >= h->index;

		if (!ready && now < h->deadline) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		if (h->fn && ready)
			h->fn(cl, h->req, h->argc, h->argv);
		else if (h->fn)
			cl_fail(h->req, CTL_ERR, "this member acknowledged a "
				"write at index %" PRIu64 " but has applied "
				"only up to %" PRIu64 " (cut off from the "
				"leader?): retry, or ask another member",
				h->index, applied);
		else
			cl_reply(h->req, h->status, h->error, h->text,
				 h->json);
		h->req = NULL;
		hold_free(h);
		/* an answer or a read may have added or released others */
		pp = &cl->reqs->hold;
	}
}

/* ---------------------------------------------------------------- */
/* forwards to the leader */

static int leader_silent(struct cluster *cl, uint64_t leader)
{
	struct cl_peer *p = cl_peer(cl, leader, 0);
	uint64_t lim = (uint64_t)cl_timing(cl)->heartbeat_ms *
		       CL_SILENT_HEARTBEATS;

	if (lim < CL_SILENT_MIN_MS)
		lim = CL_SILENT_MIN_MS;
	return !p || !p->last_ms || cl_now(cl) - p->last_ms > lim;
}

static struct cl_fwd *fwd_new(struct cluster *cl, struct cl_req *r,
			      uint64_t deadline_ms)
{
	struct cl_fwd *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->req_id = ++cl->reqs->next_req_id;
	w->req = r;
	w->deadline = cl_now(cl) + deadline_ms;
	return w;
}

static void fwd_add(struct cluster *cl, struct cl_fwd *w)
{
	w->next = cl->reqs->fwd;
	cl->reqs->fwd = w;
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
	w = fwd_new(cl, r, status_fallback ? CL_STATUS_DEADLINE_MS :
		    CL_FWD_DEADLINE_MS);
	if (!w)
		return -ENOMEM;
	w->status_fallback = status_fallback;
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
	fwd_add(cl, w);
	return 0;
}

void cl_forward_join(struct cluster *cl, uint64_t joiner,
		     const uint8_t key[IDENT_PK_LEN], const uint8_t *token_id,
		     const Ntpmc__JoinRequest *jr)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__JoinForward f = NTPMC__JOIN_FORWARD__INIT;
	uint64_t leader = cl_leader_id(cl);
	struct cl_fwd *w;
	struct cl_req *r;

	if (!leader || !cl_addr_of(cl, leader)) {
		/* Say so: an election under the wan profile takes minutes,
		 * and a joiner hearing nothing gives up after 30 s. */
		r = cl_req_join(cl, joiner, 0);
		if (r)
			cl_reply(r, CL_JOIN_NO_LEADER,
				 "the members have no leader yet", NULL, NULL);
		return;
	}
	r = cl_req_join(cl, joiner, 0);
	w = r ? fwd_new(cl, r, CL_PROPOSE_DEADLINE_MS * 2) : NULL;
	if (!w) {
		free(r);
		return;
	}
	f.req_id = w->req_id;
	f.joiner_id = joiner;
	f.joiner_key.data = (uint8_t *)key;
	f.joiner_key.len = IDENT_PK_LEN;
	f.token_id.data = (uint8_t *)token_id;
	f.token_id.len = token_id ? TOKEN_ID_LEN : 0;
	f.req = (Ntpmc__JoinRequest *)jr;
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_JOIN_FORWARD;
	m.join_forward = &f;
	if (cl_send_app(cl, leader, cl_addr_of(cl, leader), &m) < 0) {
		free(r);
		free(w);
		return;
	}
	fwd_add(cl, w);
}

void cl_forward_answered(struct cluster *cl, const Ntpmc__CtlForwardReply *fr)
{
	struct cl_fwd **pp, *w;

	for (pp = &cl->reqs->fwd; (w = *pp); pp = &w->next)
		if (w->req_id == fr->req_id)
			break;
	if (!w)
		return;
	*pp = w->next;
	w->req->index = fr->status == CTL_OK ? fr->index : 0;
	/* A write this member has not applied yet: a read right after the
	 * answer must see it (a relay goes on to the leader's answer). */
	if (w->req->kind == CL_REQ_LOCAL && !w->req->relay &&
	    w->req->index > applied_now(cl) && hears_log(cl))
		hold_answer(cl, w->req, fr->status,
			    fr->error && *fr->error ? fr->error : NULL,
			    fr->text && *fr->text ? fr->text : NULL,
			    fr->json && *fr->json ? fr->json : NULL);
	else
		cl_reply(w->req, fr->status,
			 fr->error && *fr->error ? fr->error : NULL,
			 fr->text && *fr->text ? fr->text : NULL,
			 fr->json && *fr->json ? fr->json : NULL);
	free(w);
}

static void check_forwards(struct cluster *cl)
{
	struct cl_fwd **pp = &cl->reqs->fwd, *w;
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
			cl_fail(w->req, CTL_ERR, "the leader did not answer "
				"in time (no leader reachable?): retry");
		free(w);
	}
}

/* ---------------------------------------------------------------- */
/* the module */

static int reqs_init(struct cluster *cl)
{
	cl->reqs = calloc(1, sizeof(*cl->reqs));
	return cl->reqs ? 0 : -1;
}

static void reqs_chores(struct cluster *cl)
{
	check_pending(cl);
	check_forwards(cl);
	check_holds(cl, applied_now(cl));
}

static void reqs_stop(struct cluster *cl)
{
	struct cl_fwd *w;
	struct cl_hold *h;

	if (!cl->reqs)
		return;
	while (cl->reqs->pend)
		pend_finish(cl, cl->reqs->pend, RAFT_SHUTDOWN, 0);
	while ((w = cl->reqs->fwd)) {
		cl->reqs->fwd = w->next;
		cl_fail(w->req, CTL_ERR, "shutting down");
		free(w);
	}
	while ((h = cl->reqs->hold)) {
		cl->reqs->hold = h->next;
		cl_fail(h->req, CTL_ERR, "shutting down");
		h->req = NULL;
		hold_free(h);
	}
	free(cl->reqs);
	cl->reqs = NULL;
}

const struct cl_module cl_reqs_module = {
	reqs_init, reqs_chores, reqs_stop,
};
