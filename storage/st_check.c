/*
 * st_check: is the store safe to open? Read-only; it never creates,
 * writes or maps anything before it has proven the mapping safe.
 *
 * LMDB maps data.mdb and reads pages through the map: a file cut shorter
 * than its meta page says (a truncated copy, a full disk during a copy, a
 * stray `truncate`) makes the first read of a missing page a SIGBUS, which
 * kills the process without a word. LMDB bounds every page number by the
 * current meta page's last page (mdb.c mdb_page_get: pgno <
 * txn->mt_next_pgno), so a file at least (last page + 1) pages long keeps
 * every page read inside it. Values may span several overflow pages whose
 * length LMDB does not check against the file, so the walk below checks
 * every key and value's extent before anyone reads it.
 *
 * The meta page layout is LMDB's on-disk format (lmdb mdb.c: MDB_page
 * header, then MDB_meta: magic, version, address, mapsize, two MDB_db,
 * last page, transaction id), native byte order, as written by this
 * machine's liblmdb.
 */
#include "storage/st_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ST_LMDB_MAGIC 0xBEEFC0DEu
#define ST_LMDB_VERSION 1u
#define ST_P_META 0x08u

/* Offsets inside a page, for this build's word size (pgno_t = size_t). */
#define PG_HDR (sizeof(size_t) + 8)               /* pgno, pad, flags, lower/upper */
#define PG_FLAGS (sizeof(size_t) + 2)
#define DB_SIZE (8 + 5 * sizeof(size_t))           /* struct MDB_db */
#define M_MAGIC 0
#define M_VERSION 4
#define M_PSIZE (8 + sizeof(void *) + sizeof(size_t)) /* dbs[0].md_pad */
#define M_LAST_PG (M_PSIZE + 2 * DB_SIZE)
#define M_TXNID (M_LAST_PG + sizeof(size_t))
#define M_END (M_TXNID + sizeof(size_t))

struct meta {
	uint32_t psize;
	size_t last_pg;
	size_t txnid;
};

static int say(char *why, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---------------------------------------------------------------- */
/* permissions */

/*
 * A node's datadir holds its identity and WireGuard private keys: another
 * user able to write the directory could swap the store; one able to read
 * the store has the keys (ssh refuses private keys and home directories
 * in the same situations).
 */
static int check_mode(const char *path, int is_dir, mode_t forbidden,
		      const char *fix, char *why, size_t len)
{
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return say(why, len, -errno, "%s: %s", path, strerror(errno));
	}
	if (is_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return say(why, len, -EACCES, "%s is not a %s", path,
			   is_dir ? "directory" : "regular file");
	if (sb.st_uid != 0 && sb.st_uid != geteuid())
		return say(why, len, -EACCES, "%s belongs to uid %u, neither "
			   "root nor this process's user (uid %u): chown it "
			   "to the daemon's user", path, (unsigned)sb.st_uid,
			   (unsigned)geteuid());
	if (sb.st_mode & forbidden)
		return say(why, len, -EACCES, "%s is %s by group or others "
			   "(mode %04o): run chmod %s %s", path,
			   forbidden == 022 ? "writable" : "readable or "
			   "writable", (unsigned)(sb.st_mode & 07777), fix,
			   path);
	return 0;
}

int st_check_perms(const char *datadir, char *why, size_t len)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char path[4096];
	size_t i;
	int rc;

	if (datadir == NULL)
		return -EINVAL;
	rc = check_mode(datadir, 1, 022, "go-w", why, len);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/store", datadir);
	rc = check_mode(path, 1, 077, "700", why, len);
	for (i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/store/%s", datadir, files[i]);
		rc = check_mode(path, 0, 077, "600", why, len);
	}
	return rc;
}

/* ---------------------------------------------------------------- */
/* data.mdb against its meta pages, before LMDB maps it */

