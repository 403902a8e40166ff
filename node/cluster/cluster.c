/*
 * cluster: life cycle of the node's cluster side: init (bootstrap), join
 * (token handshake, then spare -> standby -> voter), run; the raft timer;
 * application messages (joins, forwarded control requests, member status);
 * the chores that run the role policy (cluster_drain.c, node/cluster/cpol.h).
 * What the datadir says this node is, and whom the handshake trusts:
 * cluster_ident.c.
 */
#include "node/cluster/cluster.h"
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "node/cluster/ckey.h"
#include "node/cluster/cstat.h"
#include "node/ctl/ctl.h"
#include "node/base/log.h"
#include "node/ntp/tstate.h"


/* ---------------------------------------------------------------- */
/* small helpers */

uint64_t cl_now(const struct cluster *cl)
{
	return uv_now(cl->loop);
}

uint64_t cl_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static raft_time drv_now(void *data)
{
	struct cluster *cl = data;

	return uv_now(cl->loop);
}

int cl_is_leader(struct cluster *cl)
{
	return cl->drv && raft_state(drv_raft(cl->drv)) == RAFT_LEADER;
}

uint64_t cl_leader_id(struct cluster *cl)
{
	raft_id id = 0;
	const char *addr = NULL;

	if (!cl->drv)
		return 0;
	raft_leader(drv_raft(cl->drv), &id, &addr);
	return id;
}

struct cl_peer *cl_peer(struct cluster *cl, uint64_t id, int create)
{
	unsigned i;

	for (i = 0; i < cl->n_peers; i++)
		if (cl->peers[i].id == id)
			return &cl->peers[i];
	if (!create || cl->n_peers == CL_MAX_PEERS)
		return NULL;
	memset(&cl->peers[cl->n_peers], 0, sizeof(cl->peers[0]));
	cl->peers[cl->n_peers].id = id;
	return &cl->peers[cl->n_peers++];
}

static unsigned election_ms(const struct cluster *cl)
{
	const char *v = cl->fsm ? fsm_config_get(cl->fsm, "election-timeout") :
				  NULL;

	if (v)
		return (unsigned)atoi(v);
	return cl->conf->election_timeout_ms ? cl->conf->election_timeout_ms :
					       DRV_ELECTION_TIMEOUT_MS;
}

/* Heard from within the election timeout (at least 3 status periods). */
int cl_reachable(struct cluster *cl, uint64_t id)
{
	struct cl_peer *p;
	uint64_t lim = election_ms(cl);

	if (id == cl->self)
		return 1;
	if (lim < 3 * CL_STATUS_EVERY_MS)
		lim = 3 * CL_STATUS_EVERY_MS;
	p = cl_peer(cl, id, 0);
	return p && p->last_ms && cl_now(cl) - p->last_ms <= lim;
}

const char *cl_raft_err(int rc)
{
	switch (rc) {
	case RAFT_NOTLEADER:
		return "not the leader (leadership changed): retry";
	case RAFT_NOSPACE:
		return "no space left in the store on a majority of voters "
		       "(RAFT_NOSPACE): write refused; free disk space or "
		       "raise mapsize";
	case RAFT_CANTCHANGE:
		return "a configuration change is already in progress: retry";
	case RAFT_LEADERSHIPLOST:
		return "leadership lost before the change committed: retry";
	case RAFT_NOMEM:
		return "out of memory";
	default:
		return raft_strerror(rc);
	}
}

/* ---------------------------------------------------------------- */
/* raft timer and the wrapped receiver */

static void on_tick(uv_timer_t *t)
{
	struct cluster *cl = t->data;

	drv_tick(cl->drv);
	cl_rearm(cl);
}

void cl_rearm(struct cluster *cl)
{
	raft_time next, now = uv_now(cl->loop);

	if (!cl->drv || drv_failed(cl->drv))
		return;
	next = drv_next_timeout(cl->drv);
	uv_timer_start(&cl->tick, on_tick, next > now ? next - now : 0, 0);
}

static const char *member_address(struct cluster *cl, uint64_t id)
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);
	unsigned i;

	if (m)
		return m->address;
	for (i = 0; i < cl->n_boot; i++)
		if (cl->boot[i].id == id)
			return cl->boot[i].address;
	return "";
}

