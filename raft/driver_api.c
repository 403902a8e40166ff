/* drv: what the cluster glue asks of a leader: commands, configuration
 * changes, catch-up, leadership transfer, replication lag. */
#include "raft/driver_int.h"

#include <string.h>

#include "raft/adapter.h"

/* A failed driver answers RAFT_IOERR before anything else: its callers
 * must learn that it will never acknowledge again. */
static int leader_ready(struct drv *d)
{
	if (d->failed != 0)
		return RAFT_IOERR;
	return raft_state(&d->raft) == RAFT_LEADER ? 0 : RAFT_NOTLEADER;
}

/* The entry's term is the one it is submitted in: that pair is what its
 * proposer waits to see applied. */
static int entry_start(struct drv *d, struct raft_entry *e,
		       enum raft_entry_type type)
{
	e->term = raft_current_term(&d->raft);
	e->type = type;
	return leader_ready(d);
}

/* Submits one entry whose buffer the driver allocated; on failure frees it. */
static int submit_one(struct drv *d, struct raft_entry *e, uint64_t *index)
{
	struct raft_event ev;
	int rc;

	e->batch = e->buf.base;
	*index = raft_last_index(&d->raft) + 1;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_SUBMIT;
	ev.submit.entries = e;
	ev.submit.n = 1;
	rc = drv_run(d, &ev);
	if (rc != 0)
		raft_free(e->batch);	/* the engine never frees (adapter.h) */
	return d->failed != 0 ? RAFT_IOERR : rc;
}

int drv_submit(struct drv *d, const void *buf, size_t len, uint64_t *index,
	       uint64_t *term)
{
	struct raft_entry e;
	int rc;

	rc = entry_start(d, &e, RAFT_COMMAND);
	if (rc != 0)
		return rc;
	e.buf.len = len;
	e.buf.base = raft_malloc(len + 1);
	if (e.buf.base == NULL)
		return RAFT_NOMEM;
	if (len > 0)
		memcpy(e.buf.base, buf, len);
	*term = e.term;
	return submit_one(d, &e, index);
}

int drv_change(struct drv *d, const struct raft_configuration *conf,
	       uint64_t *index)
{
	struct raft_entry e;
	int rc;

	rc = entry_start(d, &e, RAFT_CHANGE);
	if (rc != 0)
		return rc;
	if (raft_configuration_encode(conf, &e.buf) != 0)
		return RAFT_NOMEM;
	return submit_one(d, &e, index);
}

int drv_catch_up(struct drv *d, raft_id id)
{
	struct raft_event ev;
	int rc;

	rc = leader_ready(d);
	if (rc != 0)
		return rc;
	/* The engine asserts the id is in its configuration (adapter.h). */
	if (!rad_conf_has(&d->raft.configuration, id))
		return RAFT_BADID;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_CATCH_UP;
	ev.catch_up.server_id = id;
	return drv_run(d, &ev);
}

int drv_catch_up_status(struct drv *d, raft_id id, int *status)
{
	return raft_catch_up(&d->raft, id, status);
}

int drv_transfer(struct drv *d, raft_id id, unsigned deadline_ms)
{
	struct raft_event ev;
	int rc;

	if (d->failed != 0)
		return RAFT_IOERR;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_TRANSFER;
	ev.transfer.server_id = id;
	rc = drv_run(d, &ev);
	if (rc == 0) {
		d->transfer_deadline = drv_now(d) + deadline_ms;
		d->transfer_state = 1;
	}
	return rc;
}

int drv_transfer_state(struct drv *d)
{
	if (d->transfer_state == 1 && raft_transferee(&d->raft) == 0) {
		d->transfer_deadline = 0;
		d->transfer_state = 0;
	}
	return d->transfer_state;
}

int drv_member_lag(struct drv *d, raft_id id, uint64_t *lag)
{
	raft_index match = 0, last = raft_last_index(&d->raft);
	int rc;

	rc = raft_match_index(&d->raft, id, &match);
	if (rc != 0)
		return rc;
	*lag = last > match ? last - match : 0;
	return 0;
}
