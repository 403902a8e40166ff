/* drv: applying committed entries to the FSM, and snapshots with log
 * compaction once enough has been applied. */
#include "raft/driver_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/adapter.h"
#include "storage/st_raft.h"

/* apply_fn's "stop here, the queued events resume it" (not an error). */
#define APPLY_PAUSE 1

struct applier {
	struct drv *d;
	int rc;
};

static int apply_fn(void *arg, uint64_t index, const struct st_entry *e)
{
	struct applier *a = arg;
	struct drv *d = a->d;
	struct raft_configuration conf;
	struct raft_buffer b;
	struct raft_event ev;
	int result = 0, rc;

	switch (e->type) {
	case RAFT_COMMAND:
		rc = fsm_apply(d->cfg.fsm, index, e->buf, e->len, &result);
		if (rc != 0) {
			rlog(&d->cfg.log, RLOG_ERR, "raft %llu: committed command %llu cannot be "
				"applied by this build (FSM version %d): "
				"halting", d->cfg.id,
				(unsigned long long)index, FSM_CMD_VERSION);
			return rc;
		}
		if (d->cfg.on_apply != NULL)
			d->cfg.on_apply(d->cfg.cb_data, index, e->term,
					e->buf, e->len, result);
		break;
	case RAFT_CHANGE:
		/* Full enough: stop here; each queued event's step applies
		 * further (handle_update), so the rest follows in order. */
		if (d->q_len + DRV_QUEUE_RESERVE > DRV_QUEUE_MAX)
			return APPLY_PAUSE;
		b.base = (void *)e->buf;
		b.len = e->len;
		raft_configuration_init(&conf);
		if (raft_configuration_decode(&b, &conf) != 0)
			return -EIO;
		raft_configuration_close(&d->conf);
		d->conf = conf;
		d->conf_index = index;
		if (d->cfg.tr->members != NULL)
			d->cfg.tr->members(d->cfg.tr, &d->conf);
		memset(&ev, 0, sizeof(ev));
		ev.type = RAFT_CONFIGURATION;
		ev.configuration.index = index;
		if (rad_conf_copy(&conf, &ev.configuration.conf) != 0)
			return -ENOMEM;
		rc = drv_enqueue(d, &ev);
		if (rc != 0) {
			raft_configuration_close(&ev.configuration.conf);
			return rc;
		}
		break;
	default:		/* RAFT_BARRIER: nothing to apply */
		break;
	}
	d->applied = index;
	return 0;
}

static int take_snapshot(struct drv *d)
{
	struct raft_buffer cb;
	struct raft_event ev;
	struct st_snap s;
	void *data = NULL;
	size_t len = 0;
	uint64_t upto = 0, trailing = d->cfg.snapshot_trailing;
	int rc;

	memset(&s, 0, sizeof(s));
	s.index = d->applied;
	s.term = st_log_term(d->st, d->applied);
	if (s.term == 0)
		return 0;	/* not in our log (just installed): skip */
	rc = fsm_snapshot(d->cfg.fsm, &data, &len);
	if (rc != 0)
		return rc;
	rc = drv_conf_encode(&d->conf, &cb);
	if (rc != 0) {
		free(data);
		return rc;
	}
	s.conf_index = d->conf_index;
	s.conf = cb.base;
	s.conf_len = cb.len;
	s.data = data;
	s.data_len = len;
	/* Keep one more entry than the engine's trail keeps, so every entry
	 * the engine may ask us to send is still in the log. */
	if (s.index > trailing + 1)
		upto = s.index - trailing - 1;
	rc = st_snap_put(d->st, &s, upto);
	raft_free(cb.base);
	free(data);
	if (rc != 0)
		return rc;
	d->snap_index = s.index;
	d->stats.snapshots_taken++;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_SNAPSHOT;
	ev.snapshot.metadata.index = s.index;
	ev.snapshot.metadata.term = s.term;
	ev.snapshot.metadata.configuration_index = d->conf_index;
	rc = rad_conf_copy(&d->conf, &ev.snapshot.metadata.configuration);
	if (rc != 0)
		return rc;
	ev.snapshot.trailing = (unsigned)trailing;
	rc = drv_enqueue(d, &ev);
	if (rc != 0)
		raft_configuration_close(&ev.snapshot.metadata.configuration);
	return rc;
}

/*
 * Not re-entrant on purpose: on_apply callbacks propose (a join's member
 * record after its token use, ...), and drv_submit() steps the engine,
 * whose update would apply again from d->applied + 1, the entry being
 * applied included: the leader then applied commands twice and its FSM
 * differed from the followers' at the same index. A nested call returns;
 * the outer one loops until it has caught up with the commit index.
 */
int drv_apply_committed(struct drv *d)
{
	struct applier a = { d, 0 };
	raft_index commit;
	uint64_t first, last;
	int rc = 0;

	if (d->applying)
		return 0;
	d->applying = 1;
	while ((commit = raft_commit_index(&d->raft)) > d->applied &&
	       d->failed == 0) {
		rc = st_log_range(d->st, &first, &last);
		if (rc != 0)
			goto err;
		if (last < commit)
			commit = last;	/* cannot happen: synchronous appends */
		if (commit <= d->applied)
			break;
		rc = st_log_read(d->st, d->applied + 1,
				 (unsigned)(commit - d->applied), apply_fn,
				 &a);
		if (rc == APPLY_PAUSE)
			break;	/* the queued events' steps resume it */
		if (rc != 0)
			goto err;
	}
	if (d->applied - d->snap_index >= d->cfg.snapshot_threshold) {
		rc = take_snapshot(d);
		if (rc != 0)
			goto err;
	}
	d->applying = 0;
	return 0;
err:
	d->applying = 0;
	drv_fail(d, rc, "apply");
	return rc;
}
