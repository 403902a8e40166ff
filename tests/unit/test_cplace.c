/* Leader placement by egress (node/cluster/cplace.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/cluster/cplace.h"

#define GB 1000000000LL
#define MB 1000000LL

/* id, voter, reachable, caught up, drained, planned on, allowance, spare */
#define M(id, all, spare) { (id), 1, 1, 1, 0, 1, (all), (spare) }

/* The usual fleet: two AWS members and one GCP member. */
static void usual_fleet(void **state)
{
	struct cplace_member m[3] = { M(1, 1, 50 * GB), M(2, 1, 50 * GB),
				      M(3, 1, 1 * GB) };

	(void)state;
	/* on GCP: moves to AWS (lowest id among equals) */
	assert_int_equal(cplace_choose(m, 3, 3), 1);
	/* on AWS: stays (the other AWS member is no better) */
	assert_int_equal(cplace_choose(m, 3, 1), 0);
	assert_int_equal(cplace_choose(m, 3, 2), 0);
	/* an unknown leader: nothing */
	assert_int_equal(cplace_choose(m, 3, 9), 0);
}

/* Only when the difference matters: more than twice and 100 MB more. */
static void difference_matters(void **state)
{
	struct cplace_member small[2] = { M(1, 1, 150 * MB),
					  M(2, 1, 60 * MB) };
	struct cplace_member ratio[2] = { M(1, 1, 10 * GB),
					  M(2, 1, 6 * GB) };
	struct cplace_member spent[2] = { M(1, 1, 150 * MB),
					  M(2, 1, -5 * GB) };

	(void)state;
	assert_int_equal(cplace_choose(small, 2, 2), 0);  /* 90 MB more */
	assert_int_equal(cplace_choose(ratio, 2, 2), 0);  /* not twice */
	assert_int_equal(cplace_choose(spent, 2, 2), 1);  /* over budget */
	assert_int_equal(cplace_choose(spent, 2, 1), 0);
}

/* Providers without an allowance take no part. */
static void no_allowance(void **state)
{
	struct cplace_member other[3] = { M(1, 0, 0), M(2, 0, 0),
					  M(3, 1, 1 * GB) };
	struct cplace_member lone[2] = { M(1, 0, 0), M(2, 1, 100 * GB) };

	(void)state;
	assert_int_equal(cplace_choose(other, 3, 3), 0);  /* never to them */
	assert_int_equal(cplace_choose(other, 3, 1), 0);
	assert_int_equal(cplace_choose(lone, 2, 1), 0);   /* nor from them */
}

/* Only eligible members: voter, reachable, caught up, not drained,
 * planned on. */
static void eligible_only(void **state)
{
	struct cplace_member m[3] = { M(1, 1, 100 * GB), M(2, 1, 90 * GB),
				      M(3, 1, 1 * GB) };
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		m[0].voter = i != 0;
		m[0].reachable = i != 1;
		m[0].caught_up = i != 2;
		m[0].drained = i == 3;
		m[0].planned_on = i != 4;
		assert_int_equal(cplace_choose(m, 3, 3), 2);
	}
	m[1].planned_on = 0;
	assert_int_equal(cplace_choose(m, 3, 3), 0);
}

/* A leader the rotation does not keep on moves to the best planned-on
 * member, with an allowance first, else any. */
static void planned_off(void **state)
{
	struct cplace_member m[3] = { M(1, 0, 0), M(2, 1, 1 * GB),
				      M(3, 1, 100 * GB) };

	(void)state;
	m[2].planned_on = 0;
	assert_int_equal(cplace_choose(m, 3, 3), 2);
	m[1].reachable = 0;
	assert_int_equal(cplace_choose(m, 3, 3), 1);
	m[0].caught_up = 0;
	assert_int_equal(cplace_choose(m, 3, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usual_fleet),
		cmocka_unit_test(difference_matters),
		cmocka_unit_test(no_allowance),
		cmocka_unit_test(eligible_only),
		cmocka_unit_test(planned_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
