/* st_raft: raft term/vote, log and snapshot tables in LMDB. */
#include "storage/st_raft.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/st_int.h"

/* Log keys are big-endian so that LMDB's byte order is index order. */
static void key_of(uint64_t index, unsigned char k[8])
{
	int i;

	for (i = 7; i >= 0; i--) {
		k[i] = (unsigned char)(index & 0xff);
		index >>= 8;
	}
}

static uint64_t index_of(const MDB_val *v)
{
	const unsigned char *p = v->mv_data;
	uint64_t x = 0;
	int i;

	for (i = 0; i < 8; i++)
		x = (x << 8) | p[i];
	return x;
}

static void put_u64(unsigned char *p, uint64_t x)
{
	memcpy(p, &x, 8);	/* host order: the file never leaves the node */
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

int st_term_vote_get(struct st *st, uint64_t *term, uint64_t *vote)
{
	MDB_txn *txn;
	MDB_val k = { 2, "tv" }, v;
	int rc;

	*term = 0;
	*vote = 0;
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return st_err(rc);
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && v.mv_size == 16) {
		*term = get_u64(v.mv_data);
		*vote = get_u64((const unsigned char *)v.mv_data + 8);
	} else if (rc == 0) {
		rc = EIO;	/* corrupt: wrong size */
	} else if (rc == MDB_NOTFOUND) {
		rc = 0;
	}
	mdb_txn_abort(txn);
	return st_err(rc);
}

