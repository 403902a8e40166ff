/* recover and restore on a store in a temp dir: the voters list, the
 * forced configuration entry and that the driver starts from it; the
 * restore seed and its refusals; the backup client's file writing. */
#include <errno.h>
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

#include "node/cluster/cluster.h"
#include "node/cluster/offline/offline.h"
#include "node/cluster/offline/recover.h"
#include "node/cluster/offline/restore.h"
#include "raft/driver.h"
#include "storage/st_raft.h"
#include "tools/bkfile.h"

struct fx {
	char dir[64];
	struct st *st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ntpmc-rcv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(st_open(&f->st, f->dir, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (f->st)
		st_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void append_cmd(struct st *st, uint64_t index, uint64_t term,
		       void *buf, size_t len)
{
	struct st_entry e = { term, RAFT_COMMAND, buf, len };

	assert_int_equal(st_log_append(st, index, &e, 1), 0);
	free(buf);
}

/* Members 1 (a), 2 (b, this node), 3 (c): all voters; log up to 5, term
 * 3 (current term 4). */
static void three(struct st *st)
{
	struct raft_configuration c;
	struct fsm_member m;
	void *buf;
	size_t len;
	unsigned i;

	raft_configuration_init(&c);
	assert_int_equal(raft_configuration_add(&c, 1, "h1:1", RAFT_VOTER), 0);
	assert_int_equal(raft_configuration_add(&c, 2, "h2:1", RAFT_VOTER), 0);
	assert_int_equal(raft_configuration_add(&c, 3, "h3:1", RAFT_VOTER), 0);
	assert_int_equal(drv_bootstrap_conf(st, &c), 0);
	raft_configuration_close(&c);
	for (i = 1; i <= 3; i++) {
		memset(&m, 0, sizeof(m));
		m.id = i;
		snprintf(m.name, sizeof(m.name), "%c", 'a' + i - 1);
		snprintf(m.address, sizeof(m.address), "h%u:1", i);
		assert_int_equal(fsm_cmd_member_put(&m, 1000, &buf, &len), 0);
		append_cmd(st, i + 1, i == 3 ? 3 : 2, buf, len);
	}
	assert_int_equal(fsm_cmd_config_set("budget-usd", "1.00", 1000, &buf,
					    &len), 0);
	append_cmd(st, 5, 3, buf, len);
	assert_int_equal(st_term_vote_put(st, 4, 1), 0);
	assert_int_equal(off_put_u64(st, CLUSTER_K_SELF, 2), 0);
}

static void test_inspect(void **state)
{
	struct fx *f = *state;
	struct rcv_info in;

	assert_int_equal(rcv_inspect(f->st, &in), -ENOENT);
	rcv_info_close(&in);
	three(f->st);
	assert_int_equal(rcv_inspect(f->st, &in), 0);
	assert_true(in.self == 2 && in.last_index == 5 && in.last_term == 3);
	assert_true(in.term == 4 && in.conf_index == 1 && in.conf.n == 3);
	assert_string_equal(fsm_member_find(in.fsm, 3)->name, "c");
	rcv_info_close(&in);
}

static void test_voters(void **state)
{
	struct fx *f = *state;
	static const char *bad[] = { "", "b,b", "2,b", "9", "zz", "a",
				     "b,", ",b", "b,,c", "-2", "2x" };
	struct rcv_info in;
	uint64_t ids[4];
	unsigned n, i;
	char err[256];

	three(f->st);
	assert_int_equal(rcv_inspect(f->st, &in), 0);
	assert_int_equal(rcv_parse_voters(&in, "b", ids, 4, &n, err,
					  sizeof(err)), 0);
	assert_true(n == 1 && ids[0] == 2);
	assert_int_equal(rcv_parse_voters(&in, "3,2", ids, 4, &n, err,
					  sizeof(err)), 0);
	assert_true(n == 2 && ids[0] == 3 && ids[1] == 2);
	assert_int_equal(rcv_parse_voters(&in, "a,b,c", ids, 2, &n, err,
					  sizeof(err)), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(rcv_parse_voters(&in, bad[i], ids, 4, &n, err,
						  sizeof(err)), -EINVAL);
		assert_true(err[0] != 0);
	}
	assert_non_null(strstr((rcv_parse_voters(&in, "9", ids, 4, &n, err,
						 sizeof(err)), err),
			       "not a member"));
	assert_non_null(strstr((rcv_parse_voters(&in, "a", ids, 4, &n, err,
						 sizeof(err)), err),
			       "does not name this member"));
	rcv_info_close(&in);
}

static int stub_send(struct rtr *t, raft_id id, const char *address,
		     const struct raft_message *msg)
{
	(void)t, (void)id, (void)address, (void)msg;
	return 0;
}

static raft_time clock_ms;
static raft_time now_fn(void *data)
{
	(void)data;
	return clock_ms;
}

/* The entry is written where and as it should, and a driver started on
 * the store leads alone and commits it. */
static void test_write_and_start(void **state)
{
	struct fx *f = *state;
	struct rcv_info in;
	struct drv_config dc;
	struct rtr tr;
	struct fsm *fsm;
	struct drv *d;
	uint64_t ids[1] = { 2 }, idx, term, v;
	int i;

	three(f->st);
	assert_int_equal(rcv_inspect(f->st, &in), 0);
	assert_int_equal(rcv_write(f->st, &in, ids, 1, &idx, &term), 0);
	assert_true(idx == 6 && term == 5);
	rcv_info_close(&in);
	assert_int_equal(rcv_inspect(f->st, &in), 0);
	assert_true(in.last_index == 6 && in.last_term == 5 && in.term == 5);
	assert_true(in.vote == 0 && in.conf_index == 6 && in.conf.n == 1);
	assert_true(in.conf.servers[0].id == 2 &&
		    in.conf.servers[0].role == RAFT_VOTER);
	assert_string_equal(in.conf.servers[0].address, "h2:1");
	rcv_info_close(&in);
	assert_int_equal(off_get_u64(f->st, CLUSTER_K_PRUNE, &v), 0);
	assert_true(v == 6);

	memset(&tr, 0, sizeof(tr));
	tr.send = stub_send;
	fsm = fsm_new();
	memset(&dc, 0, sizeof(dc));
	dc.id = 2;
	dc.address = "h2:1";
	dc.st = f->st;
	dc.tr = &tr;
	dc.fsm = fsm;
	dc.now = now_fn;
	assert_int_equal(drv_open(&d, &dc), 0);
	for (i = 0; i < 50 && raft_state(drv_raft(d)) != RAFT_LEADER; i++) {
		clock_ms += 100;
		assert_int_equal(drv_tick(d), 0);
	}
	assert_int_equal(raft_state(drv_raft(d)), RAFT_LEADER);
	assert_true(raft_current_term(drv_raft(d)) >= 5);
	/* its barrier committed the forced configuration */
	assert_true(drv_applied(d) >= 6);
	assert_int_equal(drv_conf(d)->n, 1);
	assert_string_equal(fsm_config_get(fsm, "budget-usd"), "1.00");
	drv_close(d);
	fsm_free(fsm);
}

static void test_restore_seed(void **state)
{
	struct fx *f = *state;
	struct bk_meta m;
	struct st_snap s;
	struct fsm *a = fsm_new(), *b = fsm_new();
	unsigned char h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	uint64_t t, v, self;
	void *st8 = NULL, *mem = NULL, *buf;
	size_t len, l8;
	int r;

	assert_int_equal(fsm_cmd_config_set("budget-usd", "9.00", 5, &buf,
					    &len), 0);
	assert_int_equal(fsm_apply(a, 7, buf, len, &r), 0);
	free(buf);
	assert_int_equal(fsm_snapshot(a, &st8, &l8), 0);
	memset(&m, 0, sizeof(m));
	strcpy(m.cluster_id, "0123456789abcdef0123456789abcdeX");
	m.index = 7;
	m.term = 3;
	assert_int_equal(rst_seed(f->st, &m, st8, l8, 42, "h:1"), -EINVAL);
	assert_false(drv_has_state(f->st));
	strcpy(m.cluster_id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(rst_seed(f->st, &m, st8, l8, 42, "h:1"), 0);
	assert_int_equal(rst_seed(f->st, &m, st8, l8, 42, "h:1"), -EEXIST);
	assert_int_equal(st_term_vote_get(f->st, &t, &v), 0);
	assert_true(t == 1 && v == 0);
	assert_int_equal(off_get_u64(f->st, CLUSTER_K_SELF, &self), 0);
	assert_true(self == 42);
	assert_int_equal(st_snap_get(f->st, &s, &mem), 0);
	assert_true(s.index == 7 && s.term == 1 && s.conf_index == 7);
	assert_int_equal(fsm_restore(b, s.index, s.data, s.data_len), 0);
	assert_int_equal(fsm_hash(a, h1), 0);
	assert_int_equal(fsm_hash(b, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	free(mem);
	free(st8);
	fsm_free(a);
	fsm_free(b);
}

static void test_bkfile(void **state)
{
	struct fx *f = *state;
	char path[128];
	struct stat sb;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/b.bak", f->dir);
	assert_int_equal(bkfile_write(path, "hello", 5, 0), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 5);
	assert_int_equal(bkfile_write(path, "other", 5, 0), -EEXIST);
	assert_int_equal(bkfile_write(path, "longer", 6, 1), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 6);
	fp = popen("ls -a /tmp/ntpmc-rcv-* | grep -c ntpctl-backup", "r");
	assert_non_null(fp);
	assert_int_equal(fgetc(fp), '0');
	pclose(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inspect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_and_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore_seed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bkfile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
