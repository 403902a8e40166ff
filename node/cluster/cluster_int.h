/*
 * Internals of node/cluster, split by concern. struct cluster holds what
 * every part needs (the store, identity, FSM, driver, transport, who we
 * are); each concern keeps its own state in a struct private to its file,
 * reached through the functions below:
 *
 *   cluster.c         lifetime, the driver on the loop, chores, observers
 *   cluster_req.c     control requests, proposals, forwards to the leader
 *   cluster_peer.c    what we know of each member; their keys and addresses
 *   cluster_join.c    becoming a member: init and join
 *   cluster_app.c     application messages between members
 *   cluster_member.c  leader: joins, leader transfer, node remove
 *   cluster_announce.c our record follows our config and build
 *   cluster_ext.c     what the subsystems above may read and ask
 *   cluster_drain.c   leader: role policy, drain, handoff on exit
 *   cluster_config.c  replicated keys: config get|set, their runtime effect
 *   cluster_timing.c  the timing in force: profile keys, heartbeat pacing
 *   cluster_place.c   leader: placement on the member with egress to spare
 *   cluster_cmd.c     the command table, cluster status, tokens
 *   cluster_backup.c  backup; the first leader's clean-up after restore
 *   cluster_ident.c   identity, the handshake's trust, the endpoint
 *   cluster_wg.c      the WireGuard mesh
 *   cluster_check.c   the cross-check's verdicts: reported, recorded
 *   cluster_tr.c      the real member transport
 */
#ifndef NTPMC_CLUSTER_INT_H
#define NTPMC_CLUSTER_INT_H

#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "node/cluster/cluster.h"
#include "node/ctl/ctl.h"
#include "proto/cluster_app.pb-c.h"
#include "raft/driver.h"
#include "raft/drvloop.h"
#include "raft/fsm.h"
#include "raft/transport.h"
#include "raft/transport/hs.h"
#include "raft/transport/ident.h"
#include "raft/transport/token.h"
#include "storage/st.h"

#define CL_MAX_PEERS 64
#define CL_CHORES_MS 50
#define CL_FWD_DEADLINE_MS 3000     /* forwarded control request */
#define CL_STATUS_DEADLINE_MS 300   /* forwarded cluster status */
/* A forwarded status answers locally at once when the leader was not heard
 * for this many heartbeat periods (at least CL_SILENT_MIN_MS). */
#define CL_SILENT_HEARTBEATS 4
#define CL_SILENT_MIN_MS 200
#define CL_PROPOSE_DEADLINE_MS 5000 /* a proposal not applied by then fails */
#define CL_JOIN_DIAL_MS 30000       /* joiner dials this long unanswered */
/* While members answer that they have no leader, the joiner waits up to
 * this many dial windows: above the wan profile's 60-120 s election. */
#define CL_JOIN_LEADERLESS_WINDOWS 6
#define CL_TRANSFER_DEADLINE_MS 2000
#define CL_MAX_OBSERVERS 8

/* JoinReply.status */
enum cl_join_status {
	CL_JOIN_OK = 0,
	CL_JOIN_REFUSED = 1,       /* for good: token, name, request */
	CL_JOIN_RETRY = 2,         /* raft busy: ask again */
	CL_JOIN_NO_LEADER = 3,     /* no leader yet: ask again in a while */
};

struct cl_reqs;
struct cl_peers;
struct cl_join;
struct cl_app;
struct cl_members;
struct cl_drains;
struct cl_config;
struct cl_cmds;
struct cl_prune;
struct cl_wg;
struct cl_times;
struct cl_place;
struct cl_announce;
struct cl_ext;
struct cl_check;
struct cl_cost;

/* Runs after every applied entry, on every member. */
typedef void (*cl_observer_fn)(struct cluster *cl);

struct cluster {
	uv_loop_t *loop;
	const struct cluster_conf *conf;
	enum cluster_mode mode;
	struct cluster_hooks hooks;
	int ready_done;            /* hooks.ready was called */

