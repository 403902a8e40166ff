/* backup: round trip to the same FSM state hash; truncated, damaged,
 * foreign, newer-format files refused with a clear reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/ctl/backup.h"
#include "raft/fsm.h"

static struct fsm *sample_fsm(void)
{
	struct fsm *f = fsm_new();
	struct fsm_member m;
	uint64_t idx = 0;
	void *b;
	size_t n;
	int r, i;

	assert_non_null(f);
	for (i = 0; i < 20; i++) {
		char k[16], v[16];

		snprintf(k, sizeof(k), "key%02d", i);
		snprintf(v, sizeof(v), "value%d", i * 7);
		assert_int_equal(fsm_cmd_config_set(k, v, 1000 + i, &b, &n), 0);
		assert_int_equal(fsm_apply(f, ++idx, b, n, &r), 0);
		free(b);
	}
	memset(&m, 0, sizeof(m));
	m.id = 42;
	strcpy(m.name, "vm1");
	strcpy(m.address, "192.168.10.1:4460");
	strcpy(m.overlay, "192.168.10.1");
	strcpy(m.endpoint, "10.250.1.2:51820");
	memset(m.wg_public, 7, sizeof(m.wg_public));
	assert_int_equal(fsm_cmd_member_put(&m, 2000, &b, &n), 0);
	assert_int_equal(fsm_apply(f, ++idx, b, n, &r), 0);
	assert_int_equal(r, FSM_OK);
	free(b);
	return f;
}

static void make_backup(void **file, size_t *len, unsigned char h[FSM_HASH_LEN])
{
	struct fsm *f = sample_fsm();
	struct bk_meta m;
	void *snap;
	size_t sl;

	memset(&m, 0, sizeof(m));
	strcpy(m.cluster_id, "a4183088cb316cf81129db4343751783");
	m.index = fsm_applied(f);
	m.term = 3;
	m.time_ms = 1764288000000ull;
	assert_int_equal(fsm_snapshot(f, &snap, &sl), 0);
	assert_int_equal(fsm_hash(f, h), 0);
	assert_int_equal(bk_encode(&m, snap, sl, file, len), 0);
	free(snap);
	fsm_free(f);
}

static void test_roundtrip(void **state)
{
	unsigned char h[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	struct bk_meta m;
	const void *st;
	size_t len, sl;
	const char *why;
	void *file;
	struct fsm *g;

	(void)state;
	make_backup(&file, &len, h);
	assert_int_equal(bk_decode(file, len, &m, &st, &sl, &why), 0);
	assert_string_equal(m.cluster_id, "a4183088cb316cf81129db4343751783");
	assert_int_equal(m.index, 21);
	assert_int_equal(m.term, 3);
	assert_int_equal(m.time_ms, 1764288000000ull);
	assert_int_equal(m.format, BK_FORMAT);
	g = fsm_new();
	assert_int_equal(fsm_restore(g, m.index, st, sl), 0);
	assert_int_equal(fsm_hash(g, h2), 0);
	assert_memory_equal(h, h2, FSM_HASH_LEN);
	assert_int_equal(fsm_applied(g), 21);
	assert_string_equal(fsm_member_find(g, 42)->endpoint,
			    "10.250.1.2:51820");
	fsm_free(g);
	assert_int_equal(bk_check_cluster(&m, ""), 0);
	assert_int_equal(bk_check_cluster(&m, NULL), 0);
	assert_int_equal(bk_check_cluster(&m,
		"a4183088cb316cf81129db4343751783"), 0);
	assert_int_equal(bk_check_cluster(&m, "ffff"), -EXDEV);
	free(file);
}

/* Every prefix of a valid file is refused as truncated; every one-byte
 * change is refused (damaged, or newer format for the format field). */
static void test_refused(void **state)
{
	unsigned char h[FSM_HASH_LEN], *copy;
	struct bk_meta m;
	const void *st;
	size_t len, sl, i;
	const char *why;
	void *file;
	int rc;

	(void)state;
	make_backup(&file, &len, h);
	for (i = 0; i < len; i++) {
		rc = bk_decode(file, i, &m, &st, &sl, &why);
		if (rc != -EBADMSG)
			fail_msg("prefix %zu: rc %d (%s)", i, rc, why);
		assert_true(strstr(why, "truncated") != NULL ||
			    strstr(why, "empty") != NULL ||
			    strstr(why, "damaged") != NULL);
	}
	copy = malloc(len + 1);
	assert_non_null(copy);
	for (i = 0; i < len; i++) {
		memcpy(copy, file, len);
		copy[i] ^= 0x01;
		rc = bk_decode(copy, len, &m, &st, &sl, &why);
		assert_int_not_equal(rc, 0);
	}
	/* trailing garbage */
	memcpy(copy, file, len);
	copy[len] = 0;
	assert_int_equal(bk_decode(copy, len + 1, &m, &st, &sl, &why),
			 -EBADMSG);
	/* a newer format */
	memcpy(copy, file, len);
	copy[8] = BK_FORMAT + 1;
	assert_int_equal(bk_decode(copy, len, &m, &st, &sl, &why), -ENOTSUP);
	assert_non_null(strstr(why, "newer version"));
	/* not a backup at all */
	assert_int_equal(bk_decode("# ntpnode.conf\n", 15, &m, &st, &sl, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "not an NTP-MC backup"));
	free(copy);
	free(file);
}

static void test_encode_args(void **state)
{
	struct bk_meta m;
	void *out;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(bk_encode(&m, "x", 1, &out, &len), -EINVAL);
	memset(m.cluster_id, 'a', BK_CLUSTER_ID_MAX);
	assert_int_equal(bk_encode(&m, NULL, 1, &out, &len), -EINVAL);
	assert_int_equal(bk_encode(&m, NULL, 0, &out, &len), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_encode_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
