/* Role policy: every growth and shrink step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/cluster/cpol.h"

#define V CPOL_VOTER
#define S CPOL_STANDBY
#define P CPOL_SPARE

static struct cpol_member mem(uint64_t id, int role, int cu)
{
	struct cpol_member m = { .id = id, .role = role, .reachable = 1,
				 .catch_up = cu };

	return m;
}

/* Applies the policy until it has nothing to do, simulating that every
 * catch-up finishes and every transfer succeeds (*self follows the
 * leadership); returns the number of steps. */
static int settle_leader(struct cpol_member *m, size_t n, uint64_t *self)
{
	int steps = 0;
	size_t i;

	for (;;) {
		struct cpol_action a = cpol_next(m, n, *self);

		if (a.kind == CPOL_NONE)
			return steps;
		assert_true(++steps < 50);
		if (a.kind == CPOL_TRANSFER) {
			assert_int_not_equal(a.id, *self);
			*self = a.id;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (m[i].id != a.id)
				continue;
			if (a.kind == CPOL_CATCH_UP) {
				assert_int_equal(m[i].role, S);
				m[i].catch_up = CPOL_CU_FINISHED;
			} else {
				assert_int_not_equal(m[i].role, a.role);
				/* A drained or parked member is never
				 * promoted. */
				if (m[i].drained || m[i].parked)
					assert_int_equal(a.role, P);
				m[i].role = a.role;
			}
		}
	}
}

static int settle(struct cpol_member *m, size_t n, uint64_t self)
{
	return settle_leader(m, n, &self);
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
	m[1].drained = 1;
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

/* Drain the leader with a standby ready: the standby is promoted first,
 * leadership moves to the most up-to-date voter, the drained member ends
 * spare and stays there until undrained. */
static void drain_leader_with_replacement(void **state)
{
	struct cpol_member m[4] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, P, 0) };
	uint64_t self = 1;

	(void)state;
	settle(m, 4, 1);
	assert_int_equal(m[3].role, S);
	m[1].match = 5;
	m[2].match = 9;
	m[3].match = 9;
	m[0].drained = 1;
	assert_true(settle_leader(m, 4, &self) >= 3);
	assert_int_equal(self, 3);       /* highest match, then lowest id */
	assert_int_equal(m[0].role, P);
	assert_int_equal(m[3].role, V);
	assert_int_equal(voters(m, 4), 3);
	assert_int_equal(cpol_next(m, 4, self).kind, CPOL_NONE);
	/* Undrained: eligible again (a 4th member stands by). */
	m[0].drained = 0;
	settle_leader(m, 4, &self);
	assert_int_equal(m[0].role, S);
	assert_int_equal(voters(m, 4), 3);
}

/* No replacement: the drained voter goes spare, 2 voters remain; undrain
 * brings it back to voter. */
static void drain_follower_without_replacement(void **state)
{
	struct cpol_member m[3] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0) };
	struct cpol_action a;

	(void)state;
	m[1].drained = 1;
	a = cpol_next(m, 3, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.id, 2);
	assert_int_equal(a.role, P);
	settle(m, 3, 1);
	assert_int_equal(m[1].role, P);
	assert_int_equal(voters(m, 3), 2);
	m[1].drained = 0;
	settle(m, 3, 1);
	assert_int_equal(voters(m, 3), 3);
}

/* A drained standby, even caught up, is demoted, never promoted. */
static void drained_never_promoted(void **state)
{
	struct cpol_member m[2] = { mem(1, V, 0),
				    mem(2, S, CPOL_CU_FINISHED) };
	struct cpol_action a;

	(void)state;
	m[1].drained = 1;
	a = cpol_next(m, 2, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.role, P);
	m[1].role = P;
	assert_int_equal(cpol_next(m, 2, 1).kind, CPOL_NONE);
	assert_int_equal(cpol_target_voters(m, 2), 1);
}

