/* strbuf: appending, growth, the maximum, sticky errors, secret memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <cmocka.h>

#include "node/base/strbuf.h"

static void append_and_format(void **state)
{
	struct strbuf b = STRBUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	assert_string_equal(strbuf_str(&b), "");
	assert_int_equal(strbuf_len(&b), 0);
	strbuf_adds(&b, "ab");
	strbuf_add(&b, "cdef", 2);
	strbuf_addf(&b, "|%d|%s|%05.1f", -7, "x", 2.25);
	assert_string_equal(strbuf_str(&b), "abcd|-7|x|002.2");
	assert_int_equal(strbuf_len(&b), 15);
	assert_int_equal(strbuf_error(&b), 0);
	s = strbuf_finish(&b, &len);
	assert_string_equal(s, "abcd|-7|x|002.2");
	assert_int_equal(len, 15);
	free(s);
	/* finished: empty and usable again; nothing added gives "" */
	assert_int_equal(strbuf_len(&b), 0);
	s = strbuf_finish(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
}

/* Many small pieces and single pieces far larger than any initial room
 * come out whole and in order. */
static void long_output(void **state)
{
	struct strbuf b;
	char *big, *s;
	size_t i, len;

	(void)state;
	strbuf_init(&b);
	for (i = 0; i < 100000; i++)
		strbuf_addf(&b, "%06zu\n", i);
	assert_int_equal(strbuf_len(&b), 700000);
	s = strbuf_finish(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, 700000);
	for (i = 0; i < 100000; i += 9973) {
		char want[8];

		snprintf(want, sizeof(want), "%06zu\n", i);
		assert_memory_equal(s + i * 7, want, 7);
	}
	free(s);

	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'q', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	strbuf_adds(&b, "<");
	strbuf_addf(&b, "%s>", big);
	strbuf_add(&b, big, 3);
	s = strbuf_finish(&b, &len);
	assert_int_equal(len, 1 + (1 << 20) - 1 + 1 + 3);
	assert_int_equal(s[0], '<');
	assert_int_equal(s[1 << 20], '>');
	assert_int_equal(strspn(s + 1, "q"), (1 << 20) - 1);
	assert_string_equal(s + (1 << 20) + 1, "qqq");
	free(s);
	free(big);
}

/* Beyond the maximum bytes are dropped, the rest is kept: not an error. */
static void maximum(void **state)
{
	struct strbuf b;
	char *s;
	size_t len;

	(void)state;
	strbuf_init(&b);
	strbuf_set_max(&b, 10);
	strbuf_adds(&b, "0123");
	assert_false(strbuf_truncated(&b));
	strbuf_adds(&b, "456789abcdef");
	assert_true(strbuf_truncated(&b));
	strbuf_adds(&b, "more");
	strbuf_addf(&b, "%s", "and more");
	assert_int_equal(strbuf_error(&b), 0);
	s = strbuf_finish(&b, &len);
	assert_string_equal(s, "0123456789");
	assert_int_equal(len, 10);
	free(s);

	/* a formatted piece crossing the maximum is cut at it */
	strbuf_init(&b);
	strbuf_set_max(&b, 6);
	strbuf_addf(&b, "%d-%s", 42, "abcdefgh");
	assert_true(strbuf_truncated(&b));
	assert_string_equal(strbuf_str(&b), "42-abc");
	strbuf_release(&b);
}

/* An allocator that fails from the n-th call on; counts what it does. */
static int allocs, releases, fail_at;

static void *test_alloc(size_t n)
{
	if (fail_at && ++allocs >= fail_at)
		return NULL;
	if (!fail_at)
		allocs++;
	return malloc(n);
}

static void test_release(void *p)
{
	releases++;
	free(p);
}

static const struct strbuf_mem test_mem = { test_alloc, test_release };

/* Out of memory: the error sticks, later calls do nothing, finish says
 * NULL and nothing leaks (ASan checks). */
static void out_of_memory(void **state)
{
	struct strbuf b;
	int i;

	(void)state;
	allocs = releases = 0;
	fail_at = 3;    /* the first two blocks, then nothing */
	strbuf_init_secret(&b, &test_mem);
	for (i = 0; i < 1000 && !strbuf_error(&b); i++)
		strbuf_addf(&b, "line %d of a long enough text\n", i);
	assert_int_equal(strbuf_error(&b), -ENOMEM);
	assert_true(i < 1000);
	assert_string_equal(strbuf_str(&b), "");
	assert_int_equal(strbuf_len(&b), 0);
	strbuf_adds(&b, "ignored");
	strbuf_addf(&b, "%s", "ignored");
	assert_int_equal(strbuf_reserve(&b, 1), -ENOMEM);
	assert_null(strbuf_finish(&b, NULL));
	/* every block it got went back */
	assert_int_equal(releases, 2);

	/* a size no allocator can give is refused before asking */
	strbuf_init(&b);
	strbuf_adds(&b, "x");
	assert_int_equal(strbuf_reserve(&b, SIZE_MAX - 8), -ENOMEM);
	assert_null(strbuf_finish(&b, NULL));

	/* a format that cannot be written (no such character in the C
	 * locale) is an error too */
	strbuf_init(&b);
	strbuf_addf(&b, "%lc", (wint_t)0x20ac);
	assert_int_not_equal(strbuf_error(&b), 0);
	assert_null(strbuf_finish(&b, NULL));
}

/* A secret grows by copy and release, never realloc: every old block goes
 * back through the allocator's release (which wipes it). */
static void secret(void **state)
{
	struct strbuf b;
	char *s;
	size_t len;
	int i;

	(void)state;
	allocs = releases = fail_at = 0;
	strbuf_init_secret(&b, &test_mem);
	for (i = 0; i < 200; i++)
		strbuf_addf(&b, "PrivateKey = %040d\n", i);
	s = strbuf_finish(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, 200 * 54);
	assert_memory_equal(s + 199 * 54, "PrivateKey = ", 13);
	assert_true(allocs > 3);
	assert_int_equal(releases, allocs - 1);
	test_release(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_and_format),
		cmocka_unit_test(long_output),
		cmocka_unit_test(maximum),
		cmocka_unit_test(out_of_memory),
		cmocka_unit_test(secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
