/*
 * clmem: the cluster glue in one process, for tests: the real node/cluster
 * code, raft driver, FSM and LMDB stores, over an in-memory transport that
 * follows raft/transport.h (raft messages through msgcodec, app messages,
 * joiners admitted only with a live token), and a stub control socket that
 * calls the registered handlers directly (test_cluster_mem.c,
 * test_cluster_prune.c).
 */
#ifndef NTPMC_TEST_CLMEM_H
#define NTPMC_TEST_CLMEM_H

#include <stdint.h>
#include <uv.h>

#include "node/cluster/cluster.h"
#include "node/cluster/cluster_int.h"
#include "node/ctl/ctl.h"
#include "node/cluster/wg/wgmesh.h"

#define MAXN 5

/* A control call as the stub socket records its answer. */
struct ctl_call {
	int done, status;
	char err[512];
	char *text, *json;
};

struct ctl {
	struct {
		char name[32];
		ctl_handler fn;
		void *arg;
	} b[16];
	int n;
};

/* One member's in-memory transport. */
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

struct wgrec {
	int calls, peers;
	char overlay[WGM_ADDR_MAX];
};

extern uv_loop_t loop;
extern struct mtr *trs[MAXN];
extern struct node nodes[MAXN];
/* wg_mesh: WireGuard on, and what each node's apply was given */
extern int wg_mode;
extern char wg_ep[MAXN][64];
extern struct wgrec wgrec[MAXN];

/* cmocka group setup/teardown: the loop, the transport's timer. */
int cm_setup(void **state);
int cm_teardown(void **state);

int trusts(struct mtr *r, uint64_t id);
/* Member i's config (a temp datadir kept across restarts until wiped). */
void node_conf(int i);
int node_start(int i, enum cluster_mode mode, const char *token);
void node_stop(int i);
void node_wipe(int i);
/* Runs the loop until cond() or ms pass; returns cond(). */
int run_until(int (*cond)(void *), void *arg, int ms);
int call_done(void *arg);
/* Runs ntpctl COMMAND on node i; the call is answered within 10 s. */
struct ctl_call *cmd(int i, const char *command, int argc,
		     const char **argv);
void call_free(struct ctl_call *c);
int count(const char *hay, const char *needle);

struct want {
	int node, voters, members;
};
/* Node w->node sees itself as leader (or a leader) and the roles. */
int roles_are(void *arg);
int ready_set(void *arg);
char *new_token(int i);
int leader_index(void);
int has_leader(void *arg);

#endif
