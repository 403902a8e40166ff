/* storage: open/close, node-local table, refused flags, full map. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "storage/st.h"

static char *mkdtemp_dir(void)
{
	char *d = strdup("/tmp/ntpmc-st-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_dir(char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static void test_local_roundtrip(void **state)
{
	char *dir = mkdtemp_dir();
	struct st *st;
	void *buf;
	size_t len;
	double f = 12.5e-6, g;

	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(st_local_get(st, "freq", &buf, &len), -ENOENT);
	assert_null(buf);
	assert_int_equal(st_local_put(st, "freq", &f, sizeof(f)), 0);
	assert_int_equal(st_local_put(st, "empty", "", 0), 0);
	st_close(st);

	/* Survives a reopen. */
	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(st_local_get(st, "freq", &buf, &len), 0);
	assert_int_equal(len, sizeof(g));
	memcpy(&g, buf, sizeof(g));
	assert_true(g == f);
	free(buf);
	assert_int_equal(st_local_get(st, "empty", &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);
	assert_int_equal(st_local_del(st, "freq"), 0);
	assert_int_equal(st_local_get(st, "freq", &buf, &len), -ENOENT);
	assert_int_equal(st_local_del(st, "freq"), -ENOENT);
	st_close(st);
	rm_dir(dir);
}

static void test_bad_keys(void **state)
{
	char *dir = mkdtemp_dir();
	char big[ST_KEY_MAX + 2];
	struct st *st;
	void *buf;
	size_t len;

	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(st_open(&st, dir, 0), 0);
	assert_int_equal(st_local_put(st, "", "x", 1), -EINVAL);
	assert_int_equal(st_local_put(st, NULL, "x", 1), -EINVAL);
	assert_int_equal(st_local_put(st, big, "x", 1), -EINVAL);
	assert_int_equal(st_local_get(st, big, &buf, &len), -EINVAL);
	st_close(st);
	rm_dir(dir);
}

static void test_async_flags_refused(void **state)
{
	char *dir = mkdtemp_dir();
	struct st *st;

	assert_int_equal(st_open_flags(&st, dir, 0, MDB_NOSYNC), -EINVAL);
	assert_null(st);
	assert_int_equal(st_open_flags(&st, dir, 0, MDB_NOMETASYNC), -EINVAL);
	assert_int_equal(st_open_flags(&st, dir, 0, MDB_MAPASYNC), -EINVAL);
	assert_int_equal(st_open_flags(&st, dir, 0, MDB_WRITEMAP), -EINVAL);
	assert_int_equal(st_open(&st, NULL, 0), -EINVAL);
	rm_dir(dir);
}

static void test_map_full(void **state)
{
	char *dir = mkdtemp_dir();
	struct st *st;
	char key[32];
	char val[4000];
	uint64_t before;
	void *buf;
	size_t len;
	int i, rc = 0;

	memset(val, 'v', sizeof(val));
	assert_int_equal(st_open(&st, dir, 256 << 10), 0);
	before = st_free_bytes(st);
	assert_true(before > 0 && before <= 256 << 10);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		rc = st_local_put(st, key, val, sizeof(val));
		if (rc != 0)
			break;
	}
	/* A full map refuses the write, reports little room, and stays
	 * usable for reads (not poisoned). */
	assert_int_equal(rc, -ENOSPC);
	assert_true(i > 10);
	assert_false(st_poisoned(st));
	assert_true(st_free_bytes(st) < before);
	assert_int_equal(st_local_get(st, "k0", &buf, &len), 0);
	assert_int_equal(len, sizeof(val));
	free(buf);
	/* Deleting makes room again. */
	assert_int_equal(st_local_del(st, "k0"), 0);
	assert_int_equal(st_local_del(st, "k1"), 0);
	assert_int_equal(st_local_put(st, "k0", val, 100), 0);
	st_close(st);
	rm_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_roundtrip),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_async_flags_refused),
		cmocka_unit_test(test_map_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