int st_term_vote_put(struct st *st, uint64_t term, uint64_t vote)
{
	unsigned char buf[16];
	MDB_txn *txn;
	MDB_val k = { 2, "tv" }, v = { sizeof(buf), buf };
	int rc;

	put_u64(buf, term);
	put_u64(buf + 8, vote);
	if ((rc = st_wbegin(st, &txn)) != 0)
		return rc;
	rc = mdb_put(txn, st->meta, &k, &v, 0);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

static int range_txn(struct st *st, MDB_txn *txn, uint64_t *first,
		     uint64_t *last)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*first = *last = 0;
	rc = mdb_cursor_open(txn, st->log, &c);
	if (rc != 0)
		return st_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (rc == 0) {
		*first = index_of(&k);
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		if (rc == 0)
			*last = index_of(&k);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

int st_log_range(struct st *st, uint64_t *first, uint64_t *last)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return st_err(rc);
	rc = range_txn(st, txn, first, last);
	mdb_txn_abort(txn);
	return rc;
}

/* Deletes keys in [from, to] (inclusive). Re-seeks after each delete:
 * simpler than reasoning about the cursor position LMDB leaves. */
static int del_range(struct st *st, MDB_txn *txn, uint64_t from, uint64_t to)
{
	unsigned char kb[8];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn, st->log, &c);
	if (rc != 0)
		return rc;
	key_of(from, kb);
	for (;;) {
		k.mv_data = kb;
		k.mv_size = 8;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || index_of(&k) > to)
			break;
		rc = mdb_cursor_del(c, 0);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* An entry is stored as: term (8), type (1), payload. */
int st_log_append(struct st *st, uint64_t index, const struct st_entry *e,
		  unsigned n)
{
	unsigned char kb[8];
	MDB_txn *txn;
	MDB_val k, v;
	unsigned i;
	int rc;

	if (index == 0)
		return -EINVAL;
	if ((rc = st_wbegin(st, &txn)) != 0)
		return rc;
	rc = del_range(st, txn, index, UINT64_MAX);
	for (i = 0; rc == 0 && i < n; i++) {
		key_of(index + i, kb);
		k.mv_data = kb;
		k.mv_size = 8;
		v.mv_size = 9 + e[i].len;
		rc = mdb_put(txn, st->log, &k, &v, MDB_RESERVE);
		if (rc != 0)
			break;
		put_u64(v.mv_data, e[i].term);
		((unsigned char *)v.mv_data)[8] = (unsigned char)e[i].type;
		if (e[i].len > 0)
			memcpy((unsigned char *)v.mv_data + 9, e[i].buf,
			       e[i].len);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

int st_log_compact(struct st *st, uint64_t upto)
{
	MDB_txn *txn;
	int rc;

	if ((rc = st_wbegin(st, &txn)) != 0)
		return rc;
	rc = del_range(st, txn, 0, upto);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

static int decode_entry(const MDB_val *v, struct st_entry *e)
{
	if (v->mv_size < 9)
		return -EIO;
	e->term = get_u64(v->mv_data);
	e->type = ((const unsigned char *)v->mv_data)[8];
	e->buf = (const unsigned char *)v->mv_data + 9;
	e->len = v->mv_size - 9;
	return 0;
}

int st_log_read(struct st *st, uint64_t first, unsigned n, st_entry_fn fn,
		void *arg)
{
	unsigned char kb[8];
	struct st_entry e;
	MDB_txn *txn;
	MDB_val k, v;
	unsigned i;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return st_err(rc);
	for (i = 0; i < n; i++) {
		key_of(first + i, kb);
		k.mv_data = kb;
		k.mv_size = 8;
		rc = mdb_get(txn, st->log, &k, &v);
		if (rc != 0) {
			rc = st_err(rc);
			break;
		}
		if ((rc = decode_entry(&v, &e)) != 0)
			break;
		if ((rc = fn(arg, first + i, &e)) != 0)
			break;
	}
	mdb_txn_abort(txn);
	return rc;
}

uint64_t st_log_term(struct st *st, uint64_t index)
{
	unsigned char kb[8];
	struct st_entry e;
	MDB_txn *txn;
	MDB_val k = { 8, kb }, v;
	uint64_t term = 0;

	key_of(index, kb);
	if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_get(txn, st->log, &k, &v) == 0 && decode_entry(&v, &e) == 0)
		term = e.term;
	mdb_txn_abort(txn);
	return term;
}

/* Snapshot value: index, term, conf_index, conf_len (8 each), conf, data. */
#define SNAP_HDR 32

int st_snap_put(struct st *st, const struct st_snap *s, uint64_t log_upto)
{
	MDB_txn *txn;
	MDB_val k = { 6, "latest" }, v;
	unsigned char *p;
	int rc;

	if (s->index == 0 || s->term == 0)
		return -EINVAL;
	if ((rc = st_wbegin(st, &txn)) != 0)
		return rc;
	v.mv_size = SNAP_HDR + s->conf_len + s->data_len;
	rc = mdb_put(txn, st->snap, &k, &v, MDB_RESERVE);
	if (rc == 0) {
		p = v.mv_data;
		put_u64(p, s->index);
		put_u64(p + 8, s->term);
		put_u64(p + 16, s->conf_index);
		put_u64(p + 24, s->conf_len);
		if (s->conf_len > 0)
			memcpy(p + SNAP_HDR, s->conf, s->conf_len);
		if (s->data_len > 0)
			memcpy(p + SNAP_HDR + s->conf_len, s->data,
			       s->data_len);
		if (log_upto > 0)
			rc = del_range(st, txn, 0, log_upto);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return st_err(rc);
	}
	return st_wcommit(st, txn);
}

int st_snap_get(struct st *st, struct st_snap *s, void **mem)
{
	MDB_txn *txn;
	MDB_val k = { 6, "latest" }, v;
	const unsigned char *p;
	unsigned char *m;
	int rc;

	memset(s, 0, sizeof(*s));
	*mem = NULL;
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return st_err(rc);
	rc = mdb_get(txn, st->snap, &k, &v);
	if (rc != 0) {
		rc = st_err(rc);
		goto out;
	}
	p = v.mv_data;
	if (v.mv_size < SNAP_HDR || get_u64(p + 24) > v.mv_size - SNAP_HDR) {
		rc = -EIO;
		goto out;
	}
	m = malloc(v.mv_size - SNAP_HDR + 1);
	if (m == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(m, p + SNAP_HDR, v.mv_size - SNAP_HDR);
	s->index = get_u64(p);
	s->term = get_u64(p + 8);
	s->conf_index = get_u64(p + 16);
	s->conf_len = get_u64(p + 24);
	s->conf = m;
	s->data = m + s->conf_len;
	s->data_len = v.mv_size - SNAP_HDR - s->conf_len;
	*mem = m;
out:
	mdb_txn_abort(txn);
	return rc;
}
