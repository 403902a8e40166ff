/*
 * st_raft: the raft half of the store: term and vote, the log, the latest
 * snapshot. Deliberately free of raft.h types: the driver (raft/driver*.c)
 * converts. Every function that writes commits one synchronous transaction
 * before returning (see st.h for the error contract).
 */
#ifndef NTPMC_ST_RAFT_H
#define NTPMC_ST_RAFT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/st.h"

struct st_entry {
	uint64_t term;
	int type;		/* raft_entry_type, stored verbatim */
	const void *buf;
	size_t len;
};

/* Term and vote together; both 0 on a fresh store. */
int st_term_vote_get(struct st *st, uint64_t *term, uint64_t *vote);
int st_term_vote_put(struct st *st, uint64_t term, uint64_t vote);

/* First and last index in the log, both 0 when it is empty. */
int st_log_range(struct st *st, uint64_t *first, uint64_t *last);
/* Deletes every entry >= index, then writes n entries from index on, in
 * one transaction (Raft's "delete the existing entry and all that follow
 * it", thesis fig. 3.1, made atomic with the append). */
int st_log_append(struct st *st, uint64_t index, const struct st_entry *e,
		  unsigned n);
/* Deletes every entry <= upto (log compaction after a snapshot). */
int st_log_compact(struct st *st, uint64_t upto);
/* Calls fn for entries first..first+n-1 in order, inside one read
 * transaction; e->buf points into the map and is only valid during the
 * call. -ENOENT when an entry in the range is missing; a non-zero return
 * from fn stops the walk and is returned. */
typedef int (*st_entry_fn)(void *arg, uint64_t index,
			   const struct st_entry *e);
int st_log_read(struct st *st, uint64_t first, unsigned n, st_entry_fn fn,
		void *arg);
/* Term of one entry, 0 if absent. */
uint64_t st_log_term(struct st *st, uint64_t index);

struct st_snap {
	uint64_t index;		/* last index included */
	uint64_t term;		/* its term */
	uint64_t conf_index;	/* index of the configuration below */
	const void *conf;	/* encoded configuration (opaque here) */
	size_t conf_len;
	const void *data;	/* the FSM state */
	size_t data_len;
};

/* Replaces the latest snapshot and, in the same transaction, deletes log
 * entries <= log_upto (UINT64_MAX: the whole log, for an installed
 * snapshot, thesis fig. 5.3 step 7). */
int st_snap_put(struct st *st, const struct st_snap *s, uint64_t log_upto);
/* Latest snapshot; conf and data point into one malloc()ed block returned
 * in *mem (caller frees). -ENOENT when there is none. */
int st_snap_get(struct st *st, struct st_snap *s, void **mem);

#endif
