/* storage: term/vote, log append/truncate/compact/read, snapshots. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/st_raft.h"

struct fx {
	char dir[64];
	struct st *st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ntpmc-str-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(st_open(&f->st, f->dir, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	st_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_term_vote(void **state)
{
	struct fx *f = *state;
	uint64_t t, v;

	assert_int_equal(st_term_vote_get(f->st, &t, &v), 0);
	assert_true(t == 0 && v == 0);
	assert_int_equal(st_term_vote_put(f->st, 7, 3), 0);
	st_close(f->st);
	assert_int_equal(st_open(&f->st, f->dir, 0), 0);
	assert_int_equal(st_term_vote_get(f->st, &t, &v), 0);
	assert_true(t == 7 && v == 3);
}

struct collect {
	uint64_t idx[64];
	uint64_t term[64];
	char data[64][16];
	unsigned n;
};

static int collect_fn(void *arg, uint64_t index, const struct st_entry *e)
{
	struct collect *c = arg;

	c->idx[c->n] = index;
	c->term[c->n] = e->term;
	assert_true(e->len < 16);
	memcpy(c->data[c->n], e->buf, e->len);
	c->data[c->n][e->len] = '\0';
	c->n++;
	return 0;
}

static void append_str(struct st *st, uint64_t index, uint64_t term,
		       const char *s)
{
	struct st_entry e = { term, 1, s, strlen(s) };

	assert_int_equal(st_log_append(st, index, &e, 1), 0);
}

static void test_log(void **state)
{
	struct fx *f = *state;
	struct collect c = { 0 };
	uint64_t first, last;

	assert_int_equal(st_log_range(f->st, &first, &last), 0);
	assert_true(first == 0 && last == 0);
	for (int i = 1; i <= 10; i++) {
		char s[8];
		snprintf(s, sizeof(s), "e%d", i);
		append_str(f->st, (uint64_t)i, 1, s);
	}
	assert_int_equal(st_log_range(f->st, &first, &last), 0);
	assert_true(first == 1 && last == 10);
	/* Appending at 6 replaces 6..10 (conflict truncation). */
	append_str(f->st, 6, 2, "x6");
	assert_int_equal(st_log_range(f->st, &first, &last), 0);
	assert_true(first == 1 && last == 6);
	assert_int_equal(st_log_term(f->st, 6), 2);
	assert_int_equal(st_log_term(f->st, 7), 0);
	assert_int_equal(st_log_read(f->st, 4, 3, collect_fn, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.data[0], "e4");
	assert_string_equal(c.data[2], "x6");
	assert_true(c.term[2] == 2 && c.idx[2] == 6);
	/* Reading past the end is an error, not a short read. */
	c.n = 0;
	assert_int_equal(st_log_read(f->st, 5, 3, collect_fn, &c), -ENOENT);
	assert_int_equal(st_log_compact(f->st, 3), 0);
	assert_int_equal(st_log_range(f->st, &first, &last), 0);
	assert_true(first == 4 && last == 6);
	assert_int_equal(st_log_append(f->st, 0, NULL, 0), -EINVAL);
}

static void test_snapshot(void **state)
{
	struct fx *f = *state;
	struct st_snap s = { 0 }, g;
	uint64_t first, last;
	void *mem;

	assert_int_equal(st_snap_get(f->st, &g, &mem), -ENOENT);
	for (int i = 1; i <= 5; i++)
		append_str(f->st, (uint64_t)i, 1, "e");
	s.index = 4;
	s.term = 1;
	s.conf_index = 1;
	s.conf = "CONF";
	s.conf_len = 4;
	s.data = "STATE!";
	s.data_len = 6;
	assert_int_equal(st_snap_put(f->st, &s, 2), 0);
	assert_int_equal(st_log_range(f->st, &first, &last), 0);
	assert_true(first == 3 && last == 5);
	assert_int_equal(st_snap_get(f->st, &g, &mem), 0);
	assert_true(g.index == 4 && g.term == 1 && g.conf_index == 1);
	assert_int_equal(g.conf_len, 4);
	assert_memory_equal(g.conf, "CONF", 4);
	assert_int_equal(g.data_len, 6);
	assert_memory_equal(g.data, "STATE!", 6);
	free(mem);
	/* An installed snapshot drops the whole log. */
	s.index = 9;
	s.term = 3;
	s.data_len = 0;
	assert_int_equal(st_snap_put(f->st, &s, UINT64_MAX), 0);
	assert_int_equal(st_log_range(f->st, &first, &last), 0);
	assert_true(first == 0 && last == 0);
	assert_int_equal(st_snap_get(f->st, &g, &mem), 0);
	assert_true(g.index == 9 && g.data_len == 0);
	free(mem);
	s.index = 0;
	assert_int_equal(st_snap_put(f->st, &s, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_term_vote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