	struct st *st;
	struct ident *ident;
	struct fsm *fsm;
	struct drv *drv;
	struct drl *drl;           /* the driver on our loop */
	struct rtr *tr;
	rtr_recv_fn drv_recv;      /* the driver's receiver, wrapped */
	void *drv_owner;

	uint8_t cluster_id[TOKEN_CLUSTER_ID_LEN];
	char cluster_id_hex[2 * TOKEN_CLUSTER_ID_LEN + 1];
	uint64_t self;
	char address[TOKEN_ENDPOINT_MAX];
	/* CLUSTER_JOIN until the join commits, then freed (sodium memory,
	 * wiped): the transport dials with it meanwhile. */
	struct token *join_tok;

	uv_timer_t chores;
	uint64_t last_debug;       /* transport counters last logged */
	int closing;
	cl_observer_fn observers[CL_MAX_OBSERVERS];
	unsigned n_observers;

	/* each concern's own state (see the file list above) */
	struct cl_reqs *reqs;
	struct cl_peers *peers;
	struct cl_join *join;
	struct cl_app *app;
	struct cl_members *members;
	struct cl_drains *drains;
	struct cl_config *config;
	struct cl_cmds *cmds;
	struct cl_prune *prune;
	struct cl_wg *wg;          /* NULL without `wireguard-interface` */
	struct cl_times *times;
	struct cl_place *place;
	struct cl_announce *announce;
	struct cl_ext *ext;
	struct cl_check *check;
	struct cl_cost *cost;
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

/* ---- cluster.c ---- */
uint64_t cl_now(const struct cluster *cl);          /* loop ms */
/* Unix ms of the served time (node/ntp/tstate.h tstate_now_ns): what
 * stamps commands and judges token expiry. */
uint64_t cl_wall_ms(void);
/* Whether that clock claims synchronization. */
int cl_clock_synced(void);
int cl_is_leader(struct cluster *cl);
uint64_t cl_leader_id(struct cluster *cl);
const char *cl_raft_err(int rc);
/* Registers fn to run after every applied entry (at start only). */
void cl_observe(struct cluster *cl, cl_observer_fn fn);
/* Tells the daemon, once, whether the node became a member (ok 1) or
 * cannot (ok 0: it exits 1). */
void cl_ready(struct cluster *cl, int ok);
/* The sink of raft/ and the transport (raft/rlog.h): our log. */
void cl_rlog(void *arg, enum rlog_level level, const char *msg);

/* ---- cluster_req.c: requests ----
 * A request comes from this member's control socket, from a follower
 * that forwarded it to us (the leader), or is a joiner's join; each is
 * answered exactly once by cl_reply() (which frees it) with a CTL_*
 * status (node/ctl/ctl.h). */
enum cl_req_kind { CL_REQ_LOCAL, CL_REQ_FORWARDED, CL_REQ_JOIN };

struct cl_req;
typedef void (*cl_relay_fn)(struct cl_req *r, int status, const char *error,
			    const char *text, const char *json);

struct cl_req {
	struct cluster *cl;
	enum cl_req_kind kind;
	struct ctl_call *call;     /* CL_REQ_LOCAL */
	uint64_t peer, req_id;     /* who forwarded it / the joiner */
	/* When set, cl_reply() hands the answer to relay instead (which then
	 * owns r): a request that needs the leader's answer to go on. */
	cl_relay_fn relay;
	int relay_tries;
	/* The raft index a successful answer acknowledges (a write applied
	 * there), 0 for none: set when a proposal finishes, or from the
	 * leader's answer to a forward. */
	uint64_t index;
};

/* NULL (after answering call) when out of memory. */
struct cl_req *cl_req_local(struct cluster *cl, struct ctl_call *call);
struct cl_req *cl_req_forwarded(struct cluster *cl, uint64_t peer,
				uint64_t req_id);
/* A join to answer with a JoinReply: to the joiner itself (req_id 0) or
 * to the follower that forwarded it. */
struct cl_req *cl_req_join(struct cluster *cl, uint64_t peer,
			   uint64_t req_id);
void cl_reply(struct cl_req *r, int status, const char *error,
	      const char *text, const char *json);
/* cl_reply with a binary body (a backup file) for a local ntpctl; it never
 * crosses the member transport: a forwarded or relayed request gets the
 * rest of the answer without it. */
void cl_reply_data(struct cl_req *r, int status, const char *error,
		   const char *text, const char *json, const void *data,
		   size_t len);
/* cl_reply(r, CTL_OK, NULL, text, json) */
void cl_ok(struct cl_req *r, const char *text, const char *json);
/* cl_reply with a formatted error; status CTL_ERR or CTL_EUSAGE. */
void cl_fail(struct cl_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Proposals: buf is taken (free()d); done runs exactly once, with err a
 * RAFT_* code (0: applied, result is the FSM's) and p->arg free()d after. */
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
	void *arg;
	struct fsm_member *put;    /* cl_propose_member's record */
};
int cl_propose(struct cluster *cl, void *buf, size_t len, cl_pend_fn done,
	       struct cl_req *req, void *arg);
/* Member records: a member_put replaces the whole record, so a change
 * built on the applied record while another put of the same member is
 * still on its way would undo that one (a drain lost to a port refresh).
 * On the leader every put goes through cl_propose_member, and every
 * change starts from cl_member_latest: the newest record proposed and
 * not applied yet, else the applied one (NULL: no such member). */
const struct fsm_member *cl_member_latest(struct cluster *cl, uint64_t id);
/* Proposes *m (copied) as its member's record; cl_propose's contract. */
int cl_propose_member(struct cluster *cl, const struct fsm_member *m,
		      cl_pend_fn done, struct cl_req *req, void *arg);
int cl_change(struct cluster *cl, const struct raft_configuration *conf,
	      cl_pend_fn done, struct cl_req *req, void *arg);
/* Proposes buf (taken) and answers r with ok_text once it is applied, or
 * with why not; -1 when r was answered at once. */
int cl_propose_simple(struct cluster *cl, struct cl_req *r, void *buf,
		      size_t len, const char *ok_text);
/* Index of our own configuration change not committed yet, 0 none. */
uint64_t cl_conf_busy(struct cluster *cl);
/* The driver applied index (term, FSM result): the proposer's waiter,
 * and the answers and reads that wait for this member's own apply. */
void cl_reqs_applied(struct cluster *cl, uint64_t index, uint64_t term,
		     int result);

/*
 * Read your own writes: a member answers a write (its own or forwarded to
 * the leader) only once it has applied it itself, and a read of the
 * replicated state (config get, token list) only once it has applied
 * every write it acknowledged. cl_read runs fn(cl, r, argc, argv) at once
 * when nothing is missing, else when it is (argv copied), or fails r
 * after CL_FWD_DEADLINE_MS.
 */
typedef void (*cl_cmd_fn)(struct cluster *cl, struct cl_req *r, int argc,
			  char **argv);
void cl_read(struct cluster *cl, struct cl_req *r, cl_cmd_fn fn, int argc,
	     char **argv);

/* Follower: sends a command to the leader; r is answered with the
 * leader's answer, or locally (status: cl_status_local) or with an error
 * when the leader does not answer in time. -ENOENT no leader known,
 * -ETIMEDOUT the leader is silent (a status answers locally at once). */
int cl_forward(struct cluster *cl, struct cl_req *r, const char *command,
	       int argc, char **argv, int status_fallback);
/* Follower: a joiner's request goes to the leader (answered as a join). */
void cl_forward_join(struct cluster *cl, uint64_t joiner,
		     const uint8_t key[IDENT_PK_LEN], const uint8_t *token_id,
		     const Ntpmc__JoinRequest *jr);
/* The leader's answer to one of our forwards. */
void cl_forward_answered(struct cluster *cl, const Ntpmc__CtlForwardReply *fr);

/* ---- cluster_peer.c: what we know of each member ---- */
struct cl_peer {
	uint64_t id;
	uint64_t last_ms;        /* loop time of the last frame, 0 never */
	int has_status;
	int sync, stratum, has_offset;
	double offset;
	uint64_t applied;
	unsigned election_ms;    /* its election timeout in force, 0 unknown */
};
struct cl_peer *cl_peer(struct cluster *cl, uint64_t id, int create);
/* At start, before the transport opens: the saved boot record. */
void cl_boot_load(struct cluster *cl);
/* A frame from id arrived now. */
void cl_peer_heard(struct cluster *cl, uint64_t id);
/* Heard from within the election timeout (at least 3 status periods). */
int cl_reachable(struct cluster *cl, uint64_t id);
/* The election timeout in force (cl_timing). */
unsigned cl_election_ms(struct cluster *cl);
/*
 * The members' ids, keys and addresses, kept in the node-local table: a
 * restarted member must authenticate the leader before its log, replayed
 * only up to what the leader says is committed, names the members again.
 * Saved whenever the FSM's membership changes (an apply observer), and
 * from a joiner's JoinReply.
 */
int cl_boot_from_reply(struct cluster *cl, const Ntpmc__JoinReply *jr);
/* 0 and the key of id when we know it from the boot record. */
int cl_boot_key(struct cluster *cl, uint64_t id, uint8_t key[IDENT_PK_LEN]);
/* Where id listens: the FSM's record, else the boot record, else "". */
const char *cl_member_address(struct cluster *cl, uint64_t id);
/* Calls fn for every member of the boot record but us. */
void cl_boot_each(struct cluster *cl,
		  void (*fn)(struct cluster *cl, uint64_t id,
			     const char *address, void *arg), void *arg);

/* ---- cluster_join.c: init and join ---- */
/* Joiner: the JoinReply arrived. */
void cl_join_reply(struct cluster *cl, const Ntpmc__JoinReply *jr);
/* Joiner: a member refused the handshake (raft/transport.h join_refused;
 * owner is the cluster). */
void cl_join_refused(void *owner, int reason);
/* The leader named by our JoinReply, until raft knows one (0 none). */
uint64_t cl_leader_hint(struct cluster *cl);
/* init: the first join token is committed (token NULL: not committed,
 * retry). */
void cl_init_token_ready(struct cluster *cl, const char *token);
/* Proposes our own member record (name, provider, keys, address). */
int cl_put_self(struct cluster *cl, cl_pend_fn done);

/* ---- cluster_app.c ---- */
/* Our status goes to the leader at the next chore (timing or leader
 * changed). */
void cl_status_soon(struct cluster *cl);
/* An AppendEntries from the leader was just handled: a status that is
 * due rides right behind the answer. */
void cl_status_heartbeat(struct cluster *cl);
int cl_send_app(struct cluster *cl, uint64_t id, const char *address,
		const Ntpmc__AppMsg *m);
/* The address of id in the committed configuration, or NULL. */
const char *cl_addr_of(struct cluster *cl, uint64_t id);
void cl_on_app(void *owner, const struct rtr_from *from, const void *buf,
	       size_t len);

/* ---- cluster_member.c ---- */
void cl_cmd_transfer(struct cluster *cl, struct cl_req *r, int argc,
		     char **argv);
void cl_cmd_remove(struct cluster *cl, struct cl_req *r, int argc,
		   char **argv);
/* The join of a joiner reached directly or through a follower. */
void cl_join_handle(struct cluster *cl, struct cl_req *r, uint64_t joiner,
		    const uint8_t *key, const uint8_t *token_id,
		    const Ntpmc__JoinRequest *jr);

/* ---- cluster_announce.c ----
 * Leader: a member's forwarded re-announce of its record; 0 not ours. */
int cl_announce_forwarded(struct cluster *cl, struct cl_req *r,
			  const char *command, int argc, char **argv);

/* ---- cluster_ext.c: the subsystems above (cluster.h) ---- */
#define CL_EXT_STATUS_MAX 4        /* status parts a member sends */
/* Leader: a forwarded command of a subsystem; 0 not one. */
int cl_ext_forwarded(struct cluster *cl, struct cl_req *r,
		     const char *command, int argc, char **argv);
int cl_ext_config_check(struct cluster *cl, const char *key,
			const char *value, char *err, size_t errlen);
void cl_ext_on_msg(struct cluster *cl, uint64_t from, const Ntpmc__Ext *x);
/* x and ptrs: CL_EXT_STATUS_MAX each, alive until s is sent */
void cl_ext_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s,
			Ntpmc__Ext *x, Ntpmc__Ext **ptrs);
void cl_ext_status_seen(struct cluster *cl, uint64_t id,
			const Ntpmc__MemberStatus *s);

/* ---- cluster_drain.c ---- */
/* The voter count the role policy aims at now. */
int cl_voter_target(struct cluster *cl);
void cl_cmd_drain(struct cluster *cl, struct cl_req *r, int argc,
		  char **argv);
void cl_cmd_undrain(struct cluster *cl, struct cl_req *r, int argc,
		    char **argv);

/* ---- cluster_config.c ---- */
void cl_cmd_config_get(struct cluster *cl, struct cl_req *r, int argc,
		       char **argv);
void cl_cmd_config_set(struct cluster *cl, struct cl_req *r, int argc,
		       char **argv);
/* Checks KEY VALUE against the keys and the replicated state (also on a
 * follower, before forwarding); canon gets the value as stored. */
int cl_config_check(struct cluster *cl, int argc, char **argv, char *canon,
		    char *err, size_t errlen);
struct ckey_info;
enum ckey_source;
/* A key's value in force on this member and where it comes from
 * (replicated, file, profile, default); tmp holds a file value. */
const char *cl_config_value(struct cluster *cl, const struct ckey_info *k,
			    enum ckey_source *src, char *tmp, size_t n);

/* ---- cluster_timing.c: the timing in force ---- */
/* The transport's liveness timing (the transport-* keys, ms; keepalive 0:
 * none). */
struct cl_tr_timing {
	unsigned keepalive_ms, idle_close_ms, user_timeout_ms;
};
struct cl_timing {
	unsigned election_ms, heartbeat_ms;  /* what the keys say */
	unsigned status_ms;
	struct cl_tr_timing tr;
	unsigned wg_keepalive_s;             /* 0: off */
};
const struct cl_timing *cl_timing(struct cluster *cl);
/* The heartbeat in force outside bursts (cpace.h on the leader). */
unsigned cl_heartbeat_in_force(struct cluster *cl);
/* A member reported its election timeout: the leader may pace anew. */
void cl_timing_reported(struct cluster *cl);
/* Something was proposed, transferred or promoted: news for the
 * followers, sent at a burst's pace until they have it. */
void cl_timing_kick(struct cluster *cl);
/* init on aws or gcp: proposes cluster-profile wan. */
int cl_timing_init_propose(struct cluster *cl);

/* ---- cluster_cmd.c ---- */
int cl_cmd_register(struct cluster *cl, struct ctl *ctl);
/* Runs a command that a follower forwarded (we are the leader). */
void cl_cmd_run(struct cluster *cl, struct cl_req *r, const char *command,
		int argc, char **argv);
uint64_t cl_resolve_node(struct cluster *cl, const char *node);
int cl_conf_role(struct cluster *cl, uint64_t id);  /* -1: not a member */
const char *cl_member_name(struct cluster *cl, uint64_t id);
/* This member's view of the cluster (also the fallback of a forwarded
 * status); local says why it answers itself. */
void cl_status_local(struct cluster *cl, struct cl_req *r, int local);
/* Creates a join token (member endpoints and fingerprints from the FSM)
 * and proposes it; its commit answers r with the token. */
int cl_token_create(struct cluster *cl, struct cl_req *r, uint64_t ttl_s,
		    unsigned uses, int for_init);

/* ---- cluster_backup.c ---- */
int cl_backup_register(struct cluster *cl, struct ctl *ctl);
/* 1 while the restore/recover clean-up has not been done (or not yet
 * checked): the role policy waits for it. */
int cl_prune_pending(struct cluster *cl);
/* 0 when it answered a forwarded command it owns, -1 otherwise. */
int cl_backup_forwarded(struct cluster *cl, struct cl_req *r,
			const char *command, int argc, char **argv);

/* ---- cluster_ident.c ----
 * What the datadir says this node is, given the mode (logs why and
 * returns -1 when the mode does not fit the datadir); the identity key
 * store on the node-local table; the handshake's trust callbacks
 * (raft/transport/hs.h; ctx is the cluster). */
int cl_prepare_identity(struct cluster *cl, const char *token);
void cl_ident_store(struct cluster *cl, struct ident_store *is);
int cl_trust_member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN]);
enum hs_token_state cl_trust_token(void *ctx, const uint8_t id[TOKEN_ID_LEN],
				   const uint8_t joiner[IDENT_PK_LEN],
				   uint8_t pk[TOKEN_PK_LEN]);

