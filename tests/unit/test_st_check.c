/*
 * storage: a damaged store or a datadir open to others is refused with a
 * reason before LMDB maps anything, and the refusal changes nothing on
 * disk. Without the check, opening the truncated store dies of SIGBUS and
 * the value that runs past the end of the file is handed to the caller.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/st.h"

struct fx {
	char dir[64];
	char data[96];
	char why[512];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/ntpmc-stc-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->data, sizeof(f->data), "%s/store/data.mdb", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A store with a few entries, one of them large (overflow pages). */
static void make_store(struct fx *f)
{
	static char big[20000];
	struct st *st;
	char key[16];
	int i;

	memset(big, 'b', sizeof(big));
	assert_int_equal(st_open(&st, f->dir, 0), 0);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		assert_int_equal(st_local_put(st, key, key, strlen(key)), 0);
	}
	assert_int_equal(st_local_put(st, "bigvalue-key-xyz", big,
				      sizeof(big)), 0);
	st_close(st);
}

/* FNV-1a over every name, mode, size and byte under dir (one level of
 * subdirectories): what "nothing on disk changed" compares. */
static uint64_t tree_hash(const char *dir, int depth)
{
	uint64_t h = 1469598103934665603ULL;
	struct dirent **ents;
	char path[512];
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct stat sb;
		const char *p;
		int fd;

		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name,
							   "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 ents[i]->d_name);
			assert_int_equal(lstat(path, &sb), 0);
			for (p = path; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			h = (h ^ sb.st_mode) * 1099511628211ULL;
			h = (h ^ (uint64_t)sb.st_size) * 1099511628211ULL;
			if (S_ISDIR(sb.st_mode) && depth > 0) {
				h ^= tree_hash(path, depth - 1);
			} else if (S_ISREG(sb.st_mode)) {
				unsigned char b[4096];
				ssize_t r;

				fd = open(path, O_RDONLY);
				assert_true(fd >= 0);
				while ((r = read(fd, b, sizeof(b))) > 0)
					for (ssize_t k = 0; k < r; k++)
						h = (h ^ b[k]) *
						    1099511628211ULL;
				close(fd);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return h;
}

/* st_check and st_open both refuse with rc, and leave the tree as it was. */
static void refused(struct fx *f, int rc, const char *words)
{
	uint64_t before = tree_hash(f->dir, 1);
	struct st *st = (struct st *)1;

	assert_int_equal(st_check(f->dir, f->why, sizeof(f->why)), rc);
	if (!strstr(f->why, words))
		fail_msg("'%s' does not say '%s'", f->why, words);
	assert_int_equal(st_open(&st, f->dir, 0), rc);
	assert_null(st);
	assert_true(tree_hash(f->dir, 1) == before);
}

static void test_good_and_absent(void **state)
{
	struct fx *f = *state;
	char none[128];

	snprintf(none, sizeof(none), "%s/not-yet", f->dir);
	assert_int_equal(st_check(none, f->why, sizeof(f->why)), 0);
	assert_int_equal(st_check(f->dir, f->why, sizeof(f->why)), 0);
	make_store(f);
	assert_int_equal(st_check(f->dir, f->why, sizeof(f->why)), 0);
	assert_string_equal(f->why, "");
	assert_int_equal(st_check_perms(f->dir, f->why, sizeof(f->why)), 0);
}

static void test_truncated(void **state)
{
	struct fx *f = *state;
	struct stat sb;

	make_store(f);
	assert_int_equal(stat(f->data, &sb), 0);
	assert_true(sb.st_size > 12288);
	/* The field report: truncate -s 12288 DATADIR/store/data.mdb */
	assert_int_equal(truncate(f->data, 12288), 0);
	refused(f, -EUCLEAN, "is 12288 bytes, but its meta page");
	/* Cut inside the second meta page, and empty. */
	assert_int_equal(truncate(f->data, 4200), 0);
	refused(f, -EUCLEAN, "ends inside its meta page 1");
	assert_int_equal(truncate(f->data, 0), 0);
	refused(f, -EUCLEAN, "is empty");
}

static void poke(const char *path, off_t off, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, n, off), (ssize_t)n);
	close(fd);
}

static void test_bad_meta(void **state)
{
	struct fx *f = *state;
	uint32_t junk = 0x12345678;

	make_store(f);
	/* magic of meta page 0: after the page header */
	poke(f->data, (off_t)(sizeof(size_t) + 8), &junk, sizeof(junk));
	refused(f, -EUCLEAN, "meta page 0 is not an LMDB meta page");
}

/* The large value's node claims far more bytes than the file holds: LMDB
 * would hand out a pointer running past the end of the map's file. */
static void test_value_outside(void **state)
{
	static const char key[] = "bigvalue-key-xyz";
	struct fx *f = *state;
	unsigned char *buf, hi = 0x7f;
	struct stat sb;
	off_t at = -1;
	int fd;

	make_store(f);
	assert_int_equal(stat(f->data, &sb), 0);
	buf = malloc((size_t)sb.st_size);
	assert_non_null(buf);
	fd = open(f->data, O_RDONLY);
	assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	close(fd);
	for (off_t i = 0; i + (off_t)sizeof(key) < sb.st_size; i++)
		if (memcmp(buf + i, key, sizeof(key) - 1) == 0) {
			assert_int_equal(at, -1);    /* written once */
			at = i;
		}
	free(buf);
	assert_true(at >= 8);
	/* MDB_node: mn_lo, mn_hi (data size), mn_flags, mn_ksize, key */
	poke(f->data, at - 6, &hi, 1);
	refused(f, -EUCLEAN, "table local: entry 0 lies outside the file");
}

static void test_permissions(void **state)
{
	struct fx *f = *state;
	char store[96];

	/* No store yet: refused before anything is created. */
	assert_int_equal(chmod(f->dir, 0777), 0);
	refused(f, -EACCES, "is writable by group or others (mode 0777): "
		"run chmod go-w");
	assert_int_equal(chmod(f->dir, 0770), 0);
	refused(f, -EACCES, "writable by group or others (mode 0770)");
	assert_int_equal(chmod(f->dir, 0755), 0);
	make_store(f);

	snprintf(store, sizeof(store), "%s/store", f->dir);
	assert_int_equal(chmod(store, 0755), 0);
	refused(f, -EACCES, "/store is readable or writable by group or "
		"others (mode 0755): run chmod 700");
	assert_int_equal(chmod(store, 0700), 0);
	assert_int_equal(chmod(f->data, 0644), 0);
	refused(f, -EACCES, "data.mdb is readable or writable by group or "
		"others (mode 0644): run chmod 600");
	assert_int_equal(st_check_perms(f->dir, f->why, sizeof(f->why)),
			 -EACCES);
	assert_int_equal(chmod(f->data, 0600), 0);
	assert_int_equal(st_check(f->dir, f->why, sizeof(f->why)), 0);
	/* Another user's datadir (only root can make one here). */
	if (geteuid() == 0) {
		assert_int_equal(chown(f->dir, 65534, 65534), 0);
		refused(f, -EACCES, "belongs to uid 65534");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_and_absent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_outside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
