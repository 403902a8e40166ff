/*
 * An in-memory cluster for unit tests (clmem.c): the real node/cluster
 * code, raft driver, FSM and LMDB stores over an in-memory transport that
 * follows raft/transport.h (raft messages through msgcodec, app messages,
 * joiners admitted only with a live token), and a stub control socket that
 * calls the registered handlers directly. Up to MAXN nodes, one loop
 * (test_cluster_mem.c, test_cluster_wg.c, test_cluster_check.c,
 * test_cluster_prune.c).
 */
#ifndef NTPMC_TESTS_CLMEM_H
#define NTPMC_TESTS_CLMEM_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "node/cluster/cluster.h"
#include "node/cluster/cluster_int.h"
#include "node/ctl/ctl.h"
#include "node/cluster/wg/wgmesh.h"

#define MAXN 5

/* The stub control socket's call: the reply, once. */
struct ctl_call {
	int done, status;
	char err[512];
	char *text, *json;
};

/* The stub control socket: the handlers registered by the cluster. */
struct ctl {
	struct {
		char name[32];
		ctl_handler fn;
		void *arg;
	} b[16];
	int n;
};

/* A node's in-memory transport. */
struct mtr {
	struct rtr base;
	int idx;
	struct hs_config hs;
	const struct token *join;
	char address[64];
};

struct node {
	struct cluster_conf conf;
	struct cluster *cl;
	struct ctl ctl;
	int ready;   /* 0 waiting, 1 ok, -1 failed */
	char dir[64];
};

/* wg_mesh: what each node's WireGuard apply was given */
struct wgrec {
	int calls, peers;
	char overlay[WGM_ADDR_MAX];
};

extern uv_loop_t loop;
extern struct mtr *trs[MAXN];
extern struct node nodes[MAXN];
extern int wg_mode;              /* nodes start with wireguard-interface */
extern unsigned join_dial_ms;    /* joiners' dial window; 0: the default */
extern char wg_ep[MAXN][64];     /* and these endpoints */
extern struct wgrec wgrec[MAXN];
/* each node's `provider` and `instance-id` ("": other, none) */
extern char conf_provider[MAXN][16], conf_instance[MAXN][65];

/* Node i: start in MODE (token: the join token or the overlay subnet),
 * stop, and delete its data directory. */
int node_start(int i, enum cluster_mode mode, const char *token);
void node_stop(int i);
void node_wipe(int i);
/* Stops and wipes every running node, then drains the loop. */
void stop_all(void);

/* Node i's config (a temp datadir kept across restarts until wiped). */
void node_conf(int i);
/* Runs the loop until cond(arg) or ms pass; returns cond(arg). */
int run_until(int (*cond)(void *), void *arg, int ms);
/* Runs ntpctl COMMAND on node i; the call is answered within 10 s. */
struct ctl_call *cmd(int i, const char *command, int argc,
		     const char **argv);
/* cmd without running the loop: the call may not be answered yet. */
struct ctl_call *cmd_start(int i, const char *command, int argc,
			   const char **argv);
void call_free(struct ctl_call *c);
/* A new token from node i's `token create`, to free. */
char *new_token(int i);
/* Whether r's trust accepts member id. */
int trusts(struct mtr *r, uint64_t id);
/* How often needle occurs in hay (NULL: 0). */
int count(const char *hay, const char *needle);

/* roles_are: node sees a leader with voters voters of members. */
struct want {
	int node, voters, members;
};

int roles_are(void *arg);        /* struct want * */
/* Node 0 inits, nodes 1..n-1 join with its tokens; returns once node 0
 * sees a leader and min(n, 3) voters of n (asserts each step). */
void form_cluster(int n);
int ready_set(void *arg);        /* struct node *: start finished */
int call_done(void *arg);        /* struct ctl_call *: answered */
int leader_index(void);          /* -1: none */
int has_leader(void *arg);

/* cmocka group setup and teardown: one loop for the whole group. */
int clmem_setup(void **state);
int clmem_teardown(void **state);

#endif
