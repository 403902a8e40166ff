/*
 * cluster: the node side of the Raft cluster. It ties the store
 * (storage/st.h), the raft driver and FSM (raft/driver.h, raft/fsm.h), the
 * member transport (raft/transport.h) and the control socket (node/ctl/ctl.h)
 * into what operators see: `ntpnode init`, `ntpnode join`, the role
 * policy (node/cluster/cpol.h) and the ntpctl commands cluster status, token
 * create|list|revoke, leader transfer, node remove, config get|set.
 *
 * Everything runs on the one control-plane libuv loop.
 */
#ifndef NTPMC_CLUSTER_H
#define NTPMC_CLUSTER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/base/netaddr.h"
#include "node/cluster/wg/wgapply.h"

struct cluster;
struct ctl;
struct st;
struct wgm_subnet;

#define CLUSTER_DEFAULT_PORT 4460
#define CLUSTER_WG_PORT 51820
#define CLUSTER_WG_IFNAME_MAX 15	/* IFNAMSIZ - 1 */

/* What the cluster side needs of the config (docs/cluster.md); zero
 * values mean the defaults. */
struct cluster_conf {
	char datadir[PATH_MAX];         /* the store lives in DATADIR/store */
	char node_name[65];             /* "" until loaded: the host name */
	int listen_set;                 /* `cluster-listen`; 0: standalone */
	struct netaddr listen;          /* port filled in */
	char advertise[262];            /* "host:port", "" = cluster-listen */
	char provider[16];              /* [a-z0-9-]{1,15}; "" = other */
	char region[65];
	char instance_id[65];           /* the cloud's VM id; "" unknown */
	unsigned election_timeout_ms;   /* 0: 500 */
	unsigned heartbeat_timeout_ms;  /* 0: 50 */
	/* join: how long the joiner dials without an answer; 0: 30 s */
	unsigned join_dial_ms;
	size_t mapsize;                 /* bytes; 0: the store's default */
	/* `wireguard-interface NAME [port N]`: "" = no mesh managed */
	char wg_interface[CLUSTER_WG_IFNAME_MAX + 1];
	unsigned wg_port;               /* 0: CLUSTER_WG_PORT */
	/* `wireguard-endpoint IP[:PORT]`: "" = cluster-advertise's host and
	 * the WireGuard port (node/cluster/wg/wgjoin.h resolves it) */
	char wg_endpoint[64];
};

/* Node-local table keys (storage/st.h), shared with the offline commands
 * (node/cluster/offline). */
#define CLUSTER_K_CLUSTER_ID "cluster/id"     /* set once a committed member */
#define CLUSTER_K_JOINING "cluster/joining"   /* cluster id while joining */
#define CLUSTER_K_SELF "cluster/self-id"
#define CLUSTER_K_MEMBERS "cluster/members" /* ids, keys, addresses (cl_boot) */
/* Set by `ntpnode restore` / `ntpnode recover` (node/cluster/offline/restore.h): the raft
 * index from which on the configuration is the new one; the first leader
 * prunes member records and tokens of the old cluster (cluster_backup.c). */
#define CLUSTER_K_PRUNE "cluster/prune"

enum cluster_mode { CLUSTER_RUN, CLUSTER_INIT, CLUSTER_JOIN };

/*
 * Called once the node is a committed member (init: the cluster exists
 * and the first join token is printed; join: the spare membership is
 * committed; run: at once). The daemon opens its control socket there.
 * ok is 0 when the start failed for good (join refused, 30 s of dialing
 * without an answer, or 180 s without a leader): the daemon then exits 1.
 */
typedef void (*cluster_ready_fn)(void *arg, struct cluster *cl, int ok);
/* Called once when raft stopped for good (a store write failed, a
 * committed command this build cannot apply): the daemon must stop
 * acknowledging anything and exit non-zero. reason: negative errno or
 * FSM_HALT (raft/fsm.h). */
