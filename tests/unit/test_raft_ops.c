/*
 * Driver operations on the simulated cluster (tests/unit/raftsim.h):
 * single-node bootstrap and restart, membership growth through catch-up
 * and promotion, removal of the leader, planned leadership transfer with
 * its deadline, RAFT_NOSPACE from low capacity, and the log staying small
 * thanks to snapshots.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <raft.h>
#include <sodium.h>

#include "raft/adapter.h"
#include "raft/driver.h"
#include "storage/st_raft.h"
#include "tests/unit/raftsim.h"

static struct node *wait_leader(struct sim *s)
{
	struct node *l = NULL;
	int i;

	for (i = 0; i < 40 && l == NULL; i++) {
		run_until(s, s->now + 250);
		l = find_leader(s);
	}
	assert_non_null(l);
	return l;
}

static void test_single_node(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	unsigned char h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	struct node *l;
	uint64_t term, vote, applied;
	int i;

	sim_init(s, 7, 1);
	l = wait_leader(s);
	for (i = 0; i < 40; i++)
		assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 100);
	assert_int_equal(s->acked, 40);
	applied = drv_applied(l->drv);
	assert_true(applied >= 41);
	assert_int_equal(fsm_hash(l->fsm, h1), 0);
	/* kill -9 equivalent: nothing flushed beyond what each step did. */
	node_stop(l);
	node_start(l);
	assert_int_equal(drv_applied(l->drv), applied);
	assert_int_equal(fsm_hash(l->fsm, h2), 0);
	assert_memory_equal(h1, h2, FSM_HASH_LEN);
	assert_int_equal(st_term_vote_get(l->st, &term, &vote), 0);
	/* A lone voter self-elects without an election (no term bump). */
	assert_true(term >= 1);
	l = wait_leader(s);
	assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 100);
	assert_int_equal(s->acked, 41);
	sim_free(s);
	free(s);
}

static void wait_applied_conf(struct sim *s, struct node *l, uint64_t index)
{
	int i;

	for (i = 0; i < 40 && drv_applied(l->drv) < index; i++)
		run_until(s, s->now + 100);
	assert_true(drv_applied(l->drv) >= index);
}

static void change_role(struct sim *s, struct node *l, raft_id id, int role,
			int add)
{
	struct raft_configuration c;
	uint64_t index;
	unsigned i;

	assert_int_equal(rad_conf_copy(drv_conf(l->drv), &c), 0);
	if (add) {
		assert_int_equal(raft_configuration_add(&c, id,
				 s->nodes[id - 1].addr, role), 0);
	} else {
		for (i = 0; i < c.n; i++)
			if (c.servers[i].id == id)
				c.servers[i].role = role;
	}
	assert_int_equal(drv_change(l->drv, &c, &index), 0);
	raft_configuration_close(&c);
	wait_applied_conf(s, l, index);
}

static void test_grow_and_remove(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	unsigned char h0[FSM_HASH_LEN], h[FSM_HASH_LEN];
	struct raft_configuration c;
	struct node *l;
	uint64_t index;
	raft_id id, old;
	unsigned i, j;
	int st = 0;

	sim_init_n(s, 11, 3, 5);
	l = wait_leader(s);
	for (i = 0; i < 30; i++)
		submit(s, l);
	run_until(s, s->now + 200);
	/* Join: spare, caught up, then voter. */
	for (id = 4; id <= 5; id++) {
		change_role(s, l, id, RAFT_SPARE, 1);
		assert_int_equal(drv_catch_up(l->drv, 99), RAFT_BADID);
		assert_int_equal(drv_catch_up(l->drv, id), 0);
		for (j = 0; j < 50; j++) {
			run_until(s, s->now + 100);
			assert_int_equal(drv_catch_up_status(l->drv, id, &st), 0);
			if (st == RAFT_CATCH_UP_FINISHED)
				break;
		}
		assert_int_equal(st, RAFT_CATCH_UP_FINISHED);
		change_role(s, l, id, RAFT_VOTER, 0);
	}
	assert_int_equal(drv_conf(l->drv)->n, 5);
	for (i = 0; i < 30; i++)
		submit(s, l);
	run_until(s, s->now + 500);
	/* Remove the leader itself: it steps down once Cnew commits
	 * (thesis 4.2.2) and the others elect a new one. */
	old = l->id;
	assert_int_equal(rad_conf_copy(drv_conf(l->drv), &c), 0);
	for (i = 0, j = 0; i < c.n; i++)
		if (c.servers[i].id != old)
			c.servers[j++] = c.servers[i];
		else
			raft_free(c.servers[i].address);
	c.n = j;
	assert_int_equal(drv_change(l->drv, &c, &index), 0);
	raft_configuration_close(&c);
	for (i = 0; i < 40; i++) {
		run_until(s, s->now + 250);
		l = find_leader(s);
		if (l != NULL && l->id != old)
			break;
	}
	assert_non_null(l);
	assert_true(l->id != old);
	for (i = 0; i < 10; i++)
		assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 1000);
	assert_int_equal(drv_conf(l->drv)->n, 4);
	assert_int_equal(fsm_hash(l->fsm, h0), 0);
	for (i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];

		if (nd->id == old)
			continue;
		assert_int_equal(drv_failed(nd->drv), 0);
		assert_int_equal(drv_applied(nd->drv), drv_applied(l->drv));
		assert_int_equal(fsm_hash(nd->fsm, h), 0);
		assert_memory_equal(h, h0, FSM_HASH_LEN);
	}
	sim_free(s);
	free(s);
}

