/*
 * cluster: the node side of the Raft cluster (issue 4). It ties the store
 * (storage/st.h), the raft driver and FSM (raft/driver.h, raft/fsm.h), the
 * member transport (raft/transport.h) and the control socket (node/ctl.h)
 * into what operators see: `ntpnode init`, `ntpnode join`, the role
 * policy (node/cpol.h) and the ntpctl commands cluster status, token
 * create|list|revoke, leader transfer, node remove, config get|set.
 *
 * Everything runs on the one control-plane libuv loop.
 */
#ifndef NTPMC_CLUSTER_H
#define NTPMC_CLUSTER_H

#include <uv.h>

#include "node/conf.h"

struct cluster;
struct ctl;
struct st;

#define CLUSTER_DEFAULT_PORT 4460

enum cluster_mode { CLUSTER_RUN, CLUSTER_INIT, CLUSTER_JOIN };

/*
 * Called once the node is a committed member (init: the cluster exists
 * and the first join token is printed; join: the spare membership is
 * committed; run: at once). The daemon opens its control socket there.
 * ok is 0 when the start failed for good (join refused, 30 s of dialing
 * without an answer): the daemon then exits 1.
 */
typedef void (*cluster_ready_fn)(void *arg, struct cluster *cl, int ok);

/*
 * Starts the cluster side. token: the join token (CLUSTER_JOIN; the
 * caller wipes its copy afterwards), or for CLUSTER_INIT the overlay
 * subnet (node/cluster_wg.h; NULL or "" = the default). Returns 0, or -1 after logging why
 * (for example: init or join on a datadir that already holds a cluster,
 * run on a datadir that holds none); the daemon then exits 1.
 */
int cluster_start(struct cluster **out, uv_loop_t *loop, const struct conf *c,
		  enum cluster_mode mode, const char *token,
		  cluster_ready_fn ready, void *arg);
/* Registers the ntpctl commands on the control socket. */
int cluster_register(struct cluster *cl, struct ctl *ctl);
/* The node's store (storage/st.h), open for the life of the cluster: the
 * one LMDB environment of the process, shared with the time engine. */
struct st *cluster_store(struct cluster *cl);
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
/* Answers what is pending, closes everything; cl is freed once the loop
 * has run the handles' close callbacks. */
void cluster_stop(struct cluster *cl);

#endif