typedef void (*cluster_failed_fn)(void *arg, struct cluster *cl, int reason);

struct hs_config;
struct token;
struct rtr;

/* The member transport (raft/transport.h) the cluster runs on. */
struct cluster_transport {
	/* Opens it on c's cluster-listen with the handshake's identity and
	 * trust; join: the token a joiner dials with (else NULL). */
	int (*open)(void *arg, uv_loop_t *loop, const struct cluster_conf *c,
		    const struct hs_config *hs, const struct token *join,
		    struct rtr **out);
	void (*close)(void *arg, struct rtr *tr);
	/* Optional: logs the transport's counters (debug level). */
	void (*debug)(void *arg, struct rtr *tr);
	void *arg;
	/* Optional, for the egress count: TCP payload bytes sent
	 * (retransmissions included), the segments written by payload
	 * length mod 16, and every TCP packet sent (pure ACKs included)
	 * (raft/transport/wire.h). */
	void (*egress)(void *arg, struct rtr *tr, uint64_t *bytes,
		       uint64_t seg_len16[16], uint64_t *packets);
};

/*
 * Puts the rendered WireGuard mesh on the interface, with wga_start()'s
 * contract (node/cluster/wg/wgapply.h), except that done may run before
 * it returns; *job is then NULL (else a wga_start job, cancelled with
 * wga_cancel when the cluster stops first).
 */
typedef int (*cluster_wg_apply_fn)(uv_loop_t *loop, const struct wga_req *req,
				   wga_done_fn done, void *arg,
				   struct wga **job);

/* What the cluster tells its owner, and what it does to the machine, for
 * a caller to replace (the in-process tests record instead). */
struct cluster_hooks {
	cluster_ready_fn ready;
	cluster_failed_fn failed;
	void *arg;
	/* NULL: the real TCP transport (raft/transport/tcp.h). */
	const struct cluster_transport *transport;
	cluster_wg_apply_fn wg_apply;	/* NULL: wga_start */
};

/*
 * Starts the cluster side. token: the join token (CLUSTER_JOIN; the
 * caller wipes its copy afterwards), or for CLUSTER_INIT the overlay
 * subnet (NULL or "" = the default). Returns 0, or -1 after logging why
 * (for example: init or join on a datadir that already holds a cluster,
 * run on a datadir that holds none); the daemon then exits 1.
 */
int cluster_start(struct cluster **out, uv_loop_t *loop,
		  const struct cluster_conf *c, enum cluster_mode mode,
		  const char *token, const struct cluster_hooks *hooks);
/* The endpoint members dial: cluster-advertise, else cluster-listen's
 * address, as "host:port". */
void cluster_advertise(const struct cluster_conf *c, char *out, size_t len);
/* Registers the ntpctl commands on the control socket. */
int cluster_register(struct cluster *cl, struct ctl *ctl);
/* The node's store (storage/st.h), open for the life of the cluster: the
 * one LMDB environment of the process, shared with the time engine. */
struct st *cluster_store(struct cluster *cl);
/* This member's place, for the service manager's status line: "leader",
 * "voter", "standby", "spare"; "joining" or "starting" until it is a
 * committed member; "not a member" once removed. */
const char *cluster_role(struct cluster *cl);
/* Non-zero once the node must exit (store failure, FSM halt). */
int cluster_failed(const struct cluster *cl);
/*
 * A planned exit (SIGTERM): when this member leads, it hands leadership to
 * the most up-to-date reachable voter and calls done(arg) once another
 * leader is known, or after CLUSTER_HANDOFF_MS (logged). Returns 0 when a
 * handoff started, -1 when there is none to do (a follower, no voter to
 * take over): exit at once.
 */