/* The drivers' info lines (elections, step-downs), one string. */
static char info_lines[16384];

static void info_sink(void *arg, enum rlog_level level, const char *msg)
{
	size_t n = strlen(info_lines);

	(void)arg;
	if (level == RLOG_INFO)
		snprintf(info_lines + n, sizeof(info_lines) - n, "%s\n", msg);
}

static void test_transfer(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct node *l, *n;
	raft_id target;
	char want[128];
	int i;

	info_lines[0] = 0;
	s->log.fn = info_sink;
	sim_init(s, 21, 3);
	l = wait_leader(s);
	/* The election is logged at info by the winner. */
	snprintf(want, sizeof(want), "raft %u: elected leader for term", l->id);
	assert_non_null(strstr(info_lines, want));
	target = l->id % 3 + 1;
	assert_int_equal(drv_transfer(l->drv, 42, 1000), RAFT_BADID);
	assert_int_equal(drv_transfer(l->drv, target, 1000), 0);
	assert_int_equal(drv_transfer_state(l->drv), 1);
	/* No submissions while transferring (thesis 3.10). */
	assert_int_equal(submit(s, l), RAFT_NOTLEADER);
	for (i = 0; i < 20; i++) {
		run_until(s, s->now + 50);
		n = find_leader(s);
		if (n != NULL && n->id == target)
			break;
	}
	assert_non_null(n);
	assert_int_equal(n->id, target);
	assert_int_equal(drv_transfer_state(l->drv), 0);
	/* The step-down says why; the old leader follows the new one. */
	snprintf(want, sizeof(want), "raft %u: stepped down as leader of "
		 "term", l->id);
	assert_non_null(strstr(info_lines, want));
	assert_non_null(strstr(info_lines, "(leadership transferred)"));
	snprintf(want, sizeof(want), "raft %u: following leader %u", l->id,
		 n->id);
	assert_non_null(strstr(info_lines, want));
	/* A transfer to a cut-off node runs into its deadline. */
	l = n;
	target = l->id % 3 + 1;
	s->group[target - 1] = 1;
	assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 100);
	assert_int_equal(drv_transfer(l->drv, target, 300), 0);
	for (i = 0; i < 20 && drv_transfer_state(l->drv) == 1; i++) {
		run_until(s, s->now + 50);
		drv_tick(l->drv);
	}
	assert_true(drv_transfer_state(l->drv) != 1);
	assert_true(find_leader(s) == NULL || find_leader(s)->id != target);
	sim_free(s);
	free(s);
}

/* A voter demoted to spare (ntpctl node drain) is sent nothing; libraft
 * still counts its old send time in the leader's timeout, which then stays
 * in the past. The driver's next timeout must keep moving, or the daemon's
 * loop spins on it. */
static void test_spare_timeout(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct node *l;
	raft_id id;
	int i;

	(void)state;
	sim_init(s, 31, 3);
	l = wait_leader(s);
	id = l->id % 3 + 1;
	change_role(s, l, id, RAFT_SPARE, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 1000);
	assert_true(find_leader(s) == l);
	assert_true(drv_next_timeout(l->drv) + 100 > s->now);
	assert_true(drv_next_timeout(l->drv) <= s->now + 1000);
	sim_free(s);
	free(s);
}

