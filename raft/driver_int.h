/*
 * drv internals shared by the driver's modules. Not a public header:
 * callers use raft/driver.h.
 *
 *   driver.c        lifetime, the step loop (update -> persist, send,
 *                   apply; queued follow-up events), timeouts
 *   driver_store.c  bootstrap, the start-up load, persisting entries and
 *                   incoming snapshots
 *   driver_send.c   filling AppendEntries / InstallSnapshot, sending
 *   driver_apply.c  applying committed entries, taking snapshots
 *   driver_api.c    leader requests: submit, change, catch-up, transfer
 */
#ifndef NTPMC_RAFT_DRIVER_INT_H
#define NTPMC_RAFT_DRIVER_INT_H

#include "raft/driver.h"

/* Events generated while handling an update (persisted entries, persisted
 * snapshot, configuration, snapshot taken) are queued and stepped in order
 * after the update that caused them is fully handled. */
#define DRV_QUEUE_MAX 16
/* Applying stops (and resumes when the queued events are stepped) before a
 * configuration entry once fewer than this many slots are free: a catch-up
 * batch can hold more committed configuration changes than the queue has
 * slots, and the rest of the update (a snapshot) still needs one. */
#define DRV_QUEUE_RESERVE 4

struct drv {
	struct raft raft;
	struct drv_config cfg;
	struct st *st;
	int failed;
	uint64_t applied;
	uint64_t snap_index;		/* latest snapshot index, 0 if none */
	struct raft_configuration conf;	/* last committed configuration */
	uint64_t conf_index;
	struct raft_event queue[DRV_QUEUE_MAX];
	unsigned q_head, q_len;
	int applying;			/* inside drv_apply_committed() */
	raft_time transfer_deadline;	/* 0: no transfer we started */
	int transfer_state;
	raft_time last_tick;		/* when drv_tick last ran a timeout */
	struct drv_stats stats;
	/* what the last role line said (driver.c note_role) */
	int seen_state;
	raft_id seen_leader;
	uint64_t seen_term;
};

/* driver.c */
raft_time drv_now(struct drv *d);
/* Moves the driver to the failed state for good (the first reason wins):
 * after a failed fsync nothing on disk can be trusted. */
void drv_fail(struct drv *d, int rc, const char *what);
/* Queues a follow-up event; a full queue fails the driver. */
int drv_enqueue(struct drv *d, const struct raft_event *ev);
/* Steps one event and handles its update; the event's memory follows
 * adapter.h. Returns raft_step()'s code. */
int drv_step(struct drv *d, struct raft_event *ev);
/* Steps the queued follow-up events. */
void drv_drain(struct drv *d);
/* drv_step() then drv_drain(): one event from outside the driver. */
int drv_run(struct drv *d, struct raft_event *ev);

/* driver_store.c */
/* Loads term, vote, snapshot and log, restores the FSM and starts the
 * engine (RAFT_START); the rest of drv_open(). */
int drv_load(struct drv *d);
/* Each persists one part of an update and queues the event that reports
 * it; on failure the driver has failed and the part's memory is freed. */
int drv_persist_entries(struct drv *d, const struct raft_update *u);
int drv_install_snapshot(struct drv *d, struct raft_update *u);
/* Reads n entries from first on into one payload block (entries[0].batch)
 * and an array, both raft_malloc'ed; *out is NULL when n is 0. Two passes
 * in two read txns (sizes, then bytes): a concurrent writer does not exist,
 * one loop owns the store. */
int drv_load_entries(struct drv *d, uint64_t first, unsigned n,
		     struct raft_entry **out);
/* b (raft_malloc'ed) holds c in libraft's encoding; 0 or -ENOMEM. */
int drv_conf_encode(const struct raft_configuration *c, struct raft_buffer *b);

/* driver_send.c */
/* Completes an engine message from storage and sends it; a message that
 * cannot be built is dropped (raft retries). */
void drv_send(struct drv *d, struct raft_message *m);

/* driver_apply.c */
/* Applies committed entries up to the commit index, then takes a snapshot
 * past the threshold. Not re-entrant on purpose (see its definition). */
int drv_apply_committed(struct drv *d);

#endif
