/* Simulated raft cluster for tests: real drivers, LMDB and FSMs on a
 * virtual clock and an in-memory network (see test_raft_sim.c). */
#ifndef NTPMC_TEST_RAFTSIM_H
#define NTPMC_TEST_RAFTSIM_H

#include <raft.h>
#include <stdint.h>

#include "raft/driver.h"
#include "raft/fsm.h"
#include "raft/rlog.h"
#include "storage/st.h"

#define N_MAX 5
#define MSG_MAX 4096
#define TERM_MAX 100000
#define HIST_MAX 200000

struct sim;

struct node {
	struct sim *sim;
	unsigned id;		/* 1..n */
	char addr[16];
	char dir[96];
	struct st *st;
	struct fsm *fsm;
	struct drv *drv;
	struct rtr tr;
	int up;
	raft_time last_tick;
};

struct inflight {
	unsigned from, to;
	raft_time at;
	uint64_t seq;		/* tie-break: deterministic order */
	struct raft_message m;
};

struct pending {
	unsigned node;
	uint64_t index, term;
	unsigned char hash[32];
	int acked;
};

struct sim {
	uint64_t rng;
	raft_time now;
	unsigned n;
	struct node nodes[N_MAX];
	int group[N_MAX];	/* partition: same group = connected */
	unsigned drop_pct;
	unsigned dup_pct;	/* a message sent twice (each its own delay) */
	unsigned delay_max;
	struct inflight *msgs;
	unsigned n_msgs;
	uint64_t msg_seq;
	unsigned *leader_of_term;
	unsigned char (*hist)[32];
	unsigned char *hist_set;
	struct pending *pend;
	unsigned n_pend, cap_pend;
	unsigned cmd_seq;
	/* counters */
	unsigned long durability_checks, delivered, dropped, kills, acked;
	unsigned long snap_taken, snap_installed, leaders;
	unsigned long duplicated, torn;
	/* A crash in the middle of a write: node crash_node's crash_after'th
	 * store commit from now on is cut off (aborted, as a kill -9 before
	 * LMDB writes its meta page leaves it) and the node dies there. */
	unsigned crash_node, crash_after, crashed;
	int starting;		/* node_start runs: no crash there */
	/* Per-test knobs, read by node_start (0: the sim's defaults). */
	size_t mapsize;
	unsigned capacity_min_kib, snap_threshold, snap_trailing;
	struct rlog log;	/* every driver's log sink (zeroed: none) */
};


uint64_t rnd(struct sim *s);
unsigned rndn(struct sim *s, unsigned n);
/* n_boot members bootstrapped with the same configuration of n_boot
 * voters; members n_boot+1..n start with an empty store. */
void sim_init_n(struct sim *s, uint64_t seed, unsigned n_boot, unsigned n);
void sim_init(struct sim *s, uint64_t seed, unsigned n);
void sim_free(struct sim *s);
void node_start(struct node *nd);
void node_stop(struct node *nd);
/* Arms a crash in the middle of node k's (1..n) next-but-`after` store
 * commit (the binary links with -Wl,--wrap=mdb_txn_commit). */
void sim_crash_in_write(struct sim *s, unsigned k, unsigned after);
void deliver(struct sim *s, unsigned k);
void run_until(struct sim *s, raft_time until);
struct node *find_leader(struct sim *s);
/* Submits a config_set command on nd; 0 or the RAFT_* code. */
int submit(struct sim *s, struct node *nd);
/* Heals everything, commits a final command, checks convergence. */
void heal_and_check(struct sim *s);

#endif