/* A follower that missed a configuration change receives it in one batch
 * behind other entries. libraft 0.22.1 then records the batch's first
 * index as the uncommitted configuration's, so applying the real one never
 * clears it: once that follower leads, every change is refused with
 * RAFT_CANTCHANGE (a parked member kept its vote for good). */
static void test_change_after_catching_up(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct node *l, *f, *n = NULL;
	struct raft_configuration c;
	uint64_t index;
	unsigned i;

	(void)state;
	sim_init_n(s, 41, 3, 4);
	l = wait_leader(s);
	f = &s->nodes[l->id % 3];
	s->group[f->id - 1] = 1;
	for (i = 0; i < 5; i++)
		assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 100);
	change_role(s, l, 4, RAFT_SPARE, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(submit(s, l), 0);
	run_until(s, s->now + 100);
	s->group[f->id - 1] = 0;
	for (i = 0; i < 40 && drv_applied(f->drv) < drv_applied(l->drv); i++)
		run_until(s, s->now + 100);
	assert_int_equal(drv_applied(f->drv), drv_applied(l->drv));
	assert_int_equal(drv_conf(f->drv)->n, 4);
	assert_int_equal(drv_transfer(l->drv, f->id, 1000), 0);
	for (i = 0; i < 20 && (n == NULL || n != f); i++) {
		run_until(s, s->now + 50);
		n = find_leader(s);
	}
	assert_true(n == f);
	/* Its own first entry committed: the change must be accepted. */
	assert_int_equal(submit(s, f), 0);
	run_until(s, s->now + 200);
	assert_int_equal(rad_conf_copy(drv_conf(f->drv), &c), 0);
	for (i = 0; i < c.n; i++)
		if (c.servers[i].id == 4)
			c.servers[i].role = RAFT_STANDBY;
	assert_int_equal(drv_change(f->drv, &c, &index), 0);
	raft_configuration_close(&c);
	wait_applied_conf(s, f, index);
	for (i = 0; i < 3; i++)
		assert_int_equal(drv_failed(s->nodes[i].drv), 0);
	sim_free(s);
	free(s);
}

static void test_nospace(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct node *l;
	int i;

	/* Every member reports less room than required: a leader refuses
	 * new entries with RAFT_NOSPACE and nothing breaks. */
	s->capacity_min_kib = 1 << 20;
	sim_init(s, 5, 3);
	l = wait_leader(s);
	run_until(s, s->now + 500);
	for (i = 0; i < 5; i++)
		assert_int_equal(submit(s, l), RAFT_NOSPACE);
	run_until(s, s->now + 500);
	for (i = 0; i < 3; i++)
		assert_int_equal(drv_failed(s->nodes[i].drv), 0);
	assert_int_equal(s->acked, 0);
	sim_free(s);
	free(s);
}

/* Snapshots compact the log: after many writes the store stays small. */
static void test_log_compaction(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t first, last;
	struct node *l;
	struct stat sb, lb;
	char path[160];
	const char *w = getenv("NTPMC_COMPACT_WRITES");
	unsigned i, writes = w != NULL ? (unsigned)strtoul(w, NULL, 10) : 3000;
	long long kib;

	s->snap_threshold = 256;
	s->snap_trailing = 64;
	sim_init(s, 3, 1);
	l = wait_leader(s);
	for (i = 0; i < writes; i++) {
		assert_int_equal(submit(s, l), 0);
		run_until(s, s->now + 1);
	}
	run_until(s, s->now + 100);
	assert_int_equal(s->acked, writes);
	assert_int_equal(st_log_range(l->st, &first, &last), 0);
	assert_true(last - first + 1 <= 256 + 64 + 2);
	snprintf(path, sizeof(path), "%s/store/data.mdb", l->dir);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/store/lock.mdb", l->dir);
	assert_int_equal(stat(path, &lb), 0);
	/* What du -sk of the datadir counts: allocated blocks. */
	kib = (long long)(sb.st_blocks + lb.st_blocks) / 2;
	print_message("%u config writes: log %llu..%llu, datadir %lld KiB "
		      "allocated (%s)\n", writes, (unsigned long long)first,
		      (unsigned long long)last, kib, l->dir);
	assert_true(kib <= 8 * 1024);
	sim_free(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_node),
		cmocka_unit_test(test_grow_and_remove),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_spare_timeout),
		cmocka_unit_test(test_change_after_catching_up),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_log_compaction),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
