/* Internals shared by node/cluster/cluster.c (life cycle, joins, app messages,
 * role policy) and node/cluster/cluster_cmd.c (ntpctl commands). */
#ifndef NTPMC_CLUSTER_INT_H
#define NTPMC_CLUSTER_INT_H

#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "node/cluster/cluster.h"
#include "proto/cluster_app.pb-c.h"
#include "raft/driver.h"
#include "raft/fsm.h"
#include "raft/transport/hs.h"
#include "raft/transport/ident.h"
#include "raft/transport/token.h"
#include "raft/transport.h"
#include "storage/st.h"

#define CL_MAX_PEERS 64
#define CL_STATUS_EVERY_MS 250      /* member -> leader status */
#define CL_CHORES_MS 50
#define CL_FWD_DEADLINE_MS 3000     /* forwarded control request */
#define CL_STATUS_DEADLINE_MS 300   /* forwarded cluster status */
/* A forwarded status answers locally at once when the leader was not heard
 * for this many heartbeat periods (at least CL_SILENT_MIN_MS). */
#define CL_SILENT_HEARTBEATS 4
#define CL_SILENT_MIN_MS 200
#define CL_PROPOSE_DEADLINE_MS 5000 /* a proposal not applied by then fails */
#define CL_JOIN_DIAL_MS 30000       /* joiner keeps dialing this long */
#define CL_TRANSFER_DEADLINE_MS 2000

/* JoinReply.status */
#define CL_JOIN_OK 0
#define CL_JOIN_REFUSED 1          /* for good: token, name, request */
#define CL_JOIN_RETRY 2            /* raft busy: ask again */

/* What the leader (or a follower, for itself) knows about one peer. */
struct cl_peer {
	uint64_t id;
	uint64_t last_ms;        /* loop time of the last frame, 0 never */
	int has_status;
	int sync, stratum, has_offset;
	double offset;
	uint64_t applied;
};

struct cluster;
struct cl_req;

/* A control request, answered locally (ctl_call) or for a follower that
 * forwarded it (peer + req_id). */
typedef void (*cl_reply_fn)(struct cl_req *r, int status, const char *error,
			    const char *text, const char *json);

struct cl_req {
	struct cluster *cl;
	struct ctl_call *call;     /* local; NULL when forwarded */
	uint64_t peer, req_id;     /* forwarded from this member */
	int forwarded_join;        /* reply is a JoinReply to a joiner */
	/* When set, cl_reply() hands the answer to relay instead (which then
	 * owns r): a request that needs the leader's answer to go on. */
	void (*relay)(struct cl_req *r, int status, const char *error,
		      const char *text, const char *json);
	int relay_tries;
};

/* A proposal waiting to be applied (or a configuration change to commit). */
struct cl_pend;
typedef void (*cl_pend_fn)(struct cluster *cl, struct cl_pend *p, int err,
			   int result);
struct cl_pend {
	struct cl_pend *next;
	uint64_t index, term;
	uint64_t deadline;         /* loop ms */
	int is_conf;               /* configuration change: wait for commit */
	cl_pend_fn done;
	struct cl_req *req;        /* answered by done, may be NULL */
	void *arg;                 /* free()d after done */
};

/* A request this follower forwarded to the leader. */
struct cl_fwd {
	struct cl_fwd *next;
	uint64_t req_id;
	uint64_t deadline;
	struct cl_req *req;
	int status_fallback;       /* cluster status: answer locally on expiry */
	uint64_t joiner;           /* join forwarded for this joiner (0: none) */
};

struct cluster {
	uv_loop_t *loop;
	const struct cluster_conf *conf;
	enum cluster_mode mode;
	cluster_ready_fn ready;
	void *ready_arg;
	int ready_done, failed;

	struct st *st;
	struct ident *ident;
	struct fsm *fsm;
	struct drv *drv;
	struct rtr *tr;
	void *tr_impl;             /* the transport behind tr */
	rtr_recv_fn drv_recv;      /* the driver's receiver, wrapped */
	void *drv_owner;

	uint8_t cluster_id[TOKEN_CLUSTER_ID_LEN];
	char cluster_id_hex[2 * TOKEN_CLUSTER_ID_LEN + 1];
	uint64_t self;
	char address[TOKEN_ENDPOINT_MAX];

	uv_timer_t tick, chores;
	uint64_t last_status_sent, last_debug, last_status_all;

	struct cl_peer peers[CL_MAX_PEERS];
	unsigned n_peers;
	struct cl_pend *pend;
	struct cl_fwd *fwd;
	uint64_t next_req_id;
	uint64_t conf_busy;        /* index of our uncommitted conf change */
	uint64_t conf_busy_until;

