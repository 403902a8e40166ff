/* Internals shared by the st_*.c files; not for callers outside storage/. */
#ifndef NTPMC_ST_INT_H
#define NTPMC_ST_INT_H

#include <lmdb.h>

#include "storage/st.h"

struct st {
	MDB_env *env;
	MDB_dbi local;	/* node-local table */
	MDB_dbi meta;	/* raft term, vote */
	MDB_dbi log;	/* raft entries, key: big-endian index */
	MDB_dbi snap;	/* latest raft snapshot */
	size_t mapsize;
	int poisoned;
	char *dir;
	char why[160];	/* the last failure, for the caller to log */
};

/* Maps an LMDB return code to our negative errno. */
int st_err(int rc);
/* Begins a write txn; fails with -EIO on a poisoned store. */
int st_wbegin(struct st *st, MDB_txn **txn);
/* Commits: a failure poisons the store (never retried). */
int st_wcommit(struct st *st, MDB_txn *txn);

#endif