static void on_raft_recv(void *owner, struct raft_message *msg)
{
	struct cluster *cl = owner;
	struct cl_peer *p = cl_peer(cl, msg->server_id, 1);

	if (p)
		p->last_ms = cl_now(cl);
	/* A fresh joiner's transport knows no member addresses yet (they
	 * come with the log): raft answers to server_address. */
	if (!msg->server_address || !*msg->server_address)
		msg->server_address = member_address(cl, msg->server_id);
	cl->drv_recv(cl->drv_owner, msg);
	cl_rearm(cl);
}

/* ---------------------------------------------------------------- */
/* proposals */

static void pend_add(struct cluster *cl, struct cl_pend *p)
{
	p->deadline = cl_now(cl) + CL_PROPOSE_DEADLINE_MS;
	p->next = cl->pend;
	cl->pend = p;
}

void cl_pend_finish(struct cluster *cl, struct cl_pend *p, int err,
			int result)
{
	struct cl_pend **pp;

	for (pp = &cl->pend; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->done)
		p->done(cl, p, err, result);
	free(p->arg);
	free(p);
}

int cl_propose(struct cluster *cl, void *buf, size_t len, cl_pend_fn done,
	       struct cl_req *req, void *arg)
{
	struct raft *r = drv_raft(cl->drv);
	struct cl_pend *p, **pp;
	uint64_t index, term;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p) {
		free(buf);
		free(arg);
		return RAFT_NOMEM;
	}
	/* Registered first: a single voter applies inside drv_submit, which
	 * then finishes (and frees) p before returning. */
	p->index = raft_last_index(r) + 1;
	p->term = raft_current_term(r);
	p->done = done;
	p->req = req;
	p->arg = arg;
	pend_add(cl, p);
	rc = drv_submit(cl->drv, buf, len, &index, &term);
	free(buf);
	if (rc == 0) {
		cl_rearm(cl);
		return 0;
	}
	for (pp = &cl->pend; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p->arg);
			free(p);
			break;
		}
	return rc;
}

