/*
 * cluster: lifetime of the node's cluster side. Start opens, in order, the
 * store, the WireGuard mesh, the identity, the FSM, the transport and the
 * driver (on the loop through raft/drvloop.h, which re-arms the raft
 * timeout before every poll); then every concern's module runs its
 * chores on one timer. Applied entries reach the modules' observers.
 * Stop undoes it in reverse.
 */
#include "node/cluster/cluster.h"
#include "node/cluster/cluster_int.h"
#include "node/cluster/cstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/cluster/cstat.h"
#include "node/base/log.h"
#include "node/ntp/tstate.h"

/* Initialised in this order (which is also the order of their apply
 * observers), stopped in reverse: requests first, so that what waits is
 * answered while every other module's state still exists. */
static const struct cl_module *const modules[] = {
	&cl_config_module, &cl_timing_module, &cl_cmds_module,
	&cl_peers_module,  &cl_wg_module,     &cl_join_module,
	&cl_app_module,    &cl_members_module, &cl_prune_module,
	&cl_drains_module, &cl_announce_module, &cl_ext_module,
	&cl_check_module,  &cl_place_module,  &cl_cost_module,
	&cl_reqs_module,
};

#define N_MODULES (sizeof(modules) / sizeof(modules[0]))
#define TRANSPORT_DEBUG_MS 2000

/* ---------------------------------------------------------------- */
/* small helpers */

uint64_t cl_now(const struct cluster *cl)
{
	return uv_now(cl->loop);
}

/* The served time, not the kernel clock: with `discipline virtual` the
 * kernel clock is known to be wrong, and commands' timestamps, token
 * expiry and schedules must agree with the time the fleet serves. */
uint64_t cl_wall_ms(void)
{
	int64_t ns = tstate_now_ns(NULL);

	return ns > 0 ? (uint64_t)ns / 1000000 : 0;
}

int cl_clock_synced(void)
{
	int synced;

	tstate_now_ns(&synced);
	return synced;
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
	case RAFT_SHUTDOWN:
		return "shutting down";
	default:
		return raft_strerror(rc);
	}
}

void cl_observe(struct cluster *cl, cl_observer_fn fn)
{
	if (cl->n_observers < CL_MAX_OBSERVERS)
		cl->observers[cl->n_observers++] = fn;
}

static void observers_run(struct cluster *cl)
{
	unsigned i;

	for (i = 0; i < cl->n_observers; i++)
		cl->observers[i](cl);
}

