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