int cl_change(struct cluster *cl, const struct raft_configuration *conf,
	      cl_pend_fn done, struct cl_req *req, void *arg)
{
	struct cl_pend *p;
	uint64_t index;
	int rc;

	if (cl->conf_busy) {
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
	p->index = index;
	p->term = raft_current_term(drv_raft(cl->drv));
	p->is_conf = 1;
	p->done = done;
	p->req = req;
	p->arg = arg;
	cl->conf_busy = index;
	pend_add(cl, p);
	cl_rearm(cl);
	return 0;
}

/* Applied command at index: every member; only the proposer has a pend. */
static void on_apply(void *data, uint64_t index, uint64_t term,
		     const void *buf, size_t len, int result)
{
	struct cluster *cl = data;
	struct cl_pend *p, *next;

	for (p = cl->pend; p; p = next) {
		next = p->next;
		if (p->is_conf || p->index != index)
			continue;
		/* Another entry won that index: ours was lost with a term. */
		cl_pend_finish(cl, p, p->term == term ? 0 : RAFT_LEADERSHIPLOST,
			    result);
	}
	cl_apply_config(cl);
	cl_boot_sync(cl);
	cl_wg_on_apply(cl);
}

/* ---------------------------------------------------------------- */
/* members' keys and addresses in the node-local table */

#define BOOT_REC (8 + IDENT_PK_LEN + TOKEN_ENDPOINT_MAX)

int cl_boot_save(struct cluster *cl)
{
	uint8_t *buf, *p;
	unsigned i;
	int rc, k;

	buf = calloc(cl->n_boot ? cl->n_boot : 1, BOOT_REC);
	if (!buf)
		return -ENOMEM;
	for (i = 0, p = buf; i < cl->n_boot; i++, p += BOOT_REC) {
		for (k = 0; k < 8; k++)
			p[k] = (uint8_t)(cl->boot[i].id >> (56 - 8 * k));
		memcpy(p + 8, cl->boot[i].key, IDENT_PK_LEN);
		memcpy(p + 8 + IDENT_PK_LEN, cl->boot[i].address,
		       TOKEN_ENDPOINT_MAX);
	}
	rc = st_local_put(cl->st, CLUSTER_K_MEMBERS, buf,
			  (size_t)cl->n_boot * BOOT_REC);
	free(buf);
	return rc;
}

void cl_boot_load(struct cluster *cl)
{
	void *buf = NULL;
	size_t len = 0, i;
	const uint8_t *p;
	int k;

	if (st_local_get(cl->st, CLUSTER_K_MEMBERS, &buf, &len) < 0)
		return;
	cl->n_boot = 0;
	for (i = 0, p = buf; i + BOOT_REC <= len && cl->n_boot < CL_MAX_PEERS;
	     i += BOOT_REC, p += BOOT_REC) {
		uint64_t id = 0;

		for (k = 0; k < 8; k++)
			id = id << 8 | p[k];
		cl->boot[cl->n_boot].id = id;
		memcpy(cl->boot[cl->n_boot].key, p + 8, IDENT_PK_LEN);
		memcpy(cl->boot[cl->n_boot].address, p + 8 + IDENT_PK_LEN,
		       TOKEN_ENDPOINT_MAX);
		cl->boot[cl->n_boot].address[TOKEN_ENDPOINT_MAX - 1] = 0;
		cl->n_boot++;
	}
	free(buf);
}

void cl_boot_sync(struct cluster *cl)
{
	unsigned i, n = fsm_member_count(cl->fsm);
	uint64_t sum = 1469598103934665603ULL;  /* FNV-1a over the set */
	unsigned k;

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);
		const uint8_t *b = (const uint8_t *)&m->id;

		for (k = 0; k < 8; k++)
			sum = (sum ^ b[k]) * 1099511628211ULL;
		for (k = 0; k < FSM_IDKEY_LEN; k++)
			sum = (sum ^ m->idkey[k]) * 1099511628211ULL;
		for (k = 0; m->address[k]; k++)
			sum = (sum ^ (uint8_t)m->address[k]) *
			      1099511628211ULL;
	}
	if (sum == cl->boot_sum)
		return;
	cl->n_boot = 0;
	for (i = 0; i < n && i < CL_MAX_PEERS; i++) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);

		cl->boot[i].id = m->id;
		memcpy(cl->boot[i].key, m->idkey, IDENT_PK_LEN);
		cl_copy(cl->boot[i].address, sizeof(cl->boot[i].address),
			m->address);
		cl->n_boot++;
	}
	if (cl_boot_save(cl) == 0)
		cl->boot_sum = sum;
}

static void check_pending(struct cluster *cl)
{
	struct cl_pend *p, *next;
	struct raft *r = drv_raft(cl->drv);
	uint64_t now = cl_now(cl), commit = raft_commit_index(r);

	for (p = cl->pend; p; p = next) {
		next = p->next;
		if (p->is_conf && commit >= p->index) {
			if (cl->conf_busy == p->index)
				cl->conf_busy = 0;
			cl_pend_finish(cl, p, 0, 0);
		} else if (p->is_conf &&
			   raft_current_term(r) != p->term) {
			/* A new leader may have dropped it; its log decides,
			 * but we stop waiting on it here. */
			if (cl->conf_busy == p->index)
				cl->conf_busy = 0;
			cl_pend_finish(cl, p, RAFT_LEADERSHIPLOST, 0);
		} else if (now >= p->deadline) {
			if (p->is_conf && cl->conf_busy == p->index)
				cl->conf_busy = 0;
			cl_pend_finish(cl, p, RAFT_BUSY, 0);
		}
	}
}

/* ---------------------------------------------------------------- */
/* periodic chores */

static void send_status(struct cluster *cl)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__MemberStatus s = NTPMC__MEMBER_STATUS__INIT;
	uint64_t leader = cl_leader_id(cl);
	struct tstate ts;
	unsigned i;

	/* A spare gets no raft traffic: it shows it is up to the leader
	 * named in its JoinReply, so the role policy can promote it. */
	if (!leader)
		leader = cl->leader_hint;
	if (leader == cl->self)
		return;
	tstate_read(&ts);
	s.sync = ts.leap != 3 && ts.stratum != 0;
	s.stratum = ts.stratum;
	s.has_offset = 1;
	s.offset = ts.corr_offset;
	s.applied = drv_applied(cl->drv);
	cl_wg_fill_status(cl, &s);
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_STATUS;
	m.status = &s;
	if (leader) {
		cl_send_app(cl, leader, cl_addr_of(cl, leader) ?
			    cl_addr_of(cl, leader) :
			    member_address(cl, leader), &m);
		return;
	}
	/* No leader known (a restarted spare hears no raft traffic): tell
	 * every member we know of, once a second, so that the leader sees
	 * us up and its role policy can use us. */
	if (cl_now(cl) - cl->last_status_all < 1000)
		return;
	cl->last_status_all = cl_now(cl);
	for (i = 0; i < cl->n_boot; i++)
		if (cl->boot[i].id != cl->self)
			cl_send_app(cl, cl->boot[i].id, cl->boot[i].address, &m);
}

