/*
 * st: the node's one durable store, an LMDB environment in DATADIR/store.
 *
 * Every write is one short write transaction committed with LMDB's default
 * (synchronous) flags: when a st_* write returns 0 the data is on disk. The
 * asynchronous flags (MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC, MDB_WRITEMAP)
 * are refused: Raft's safety rests on term, vote and entries being durable
 * before anything that depends on them is sent (Raft thesis, 3.8).
 *
 * Errors are negative errno values:
 *   -ENOENT  key / entry / snapshot absent
 *   -ENOSPC  the map (or disk) is full: the write did not happen, the store
 *            is intact; callers refuse the operation (RAFT_NOSPACE)
 *   -EIO     a commit or fsync failed: the store is poisoned, every later
 *            write fails too; the caller must stop acknowledging and exit
 *            non-zero (an fsync is never retried: the page cache state after
 *            a failed fsync is unknown)
 *   -EINVAL, -ENOMEM, -EEXIST as usual.
 *
 * The store never logs: it returns codes, and st_why() says what the last
 * failed write was, for the caller to log.
 *
 * Not thread-safe: one owner (the control-plane loop).
 */
#ifndef NTPMC_ST_H
#define NTPMC_ST_H

#include <stddef.h>
#include <stdint.h>

struct st;

#define ST_MAPSIZE_DEFAULT ((size_t)64 << 20)
#define ST_KEY_MAX 128

/* Opens (creating if needed, mode 0700) DATADIR/store. mapsize 0 means
 * ST_MAPSIZE_DEFAULT. */
int st_open(struct st **st, const char *datadir, size_t mapsize);
/* Same, with extra LMDB environment flags; the asynchronous ones are
 * refused with -EINVAL. */
int st_open_flags(struct st **st, const char *datadir, size_t mapsize,
		  unsigned int mdb_flags);
void st_close(struct st *st);

/* Non-zero once a commit failed (see -EIO above). */
int st_poisoned(const struct st *st);
/* The last failed begin or commit in words ("" if none): the store never
 * logs, its caller does. */
const char *st_why(const struct st *st);
/* Bytes still writable: the smaller of the unused part of the map and the
 * free space of the file system holding it. */
uint64_t st_free_bytes(struct st *st);

/* Node-local table (never replicated): identity, keys, frequency, ...
 * key: 1..ST_KEY_MAX bytes of text. */
int st_local_put(struct st *st, const char *key, const void *buf, size_t len);
/* *buf is malloc()ed, caller frees. -ENOENT when absent. */
int st_local_get(struct st *st, const char *key, void **buf, size_t *len);
int st_local_del(struct st *st, const char *key);

#endif
