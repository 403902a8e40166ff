/*
 * RaftMsg decoding (raft/msgcodec.c): anything that decodes must encode
 * again and decode to the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "raft/transport/chan.h"
#include "raft/msgcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct raft_message *x, const struct raft_message *y)
{
	unsigned i;

	if (x->type != y->type || x->server_id != y->server_id)
		abort();
	if (x->type == RAFT_APPEND_ENTRIES) {
		const struct raft_append_entries *p = &x->append_entries,
						 *q = &y->append_entries;

		if (p->n_entries != q->n_entries || p->term != q->term)
			abort();
		for (i = 0; i < p->n_entries; i++) {
			if (p->entries[i].buf.len != q->entries[i].buf.len ||
			    p->entries[i].type != q->entries[i].type ||
			    memcmp(p->entries[i].buf.base,
				   q->entries[i].buf.base,
				   p->entries[i].buf.len) != 0)
				abort();
		}
	} else if (x->type == RAFT_INSTALL_SNAPSHOT) {
		const struct raft_install_snapshot *p = &x->install_snapshot,
						   *q = &y->install_snapshot;

		if (p->conf.n != q->conf.n || p->data.len != q->data.len ||
		    memcmp(p->data.base, q->data.base, p->data.len) != 0)
			abort();
		for (i = 0; i < p->conf.n; i++)
			if (p->conf.servers[i].id != q->conf.servers[i].id ||
			    strcmp(p->conf.servers[i].address,
				   q->conf.servers[i].address) != 0)
				abort();
	} else if (memcmp(&x->request_vote, &y->request_vote,
			  sizeof(x->timeout_now)) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct raft_message m, m2;
	uint8_t *buf = NULL, *app = NULL;
	size_t len = 0, app_len = 0;

	if (size > CHAN_PLAIN_MAX)
		return 0;
	if (msgcodec_decode_frame(data, size, &m, &app, &app_len) != 0)
		return 0;
	if (app != NULL) {
		free(app);
		return 0;
	}
	if (msgcodec_encode(&m, m.server_id, CHAN_PLAIN_MAX, &buf, &len) != 0)
		abort();
	if (msgcodec_decode(buf, len, &m2) != 0)
		abort();
	same(&m, &m2);
	msgcodec_release(&m2);
	msgcodec_release(&m);
	free(buf);
	return 0;
}