static void joiner_try(struct cluster *cl)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__JoinRequest jr = NTPMC__JOIN_REQUEST__INIT;
	char wg[IDENT_WG_B64_LEN];
	uint64_t now = cl_now(cl);

	if (now - cl->join_started > CL_JOIN_DIAL_MS) {
		log_err("join: no member named in the token accepted the "
			"join within %d s (unreachable, or the token is used, "
			"revoked or unknown)", CL_JOIN_DIAL_MS / 1000);
		cl->ready_done = 1;
		cl->ready(cl->ready_arg, cl, 0);
		return;
	}
	if (cl->join_last_try && now - cl->join_last_try < 1000)
		return;
	cl->join_last_try = now;
	ident_wg_public_b64(cl->ident, wg);
	jr.name = (char *)cl->conf->node_name;
	jr.address = cl->address;
	jr.provider = (char *)(cl->conf->provider[0] ? cl->conf->provider :
			       "other");
	jr.region = (char *)cl->conf->region;
	jr.cmd_version = FSM_CMD_VERSION;
	jr.wg_public = wg;
	cl_wg_fill_request(cl, &jr);
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_JOIN_REQUEST;
	m.join_request = &jr;
	cl_send_app(cl, 0, NULL, &m);
}

static void init_progress(struct cluster *cl);

static void on_chores(uv_timer_t *t)
{
	struct cluster *cl = t->data;
	uint64_t now = cl_now(cl);

	if (drv_failed(cl->drv)) {
		/* Never acknowledge again (exit non-zero). */
		log_err("raft stopped (%d): exiting", drv_failed(cl->drv));
		exit(1);
	}
	check_pending(cl);
	cl_check_forwards(cl);
	cl_cmd_chores(cl);
	cl_drain_chores(cl);
	cl_wg_chores(cl);
	if (cl->mode == CLUSTER_JOIN && !cl->ready_done)
		joiner_try(cl);
	if (cl->mode == CLUSTER_INIT && !cl->ready_done)
		init_progress(cl);
	if (now - cl->last_debug >= 2000) {
		cl->last_debug = now;
		cl_transport_debug(cl);
	}
	if (now - cl->last_status_sent >= CL_STATUS_EVERY_MS) {
		cl->last_status_sent = now;
		send_status(cl);
	}
	if (cl_is_leader(cl)) {
		cl_prune_chores(cl);     /* after restore/recover only */
		cl_policy_run(cl);
	}
}

/* ---------------------------------------------------------------- */
/* init: this node is the first voter; then its member record and the
 * first join token are committed, the token printed, the socket opened. */

static void init_member_done(struct cluster *cl, struct cl_pend *p, int err,
			     int result)
{
	(void)p;
	if (err || result != FSM_OK) {
		log_warnx("init: member record not committed (%s), retrying",
			  err ? cl_raft_err(err) : "rejected");
		cl->init_step = 0;
		return;
	}
	cl->init_step = 2;
	if (cl_token_create(cl, NULL, 0, 1, 1) < 0)
		cl->init_step = 0;
}

static int put_self(struct cluster *cl, cl_pend_fn done)
{
	struct fsm_member me;
	void *buf;
	size_t len;
	int rc;

	memset(&me, 0, sizeof(me));
	me.id = cl->self;
	snprintf(me.name, sizeof(me.name), "%s", cl->conf->node_name);
	snprintf(me.provider, sizeof(me.provider), "%s",
		 cl->conf->provider[0] ? cl->conf->provider : "other");
	snprintf(me.region, sizeof(me.region), "%s", cl->conf->region);
	cl_copy(me.address, sizeof(me.address), cl->address);
	me.role = FSM_ROLE_VOTER;
	me.cmd_version = FSM_CMD_VERSION;
	memcpy(me.idkey, ident_public(cl->ident), FSM_IDKEY_LEN);
	cl_wg_fill_self(cl, &me);
	rc = fsm_cmd_member_put(&me, cl_wall_ms(), &buf, &len);
	if (rc < 0)
		return rc;
	return cl_propose(cl, buf, len, done, NULL, NULL);
}