static int read_meta(int fd, off_t off, struct meta *m, const char *path,
		     int n, char *why, size_t len)
{
	unsigned char buf[PG_HDR + M_END];
	uint32_t magic, version;
	uint16_t flags;
	ssize_t r;

	r = pread(fd, buf, sizeof(buf), off);
	if (r < 0)
		return say(why, len, -errno, "%s: %s", path, strerror(errno));
	if ((size_t)r < sizeof(buf))
		return say(why, len, -EUCLEAN, "%s ends inside its meta page "
			   "%d", path, n);
	memcpy(&flags, buf + PG_FLAGS, sizeof(flags));
	memcpy(&magic, buf + PG_HDR + M_MAGIC, sizeof(magic));
	memcpy(&version, buf + PG_HDR + M_VERSION, sizeof(version));
	memcpy(&m->psize, buf + PG_HDR + M_PSIZE, sizeof(m->psize));
	memcpy(&m->last_pg, buf + PG_HDR + M_LAST_PG, sizeof(m->last_pg));
	memcpy(&m->txnid, buf + PG_HDR + M_TXNID, sizeof(m->txnid));
	if (!(flags & ST_P_META) || magic != ST_LMDB_MAGIC)
		return say(why, len, -EUCLEAN, "%s: meta page %d is not an "
			   "LMDB meta page", path, n);
	if (version != ST_LMDB_VERSION)
		return say(why, len, -EUCLEAN, "%s: meta page %d has LMDB "
			   "format %u, not %u", path, n, version,
			   ST_LMDB_VERSION);
	if (m->psize < 512 || m->psize > 65536 ||
	    (m->psize & (m->psize - 1)))
		return say(why, len, -EUCLEAN, "%s: meta page %d gives a page "
			   "size of %u bytes", path, n, m->psize);
	if (m->last_pg < 1 || m->last_pg > (size_t)1 << 40)
		return say(why, len, -EUCLEAN, "%s: meta page %d gives a last "
			   "page of %zu", path, n, m->last_pg);
	return 0;
}

static int check_data(const char *path, char *why, size_t len)
{
	struct meta m0, m1, *cur;
	struct stat sb;
	uint64_t need;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return say(why, len, -errno, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		rc = say(why, len, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* LMDB would take an empty file for a new store: the node's keys
	 * and membership would be silently gone. */
	if (sb.st_size == 0) {
		rc = say(why, len, -EUCLEAN, "%s is empty (0 bytes)", path);
		goto out;
	}
	rc = read_meta(fd, 0, &m0, path, 0, why, len);
	if (rc == 0)
		rc = read_meta(fd, (off_t)m0.psize, &m1, path, 1, why, len);
	if (rc != 0)
		goto out;
	if (m1.psize != m0.psize) {
		rc = say(why, len, -EUCLEAN, "%s: its two meta pages disagree "
			 "on the page size (%u, %u)", path, m0.psize,
			 m1.psize);
		goto out;
	}
	/* The one LMDB uses: the later transaction (mdb_env_pick_meta). */
	cur = m1.txnid > m0.txnid ? &m1 : &m0;
	need = ((uint64_t)cur->last_pg + 1) * cur->psize;
	if ((uint64_t)sb.st_size < need) {
		rc = say(why, len, -EUCLEAN, "%s is %llu bytes, but its meta "
			 "page (transaction %zu) says it holds %zu pages of %u "
			 "bytes (%llu bytes): the file was cut short", path,
			 (unsigned long long)sb.st_size, cur->txnid,
			 cur->last_pg + 1, cur->psize,
			 (unsigned long long)need);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- */
/* every table walked once, read-only, each extent checked */

struct walk {
	const char *base;          /* the map */
	uint64_t size;             /* of the file */
};

static int in_file(const struct walk *w, const MDB_val *v)
{
	const char *p = v->mv_data;

	if (v->mv_size == 0)
		return 1;
	return p >= w->base && (uint64_t)(p - w->base) <= w->size &&
	       v->mv_size <= w->size - (uint64_t)(p - w->base);
}

static int walk_dbi(MDB_txn *txn, MDB_dbi dbi, const struct walk *w,
		    const char *name, char *why, size_t len)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_stat ms;
	size_t n = 0;
	int rc;

	rc = mdb_stat(txn, dbi, &ms);
	if (rc == 0)
		rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0)
		return say(why, len, -EUCLEAN, "table %s: %s", name,
			   mdb_strerror(rc));
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!in_file(w, &k) || !in_file(w, &v)) {
			mdb_cursor_close(cur);
			return say(why, len, -EUCLEAN, "table %s: entry %zu "
				   "lies outside the file", name, n);
		}
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return say(why, len, -EUCLEAN, "table %s: %s after %zu "
			   "entries", name, mdb_strerror(rc), n);
	if (n != ms.ms_entries)
		return say(why, len, -EUCLEAN, "table %s: %zu entries found, "
			   "%zu recorded", name, n, (size_t)ms.ms_entries);
	return 0;
}

/*
 * Where LMDB mapped the file: the mapping of its inode in /proc/self/maps
 * (mdb_env_info's me_mapaddr is only the address recorded for
 * MDB_FIXEDMAP, NULL otherwise), else the mapping of its path: on an
 * overlayfs root the maps line carries the lower file's device and inode
 * but the overlay's path. NULL when neither can be found.
 */
static const char *map_base(const struct stat *sb, const char *path)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	const char *base = NULL, *by_path = NULL;
	char line[PATH_MAX + 128], name[PATH_MAX];
	FILE *f = fopen("/proc/self/maps", "re");
	int used;

	if (!f)
		return NULL;
	while (!base && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu %n", &start, &end,
			   &off, &maj, &min, &ino, &used) != 6 || off != 0)
			continue;
		if (ino == (unsigned long long)sb->st_ino &&
		    makedev(maj, min) == sb->st_dev)
			base = (const char *)(uintptr_t)start;
		else if (!by_path && path &&
			 sscanf(line + used, "%4095[^\n]", name) == 1 &&
			 strcmp(name, path) == 0)
			by_path = (const char *)(uintptr_t)start;
	}
	fclose(f);
	return base ? base : by_path;
}