	/* init: 0 wait leader, 1 member put sent, 2 token sent, 3 done */
	int init_step;
	/* join */
	struct token join_tok;
	uint64_t join_started, join_last_try;
	int joined;
	struct {                   /* members from the JoinReply */
		uint64_t id;
		uint8_t key[IDENT_PK_LEN];
		char address[TOKEN_ENDPOINT_MAX];
	} boot[CL_MAX_PEERS];
	unsigned n_boot;
	uint64_t leader_hint;      /* JoinReply's leader, until raft knows */
	uint64_t boot_sum;         /* of the membership last saved */
	/* transfer in progress (leader) */
	struct cl_req *transfer_req;
	uint64_t transfer_target;
	int closed;                /* timers closed (cluster_stop) */
	uint64_t joins_busy[8];    /* joiners whose join is in flight */
	/* replicated keys last applied (cl_apply_config) */
	unsigned applied_e, applied_h;
	char applied_lvl[8];
	/* backup/restore/recover (cluster_backup.c): pruning the old
	 * cluster's member records after a restore or recover */
	int prune_busy;
	unsigned prune_left, prune_failed;
	/* ctl_register arguments, one per command (cluster_cmd.c) */
	struct cl_binding {
		struct cluster *cl;
		const void *cmd;
	} bindings[16];
	struct cl_wg *wg;          /* WireGuard mesh (cluster_wg.c), or NULL */
	/* cluster_drain.c: drains answered once their member is spare, and
	 * the handoff of a leader that exits (cluster_handoff) */
	struct cl_drain *drains;
	struct {
		void (*done)(void *arg);
		void *arg;
		uint64_t until;    /* loop ms; 0: no handoff running */
		uint64_t to;
	} handoff;
};

/* Copies a string, cut to fit (names and addresses have checked lengths
 * where they enter; this only keeps a buffer's bound). */
static inline void cl_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = 0;
}

uint64_t cl_now(const struct cluster *cl);          /* loop ms */
uint64_t cl_wall_ms(void);                          /* unix ms */
int cl_is_leader(struct cluster *cl);
uint64_t cl_leader_id(struct cluster *cl);
struct cl_peer *cl_peer(struct cluster *cl, uint64_t id, int create);
int cl_reachable(struct cluster *cl, uint64_t id);
void cl_rearm(struct cluster *cl);
/* The sink of raft/ and the transport (raft/rlog.h): our log. */
void cl_rlog(void *arg, enum rlog_level level, const char *msg);

/*
 * The members' ids, keys and addresses, kept in the node-local table: a
 * restarted member must authenticate the leader before its log, replayed
 * only up to what the leader says is committed, names the members again.
 * cl_boot_sync() saves the FSM's membership when it changed.
 */
void cl_boot_sync(struct cluster *cl);
int cl_boot_save(struct cluster *cl);
void cl_boot_load(struct cluster *cl);

/* Proposals: buf is taken (free()d). done runs exactly once. */
int cl_propose(struct cluster *cl, void *buf, size_t len, cl_pend_fn done,
	       struct cl_req *req, void *arg);
void cl_pend_finish(struct cluster *cl, struct cl_pend *p, int err,
		    int result);
int cl_change(struct cluster *cl, const struct raft_configuration *conf,
	      cl_pend_fn done, struct cl_req *req, void *arg);
const char *cl_raft_err(int rc);

/* Requests. */
struct cl_req *cl_req_local(struct cluster *cl, struct ctl_call *call);
void cl_reply(struct cl_req *r, int status, const char *error,
	      const char *text, const char *json);
int cl_send_app(struct cluster *cl, uint64_t id, const char *address,
		const Ntpmc__AppMsg *m);
const char *cl_addr_of(struct cluster *cl, uint64_t id);
void cl_check_forwards(struct cluster *cl);
void cl_on_app(void *owner, const struct rtr_from *from, const void *buf,
	       size_t len);
int cl_forward(struct cluster *cl, struct cl_req *r, const char *command,
	       int argc, char **argv, int status_fallback);

int cl_put_self(struct cluster *cl, cl_pend_fn done);

/* cluster_ident.c: the endpoint members dial (cluster-advertise or
 * -listen); what the datadir says this node is, given the mode (logs why
 * and returns -1 when the mode does not fit the datadir); the identity
 * key store on the node-local table; the handshake's trust callbacks
 * (raft/transport/hs.h; ctx is the cluster). */
int cl_prepare_identity(struct cluster *cl, const char *token);
void cl_ident_store(struct cluster *cl, struct ident_store *is);
int cl_trust_member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN]);
int cl_trust_token_key(void *ctx, const uint8_t id[TOKEN_ID_LEN],
		       uint8_t key[TOKEN_KEY_LEN]);

/* cluster_backup.c: `ntpctl backup` (asks the leader for its commit index,
 * answers from this member's FSM once applied that far) and the prune
 * chore after restore/recover. */
int cl_backup_register(struct cluster *cl, struct ctl *ctl);
/* 0 when it answered a forwarded command it owns, -1 otherwise. */
int cl_backup_forwarded(struct cluster *cl, struct cl_req *r,
			const char *command, int argc, char **argv);
void cl_prune_chores(struct cluster *cl);

/* cluster_drain.c: the leader's role policy (node/cluster/cpol.h) with drained
 * members, ntpctl node drain|undrain, the handoff on a planned exit. */
