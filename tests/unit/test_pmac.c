/* The members' authenticated exchange (node/ntp/pmac.h) and its published
 * key table (node/ntp/pkeys.h), including a reader racing the writer. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/ntp/pkeys.h"
#include "node/ntp/pmac.h"

static void test_sign_verify(void **state)
{
	uint8_t key[PMAC_KEY_LEN], other[PMAC_KEY_LEN], p[PMAC_LEN], q[PMAC_LEN];
	size_t i;
	int b;

	(void)state;
	memset(key, 1, sizeof(key));
	memset(other, 2, sizeof(other));
	for (i = 0; i < NTP_HDR_LEN; i++)
		p[i] = (uint8_t)(i * 7);
	p[0] = 0x23;    /* v4 client */
	pmac_sign(p, 0xa1b2c3d4, key);
	assert_int_equal(pmac_peek_id(p, PMAC_LEN), 0xa1b2c3d4);
	assert_int_equal(pmac_peek_id(p, PMAC_LEN - 1), 0);
	assert_int_equal(pmac_verify(p, PMAC_LEN, key), 0);
	assert_int_equal(pmac_verify(p, PMAC_LEN, other), -1);
	assert_int_equal(pmac_verify(p, PMAC_LEN - 1, key), -1);
	assert_int_equal(pmac_verify(p, PMAC_LEN + 1, key), -1);
	/* every single bit of header, key id and tag matters */
	for (i = 0; i < PMAC_LEN; i++)
		for (b = 0; b < 8; b++) {
			memcpy(q, p, sizeof(q));
			q[i] ^= (uint8_t)(1 << b);
			assert_int_equal(pmac_verify(q, PMAC_LEN, key), -1);
		}
	/* the same header signed as a reply (mode 4) is another tag */
	memcpy(q, p, sizeof(q));
	q[0] = 0x24;
	pmac_sign(q, 0xa1b2c3d4, key);
	assert_memory_not_equal(q + NTP_HDR_LEN + 4, p + NTP_HDR_LEN + 4,
				PMAC_TAG_LEN);
}

static void test_key_id(void **state)
{
	(void)state;
	assert_int_equal(pmac_key_id(0), 1);
	assert_int_equal(pmac_key_id(0x0000000100000001ULL), 1);
	assert_int_equal(pmac_key_id(0x12345678ULL), 0x12345678);
	assert_int_equal(pmac_key_id(0xffffffff00000000ULL), 0xffffffff);
}

static void test_table(void **state)
{
	struct pkeys_entry e[PKEYS_MAX + 1];
	uint8_t k[PMAC_KEY_LEN];
	uint32_t self = 0;
	int i;

	(void)state;
	for (i = 0; i <= PKEYS_MAX; i++) {
		e[i].key_id = (uint32_t)i + 10;
		memset(e[i].key, i, PMAC_KEY_LEN);
	}
	assert_int_equal(pkeys_set(5, e, PKEYS_MAX + 1), -1);
	assert_int_equal(pkeys_find(10, k, &self), -1);
	assert_int_equal(pkeys_set(5, e, PKEYS_MAX), 0);
	for (i = 0; i < PKEYS_MAX; i++) {
		assert_int_equal(pkeys_find((uint32_t)i + 10, k, &self), 0);
		assert_int_equal(self, 5);
		assert_memory_equal(k, e[i].key, PMAC_KEY_LEN);
	}
	assert_int_equal(pkeys_find(0, k, &self), -1);
	assert_int_equal(pkeys_find(5, k, &self), -1);    /* ourselves */
	assert_int_equal(pkeys_find(10 + PKEYS_MAX, k, &self), -1);
	pkeys_clear();
	assert_int_equal(pkeys_find(10, k, &self), -1);
	assert_int_equal(self, 0);
}

/* A reader never sees a key that is half one table and half another. */
static atomic_int stop;

static void *reader(void *arg)
{
	uint8_t k[PMAC_KEY_LEN];
	long *bad = arg;
	uint32_t self;
	int i;

	while (!atomic_load(&stop)) {
		if (pkeys_find(42, k, &self) < 0)
			continue;
		for (i = 1; i < PMAC_KEY_LEN; i++)
			if (k[i] != k[0] || (uint32_t)k[0] != (self & 0xff))
				++*bad;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct pkeys_entry e = { .key_id = 42 };
	pthread_t th;
	long bad = 0;
	int i;

	(void)state;
	atomic_store(&stop, 0);
	assert_int_equal(pthread_create(&th, NULL, reader, &bad), 0);
	for (i = 0; i < 200000; i++) {
		memset(e.key, i & 0xff, PMAC_KEY_LEN);
		pkeys_set((uint32_t)(i & 0xff) | 0x100, &e, 1);
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	assert_int_equal(bad, 0);
	pkeys_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