#define CLUSTER_HANDOFF_MS 2000
int cluster_handoff(struct cluster *cl, void (*done)(void *arg), void *arg);
/*
 * What this member knows of the cluster right now, for the metrics
 * endpoint (node/cluster/cluster_view.c); cheap, no allocation. The
 * counts and the fault tolerance are the configuration as this member
 * has it and the members it hears: they are the cluster's on the leader
 * only (a follower hears the leader alone).
 */
struct cluster_view {
	int member;             /* committed member, raft running */
	int is_leader;
	const char *role;       /* own: "voter", "standby", "spare", or
				   "" when not in the configuration */
	uint64_t term, commit_index, applied_index;
	unsigned voters, standbys, spares;
	int fault_tolerance;    /* reachable voters minus quorum, >= 0 */
};
void cluster_view(struct cluster *cl, struct cluster_view *v);
/* What the member transport sent since it opened, at the IP layer
 * (node/base/wirelen.h): one IPv4 + TCP header per segment written and
 * one bare ACK per read that returned data, inside WireGuard's outer
 * packet when this node manages the mesh. An estimate (docs/cost.md); 0 outside a
 * cluster or with a transport that does not count. */
uint64_t cluster_egress(struct cluster *cl);
/*
 * Leader placement (node/cluster/cplace.h) asks its neighbours above: the
 * rotation whether it keeps a member on, the cost ledger what a provider's
 * members sent this month. Either may be NULL: every member is planned
 * on, nothing was used. Copied; arg must outlive the cluster.
 */
struct cluster_placement {
	int (*planned_on)(void *arg, uint64_t id);
	uint64_t (*egress_used)(void *arg, const char *provider);
	void *arg;
};
void cluster_set_placement(struct cluster *cl,
			   const struct cluster_placement *p);
/* Answers what is pending, closes everything; cl is freed once the loop
 * has run the handles' close callbacks. */
void cluster_stop(struct cluster *cl);

/* ---- for the subsystems above the cluster (node/rotation) ----
 * What they may read of the cluster and ask of it, all on the loop, from
 * the ready hook on (cluster_ext.c). */
struct fsm;
struct cl_req;	/* a control request: answered once, with cluster_reply */

/* The replicated state (raft/fsm.h), read-only, for the cluster's life. */
const struct fsm *cluster_fsm(const struct cluster *cl);
uint64_t cluster_self(const struct cluster *cl);
int cluster_is_leader(struct cluster *cl);
uint64_t cluster_leader(struct cluster *cl);	/* 0: none known */
/* Unix ms of the served time: what stamps commands (node/ntp/tstate.h). */
uint64_t cluster_wall_ms(void);
unsigned cluster_election_ms(struct cluster *cl);
/* A RAFT_* code as cluster_propose's done gets it, for operators. */
const char *cluster_strerror(int err);

/*
 * Proposes buf (an FSM command, raft/fsm.h; taken in every case). 0: done
 * runs exactly once, later, with err 0 and the FSM's result once applied
 * here, or a RAFT_* code when it was not (leadership lost, not committed
 * within 5 s). Otherwise a RAFT_* code and done never runs.
 */
typedef void (*cluster_done_fn)(void *arg, int err, int result);
int cluster_propose(struct cluster *cl, void *buf, size_t len,
		    cluster_done_fn done, void *arg);

/* fn(arg) after every applied entry, on every member. -1 when full. */
int cluster_observe(struct cluster *cl, void (*fn)(void *arg), void *arg);

/* Every member sends its leader a status this often (ms): the
 * status-interval in force (cluster-profile, docs/cost.md). */
unsigned cluster_status_ms(struct cluster *cl);

/* Raft roles (the values of raft.h's RAFT_STANDBY, _VOTER, _SPARE). */
enum { CLUSTER_STANDBY = 0, CLUSTER_VOTER = 1, CLUSTER_SPARE = 2 };

/* What this member knows of member id. A leader hears every member's
 * status; a follower knows its own only. */