void cl_ready(struct cluster *cl, int ok)
{
	if (cl->ready_done)
		return;
	cl->ready_done = 1;
	cl->hooks.ready(cl->hooks.arg, cl, ok);
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

/* ---------------------------------------------------------------- */
/* the driver */

static void on_raft_recv(void *owner, struct raft_message *msg)
{
	struct cluster *cl = owner;
	int append = msg->type == RAFT_APPEND_ENTRIES;

	cl_peer_heard(cl, msg->server_id);
	/* A fresh joiner's transport knows no member addresses yet (they
	 * come with the log): raft answers to server_address. */
	if (!msg->server_address || !*msg->server_address)
		msg->server_address = cl_member_address(cl, msg->server_id);
	cl->drv_recv(cl->drv_owner, msg);
	if (append)
		cl_status_heartbeat(cl);
}

/* Applied command at index: every member; only the proposer waits. */
static void on_apply(void *data, uint64_t index, uint64_t term,
		     const void *buf, size_t len, int result)
{
	struct cluster *cl = data;

	(void)buf;
	(void)len;
	cl_reqs_applied(cl, index, term, result);
	observers_run(cl);
}

/* raft stopped for good: never acknowledge again, the daemon exits. */
static void on_raft_failed(void *data, int reason)
{
	struct cluster *cl = data;

	log_err("raft stopped (%d): exiting", reason);
	if (cl->hooks.failed)
		cl->hooks.failed(cl->hooks.arg, cl, reason);
}

static int open_driver(struct cluster *cl)
{
	struct drv_config dc;
	int rc;

	memset(&dc, 0, sizeof(dc));
	dc.id = cl->self;
	dc.address = cl->address;
	dc.st = cl->st;
	dc.tr = cl->tr;
	dc.fsm = cl->fsm;
	dc.now = drl_now;
	dc.now_data = cl->loop;
	dc.seed = drl_seed();
	dc.election_timeout_ms = cl->conf->election_timeout_ms;
	dc.heartbeat_timeout_ms = cl->conf->heartbeat_timeout_ms;
	dc.on_apply = on_apply;
	dc.cb_data = cl;
	dc.log.fn = cl_rlog;
	rc = drv_open(&cl->drv, &dc);
	if (rc < 0) {
		log_err("cannot start raft from the store (%d)", rc);
		return -1;
	}
	/* Wrap the driver's receiver to learn when each peer was heard. */
	cl->drv_recv = cl->tr->recv;
	cl->drv_owner = cl->tr->owner;
	cl->tr->recv = on_raft_recv;
	cl->tr->owner = cl;
	cl->tr->app_recv = cl_on_app;
	cl->tr->app_owner = cl;
	cl->tr->join_refused = cl_join_refused;
	return drl_start(&cl->drl, cl->loop, cl->drv, on_raft_failed, cl);
}

/* ---------------------------------------------------------------- */
/* chores */

static void on_chores(uv_timer_t *t)
{
	struct cluster *cl = t->data;
	uint64_t now = cl_now(cl);
	size_t i;

	if (drv_failed(cl->drv))
		return;
	for (i = 0; i < N_MODULES; i++)
		if (modules[i]->chores)
			modules[i]->chores(cl);
	if (cl->hooks.transport->debug &&
	    now - cl->last_debug >= TRANSPORT_DEBUG_MS) {
		cl->last_debug = now;
		cl->hooks.transport->debug(cl->hooks.transport->arg, cl->tr);
	}
}

static void ready_now(uv_timer_t *t)
{
	struct cluster *cl = t->data;

	if (cl->mode == CLUSTER_RUN)
		cl_ready(cl, 1);
	uv_timer_start(&cl->chores, on_chores, CL_CHORES_MS, CL_CHORES_MS);
}

/* ---------------------------------------------------------------- */
/* start and stop (identity and trust: cluster_ident.c) */

static int open_transport(struct cluster *cl)
{
	const struct cluster_transport *t = cl->hooks.transport;
	struct hs_config hs;

	memset(&hs, 0, sizeof(hs));
	memcpy(hs.cluster_id, cl->cluster_id, sizeof(hs.cluster_id));
	hs.self_id = cl->self;
	hs.ident = cl->ident;
	hs.trust.member_key = cl_trust_member_key;
	hs.trust.token = cl_trust_token;
	hs.trust.ctx = cl;
	if (t->open(t->arg, cl->loop, cl->conf, &hs,
		    cl->mode == CLUSTER_JOIN ? cl->join_tok : NULL,
		    &cl->tr) < 0) {
		log_err("cannot listen for members on cluster-listen");
		return -1;
	}
	return 0;
}

/* Frees what start opened; the loop must run afterwards (handles). */
static void teardown(struct cluster *cl)
{
	size_t i;

	for (i = N_MODULES; i-- > 0;)
		if (modules[i]->stop)
			modules[i]->stop(cl);
	drl_stop(cl->drl);
	if (cl->tr) {
		cl->tr->recv = cl->drv_recv;
		cl->tr->owner = cl->drv_owner;
		cl->tr->app_recv = NULL;
		cl->tr->join_refused = NULL;
	}
	if (cl->drv)
		drv_close(cl->drv);
	if (cl->tr && cl->join_tok && cl->tr->join_done)
		cl->tr->join_done(cl->tr);  /* the token goes below */
	if (cl->tr)
		cl->hooks.transport->close(cl->hooks.transport->arg, cl->tr);
	fsm_free(cl->fsm);
	ident_free(cl->ident);
	if (cl->st)
		st_close(cl->st);
	token_free(cl->join_tok);
	cl->join_tok = NULL;
}

int cluster_start(struct cluster **out, uv_loop_t *loop,
		  const struct cluster_conf *c, enum cluster_mode mode,
		  const char *token, const struct cluster_hooks *hooks)
{
	struct cluster *cl;
	struct ident_store is;
	char msg[CSTORE_MSG_MAX];
	size_t i;
	int rc;

	if (sodium_init() < 0)
		return -1;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -1;
	cl->loop = loop;
	cl->conf = c;
	cl->mode = mode;
	cl->hooks = *hooks;
	if (!cl->hooks.transport)
		cl->hooks.transport = &cl_tcp_transport;
	cluster_advertise(c, cl->address, sizeof(cl->address));
	for (i = 0; i < N_MODULES; i++)
		if (modules[i]->init(cl) < 0)
			goto fail;

	rc = cstore_open(&cl->st, c->datadir, c->mapsize, msg, sizeof(msg));
	if (rc < 0) {
		log_err("%s", msg);
		goto fail;
	}
	/* before prepare_identity: an init bootstraps with its overlay */
	if (cl_wg_open(cl, mode == CLUSTER_INIT ? token : NULL) < 0)
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
	if (open_transport(cl) < 0 || open_driver(cl) < 0)
		goto fail;
	/* What the store already holds takes effect now (config, mesh). */
	observers_run(cl);
	cl_wg_sync(cl);

	uv_timer_init(loop, &cl->chores);
	cl->chores.data = cl;
	uv_timer_start(&cl->chores, ready_now, 0, 0);
	log_info("cluster %s: member %" PRIu64 " (%s) at %s",
		 cl->cluster_id_hex, cl->self, c->node_name, cl->address);
	*out = cl;
	return 0;
fail:
	teardown(cl);
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
	return cl->drv && drv_failed(cl->drv);
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void cluster_stop(struct cluster *cl)
{
	if (!cl)
		return;
	cl->closing = 1;
	teardown(cl);
	uv_timer_stop(&cl->chores);
	uv_close((uv_handle_t *)&cl->chores, on_closed);
}
