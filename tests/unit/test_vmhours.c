/* vmhours: a member's instance and IPv4 hours, actual and projected,
 * from the rotation's hours ledger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/cost/ledger.h"
#include "node/cost/vmhours.h"

#define H VMHOURS_HOUR_MS

/* December 2026 (31 days = 744 h) */
static void month_in(struct vmhours_in *in, const struct fsm_hours *h)
{
	memset(in, 0, sizeof(*in));
	in->h = h;
	in->month = vmhours_month("2026-12");
	in->start_ms = ledger_month_start_ms("2026-12");
	in->end_ms = ledger_month_end_ms("2026-12");
}

static void month_name(void **state)
{
	(void)state;
	assert_int_equal(vmhours_month("2026-12"), 202612);
	assert_int_equal(vmhours_month("1970-01"), 197001);
	assert_int_equal(vmhours_month("2026-13"), 0);
	assert_int_equal(vmhours_month("2026-00"), 0);
	assert_int_equal(vmhours_month("2026-1"), 0);
	assert_int_equal(vmhours_month("2026-123"), 0);
	assert_int_equal(vmhours_month("2026/12"), 0);
	assert_int_equal(vmhours_month(""), 0);
}

/* Always on since before the month: 10 days counted, projected to the
 * whole month. */
static void always_on(void **state)
{
	struct fsm_hours h = { .id = 1, .month = 202612, .ms = 240 * H };
	struct vmhours_in in;
	struct vmhours o;

	(void)state;
	month_in(&in, &h);
	in.asof_ms = in.start_ms + 240 * H;
	in.now_ms = in.asof_ms + H / 2;
	in.first_ms = in.start_ms - 30 * 24 * H;    /* seen last month */
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 240 * H);
	assert_int_equal(o.vm_proj_ms, 744 * H);
	/* not static: the address costs the running hours */
	assert_int_equal(o.ip_ms, 240 * H);
	assert_int_equal(o.ip_proj_ms, 744 * H);
}

/* Half the time on (a rotation): the rate carries on. */
static void half_on(void **state)
{
	struct fsm_hours h = { .id = 1, .month = 202612, .ms = 120 * H };
	struct vmhours_in in;
	struct vmhours o;

	(void)state;
	month_in(&in, &h);
	in.asof_ms = in.start_ms + 240 * H;
	in.now_ms = in.asof_ms;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 120 * H);
	assert_int_equal(o.vm_proj_ms, 372 * H);
	/* a static address: every hour of the month, running or stopped */
	in.first_ms = in.start_ms - H;
	in.static_ip = 1;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_proj_ms, 372 * H);
	assert_int_equal(o.ip_ms, 240 * H);
	assert_int_equal(o.ip_proj_ms, 744 * H);
}

/* Joined on day 21: its rate is measured from then, not from the
 * month's start. */
static void joined_mid_month(void **state)
{
	struct fsm_hours h = { .id = 1, .month = 202612, .ms = 24 * H };
	struct vmhours_in in;
	struct vmhours o;

	(void)state;
	month_in(&in, &h);
	in.first_ms = in.start_ms + 480 * H;
	in.asof_ms = in.first_ms + 24 * H;
	in.now_ms = in.asof_ms;
	in.static_ip = 1;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 24 * H);
	assert_int_equal(o.vm_proj_ms, 264 * H);     /* 744 - 480 */
	assert_int_equal(o.ip_ms, 24 * H);
	assert_int_equal(o.ip_proj_ms, 264 * H);
}

/* Stopped all month with a static address (an Elastic IP on a stopped
 * VM): no instance hours, the address billed all the same; without a
 * static address, nothing. */
static void stopped_static(void **state)
{
	struct fsm_hours h = { .id = 1, .month = 202611, .ms = 700 * H };
	struct vmhours_in in;
	struct vmhours o;

	(void)state;
	month_in(&in, &h);
	in.asof_ms = in.start_ms + 100 * H;
	in.now_ms = in.start_ms + 100 * H + H / 4;
	in.first_ms = in.start_ms - 700 * H;
	in.static_ip = 1;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 0);
	assert_int_equal(o.vm_proj_ms, 0);
	assert_int_equal(o.ip_ms, 100 * H + H / 4);  /* up to now */
	assert_int_equal(o.ip_proj_ms, 744 * H);
	in.static_ip = 0;
	vmhours_member(&in, &o);
	assert_int_equal(o.ip_ms, 0);
	assert_int_equal(o.ip_proj_ms, 0);
	/* a static address of a member never seen: only running time */
	in.static_ip = 1;
	in.first_ms = 0;
	vmhours_member(&in, &o);
	assert_int_equal(o.ip_ms, 0);
	assert_int_equal(o.ip_proj_ms, 0);
	/* removed: its address is assumed released with it */
	in.first_ms = in.start_ms - H;
	in.removed = 1;
	vmhours_member(&in, &o);
	assert_int_equal(o.ip_proj_ms, 0);
}

/* Month rollover: the record moved on to January, December is its
 * previous month; a view of January before its first hour is counted
 * projects nothing yet. */
static void rollover(void **state)
{
	struct fsm_hours h = { .id = 1, .month = 202701, .ms = H / 2,
			       .prev_month = 202612, .prev_ms = 744 * H };
	struct vmhours_in in;
	struct vmhours o;

	(void)state;
	month_in(&in, &h);
	in.asof_ms = in.end_ms + H / 2;
	in.now_ms = in.end_ms + H;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 744 * H);          /* the whole of December */
	assert_int_equal(o.vm_proj_ms, 744 * H);
	/* January: half an hour counted, too early to project */
	memset(&in, 0, sizeof(in));
	in.h = &h;
	in.month = vmhours_month("2027-01");
	in.start_ms = ledger_month_start_ms("2027-01");
	in.end_ms = ledger_month_end_ms("2027-01");
	in.asof_ms = in.start_ms + H / 2;
	in.now_ms = in.start_ms + H;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, H / 2);
	assert_int_equal(o.vm_proj_ms, H / 2);
	/* a month the record no longer holds */
	in.month = 202610;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 0);
	/* no record at all */
	month_in(&in, NULL);
	in.asof_ms = in.start_ms + 100 * H;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 0);
	assert_int_equal(o.vm_proj_ms, 0);
}

/* A record that claims more than the month (a bad clock) is capped. */
static void capped(void **state)
{
	struct fsm_hours h = { .id = 1, .month = 202612, .ms = 900 * H };
	struct vmhours_in in;
	struct vmhours o;

	(void)state;
	month_in(&in, &h);
	in.asof_ms = in.start_ms + 10 * H;
	in.now_ms = in.start_ms + 10 * H;
	vmhours_member(&in, &o);
	assert_int_equal(o.vm_ms, 744 * H);
	assert_int_equal(o.vm_proj_ms, 744 * H);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(month_name),
		cmocka_unit_test(always_on),
		cmocka_unit_test(half_on),
		cmocka_unit_test(joined_mid_month),
		cmocka_unit_test(stopped_static),
		cmocka_unit_test(rollover),
		cmocka_unit_test(capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
