/* st: opening the LMDB environment, the node-local table, space checks. */
#include "storage/st_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>


/* Flags that let LMDB acknowledge a commit before it is on disk. */
#define ST_ASYNC_FLAGS (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC | MDB_WRITEMAP)

int st_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC:
		return -ENOSPC;
	case ENOMEM:
		return -ENOMEM;
	case EINVAL:
	case MDB_BAD_VALSIZE:
		return -EINVAL;
	case MDB_KEYEXIST:
		return -EEXIST;
	default:
		return -EIO;
	}
}

int st_wbegin(struct st *st, MDB_txn **txn)
{
	int rc;

	if (st->poisoned)
		return -EIO;
	rc = mdb_txn_begin(st->env, NULL, 0, txn);
	if (rc != 0) {
		snprintf(st->why, sizeof(st->why), "begin: %s",
			 mdb_strerror(rc));
		return st_err(rc);
	}
	return 0;
}

int st_wcommit(struct st *st, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	if (rc == 0)
		return 0;
	/* A full map is refused before anything reaches the disk: the store
	 * is intact. Anything else (EIO from fsync/write) leaves us unable to
	 * know what is durable, so the store refuses all further writes. */
	if (rc == MDB_MAP_FULL || rc == ENOSPC) {
		snprintf(st->why, sizeof(st->why), "commit: %s",
			 mdb_strerror(rc));
		return -ENOSPC;
	}
	st->poisoned = 1;
	snprintf(st->why, sizeof(st->why), "commit failed, store poisoned: %s",
		 mdb_strerror(rc));
	return -EIO;
}

int st_poisoned(const struct st *st)
{
	return st->poisoned;
}

const char *st_why(const struct st *st)
{
	return st->why;
}

static int open_dbis(struct st *st)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc != 0)
		return st_err(rc);
	if ((rc = mdb_dbi_open(txn, "local", MDB_CREATE, &st->local)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "log", MDB_CREATE, &st->log)) != 0 ||
	    (rc = mdb_dbi_open(txn, "snap", MDB_CREATE, &st->snap)) != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

int st_open_flags(struct st **out, const char *datadir, size_t mapsize,
		  unsigned int mdb_flags)
{
	struct st *st;
	size_t n;
	int rc;

	*out = NULL;
	if (datadir == NULL || (mdb_flags & (ST_ASYNC_FLAGS | MDB_RDONLY)))
		return -EINVAL;
	if (mapsize == 0)
		mapsize = ST_MAPSIZE_DEFAULT;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	n = strlen(datadir) + sizeof("/store");
	st->dir = malloc(n);
	if (st->dir == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	snprintf(st->dir, n, "%s/store", datadir);
	if (mkdir(st->dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto err;
	}
	st->mapsize = mapsize;
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, mapsize)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, 8)) != 0) {
		rc = st_err(rc);
		goto err;
	}
	/* MDB_NOTLS: the env may be used from a thread other than the opener. */
	rc = mdb_env_open(st->env, st->dir, mdb_flags | MDB_NOTLS, 0600);
	if (rc != 0) {
		rc = st_err(rc);
		goto err;
	}
	rc = open_dbis(st);
	if (rc != 0)
		goto err;
	*out = st;
	return 0;
err:
	st_close(st);
	return rc;
}

int st_open(struct st **st, const char *datadir, size_t mapsize)
{
	return st_open_flags(st, datadir, mapsize, 0);
}

void st_close(struct st *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st->dir);
	free(st);
}

uint64_t st_free_bytes(struct st *st)
{
	MDB_envinfo info;
	MDB_stat stat;
	struct statvfs vfs;
	uint64_t used, left, disk;

	if (mdb_env_info(st->env, &info) != 0 ||
	    mdb_env_stat(st->env, &stat) != 0)
		return 0;
	/* Pages ever used; freed pages are reused but not counted here, so
	 * this errs on the side of reporting less room than there is. */
	used = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
	left = used < info.me_mapsize ? info.me_mapsize - used : 0;
	if (statvfs(st->dir, &vfs) == 0) {
		disk = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (disk < left)
			left = disk;
	}
	return left;
}

static int check_key(const char *key, MDB_val *k)
{
	size_t n;

	if (key == NULL)
		return -EINVAL;
	n = strlen(key);
	if (n == 0 || n > ST_KEY_MAX)
		return -EINVAL;
	k->mv_data = (void *)key;
	k->mv_size = n;
	return 0;
}

int st_local_put(struct st *st, const char *key, const void *buf, size_t len)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if ((rc = check_key(key, &k)) != 0)
		return rc;
	if ((rc = st_wbegin(st, &txn)) != 0)
		return rc;
	v.mv_data = (void *)buf;
	v.mv_size = len;
	rc = mdb_put(txn, st->local, &k, &v, 0);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

int st_local_del(struct st *st, const char *key)
{
	MDB_txn *txn;
	MDB_val k;
	int rc;

	if ((rc = check_key(key, &k)) != 0)
		return rc;
	if ((rc = st_wbegin(st, &txn)) != 0)
		return rc;
	rc = mdb_del(txn, st->local, &k, NULL);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

int st_local_get(struct st *st, const char *key, void **buf, size_t *len)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*buf = NULL;
	*len = 0;
	if ((rc = check_key(key, &k)) != 0)
		return rc;
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return st_err(rc);
	rc = mdb_get(txn, st->local, &k, &v);
	if (rc != 0) {
		rc = st_err(rc);
		goto out;
	}
	/* +1 so a zero-length value still yields a non-NULL buffer. */
	*buf = malloc(v.mv_size + 1);
	if (*buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(*buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
out:
	mdb_txn_abort(txn);
	return rc;
}
