/*
 * rad: what libraft 0.22.1's raft_step() does with memory, written down in
 * one place, plus the helpers that follow from it. Read from the 0.22.1
 * sources (src/raft.c, recv_append_entries.c, recv_install_snapshot.c,
 * replication.c, client.c, convert.c) and checked under ASan/LSan by
 * tests/unit/test_raft_sim.c.
 *
 * Ownership quirks of raft_step():
 *  - RAFT_RECEIVE, APPEND_ENTRIES with entries: the engine never frees the
 *    entries ARRAY (the caller does, after handling the update). The
 *    payload block (entries[i].batch) is freed BY THE ENGINE when the
 *    message is answered synchronously (reject, stale term, nothing new,
 *    snapshot being installed) AND when raft_step returns an error; when
 *    new entries must be persisted, update.entries.batch points INTO the
 *    message's array and the payload block becomes the caller's to free
 *    after persisting. So: never free the payload after an error.
 *  - RAFT_RECEIVE, INSTALL_SNAPSHOT: answered synchronously, the engine
 *    frees .conf and .data; otherwise they come back as update.snapshot
 *    (chunk and metadata.configuration). The chunk is the caller's; the
 *    configuration goes back to the engine with RAFT_PERSISTED_SNAPSHOT,
 *    which owns it from then on.
 *  - RAFT_SUBMIT: the engine never frees submitted payloads. On success
 *    update.entries.batch IS the submitted array; on error the caller
 *    frees everything.
 *  - Becoming leader with uncommitted entries, the engine submits its own
 *    no-op RAFT_BARRIER (thesis 6.4): update.entries.batch then points to
 *    an array inside struct raft (not to be freed) whose payload
 *    (raft_malloc()ed) is the caller's to free after persisting.
 *    Rule used by the driver: after persisting update.entries, free every
 *    distinct .batch payload, never the array.
 *  - RAFT_START: on error the engine destroys the entries' payloads; on
 *    success they stay the caller's. metadata->configuration is taken.
 *  - RAFT_CONFIGURATION and RAFT_SNAPSHOT: the configuration in the event
 *    is always taken by the engine (closed if not needed).
 *  - RAFT_CATCH_UP on an id missing from the configuration trips an
 *    assert() in the engine: check first (rad_conf_has).
 *  - Incoming messages trip assert()s on some impossible values
 *    (prev_log_index 0 with a non-zero prev_log_term, an entry of term 0,
 *    a snapshot of index or term 0, a NULL address): rad_msg_check()
 *    refuses them before raft_step() sees them.
 *  - Outgoing APPEND_ENTRIES only carry prev_log_index and n_entries; the
 *    driver fills .entries from the log. Outgoing INSTALL_SNAPSHOT carry
 *    last_index/last_term/conf_index; the driver fills .conf and .data.
 *  - update.messages.batch belongs to the engine and is valid until the
 *    next raft_step() call.
 *
 * Bookkeeping quirk (replication.c, replicationAppend): a follower that
 * appends a batch records EVERY configuration entry in it at the batch's
 * first index. Applying the real entry later never matches, so the
 * uncommitted mark stays; made leader, that node refuses every change
 * with RAFT_CANTCHANGE. rad_fix_uncommitted() corrects the mark.
 */
#ifndef NTPMC_RAFT_ADAPTER_H
#define NTPMC_RAFT_ADAPTER_H

#include <raft.h>
#include <stdbool.h>

/* 0 when the message can be handed to raft_step(), -EINVAL otherwise. */
int rad_msg_check(const struct raft_message *m);

/* Deep copy with the delivered-message layout of raft/transport.h (one
 * raft_malloc()ed entries array, one payload block, conf via
 * raft_configuration_add, data raft_malloc()ed). dst->server_* are copied
 * as pointers. 0 or -ENOMEM. */
int rad_msg_copy(const struct raft_message *src, struct raft_message *dst);

/* Frees the dynamic parts of a delivered message that will not be given
 * to raft_step() (dropped or refused). */
void rad_msg_free(struct raft_message *m);

/* Frees each distinct payload block of an entries array (not the array). */
void rad_entries_free_payloads(struct raft_entry *e, unsigned n);

/* After a raft_step() whose update carries entries to persist: a
 * follower's uncommitted configuration index set to the batch's first
 * index by the quirk above is moved to the batch's last configuration
 * entry, where the engine meant it to be. */
void rad_fix_uncommitted(struct raft *r, const struct raft_update *u);

bool rad_conf_has(const struct raft_configuration *c, raft_id id);
int rad_conf_copy(const struct raft_configuration *src,
		  struct raft_configuration *dst);

#endif
