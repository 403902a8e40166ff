/*
 * drv: the loop around libraft's raft_step() (sans-I/O engine).
 *
 * The driver owns what the engine leaves to its caller (see
 * raft/adapter.h): it persists term and vote before anything else in an
 * update, persists entries and reports RAFT_PERSISTED_ENTRIES, fills
 * outgoing AppendEntries / InstallSnapshot from storage, applies entries up
 * to raft_commit_index() to the FSM, feeds RAFT_CONFIGURATION after each
 * committed configuration change, takes snapshots with log compaction and
 * persists incoming ones.
 *
 * All disk I/O is synchronous (one LMDB transaction each), so by the time
 * a message is handed to the transport, every write it depends on is on
 * disk (thesis 3.8); tests/unit/test_raft_sim.c checks this on each send.
 *
 * Time is supplied by the caller (now callback): the daemon passes uv_now()
 * of its loop (raft/drvloop.c), the simulation a virtual clock.
 *
 * Failure: a storage error (fsync/commit) or an FSM halt moves the driver
 * to the failed state: it stops stepping, sending and acknowledging;
 * drv_failed() returns the reason and the daemon exits non-zero. Nothing
 * is retried.
 */
#ifndef NTPMC_RAFT_DRIVER_H
#define NTPMC_RAFT_DRIVER_H

#include <raft.h>
#include <stdint.h>

#include "raft/fsm.h"
#include "raft/rlog.h"
#include "raft/transport.h"
#include "storage/st.h"

#define DRV_ELECTION_TIMEOUT_MS 500
#define DRV_HEARTBEAT_TIMEOUT_MS 50
#define DRV_SNAPSHOT_THRESHOLD 1024
#define DRV_SNAPSHOT_TRAILING 256
/* Below this many bytes of room the node reports no capacity, so that
 * leaders refuse new entries with RAFT_NOSPACE (raft_set_capacity_threshold
 * counts in KiB-ish units of our choosing: we report KiB, capped). */
#define DRV_CAPACITY_MIN_KIB 1024

struct drv;

/* Applied-command notification (every member, every applied command,
 * again after a restart for entries past the snapshot). buf is the
 * command, valid during the call; result is the FSM's enum fsm_result. */
typedef void (*drv_apply_fn)(void *data, uint64_t index, uint64_t term,
			     const void *buf, size_t len, int result);

struct drv_config {
	raft_id id;
	const char *address;
	struct st *st;
	struct rtr *tr;
	struct fsm *fsm;
	raft_time (*now)(void *now_data);
	void *now_data;
	unsigned seed;			/* per-node randomness for raft_seed */
	unsigned election_timeout_ms;	/* 0: default */
	unsigned heartbeat_timeout_ms;	/* 0: default */
	unsigned snapshot_threshold;	/* 0: default */
	unsigned snapshot_trailing;	/* 0: default */
	unsigned capacity_min_kib;	/* 0: default; UINT_MAX-ish disables */
	drv_apply_fn on_apply;
	void *cb_data;
	struct rlog log;		/* where failures are told; may be zero */
};

/* Creates a new cluster in an empty store: term 1 and entry 1, a
 * configuration with this node as the only voter. -EEXIST if the store
 * already holds raft state. */
int drv_bootstrap(struct st *st, raft_id id, const char *address);
/* Same with a whole initial configuration (every member must be
 * bootstrapped with the same one; used by tests). */
int drv_bootstrap_conf(struct st *st, const struct raft_configuration *conf);
/* 1 when the store holds raft state (a bootstrapped or joined node). */
int drv_has_state(struct st *st);

/* Loads term, vote, snapshot and log, restores the FSM and starts the
 * engine (RAFT_START). Registers itself as cfg->tr's receiver. */
int drv_open(struct drv **d, const struct drv_config *cfg);
void drv_close(struct drv *d);

/* Fires RAFT_TIMEOUT if its time has come. */
int drv_tick(struct drv *d);
/* Absolute time (ms, same clock as now) of the next RAFT_TIMEOUT. */
raft_time drv_next_timeout(struct drv *d);

/* Submits one FSM command; on success *index and *term identify the entry: it
 * is acknowledged once applied at that index with that term. Returns 0 or
 * a RAFT_* code (RAFT_NOTLEADER, RAFT_NOSPACE, ...). buf is copied. */
int drv_submit(struct drv *d, const void *buf, size_t len, uint64_t *index,
	       uint64_t *term);
/* Submits a configuration change (the whole new configuration). */
int drv_change(struct drv *d, const struct raft_configuration *conf,
	       uint64_t *index);
/* Starts catching up a non-voter before promoting it (RAFT_CATCH_UP);
 * drv_catch_up_status() then reports RAFT_CATCH_UP_*. */
int drv_catch_up(struct drv *d, raft_id id);
int drv_catch_up_status(struct drv *d, raft_id id, int *status);
/* Starts a leadership transfer (0: the engine picks); it is abandoned
 * after deadline_ms (drv_transfer_state() reports it). */
int drv_transfer(struct drv *d, raft_id id, unsigned deadline_ms);
/* 1 in progress, 0 done (or none), -1 timed out. */
int drv_transfer_state(struct drv *d);

/* 0, or the negative errno / FSM_HALT that stopped the driver. */
int drv_failed(const struct drv *d);
struct raft *drv_raft(struct drv *d);
uint64_t drv_applied(const struct drv *d);
/* The last committed configuration (valid until the next call in). */
const struct raft_configuration *drv_conf(const struct drv *d);

/* Leader only: entries member id is behind the leader's log (status
 * "log lag"). RAFT_NOTLEADER / RAFT_BADID otherwise. */
int drv_member_lag(struct drv *d, raft_id id, uint64_t *lag);

/* Counters for ntpctl / tests. */
struct drv_stats {
	uint64_t steps, sends, recv_dropped, snapshots_taken,
		snapshots_installed, entries_persisted;
};
void drv_get_stats(const struct drv *d, struct drv_stats *s);

#endif