void cl_policy_run(struct cluster *cl);
void cl_cmd_drain(struct cluster *cl, struct cl_req *r, int argc,
		  char **argv);
void cl_cmd_undrain(struct cluster *cl, struct cl_req *r, int argc,
		    char **argv);
void cl_drain_chores(struct cluster *cl);
void cl_drain_stop(struct cluster *cl);     /* answers waiting drains */

/* cluster_tr.c: the real transport (raft/transport/tcp.h) on cluster-listen; the
 * in-process tests link their own. join: the token to dial with. */
int cl_transport_open(struct cluster *cl, const struct hs_config *hs,
		      const struct token *join, struct rtr **out);
void cl_transport_close(struct cluster *cl);
/* Logs the transport counters (debug level). */
void cl_transport_debug(struct cluster *cl);

/* cluster_cmd.c */
int cl_cmd_register(struct cluster *cl, struct ctl *ctl);
/* Runs a command that a follower forwarded (we are the leader). */
void cl_cmd_run(struct cluster *cl, struct cl_req *r, const char *command,
		int argc, char **argv);
uint64_t cl_resolve_node(struct cluster *cl, const char *node);
int cl_conf_role(struct cluster *cl, uint64_t id);  /* -1: not a member */
const char *cl_member_name(struct cluster *cl, uint64_t id);
/* cluster_member.c */
void cl_cmd_transfer(struct cluster *cl, struct cl_req *r, int argc,
		     char **argv);
void cl_cmd_remove(struct cluster *cl, struct cl_req *r, int argc,
		   char **argv);
/* Answers a leadership transfer once it ended (chores timer). */
void cl_cmd_chores(struct cluster *cl);
/* init: the first token is committed (token NULL: retry). */
void cl_init_token_ready(struct cluster *cl, const char *token);
/* Local status view (also the fallback of a forwarded status). */
void cl_status_local(struct cluster *cl, struct cl_req *r, int local);
/* Applies replicated keys that take effect at runtime. */
void cl_apply_config(struct cluster *cl);
/* Creates a join token (member endpoints and fingerprints from the FSM)
 * and proposes it; done answers r with the token. */
int cl_token_create(struct cluster *cl, struct cl_req *r, uint64_t ttl_s,
		    unsigned uses, int print_for_init);
/* The join of a joiner reached directly or through a follower. */
void cl_join_handle(struct cluster *cl, struct cl_req *r, uint64_t joiner,
		    const uint8_t *key, const uint8_t *token_id,
		    const Ntpmc__JoinRequest *jr);

/* ---- cluster_wg.c: the WireGuard mesh; every function is a
 * no-op without `wireguard-interface`. */
struct wgj_reply_buf;
struct wgm_subnet;
/* After st_open, before prepare_identity: resolves our endpoint; init:
 * cl->address becomes OVERLAY:PORT; run: loads the saved mesh. apply:
 * how the mesh goes onto the interface (cluster_hooks.wg_apply). */
int cl_wg_start(struct cluster *cl, const char *init_subnet,
		cluster_wg_apply_fn apply);
void cl_wg_free(struct cluster *cl);
void cl_wg_sync(struct cluster *cl);          /* render + apply if changed */
void cl_wg_on_apply(struct cluster *cl);      /* an entry was applied */
void cl_wg_chores(struct cluster *cl);        /* retries, re-announce */
int cl_wg_init_propose(struct cluster *cl);   /* init: record the subnet */
void cl_wg_fill_self(struct cluster *cl, struct fsm_member *me);
void cl_wg_fill_request(struct cluster *cl, Ntpmc__JoinRequest *jr);
/* Leader: 1 overlay allocated into m, 0 not a WireGuard joiner, -1 err. */
int cl_wg_join_member(struct cluster *cl, const Ntpmc__JoinRequest *jr,
		      struct fsm_member *m, char *err, size_t errlen);
void cl_wg_release(struct cluster *cl, uint64_t id);  /* join ended */
void cl_wg_fill_reply(struct cluster *cl, Ntpmc__JoinReply *jr,
		      struct wgj_reply_buf *b);
/* Joiner: 0 ok (mesh applied), -EAGAIN ask again, -1 refused for good. */
int cl_wg_on_reply(struct cluster *cl, const Ntpmc__JoinReply *jr);
/* Leader: a member's forwarded endpoint re-announce; 0 not ours. */
int cl_wg_forwarded(struct cluster *cl, struct cl_req *r, const char *command,
		    int argc, char **argv);
void cl_wg_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s);
void cl_wg_status_seen(struct cluster *cl, uint64_t id,
		       const Ntpmc__MemberStatus *s);
/* 16 hex digits of member id's applied mesh hash, "" unknown. */
void cl_wg_mesh_of(struct cluster *cl, uint64_t id, char *out, size_t len);
/* Where a joiner dials member id (public host, cluster port). */
int cl_wg_dial_address(struct cluster *cl, uint64_t id, char *out,
		       size_t len);

#endif
