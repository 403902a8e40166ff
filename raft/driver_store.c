/* drv: the store side: bootstrap, loading the store at start, persisting
 * what an update carries (entries, an incoming snapshot). */
#include "raft/driver_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/adapter.h"
#include "storage/st_raft.h"

int drv_conf_encode(const struct raft_configuration *c,
		       struct raft_buffer *b)
{
	b->base = NULL;
	b->len = 0;
	return raft_configuration_encode(c, b) == 0 ? 0 : -ENOMEM;
}

struct fill {
	struct raft_entry *e;
	unsigned char *block;
	size_t off;
	unsigned i;
};

static int size_fn(void *arg, uint64_t index, const struct st_entry *e)
{
	struct fill *f = arg;

	f->off += e->len;
	return 0;
}

static int fill_fn(void *arg, uint64_t index, const struct st_entry *e)
{
	struct fill *f = arg;
	struct raft_entry *re = &f->e[f->i++];

	re->term = e->term;
	re->type = (enum raft_entry_type)e->type;
	re->buf.base = f->block + f->off;
	re->buf.len = e->len;
	re->batch = f->block;
	if (e->len > 0)
		memcpy(f->block + f->off, e->buf, e->len);
	f->off += e->len;
	return 0;
}

int drv_load_entries(struct drv *d, uint64_t first, unsigned n,
		     struct raft_entry **out)
{
	struct fill f = { 0 };
	int rc;

