/*
 * Deterministic simulation of a raft cluster: several drivers (the real
 * raft/driver*.c, the real LMDB storage in temp dirs, the real FSM) in one
 * process on a simulated network and a virtual clock, under seeded faults:
 * partitions, drops, reordering delays, kills and restarts with storage
 * kept. Invariants checked:
 *  - at most one leader per term (after every event);
 *  - state machine safety: every member applies the same command at the
 *    same index (checked at every apply, across restarts);
 *  - durability before send: every message a node sends is backed by what
 *    is already committed in its LMDB (term, vote, entries acknowledged);
 *  - after healing: every acknowledged command is applied on every member,
 *    identical FSM state hash everywhere, log matching on what is stored.
 *
 * Default run: NTPMC_SIM_SEEDS (3) seeds x NTPMC_SIM_STEPS (80) fault
 * steps. tests/bench/raft-soak.sh runs many more.
 */
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
#include <raft.h>
#include <sodium.h>

#include "raft/adapter.h"
#include "raft/driver.h"
#include "raft/fsm.h"
#include "storage/st_raft.h"

#include "tests/unit/raftsim.h"

static void fault_step(struct sim *s)
{
	unsigned r = rndn(s, 100), i, k;
	struct node *l;

	if (r < 15) {			/* partition into two random groups */
		for (i = 0; i < s->n; i++)
			s->group[i] = (int)rndn(s, 2);
	} else if (r < 30) {		/* heal */
		memset(s->group, 0, sizeof(s->group));
	} else if (r < 40) {		/* isolate the leader */
		l = find_leader(s);
		if (l != NULL) {
			memset(s->group, 0, sizeof(s->group));
			s->group[l->id - 1] = 1;
		}
	} else if (r < 52) {		/* kill one (storage kept) */
		k = rndn(s, s->n);
		if (s->nodes[k].up) {
			node_stop(&s->nodes[k]);
			s->kills++;
		}
	} else if (r < 65) {		/* restart the dead */
		for (i = 0; i < s->n; i++)
			if (!s->nodes[i].up)
				node_start(&s->nodes[i]);
	} else if (r < 75) {		/* lossy, slow, reordering network */
		s->drop_pct = rndn(s, 30);
		s->delay_max = 1 + rndn(s, 120);
	} else if (r < 80) {		/* clean network */
		s->drop_pct = 0;
		s->delay_max = 10;
	} else if (r < 85) {		/* planned leadership transfer */
		l = find_leader(s);
		if (l != NULL)
			(void)drv_transfer(l->drv, 0, 1000);
	}
	/* Load: a few commands wherever a leader is. */
	l = find_leader(s);
	if (l != NULL) {
		k = rndn(s, 4);
		for (i = 0; i < k; i++)
			submit(s, l);
	}
	run_until(s, s->now + 50 + rndn(s, 600));
}

static unsigned env_uint(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? (unsigned)strtoul(v, NULL, 10) : def;
}

static void test_sim_seeds(void **state)
{
	unsigned seeds = env_uint("NTPMC_SIM_SEEDS", 3);
	unsigned steps = env_uint("NTPMC_SIM_STEPS", 80);
	unsigned first = env_uint("NTPMC_SIM_SEED0", 1);
	unsigned seed, k, total_steps = 0;
	unsigned long checks = 0, acked = 0, kills = 0, installed = 0;

	for (seed = first; seed < first + seeds; seed++) {
		struct sim *s = calloc(1, sizeof(*s));

		assert_non_null(s);
		sim_init(s, seed, seed % 2 ? 5 : 3);
		for (k = 0; k < steps; k++)
			fault_step(s);
		total_steps += steps;
		heal_and_check(s);
		for (k = 0; k < s->n; k++)
			node_stop(&s->nodes[k]);
		installed += s->snap_installed;
		checks += s->durability_checks;
		acked += s->acked;
		kills += s->kills;
		print_message("seed %u: %u nodes, %u steps, %lu leaders, %lu "
			      "acked, %lu kills, %lu delivered, %lu dropped, "
			      "%lu send checks, %lu snapshots taken, %lu "
			      "installed\n", seed, s->n, steps, s->leaders,
			      s->acked, s->kills, s->delivered, s->dropped,
			      s->durability_checks, s->snap_taken,
			      s->snap_installed);
		sim_free(s);
		free(s);
	}
	assert_true(total_steps >= seeds * steps);
	/* The run must have exercised something. */
	assert_true(checks > 0);
	if (seeds * steps >= 100) {
		assert_true(acked > 0);
		assert_true(kills > 0);
		assert_true(installed > 0);
	}
}

/* A command this build cannot decode halts the apply loop loudly. */
static void test_undecodable_halts(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	static const unsigned char junk[] = { 0xff, 0xff, 0xff, 0x01 };
	struct node *l = NULL;
	uint64_t index, term;
	unsigned i;

	sim_init(s, 99, 3);
	for (i = 0; i < 20 && l == NULL; i++) {
		run_until(s, s->now + 500);
		l = find_leader(s);
	}
	assert_non_null(l);
	assert_int_equal(drv_submit(l->drv, junk, sizeof(junk), &index, &term),
			 0);
	s->now += 1;
	/* Run without the per-event failure assertion of check_leaders. */
	for (i = 0; i < 200; i++) {
		unsigned k;

		for (k = 0; k < s->n_msgs;)
			deliver(s, k);
		for (k = 0; k < s->n; k++)
			if (drv_failed(s->nodes[k].drv) == 0)
				drv_tick(s->nodes[k].drv);
		s->now += 10;
	}
	/* Nobody skipped it: each member either halted on it or has not
	 * applied that far. The leader, which committed it, halted. */
	assert_int_equal(drv_failed(l->drv), FSM_HALT);
	for (i = 0; i < s->n; i++) {
		int f = drv_failed(s->nodes[i].drv);

		assert_true(f == FSM_HALT || f == 0);
		assert_true(drv_applied(s->nodes[i].drv) < index);
	}
	sim_free(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_seeds),
		cmocka_unit_test(test_undecodable_halts),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
