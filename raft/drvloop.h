/*
 * drl: runs a raft driver (raft/driver.h) on the daemon's libuv loop: the
 * driver's clock is uv_now() of that loop, a uv_timer fires RAFT_TIMEOUT
 * and a uv_prepare handle re-arms that timer before every poll, so that
 * whatever happened in the iteration (a received message, a submission)
 * is reflected in the next wake-up. Starting it also ignores SIGPIPE
 * process-wide: a peer closing its TCP connection must give EPIPE on our
 * write, not kill the daemon.
 */
#ifndef NTPMC_RAFT_DRVLOOP_H
#define NTPMC_RAFT_DRVLOOP_H

#include <raft.h>
#include <uv.h>

#include "raft/driver.h"

struct drl;

/* Called once when the driver has failed (storage error, FSM halt): the
 * daemon must stop acknowledging and exit non-zero. */
typedef void (*drl_fail_fn)(void *data, int reason);

/* The clock to give the driver: drv_config.now = drl_now,
 * drv_config.now_data = loop. */
raft_time drl_now(void *loop);

/* Per-node randomness for drv_config.seed (libsodium randombytes):
 * members started at the same instant must not time out in lockstep. */
unsigned drl_seed(void);

int drl_start(struct drl **l, uv_loop_t *loop, struct drv *d,
	      drl_fail_fn on_fail, void *data);
/* Closes the handles; the driver itself is the caller's (close it after
 * the loop has run the close callbacks). */
void drl_stop(struct drl *l);

#endif
