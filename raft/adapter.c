/* rad: libraft 0.22.1 ownership rules and input checks (see adapter.h). */
#include "raft/adapter.h"

#include <errno.h>
#include <string.h>

int rad_msg_check(const struct raft_message *m)
{
	const struct raft_append_entries *ae;
	const struct raft_install_snapshot *is;
	unsigned i;

	if (m->server_id == 0 || m->server_address == NULL)
		return -EINVAL;
	switch (m->type) {
	case RAFT_APPEND_ENTRIES:
		ae = &m->append_entries;
		if ((ae->prev_log_index == 0) != (ae->prev_log_term == 0))
			return -EINVAL;
		if (ae->n_entries > 0 && ae->entries == NULL)
			return -EINVAL;
		for (i = 0; i < ae->n_entries; i++) {
			const struct raft_entry *e = &ae->entries[i];

			if (e->term == 0 || e->term > ae->term ||
			    e->batch == NULL ||
			    (e->type != RAFT_COMMAND &&
			     e->type != RAFT_BARRIER &&
			     e->type != RAFT_CHANGE))
				return -EINVAL;
		}
		/* Index arithmetic in the engine must not wrap. */
		if (ae->prev_log_index > UINT64_MAX / 2)
			return -EINVAL;
		return 0;
	case RAFT_INSTALL_SNAPSHOT:
		is = &m->install_snapshot;
		if (is->last_index == 0 || is->last_term == 0 ||
		    is->last_term > is->term || is->conf.n == 0 ||
		    is->conf_index > is->last_index)
			return -EINVAL;
		return 0;
	case RAFT_APPEND_ENTRIES_RESULT:
	case RAFT_REQUEST_VOTE:
	case RAFT_REQUEST_VOTE_RESULT:
	case RAFT_TIMEOUT_NOW:
		return 0;
	default:
		return -EINVAL;
	}
}

void rad_entries_free_payloads(struct raft_entry *e, unsigned n)
{
	void *last = NULL;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (e[i].batch != NULL && e[i].batch != last) {
			last = e[i].batch;
			raft_free(last);
		}
	}
}

void rad_msg_free(struct raft_message *m)
{
	switch (m->type) {
	case RAFT_APPEND_ENTRIES:
		if (m->append_entries.n_entries > 0) {
			rad_entries_free_payloads(m->append_entries.entries,
						  m->append_entries.n_entries);
			raft_free(m->append_entries.entries);
		}
		m->append_entries.entries = NULL;
		m->append_entries.n_entries = 0;
		break;
	case RAFT_INSTALL_SNAPSHOT:
		raft_configuration_close(&m->install_snapshot.conf);
		raft_free(m->install_snapshot.data.base);
		m->install_snapshot.data.base = NULL;
		break;
	default:
		break;
	}
}

bool rad_conf_has(const struct raft_configuration *c, raft_id id)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return true;
	return false;
}

int rad_conf_copy(const struct raft_configuration *src,
		  struct raft_configuration *dst)
{
	unsigned i;

	raft_configuration_init(dst);
	for (i = 0; i < src->n; i++) {
		if (raft_configuration_add(dst, src->servers[i].id,
					   src->servers[i].address,
					   src->servers[i].role) != 0) {
			raft_configuration_close(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

static int copy_entries(const struct raft_append_entries *s,
			struct raft_append_entries *d)
{
	unsigned char *block;
	size_t total = 0, off = 0;
	unsigned i;

	d->entries = NULL;
	if (s->n_entries == 0)
		return 0;
	for (i = 0; i < s->n_entries; i++)
		total += s->entries[i].buf.len;
	d->entries = raft_calloc(s->n_entries, sizeof(*d->entries));
	block = raft_malloc(total + 1);	/* +1: never a 0-byte batch */
	if (d->entries == NULL || block == NULL) {
		raft_free(d->entries);
		raft_free(block);
		d->entries = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < s->n_entries; i++) {
		d->entries[i].term = s->entries[i].term;
		d->entries[i].type = s->entries[i].type;
		d->entries[i].buf.base = block + off;
		d->entries[i].buf.len = s->entries[i].buf.len;
		d->entries[i].batch = block;
		if (s->entries[i].buf.len > 0)
			memcpy(block + off, s->entries[i].buf.base,
			       s->entries[i].buf.len);
		off += s->entries[i].buf.len;
	}
	return 0;
}

int rad_msg_copy(const struct raft_message *src, struct raft_message *dst)
{
	const struct raft_install_snapshot *s;
	struct raft_install_snapshot *d;

	*dst = *src;
	switch (src->type) {
	case RAFT_APPEND_ENTRIES:
		return copy_entries(&src->append_entries,
				    &dst->append_entries);
	case RAFT_INSTALL_SNAPSHOT:
		s = &src->install_snapshot;
		d = &dst->install_snapshot;
		if (rad_conf_copy(&s->conf, &d->conf) != 0)
			return -ENOMEM;
		d->data.base = raft_malloc(s->data.len + 1);
		if (d->data.base == NULL) {
			raft_configuration_close(&d->conf);
			return -ENOMEM;
		}
		if (s->data.len > 0)
			memcpy(d->data.base, s->data.base, s->data.len);
		return 0;
	default:
		return 0;
	}
}

void rad_fix_uncommitted(struct raft *r, const struct raft_update *u)
{
	raft_index first, last = 0;
	unsigned i;

	if (!(u->flags & RAFT_UPDATE_ENTRIES) || raft_state(r) != RAFT_FOLLOWER)
		return;
	first = u->entries.index;
	for (i = 0; i < u->entries.n; i++)
		if (u->entries.batch[i].type == RAFT_CHANGE)
			last = first + i;
	if (last > first && r->configuration_uncommitted_index == first)
		r->configuration_uncommitted_index = last;
}
