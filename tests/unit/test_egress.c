/* egress: class names, sums, and the meter across a source starting over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/cost/egress.h"

static void names(void **state)
{
	(void)state;
	assert_string_equal(egress_class_name(EGRESS_NTP), "ntp");
	assert_string_equal(egress_class_name(EGRESS_CROSSCHECK), "crosscheck");
	assert_string_equal(egress_class_name(EGRESS_CLUSTER), "cluster");
	assert_string_equal(egress_class_name(EGRESS_OTHER), "other");
	assert_string_equal(egress_class_name(EGRESS_NCLASS), "?");
	assert_string_equal(egress_class_name(-1), "?");
}

static void meter(void **state)
{
	struct egress_meter m;
	struct egress_counts raw, d;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(&raw, 0, sizeof(raw));
	raw.bytes[EGRESS_NTP] = 760;
	raw.bytes[EGRESS_CLUSTER] = 100;
	egress_meter_fold(&m, &raw, &d);
	/* the first reading counts whole: the counters start with the
	 * process */
	assert_int_equal(d.bytes[EGRESS_NTP], 760);
	assert_int_equal(m.total.bytes[EGRESS_CLUSTER], 100);
	raw.bytes[EGRESS_NTP] = 836;
	raw.bytes[EGRESS_CLUSTER] = 40;  /* the transport reopened */
	egress_meter_fold(&m, &raw, &d);
	assert_int_equal(d.bytes[EGRESS_NTP], 76);
	assert_int_equal(d.bytes[EGRESS_CLUSTER], 40);
	assert_int_equal(m.total.bytes[EGRESS_NTP], 836);
	assert_int_equal(m.total.bytes[EGRESS_CLUSTER], 140);
	assert_int_equal(egress_sum(&m.total), 976);
	/* nothing new: nothing added */
	egress_meter_fold(&m, &raw, NULL);
	assert_int_equal(egress_sum(&m.total), 976);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(meter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