int cl_put_self(struct cluster *cl, cl_pend_fn done)
{
	return put_self(cl, done);
}

static void init_progress(struct cluster *cl)
{
	if (cl->init_step != 0 || !cl_is_leader(cl))
		return;
	cl->init_step = 1;
	if (cl_wg_init_propose(cl) != 0 ||
	    put_self(cl, init_member_done) != 0)
		cl->init_step = 0;
}

/* cluster_cmd.c calls this once the init token is committed. */
void cl_init_token_ready(struct cluster *cl, const char *token)
{
	cl->init_step = 3;
	log_info("cluster %s created; member %" PRIu64 " (%s) is its first "
		 "voter", cl->cluster_id_hex, cl->self, cl->conf->node_name);
	/* Alone on the last line of stdout. */
	printf("%s\n", token);
	fflush(stdout);
	cl->ready_done = 1;
	cl->ready(cl->ready_arg, cl, 1);
}

/* ---------------------------------------------------------------- */
/* start and stop (identity and trust: cluster_ident.c) */

static void ready_now(uv_timer_t *t)
{
	struct cluster *cl = t->data;

	if (cl->mode == CLUSTER_RUN && !cl->ready_done) {
		cl->ready_done = 1;
		cl->ready(cl->ready_arg, cl, 1);
	}
	uv_timer_start(&cl->chores, on_chores, CL_CHORES_MS, CL_CHORES_MS);
}

/* raft/ and the transport tell their failures here (raft/rlog.h). */
void cl_rlog(void *arg, enum rlog_level level, const char *msg)
{
	(void)arg;
	switch (level) {
	case RLOG_DEBUG: log_debug("%s", msg); break;
	case RLOG_INFO: log_info("%s", msg); break;
	case RLOG_WARN: log_warnx("%s", msg); break;
	default: log_err("%s", msg); break;
	}
}