/* The rotation's swap in the usual fleet (aws-a leads, aws-b stopped,
 * gcp-a): aws-b comes back (unparked: standby, caught up, voter), aws-a is
 * parked: leadership leaves it first, then its vote; while parked it is
 * never promoted, even reachable; the operator's drained flag is another
 * flag: undraining does not unpark. */
static void parked_swap(void **state)
{
	struct cpol_member m[3] = { mem(1, V, 0), mem(2, P, 0), mem(3, V, 0) };
	uint64_t self = 1;
	struct cpol_action a;

	(void)state;
	m[1].parked = 1;              /* aws-b stopped by the rotation */
	assert_int_equal(settle_leader(m, 3, &self), 0);
	assert_int_equal(cpol_target_voters(m, 3), 2);
	m[1].parked = 0;              /* started again */
	settle_leader(m, 3, &self);
	assert_int_equal(m[1].role, V);
	assert_int_equal(voters(m, 3), 3);
	m[0].parked = 1;              /* aws-a leaves: leadership first */
	a = cpol_next(m, 3, self);
	assert_int_equal(a.kind, CPOL_TRANSFER);
	settle_leader(m, 3, &self);
	assert_int_not_equal(self, 1);
	assert_int_equal(m[0].role, P);
	assert_int_equal(voters(m, 3), 2);
	m[0].drained = 1;             /* the operator drains and undrains */
	m[0].drained = 0;
	assert_int_equal(settle_leader(m, 3, &self), 0);
	assert_int_equal(m[0].role, P);
	/* a parked standby is demoted, never promoted */
	m[0].role = S;
	m[0].catch_up = CPOL_CU_FINISHED;
	a = cpol_next(m, 3, self);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.role, P);
	/* a parked member does not count as a drain's replacement */
	{
		struct cpol_member q[4] = { mem(1, V, 0), mem(2, V, 0),
					    mem(3, V, 0), mem(4, P, 0) };

		q[2].reachable = 0;
		q[3].parked = 1;
		assert_int_equal(cpol_drain_check(q, 4, 1), CPOL_DRAIN_QUORUM);
		q[3].parked = 0;
		assert_int_equal(cpol_drain_check(q, 4, 1), CPOL_DRAIN_OK);
	}
}

/* A change of the voters waits for reachable, current majorities of the
 * voters before and after it. */
static void majorities(void **state)
{
	struct cpol_member m[4] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, S, CPOL_CU_FINISHED) };
	struct cpol_action a;

	(void)state;
	m[1].parked = 1;             /* 2 leaves: demote it */
	m[2].lagging = 1;
	m[3].lagging = 1;
	/* after: {1, 3}, 3 lagging: not a majority */
	assert_int_equal(cpol_next(m, 4, 1).kind, CPOL_NONE);
	m[2].lagging = 0;
	a = cpol_next(m, 4, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	/* a standby is promoted only with a current majority before */
	m[1].parked = 0;
	m[1].role = V;
	m[0].role = V;
	m[2].role = S;               /* voters 1, 2; 3 and 4 standby */
	m[2].catch_up = CPOL_CU_FINISHED;
	m[1].reachable = 0;
	m[3].lagging = 0;
	/* before {1, 2}: 2 unreachable: 1 of 2, no majority */
	assert_int_equal(cpol_next(m, 4, 1).kind, CPOL_NONE);
	m[1].reachable = 1;
	a = cpol_next(m, 4, 1);
	assert_int_equal(a.kind, CPOL_SET_ROLE);
	assert_int_equal(a.role, V);
}

/* The replacement comes up before the drained voter loses its vote. */
static void drain_waits_for_catch_up(void **state)
{
	struct cpol_member m[4] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, S, CPOL_CU_RUNNING) };

	(void)state;
	m[2].drained = 1;
	assert_int_equal(cpol_next(m, 4, 1).kind, CPOL_NONE);
	m[3].catch_up = CPOL_CU_FINISHED;
	assert_int_equal(cpol_next(m, 4, 1).role, V);
}