struct cluster_peer_view {
	int role;		/* CLUSTER_*; -1 not in the configuration */
	int reachable;		/* heard within the election timeout (self: 1) */
	int has_status;		/* a status report is known (self: always) */
	uint64_t heard_ms;	/* loop ms of its last frame (self: now), 0
				 * never */
	int synced;		/* it says its replies carry LI != 3 */
	int caught_up;		/* leader: a voter or standby the log reaches,
				 * within CLUSTER_CAUGHT_UP entries */
};
#define CLUSTER_CAUGHT_UP 16
void cluster_peer_view(struct cluster *cl, uint64_t id,
		       struct cluster_peer_view *v);
/* The voter count the role policy aims at now (node/cluster/cpol.h). */
int cluster_voter_target(struct cluster *cl);

/*
 * Control commands of a subsystem: name is a row of node/ctl/ctlcmd.c.
 * With CTLCMD_LEADER a follower forwards the request to the leader, whose
 * fn answers it; otherwise fn runs here. fn answers r exactly once, now or
 * later, with cluster_reply (status CTL_*, node/ctl/ctl.h). Register on
 * every member, from the ready hook; -1 when full or refused by ctl.
 */
typedef void (*cluster_cmd_fn)(void *arg, struct cl_req *r, int argc,
			       char **argv);
int cluster_command(struct cluster *cl, struct ctl *ctl, const char *name,
		    cluster_cmd_fn fn, void *arg);
void cluster_reply(struct cl_req *r, int status, const char *error,
		   const char *text, const char *json);

/* fn also judges `config set KEY VALUE` (value canonical), against the
 * replicated state as it is: -1 with a reason in err refuses it. */
typedef int (*cluster_check_fn)(void *arg, const char *key,
				const char *value, char *err, size_t errlen);
int cluster_config_checker(struct cluster *cl, cluster_check_fn fn,
			   void *arg);

/*
 * Messages between members for a subsystem, told apart by kind (at most
 * 15 characters): fn(arg, from, buf, len) for each one that reaches this
 * member (from authenticated by the transport; buf valid during the
 * call). send: 0 when handed to the transport (delivery is not assured).
 */
typedef void (*cluster_msg_fn)(void *arg, uint64_t from, const void *buf,
			       size_t len);
int cluster_msg_handler(struct cluster *cl, const char *kind,
			cluster_msg_fn fn, void *arg);
int cluster_msg_send(struct cluster *cl, uint64_t to, const char *kind,
		     const void *buf, size_t len);
/*
 * A subsystem's part of the status every member sends its leader four
 * times a second: set (copied) what this member says; get what member id
 * last said (self: what was set) and how many ms ago it arrived. get: 0,
 * or -ENOENT.
 */
int cluster_status_set(struct cluster *cl, const char *kind, const void *buf,
		       size_t len);
int cluster_status_get(struct cluster *cl, uint64_t id, const char *kind,
		       const void **buf, size_t *len, uint64_t *age_ms);
/* ---- replicated keys owned above the cluster ----
 * The value of KEY in force: replicated, else what the file said
 * (cluster_key_file), else the default; NULL for an unknown key. The
 * pointer is valid until the next applied entry. */
const char *cluster_key_value(struct cluster *cl, const char *key);
/* The node's file set KEY (a key with a file directive): `config get`
 * then says so, and cluster_key_value falls back to it. */
int cluster_key_file(struct cluster *cl, const char *key, const char *value);

/* ---- what the cross-check (node/crosscheck) needs ---- */
#define CLUSTER_PAIR_KEY_LEN 32
#define CLUSTER_CHECK_WHY_MAX 120

struct cluster_member_info {
	uint64_t id;
	char name[65];
	/* Where its NTP service answers members: its overlay address with
	 * the WireGuard mesh, else the host of its cluster address (numeric);
	 * "" or port 0 while unknown. */
	char host[64];
	uint16_t ntp_port;
	int stopped;        /* known to be stopped: not probed */
};

