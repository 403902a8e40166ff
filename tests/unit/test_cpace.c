/* The leader's heartbeat pace (node/cluster/cpace.h): slower only as far
 * as the voters' reported election timeouts allow, faster at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/cluster/cpace.h"

#define V(r, e) { (r), (e) }

/* lan -> wan: the leader stays fast until every voter reported a long
 * election timeout. */
static void slows_after_reports(void **state)
{
	struct cpace_voter none[2] = { V(1, 0), V(1, 0) };
	struct cpace_voter old[2] = { V(1, 500), V(1, 500) };
	struct cpace_voter one[2] = { V(1, 60000), V(1, 500) };
	struct cpace_voter both[2] = { V(1, 60000), V(1, 60000) };

	(void)state;
	assert_int_equal(cpace_heartbeat(30000, 50, none, 2), 50);
	/* stale reports of the lan timeout: at most half of it */
	assert_int_equal(cpace_heartbeat(30000, 50, old, 2), 250);
	assert_int_equal(cpace_heartbeat(30000, 250, one, 2), 250);
	assert_int_equal(cpace_heartbeat(30000, 250, both, 2), 30000);
	/* a target above what the timeouts allow: half of the shortest */
	assert_int_equal(cpace_heartbeat(45000, 250, both, 2), 30000);
}

/* wan -> lan: faster at once, whatever the reports say. */
static void speeds_up_at_once(void **state)
{
	struct cpace_voter both[2] = { V(1, 60000), V(1, 60000) };
	struct cpace_voter none[2] = { V(1, 0), V(0, 0) };

	(void)state;
	assert_int_equal(cpace_heartbeat(50, 30000, both, 2), 50);
	assert_int_equal(cpace_heartbeat(50, 30000, none, 2), 50);
	/* a voter with a short timeout (its file's) pulls it down too */
	{
		struct cpace_voter f[2] = { V(1, 60000), V(1, 400) };

		assert_int_equal(cpace_heartbeat(30000, 30000, f, 2), 200);
	}
}

/* An unreachable voter that never reported does not hold the pace while
 * a majority reported; without a majority nothing gets slower. */
static void unreachable_and_majority(void **state)
{
	struct cpace_voter three[2] = { V(1, 60000), V(0, 0) };
	struct cpace_voter five_min[4] = { V(1, 60000), V(0, 0), V(0, 0),
					   V(1, 60000) };
	struct cpace_voter five_no[4] = { V(1, 60000), V(0, 0), V(0, 0),
					  V(0, 0) };
	struct cpace_voter five_held[4] = { V(1, 60000), V(0, 0), V(1, 0),
					    V(1, 60000) };

	(void)state;
	assert_int_equal(cpace_heartbeat(30000, 50, three, 2), 30000);
	assert_int_equal(cpace_heartbeat(30000, 50, five_min, 4), 30000);
	assert_int_equal(cpace_heartbeat(30000, 50, five_no, 4), 50);
	assert_int_equal(cpace_heartbeat(30000, 50, five_held, 4), 50);
	/* alone: nobody to wait for */
	assert_int_equal(cpace_heartbeat(30000, 50, NULL, 0), 30000);
	/* never 0 */
	{
		struct cpace_voter tiny[1] = { V(1, 1) };

		assert_int_equal(cpace_heartbeat(30000, 50, tiny, 1), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slows_after_reports),
		cmocka_unit_test(speeds_up_at_once),
		cmocka_unit_test(unreachable_and_majority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