	*out = NULL;
	if (n == 0)
		return 0;
	rc = st_log_read(d->st, first, n, size_fn, &f);
	if (rc != 0)
		return rc;
	f.e = raft_calloc(n, sizeof(*f.e));
	f.block = raft_malloc(f.off + 1);
	if (f.e == NULL || f.block == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	f.off = 0;
	rc = st_log_read(d->st, first, n, fill_fn, &f);
	if (rc != 0)
		goto err;
	*out = f.e;
	return 0;
err:
	raft_free(f.e);
	raft_free(f.block);
	return rc;
}

int drv_has_state(struct st *st)
{
	uint64_t term, vote, first, last;
	struct st_snap s;
	void *mem;

	if (st_term_vote_get(st, &term, &vote) == 0 && term != 0)
		return 1;
	if (st_log_range(st, &first, &last) == 0 && last != 0)
		return 1;
	if (st_snap_get(st, &s, &mem) == 0) {
		free(mem);
		return 1;
	}
	return 0;
}

int drv_bootstrap_conf(struct st *st, const struct raft_configuration *conf)
{
	struct raft_buffer b;
	struct st_entry e;
	int rc;

	if (drv_has_state(st))
		return -EEXIST;
	rc = drv_conf_encode(conf, &b);
	if (rc != 0)
		return rc;
	e.term = 1;
	e.type = RAFT_CHANGE;
	e.buf = b.base;
	e.len = b.len;
	/* Entry 1 first, then the term: a crash in between leaves a log
	 * without a term, which start-up refuses, rather than a term with
	 * no configuration. */
	rc = st_log_append(st, 1, &e, 1);
	raft_free(b.base);
	if (rc == 0)
		rc = st_term_vote_put(st, 1, 0);
	return rc;
}

int drv_bootstrap(struct st *st, raft_id id, const char *address)
{
	struct raft_configuration conf;
	int rc;

	raft_configuration_init(&conf);
	if (raft_configuration_add(&conf, id, address, RAFT_VOTER) != 0) {
		raft_configuration_close(&conf);
		return -EINVAL;
	}
	rc = drv_bootstrap_conf(st, &conf);
	raft_configuration_close(&conf);
	return rc;
}

int drv_load(struct drv *d)
{
	struct raft_snapshot_metadata meta;
	struct raft_entry *entries = NULL;
	struct raft_event ev;
	struct raft_buffer cb;
	struct st_snap s;
	uint64_t term, vote, first, last;
	void *mem = NULL;
	unsigned n = 0;
	int have_snap, rc;

	rc = st_term_vote_get(d->st, &term, &vote);
	if (rc != 0)
		return rc;
	rc = st_log_range(d->st, &first, &last);
	if (rc != 0)
		return rc;
	memset(&ev, 0, sizeof(ev));
	memset(&meta, 0, sizeof(meta));
	rc = st_snap_get(d->st, &s, &mem);
	have_snap = rc == 0;
	if (rc != 0 && rc != -ENOENT)
		return rc;
	if ((have_snap || last != 0) && term == 0) {
		rlog(&d->cfg.log, RLOG_WARN, "raft %llu: store has a log but no term: refusing",
			  d->cfg.id);
		free(mem);
		return -EIO;
	}
	if (have_snap) {
		cb.base = (void *)s.conf;
		cb.len = s.conf_len;
		raft_configuration_init(&meta.configuration);
		if (raft_configuration_decode(&cb, &meta.configuration) != 0 ||
		    fsm_restore(d->cfg.fsm, s.index, s.data, s.data_len) != 0) {
			raft_configuration_close(&meta.configuration);
			free(mem);
			return -EIO;
		}
		meta.index = s.index;
		meta.term = s.term;
		meta.configuration_index = s.conf_index;
		rc = rad_conf_copy(&meta.configuration, &d->conf);
		d->conf_index = s.conf_index;
		d->applied = s.index;
		d->snap_index = s.index;
		free(mem);
		if (rc != 0) {
			raft_configuration_close(&meta.configuration);
			return rc;
		}
		ev.start.metadata = &meta;
	}
	if (last != 0) {
		n = (unsigned)(last - first + 1);
		rc = drv_load_entries(d, first, n, &entries);
		if (rc != 0) {
			if (have_snap)
				raft_configuration_close(&meta.configuration);
			return rc;
		}
	}
	ev.type = RAFT_START;
	ev.start.term = term;
	ev.start.voted_for = vote;
	ev.start.start_index = last != 0 ? first : d->snap_index + 1;
	ev.start.entries = entries;
	ev.start.n_entries = n;
	rc = drv_step(d, &ev);
	if (rc == 0 && n > 0)
		raft_free(entries[0].batch);	/* success: still ours */
	raft_free(entries);
	if (rc != 0) {
		rlog(&d->cfg.log, RLOG_WARN, "raft %llu: start: %s", d->cfg.id,
			  raft_errmsg(&d->raft));
		return -EIO;
	}
	drv_drain(d);
	return d->failed;
}

int drv_persist_entries(struct drv *d, const struct raft_update *u)
{
	struct st_entry stack[32] = { { 0 } }, *e = stack;
	struct raft_event ev;
	unsigned i, n = u->entries.n;
	int rc;

	if (n > 32) {
		e = calloc(n, sizeof(*e));
		if (e == NULL) {
			drv_fail(d, -ENOMEM, "persist entries");
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		e[i].term = u->entries.batch[i].term;
		e[i].type = u->entries.batch[i].type;
		e[i].buf = u->entries.batch[i].buf.base;
		e[i].len = u->entries.batch[i].buf.len;
	}
	rc = st_log_append(d->st, u->entries.index, e, n);
	if (e != stack)
		free(e);
	/* Whatever happened, the payloads are ours to free (adapter.h). */
	rad_entries_free_payloads(u->entries.batch, n);
	if (rc != 0) {
		drv_fail(d, rc, "persist entries");
		return rc;
	}
	d->stats.entries_persisted += n;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_PERSISTED_ENTRIES;
	ev.persisted_entries.index = u->entries.index + n - 1;
	return drv_enqueue(d, &ev);
}

/* An InstallSnapshot accepted by the engine: thesis fig. 5.3 steps 6-8. */
int drv_install_snapshot(struct drv *d, struct raft_update *u)
{
	struct raft_snapshot_metadata *m = &u->snapshot.metadata;
	struct raft_buffer cb;
	struct st_snap s;
	struct raft_event ev;
	int rc;

	rc = drv_conf_encode(&m->configuration, &cb);
	if (rc != 0)
		goto out;
	memset(&s, 0, sizeof(s));
	s.index = m->index;
	s.term = m->term;
	s.conf_index = m->configuration_index;
	s.conf = cb.base;
	s.conf_len = cb.len;
	s.data = u->snapshot.chunk.base;
	s.data_len = u->snapshot.chunk.len;
	rc = st_snap_put(d->st, &s, UINT64_MAX);
	raft_free(cb.base);
	if (rc != 0)
		goto out;
	rc = fsm_restore(d->cfg.fsm, m->index, u->snapshot.chunk.base,
			 u->snapshot.chunk.len);
	if (rc != 0)
		goto out;
	raft_configuration_close(&d->conf);
	rc = rad_conf_copy(&m->configuration, &d->conf);
	if (rc != 0)
		goto out;
	d->conf_index = m->configuration_index;
	d->applied = m->index;
	d->snap_index = m->index;
	d->stats.snapshots_installed++;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_PERSISTED_SNAPSHOT;
	ev.persisted_snapshot.metadata = *m;	/* conf goes to the engine */
	ev.persisted_snapshot.offset = 0;
	ev.persisted_snapshot.last = true;
	raft_free(u->snapshot.chunk.base);
	return drv_enqueue(d, &ev);
out:
	raft_free(u->snapshot.chunk.base);
	raft_configuration_close(&m->configuration);
	drv_fail(d, rc, "install snapshot");
	return rc;
}
