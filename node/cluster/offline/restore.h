/*
 * restore: `ntpnode restore -c FILE --from BACKUP` seeds
 * a NEW single-member cluster in an empty datadir from a backup
 * (node/ctl/backup.h):
 *  - the same cluster id (the FSM's members, keys and config are the old
 *    cluster's; joiners of the new one get new tokens);
 *  - a new raft history: a snapshot at the backup's index (>= 1) and term
 *    1, holding the backup's FSM bytes unchanged and a configuration with
 *    only this node (a new raft id) as voter; current term 1, no vote.
 *    Nothing ties it to the old history: the old members must be gone
 *    (that is when a restore is the answer), and their keys stop being
 *    trusted once the first leader removed their records;
 *  - CLUSTER_K_PRUNE (node/cluster/cluster_int.h): the first leader removes the old
 *    members' records and the old tokens by ordinary audited commands
 *    (node/cluster/cluster_backup.c).
 * The backup is checked completely before the datadir is touched: a
 * refused backup changes nothing.
 */
#ifndef NTPMC_RESTORE_H
#define NTPMC_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "node/cluster/cluster.h"
#include "node/ctl/backup.h"
#include "storage/st.h"

#define RST_CLUSTER_ID_LEN 16   /* raft/transport/token.h TOKEN_CLUSTER_ID_LEN */

/* Writes the new cluster into an empty store. -EEXIST if it holds raft
 * state or a cluster id, -EINVAL on a cluster id that is not 32 hex
 * digits; otherwise st's errors. */
int rst_seed(struct st *st, const struct bk_meta *m, const void *state,
	     size_t len, uint64_t self, const char *address);

/* `ntpnode restore`: checks the backup at from, then seeds c's empty
 * datadir, printing each step (config names the file in messages).
 * Returns the exit code. */
int restore_run(const struct cluster_conf *c, const char *config,
		const char *from);

#endif