uint64_t cluster_self_id(struct cluster *cl);
/* The members of the current configuration but this one, at most max;
 * returns how many. */
int cluster_members(struct cluster *cl, struct cluster_member_info *out,
		    int max);
/* Our overlay address ("" without the mesh, or while our member record
 * does not have it yet): the cross-check sends from it, so its exchanges
 * travel inside WireGuard. */
void cluster_overlay(struct cluster *cl, char *out, size_t len);
/* The key this member shares with member id (raft/transport/ident.h
 * ident_pair_key, label "crosscheck"): 0, or -ENOENT (no such member or
 * no key known) / -EINVAL (a key that makes no pair key). Zero it after
 * use. */
int cluster_pair_key(struct cluster *cl, uint64_t id,
		     uint8_t key[CLUSTER_PAIR_KEY_LEN]);
/* The port our serving threads answer members on; the cluster records it
 * in our member record. */
void cluster_set_ntp_port(struct cluster *cl, uint16_t port);
/* Whether the replicated state records this member as a suspect. */
int cluster_self_suspect(struct cluster *cl);

enum cluster_verdict { CLUSTER_CHECK_UNKNOWN, CLUSTER_CHECK_OK,
		       CLUSTER_CHECK_SUSPECT };

/* This member's own verdict after a check. The cluster reports it to the
 * leader with its status; the leader shows every member's in cluster
 * status, records each change between suspect and not in the audit trail
 * (with why), leaves suspects out of the serving members, and, when it is
 * the suspect, hands leadership to a voter whose verdict is ok. */
struct cluster_check {
	int verdict;                /* enum cluster_verdict */
	int peers;                  /* peers that answered, last 3 checks */
	int has_offset;
	double offset;              /* s: we minus the median of the others */
	char why[CLUSTER_CHECK_WHY_MAX + 1];
};
void cluster_check_report(struct cluster *cl, const struct cluster_check *c);

/* ---- what the cost guard (node/cost) needs ---- */
#define CLUSTER_EGRESS_CLASSES 4
#define CLUSTER_EGRESS_EVERY_MS 10000

/* This process's egress so far by class (node/cost/egress.h), a random
 * id of the process and its egress governor's state: sent to the leader with the status every
 * CLUSTER_EGRESS_EVERY_MS. */
void cluster_egress_set(struct cluster *cl, uint64_t boot,
			const uint64_t bytes[CLUSTER_EGRESS_CLASSES],
			int governor);
/* The leader's latest of member id (its own for self): 0, or -ENOENT
 * (nothing heard from it since this member led or started). */
struct cluster_egress {
	uint64_t boot;
	uint64_t bytes[CLUSTER_EGRESS_CLASSES];
	uint64_t age_ms;                /* since it arrived */
	int governor;                   /* 0 off, 1 on, 2 limiting */
};
int cluster_egress_of(struct cluster *cl, uint64_t id,
		      struct cluster_egress *out);
/* Leader: proposes a ledger entry (raft/fsm.h fsm_cmd_ledger; stamped with
 * the served time). 0, -EAGAIN (not the leader, or a voter's build does
 * not apply ledger entries yet), -ENOMEM. Fire and forget: a lost one is
 * recomputed at the next interval. */
struct fsm_ledger;
int cluster_ledger_put(struct cluster *cl, const struct fsm_ledger *e);
/* Leader: records a cost alert in the replicated state (the internal
 * key CLUSTER_COST_ALERT_KEY, which `config set` cannot touch; the apply
 * writes it into the audit trail). done(arg, ok) runs once, ok 1 when it
 * was applied. 0, or -EAGAIN (not the leader), -ENOMEM: done never runs. */
#define CLUSTER_COST_ALERT_KEY "cost/alert"
int cluster_cost_alert(struct cluster *cl, const char *value,
		       void (*done)(void *arg, int ok), void *arg);
const char *cluster_verdict_name(int verdict);

#endif
