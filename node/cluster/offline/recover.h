/*
 * recover: `ntpnode recover -c FILE --voters ID,...`,
 * offline, on a surviving member after a quorum loss.
 *
 * libraft's raft_recover() (for its own uv backend) appends an entry with
 * the forced configuration to the stored log; with our raft_step() driver
 * the log is ours (storage/st_raft.h), so this module writes that entry
 * itself. At the next start the engine takes the LAST configuration entry
 * in the log as its configuration, committed or not (libraft
 * restoreEntries), so the node starts with only the named voters; a lone
 * voter elects itself at once and its first barrier commits the entry.
 *
 * Term: the entry gets current term + 1 and the node's current term
 * becomes that (vote cleared), written before the entry: a crash in
 * between only looks like a lost election. A term above every term this
 * node has seen keeps the entry from matching any entry another member
 * wrote, so raft's log matching stays sound.
 *
 * Several survivors: their logs must be identical ("offline-consistent":
 * same last index and last term, by `recover --check` on each); the
 * operator passes that pair as --at INDEX:TERM and each run refuses if its
 * own log ends elsewhere. Otherwise: recover the most up-to-date survivor
 * alone, then wipe and re-join the others (docs/operations.md).
 */
#ifndef NTPMC_RECOVER_H
#define NTPMC_RECOVER_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#include "node/cluster/cluster.h"
#include "raft/fsm.h"
#include "storage/st.h"

#define RCV_MAX_VOTERS 64

/* What the datadir holds, for --check and the checks. */
struct rcv_info {
	uint64_t self;
	uint64_t term, vote;            /* current term, vote */
	uint64_t first, last;           /* log range (0, 0: empty) */
	uint64_t last_index, last_term; /* last entry, or the snapshot */
	uint64_t conf_index;            /* of the last configuration */
	struct raft_configuration conf;
	struct fsm *fsm;                /* names; replayed incl. uncommitted */
};

/* -ENOENT when the store holds no raft state. */
int rcv_inspect(struct st *st, struct rcv_info *info);
void rcv_info_close(struct rcv_info *info);

/* Parses "ID|NAME,..." against the last configuration: every word must be
 * a member (raft id or node-name), no duplicates, not empty, this node
 * among them. On error -EINVAL and err says why. */
int rcv_parse_voters(const struct rcv_info *info, const char *list,
		     uint64_t *ids, unsigned max, unsigned *n, char *err,
		     size_t errlen);

/* Appends the new configuration (ids as voters, everyone else removed)
 * at last_index + 1; *index and *term say where. Marks the datadir for
 * the first leader's clean-up (node/cluster/cluster_backup.c). */
int rcv_write(struct st *st, const struct rcv_info *info,
	      const uint64_t *ids, unsigned n, uint64_t *index,
	      uint64_t *term);

/* `ntpnode recover`: with check, prints what the datadir holds and
 * whether voters would be accepted; otherwise forces the configuration
 * to voters (at: "INDEX:TERM" every named voter's --check printed, needed
 * with more than one). Prints each step; returns the exit code. */
int recover_run(const struct cluster_conf *c, const char *config,
		int check, const char *voters, const char *at);

#endif