/* Demoting a drained voter never leaves the voters without a reachable
 * majority; a drained leader with no voter to take over stays. */
static void drain_keeps_quorum(void **state)
{
	struct cpol_member m[3] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0) };

	(void)state;
	m[1].drained = 1;
	m[2].reachable = 0;
	assert_int_equal(cpol_next(m, 3, 1).kind, CPOL_NONE);
	m[1].drained = 0;
	m[0].drained = 1;
	m[1].reachable = 0;
	assert_int_equal(cpol_next(m, 3, 1).kind, CPOL_NONE);
	assert_null(cpol_successor(m, 3, 1));
}

static void drain_check(void **state)
{
	struct cpol_member m[4] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0),
				    mem(4, P, 0) };

	(void)state;
	assert_int_equal(cpol_drain_check(m, 3, 1), CPOL_DRAIN_OK);
	m[2].reachable = 0;
	assert_int_equal(cpol_drain_check(m, 3, 1), CPOL_DRAIN_QUORUM);
	assert_int_equal(cpol_drain_check(m, 3, 3), CPOL_DRAIN_OK);
	/* A reachable spare counts as the replacement. */
	assert_int_equal(cpol_drain_check(m, 4, 1), CPOL_DRAIN_OK);
	assert_int_equal(cpol_drain_check(m, 1, 1), CPOL_DRAIN_LAST_VOTER);
	m[1].drained = 1;            /* another drained voter leaves too */
	m[2].reachable = 1;
	assert_int_equal(cpol_drain_check(m, 3, 1), CPOL_DRAIN_OK);
	m[2].drained = 1;
	assert_int_equal(cpol_drain_check(m, 3, 1), CPOL_DRAIN_LAST_VOTER);
	assert_int_equal(cpol_drain_check(m, 4, 4), CPOL_DRAIN_OK);
}

static void single_and_empty(void **state)
{
	struct cpol_member m[1] = { mem(1, V, 0) };

	(void)state;
	assert_int_equal(cpol_next(m, 1, 1).kind, CPOL_NONE);
	assert_int_equal(cpol_next(NULL, 0, 1).kind, CPOL_NONE);
}

/* A suspect leader hands over to a reachable voter whose verdict is ok:
 * never to an unknown or suspect one; nothing to do without one. */
static void suspect_leader_transfers(void **state)
{
	struct cpol_member m[3] = { mem(1, V, 0), mem(2, V, 0), mem(3, V, 0) };
	struct cpol_action a;

	(void)state;
	m[0].suspect = 1;
	a = cpol_next(m, 3, 1);
	assert_int_equal(a.kind, CPOL_NONE);     /* nobody known ok */
	m[1].check_ok = 1;
	m[1].reachable = 0;
	m[2].suspect = 1;
	a = cpol_next(m, 3, 1);
	assert_int_equal(a.kind, CPOL_NONE);     /* the ok one is away */
	m[1].reachable = 1;
	m[1].match = 5;
	a = cpol_next(m, 3, 1);
	assert_int_equal(a.kind, CPOL_TRANSFER);
	assert_int_equal(a.id, 2);
	/* a follower's suspicion moves nothing */
	m[0].suspect = 0;
	a = cpol_next(m, 3, 1);
	assert_int_equal(a.kind, CPOL_NONE);
	assert_null(cpol_check_successor(m, 1, 1));
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
		cmocka_unit_test(drain_leader_with_replacement),
		cmocka_unit_test(drain_follower_without_replacement),
		cmocka_unit_test(drained_never_promoted),
		cmocka_unit_test(parked_swap),
		cmocka_unit_test(majorities),
		cmocka_unit_test(drain_waits_for_catch_up),
		cmocka_unit_test(drain_keeps_quorum),
		cmocka_unit_test(drain_check),
		cmocka_unit_test(suspect_leader_transfers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