static int walk_store(const char *dir, char *why, size_t len)
{
	static const char *const names[] = { "local", "meta", "log", "snap" };
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	struct stat sb;
	struct walk w;
	char file[PATH_MAX], real[PATH_MAX];
	mdb_filehandle_t fd;
	size_t i;
	int rc;

	/* Read-only and without the lock file: nothing on disk changes. The
	 * caller holds the datadir lock, so nobody writes meanwhile. */
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK |
			       MDB_NOTLS, 0600)) != 0) {
		rc = say(why, len, -EUCLEAN, "%s: LMDB cannot open it: %s",
			 dir, mdb_strerror(rc));
		goto out;
	}
	/* (a path too long for PATH_MAX has no maps line to match anyway) */
	if ((size_t)snprintf(file, sizeof(file), "%s/data.mdb", dir) >=
	    sizeof(file) || !realpath(file, real))
		real[0] = '\0';
	if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &sb) < 0 ||
	    !(w.base = map_base(&sb, real[0] ? real : NULL))) {
		rc = say(why, len, -EIO, "%s: cannot inspect it", dir);
		goto out;
	}
	w.size = (uint64_t)sb.st_size;
	rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc != 0) {
		rc = say(why, len, -EUCLEAN, "%s: %s", dir, mdb_strerror(rc));
		goto out;
	}
	rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	rc = rc ? say(why, len, -EUCLEAN, "main table: %s", mdb_strerror(rc)) :
		  walk_dbi(txn, dbi, &w, "main", why, len);
	for (i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		rc = mdb_dbi_open(txn, names[i], 0, &dbi);
		if (rc == MDB_NOTFOUND) {
			rc = 0;    /* created at open */
			continue;
		}
		rc = rc ? say(why, len, -EUCLEAN, "table %s: %s", names[i],
			      mdb_strerror(rc)) :
			  walk_dbi(txn, dbi, &w, names[i], why, len);
	}
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return rc;
}

int st_check(const char *datadir, char *why, size_t len)
{
	char dir[4096], path[4096 + 16];
	struct stat sb;
	int rc;

	if (why && len)
		why[0] = 0;
	rc = st_check_perms(datadir, why, len);
	if (rc != 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s/store", datadir);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	rc = check_data(path, why, len);
	if (rc != 0 || stat(path, &sb) < 0)
		return rc;      /* damaged, or no store yet */
	return walk_store(dir, why, len);
}