/* ---- cluster_check.c: the cross-check's verdicts ---- */
/* Our verdict (when it changed, or to refresh) and, while our record says
 * otherwise, our NTP port and command version; cs is the caller's. */
void cl_check_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s,
			  Ntpmc__CheckStatus *cs);
void cl_check_status_seen(struct cluster *cl, uint64_t id,
			  const Ntpmc__MemberStatus *s);
/* Member id's last reported verdict (enum cluster_verdict). */
int cl_check_of(struct cluster *cl, uint64_t id, int *peers, int *has_offset,
		double *offset);
/* Serving NTP as far as we know: reachable, synced (its last status) and
 * not a suspect (recorded or reported). What min-serving counts. */
int cl_serving(struct cluster *cl, uint64_t id, int synced);

/* ---- cluster_tr.c: the real transport (raft/transport/tcp.h) ---- */
extern const struct cluster_transport cl_tcp_transport;
/* Puts t in force on the real transport (others have no such timing). */
void cl_tr_timing(struct cluster *cl, const struct cl_tr_timing *t);

/* ---- the modules: each concern's state, periodic chores and stop ----
 * Initialised in the order cluster.c lists them, stopped in reverse; stop
 * answers what waits ("shutting down") and frees the module's state. */
struct cl_module {
	/* Allocates the module's state and registers its observers; runs
	 * first, before the store opens. */
	int (*init)(struct cluster *cl);
	void (*chores)(struct cluster *cl);     /* every CL_CHORES_MS */
	void (*stop)(struct cluster *cl);
};
extern const struct cl_module cl_reqs_module, cl_peers_module,
	cl_join_module, cl_app_module, cl_members_module, cl_drains_module,
	cl_config_module, cl_cmds_module, cl_prune_module, cl_wg_module,
	cl_timing_module, cl_place_module, cl_announce_module, cl_ext_module,
	cl_check_module, cl_cost_module;

/* ---- cluster_cost.c: members' egress reports, ledger proposals, the
 * ---- */
void cl_cost_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s,
			 uint64_t *bytes);
void cl_cost_status_seen(struct cluster *cl, uint64_t id,
			 const Ntpmc__MemberStatus *s);

/* ---- cluster_wg.c: the WireGuard mesh; every function is a no-op
 * without `wireguard-interface`. */
struct wgj_reply_buf;
/* After st_open, before prepare_identity: resolves our endpoint; init:
 * cl->address becomes OVERLAY:PORT; run: loads the saved mesh. */
int cl_wg_open(struct cluster *cl, const char *init_subnet);
void cl_wg_sync(struct cluster *cl);          /* render + apply if changed */
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