int cluster_start(struct cluster **out, uv_loop_t *loop, const struct cluster_conf *c,
		  enum cluster_mode mode, const char *token,
		  cluster_ready_fn ready, void *arg)
{
	struct cluster *cl;
	struct ident_store is;
	struct hs_config hs;
	struct drv_config dc;
	int rc;

	if (sodium_init() < 0)
		return -1;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -1;
	cl->loop = loop;
	cl->conf = c;
	cl->mode = mode;
	cl->ready = ready;
	cl->ready_arg = arg;
	cluster_advertise(c, cl->address, sizeof(cl->address));

	rc = st_open(&cl->st, c->datadir, c->mapsize);
	if (rc < 0) {
		log_err("cannot open the store in %s: %s", c->datadir,
			strerror(-rc));
		goto fail;
	}
	/* before prepare_identity: an init bootstraps with its overlay */
	if (cl_wg_start(cl, mode == CLUSTER_INIT ? token : NULL) < 0)
		goto fail;
	if (cl_prepare_identity(cl, mode == CLUSTER_JOIN ? token : NULL) < 0)
		goto fail;
	cl_ident_store(cl, &is);
	if (ident_load_or_create(&is, &cl->ident) < 0) {
		log_err("cannot load or create the node identity keys");
		goto fail;
	}
	cl->fsm = fsm_new();
	if (!cl->fsm)
		goto fail;
	cl_boot_load(cl);

	memset(&hs, 0, sizeof(hs));
	memcpy(hs.cluster_id, cl->cluster_id, sizeof(hs.cluster_id));
	hs.self_id = cl->self;
	hs.ident = cl->ident;
	hs.trust.member_key = cl_trust_member_key;
	hs.trust.token_key = cl_trust_token_key;
	hs.trust.ctx = cl;
	if (cl_transport_open(cl, &hs, mode == CLUSTER_JOIN ?
			      &cl->join_tok : NULL, &cl->tr) < 0) {
		log_err("cannot listen for members on cluster-listen");
		goto fail;
	}

	memset(&dc, 0, sizeof(dc));
	dc.id = cl->self;
	dc.address = cl->address;
	dc.st = cl->st;
	dc.tr = cl->tr;
	dc.fsm = cl->fsm;
	dc.now = drv_now;
	dc.now_data = cl;
	randombytes_buf(&dc.seed, sizeof(dc.seed));
	dc.election_timeout_ms = c->election_timeout_ms;
	dc.heartbeat_timeout_ms = c->heartbeat_timeout_ms;
	dc.on_apply = on_apply;
	dc.cb_data = cl;
	dc.log.fn = cl_rlog;
	rc = drv_open(&cl->drv, &dc);
	if (rc < 0) {
		log_err("cannot start raft from the store (%d)", rc);
		goto fail;
	}
	/* Wrap the driver's receiver to learn when each peer was heard. */
	cl->drv_recv = cl->tr->recv;
	cl->drv_owner = cl->tr->owner;
	cl->tr->recv = on_raft_recv;
	cl->tr->owner = cl;
	cl->tr->app_recv = cl_on_app;
	cl->tr->app_owner = cl;
	cl_apply_config(cl);
	cl_boot_sync(cl);
	cl_wg_sync(cl);

	uv_timer_init(loop, &cl->tick);
	uv_timer_init(loop, &cl->chores);
	cl->tick.data = cl->chores.data = cl;
	cl->join_started = cl_now(cl);
	cl_rearm(cl);
	uv_timer_start(&cl->chores, ready_now, 0, 0);
	log_info("cluster %s: member %" PRIu64 " (%s) at %s",
		 cl->cluster_id_hex, cl->self, c->node_name, cl->address);
	*out = cl;
	return 0;
fail:
	if (cl->drv)
		drv_close(cl->drv);
	if (cl->tr)
		cl_transport_close(cl);
	fsm_free(cl->fsm);
	ident_free(cl->ident);
	if (cl->st)
		st_close(cl->st);
	token_wipe(&cl->join_tok);
	cl_wg_free(cl);
	free(cl);
	return -1;
}

int cluster_register(struct cluster *cl, struct ctl *ctl)
{
	if (cl_cmd_register(cl, ctl) < 0)
		return -1;
	return cl_backup_register(cl, ctl);
}

struct st *cluster_store(struct cluster *cl)
{
	return cl->st;
}

const char *cluster_role(struct cluster *cl)
{
	int role;

	if (!cl->ready_done || !cl->drv)
		return cl->mode == CLUSTER_JOIN ? "joining" : "starting";
	if (cl_is_leader(cl))
		return "leader";
	role = cl_conf_role(cl, cl->self);
	return role < 0 ? "not a member" : cstat_role_name(role);
}

int cluster_failed(const struct cluster *cl)
{
	return cl->failed || (cl->drv && drv_failed(cl->drv));
}

static void on_closed(uv_handle_t *h)
{
	struct cluster *cl = h->data;

	/* Both timers point into cl: free it after the second one. */
	if (++cl->closed == 2)
		free(cl);
}

void cluster_stop(struct cluster *cl)
{
	struct cl_pend *p;
	struct cl_fwd *w;

	if (!cl)
		return;
	while ((p = cl->pend))
		cl_pend_finish(cl, p, RAFT_SHUTDOWN, 0);
	while ((w = cl->fwd)) {
		cl->fwd = w->next;
		cl_reply(w->req, 1, "shutting down", NULL, NULL);
		free(w);
	}
	if (cl->transfer_req)
		cl_reply(cl->transfer_req, 1, "shutting down", NULL, NULL);
	cl_drain_stop(cl);
	cl->tr->recv = cl->drv_recv;
	cl->tr->owner = cl->drv_owner;
	cl->tr->app_recv = NULL;
	drv_close(cl->drv);
	cl_transport_close(cl);
	fsm_free(cl->fsm);
	ident_free(cl->ident);
	st_close(cl->st);
	token_wipe(&cl->join_tok);
	cl_wg_free(cl);
	uv_timer_stop(&cl->tick);
	uv_timer_stop(&cl->chores);
	uv_close((uv_handle_t *)&cl->tick, on_closed);
	uv_close((uv_handle_t *)&cl->chores, on_closed);
}
