/*
 * backup: the file format of `ntpctl backup FILE`, pure.
 *
 * A backup is a consistent snapshot of the replicated state (the FSM's
 * canonical bytes, raft/fsm.h fsm_snapshot()) plus what an operator and
 * `ntpnode restore` need to know about it:
 *
 *   "NTPMCBAK"                 8 bytes, magic
 *   format                     u32, BK_FORMAT (this build writes 1)
 *   cluster id length, bytes   u16 + up to BK_CLUSTER_ID_MAX bytes
 *   index, term, time_ms       u64 each: the snapshot's last applied raft
 *                              index, its term, the writer's clock
 *   state length, bytes        u64 + the FSM snapshot
 *   checksum                   32 bytes, BLAKE2b-256 of all of the above
 * Integers little-endian.
 *
 * bk_decode() refuses, with a distinct error each: a file too short or cut
 * anywhere (-EBADMSG, "truncated"), a bad checksum (-EBADMSG, "damaged"),
 * another file type (-EINVAL), a newer format (-ENOTSUP). Nothing is
 * returned unless the whole file checks out, so a refused restore changes
 * nothing. bk_check_cluster() is the "from another cluster" rule.
 */
#ifndef NTPMC_BACKUP_H
#define NTPMC_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#define BK_FORMAT 1
#define BK_CLUSTER_ID_MAX 64
#define BK_MAX_STATE (64u << 20)	/* well above any FSM snapshot */

struct bk_meta {
	uint32_t format;
	char cluster_id[BK_CLUSTER_ID_MAX + 1];
	uint64_t index, term, time_ms;
};

/* The file's bytes (malloc()ed) for meta and state. */
int bk_encode(const struct bk_meta *meta, const void *state, size_t state_len,
	      void **out, size_t *out_len);
/* Checks buf completely; on 0 fills *meta and points *state into buf. On
 * error *why says what is wrong in words for the operator. */
int bk_decode(const void *buf, size_t len, struct bk_meta *meta,
	      const void **state, size_t *state_len, const char **why);
/* 0 when the backup belongs to cluster id (a datadir's own cluster); else
 * -EXDEV. An empty id (empty datadir) accepts any backup. */
int bk_check_cluster(const struct bk_meta *meta, const char *id);

#endif
