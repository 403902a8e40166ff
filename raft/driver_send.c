/* drv: outgoing messages, completed from storage and handed to the
 * transport. */
#include "raft/driver_int.h"

#include <errno.h>
#include <stdlib.h>

#include "storage/st_raft.h"

/* The engine sets prev_log_index and n_entries; the entries come from the
 * log (adapter.h). */
static int fill_append(struct drv *d, struct raft_append_entries *ae)
{
	return drv_load_entries(d, ae->prev_log_index + 1, ae->n_entries,
				&ae->entries);
}

static int fill_snapshot(struct drv *d, struct raft_install_snapshot *is,
			 void **mem)
{
	struct raft_buffer cb;
	struct st_snap s;
	int rc;

	rc = st_snap_get(d->st, &s, mem);
	if (rc != 0)
		return rc;
	cb.base = (void *)s.conf;
	cb.len = s.conf_len;
	raft_configuration_init(&is->conf);
	if (raft_configuration_decode(&cb, &is->conf) != 0) {
		free(*mem);
		*mem = NULL;
		return -EIO;
	}
	/* Our latest snapshot may be newer than the one the engine saw. */
	is->last_index = s.index;
	is->last_term = s.term;
	is->conf_index = s.conf_index;
	is->data.base = (void *)s.data;
	is->data.len = s.data_len;
	return 0;
}

/*
 * An accepting AppendEntries result claims exactly what this member can
 * back, no more and no less (two gaps of libraft 0.22.1, found by the
 * simulation with duplicated messages and kills in the middle of writes):
 *
 * - More: an InstallSnapshot of an older term is answered "accepted" with
 *   last_log_index never set (recv_install_snapshot.c, goto reply): stack
 *   garbage, a pointer in practice, sent to a peer. The old leader steps
 *   down on our term and ignores it, but a message must never claim what
 *   is not on disk: it is capped at what the store holds.
 * - Less: an InstallSnapshot older than our own snapshot is answered with
 *   that older index, and a probe for an entry our snapshot compacted away
 *   is rejected (checkLogMatchingProperty: missing previous entry): a
 *   leader whose view of us lags behind our trail sends the older snapshot,
 *   probes, is rejected, and sends it again, for ever. Entries up to our
 *   commit index are committed, hence identical in the leader's log
 *   (Leader Completeness, thesis 3.6.3): claiming them is true, and the
 *   leader's next probe lands inside our log.
 */
static void ack_sane(struct drv *d, struct raft_append_entries_result *r)
{
	uint64_t first, last, have, commit = raft_commit_index(&d->raft);

	if (r->rejected != 0)
		return;
	if (st_log_range(d->st, &first, &last) != 0)
		last = 0;
	have = last > d->snap_index ? last : d->snap_index;
	if (commit > have)
		commit = have;
	if (r->last_log_index > have)
		r->last_log_index = have;
	if (r->last_log_index < commit)
		r->last_log_index = commit;
}

void drv_send(struct drv *d, struct raft_message *m)
{
	void *mem = NULL;
	int rc = 0;

	switch (m->type) {
	case RAFT_APPEND_ENTRIES:
		rc = fill_append(d, &m->append_entries);
		break;
	case RAFT_INSTALL_SNAPSHOT:
		rc = fill_snapshot(d, &m->install_snapshot, &mem);
		break;
	case RAFT_APPEND_ENTRIES_RESULT:
		ack_sane(d, &m->append_entries_result);
		break;
	default:
		break;
	}
	if (rc != 0) {
		/* Raft tolerates a lost message; the engine will retry. */
		rlog(&d->cfg.log, RLOG_WARN, "raft %llu: cannot build message %d for %llu: %d",
			  d->cfg.id, m->type, m->server_id, rc);
		return;
	}
	rc = d->cfg.tr->send(d->cfg.tr, m->server_id, m->server_address, m);
	if (rc != 0)
		rlog(&d->cfg.log, RLOG_DEBUG, "raft %llu: send to %llu: %d", d->cfg.id,
			  m->server_id, rc);
	d->stats.sends++;
	if (m->type == RAFT_APPEND_ENTRIES && m->append_entries.n_entries) {
		raft_free(m->append_entries.entries[0].batch);
		raft_free(m->append_entries.entries);
		m->append_entries.entries = NULL;
	} else if (m->type == RAFT_INSTALL_SNAPSHOT) {
		raft_configuration_close(&m->install_snapshot.conf);
		free(mem);
	}
}
