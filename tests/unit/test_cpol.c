/* Role policy (issue 4 item 2): every growth and shrink step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/cpol.h"

#define V CPOL_VOTER
#define S CPOL_STANDBY
#define P CPOL_SPARE

static struct cpol_member mem(uint64_t id, int role, int cu)
{
	struct cpol_member m = { id, role, 1, cu, 0 };

	return m;
}

/* Applies the policy until it has nothing to do, simulating that every
 * catch-up finishes; returns the number of steps. */
static int settle(struct cpol_member *m, size_t n, uint64_t self)
{
	int steps = 0;
	size_t i;

	for (;;) {
		struct cpol_action a = cpol_next(m, n, self);

		if (a.kind == CPOL_NONE)
			return steps;
		assert_true(++steps < 50);
		for (i = 0; i < n; i++) {
			if (m[i].id != a.id)
				continue;
			if (a.kind == CPOL_CATCH_UP) {
				assert_int_equal(m[i].role, S);
				m[i].catch_up = CPOL_CU_FINISHED;
			} else {
				assert_int_not_equal(m[i].role, a.role);
				m[i].role = a.role;
			}
		}
	}
}

static int voters(const struct cpol_member *m, size_t n)
{
	size_t i;
	int k = 0;

	for (i = 0; i < n; i++)
		k += m[i].role == V;
	return k;
}

static void joiner_becomes_standby_then_voter(void **state)
{
	struct cpol_member m[2] = { mem(1, V, 0), mem(2, P, 0) };
	struct cpol_action a;

	(void)state;
	a = cpol_next(m, 2, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.id, 2);
	assert_int_equal(a.role, S);
	m[1].role = S;
	a = cpol_next(m, 2, 1);
	assert_int_equal(a.kind, CPOL_CATCH_UP);
	assert_int_equal(a.id, 2);
	m[1].catch_up = CPOL_CU_RUNNING;
	a = cpol_next(m, 2, 1);
	assert_int_equal(a.kind, CPOL_NONE);
	m[1].catch_up = CPOL_CU_FINISHED;
	a = cpol_next(m, 2, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.role, V);
}

static void aborted_catch_up_is_retried(void **state)
{
	struct cpol_member m[2] = { mem(1, V, 0), mem(2, S, CPOL_CU_ABORTED) };
	struct cpol_action a = cpol_next(m, 2, 1);

	(void)state;
	assert_int_equal(a.kind, CPOL_CATCH_UP);
	assert_int_equal(a.id, 2);
}

static void unreachable_spare_waits(void **state)
{
	struct cpol_member m[2] = { mem(1, V, 0), mem(2, P, 0) };

	(void)state;
	m[1].reachable = 0;
	assert_int_equal(cpol_next(m, 2, 1).kind, CPOL_NONE);
	m[1].reachable = 1;
	m[1].parked = 1;
	assert_int_equal(cpol_next(m, 2, 1).kind, CPOL_NONE);
}

static void grows_to_three_then_five(void **state)
{
	struct cpol_member m[7];
	size_t n;

	(void)state;
	m[0] = mem(1, V, 0);
	for (n = 2; n <= 7; n++) {
		m[n - 1] = mem(n, P, 0);
		settle(m, n, 1);
		int want = n >= 5 ? 5 : (n < 3 ? (int)n : 3);
		assert_int_equal(voters(m, n), want);
	}
}

static void four_is_only_transient(void **state)
{
	/* 3 voters and 2 standbys, one caught up: no 4th voter yet. */
	struct cpol_member m[5] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, S, CPOL_CU_FINISHED),
				    mem(5, S, 0) };
	struct cpol_action a = cpol_next(m, 5, 1);

	(void)state;
	assert_int_equal(a.kind, CPOL_CATCH_UP);
	assert_int_equal(a.id, 5);
	m[4].catch_up = CPOL_CU_FINISHED;
	assert_int_equal(cpol_target_voters(m, 5), 5);
	a = cpol_next(m, 5, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.role, V);
}

static void four_members_keep_three_voters(void **state)
{
	struct cpol_member m[4] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, S, 0) };

	(void)state;
	assert_int_equal(cpol_next(m, 4, 1).kind, CPOL_NONE);
}

static void shrink_restores_parity(void **state)
{
	/* 5 voters, one removed: 4 left, demote one (not self, the
	 * unreachable one first). */
	struct cpol_member m[4] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, V, 0) };
	struct cpol_action a;

	(void)state;
	m[1].reachable = 0;
	a = cpol_next(m, 4, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.id, 2);
	assert_int_equal(a.role, S);
	m[1].reachable = 1;
	a = cpol_next(m, 4, 4);
	assert_int_equal(a.id, 3);   /* highest id that is not the leader */
	settle(m, 4, 1);
	assert_int_equal(voters(m, 4), 3);
}

static void lost_voter_in_five_not_demoted(void **state)
{
	/* A crashed voter is not evidence for a demotion by itself. */
	struct cpol_member m[5] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, V, 0), mem(5, V, 0) };

	(void)state;
	m[4].reachable = 0;
	assert_int_equal(cpol_next(m, 5, 1).kind, CPOL_NONE);
}

static void single_and_empty(void **state)
{
	struct cpol_member m[1] = { mem(1, V, 0) };

	(void)state;
	assert_int_equal(cpol_next(m, 1, 1).kind, CPOL_NONE);
	assert_int_equal(cpol_next(NULL, 0, 1).kind, CPOL_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(joiner_becomes_standby_then_voter),
		cmocka_unit_test(aborted_catch_up_is_retried),
		cmocka_unit_test(unreachable_spare_waits),
		cmocka_unit_test(grows_to_three_then_five),
		cmocka_unit_test(four_is_only_transient),
		cmocka_unit_test(four_members_keep_three_voters),
		cmocka_unit_test(shrink_restores_parity),
		cmocka_unit_test(lost_voter_in_five_not_demoted),
		cmocka_unit_test(single_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
