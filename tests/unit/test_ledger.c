/* ledger: months, folding reports across restarts, leader changes and
 * month boundaries, and the projection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/cost/ledger.h"

#define H (3600ULL * 1000)
/* 2026-12-01T00:00:00Z */
#define DEC1 1796083200000ULL

static void months(void **state)
{
	char m[8];

	(void)state;
	ledger_month(DEC1, m);
	assert_string_equal(m, "2026-12");
	ledger_month(DEC1 - 1, m);
	assert_string_equal(m, "2026-11");
	assert_int_equal(ledger_month_start_ms("2026-12"), DEC1);
	assert_int_equal(ledger_month_end_ms("2026-12"), DEC1 + 31 * 24 * H);
	assert_int_equal(ledger_month_end_ms("2026-11"), DEC1);
	assert_int_equal(ledger_month_end_ms("2026-13"), 0);
	assert_int_equal(ledger_month_start_ms("junk"), 0);
}

static struct ledger_report rep(uint64_t boot, uint64_t ntp, uint64_t cl)
{
	struct ledger_report r;

	memset(&r, 0, sizeof(r));
	r.boot = boot;
	r.bytes[0] = ntp;
	r.bytes[2] = cl;
	return r;
}

/* A member's month: two commits by one leader, a new leader folding the
 * next report from the replicated cursor, a restart of the member, a
 * month boundary. */
static void fold(void **state)
{
	struct fsm_ledger a, b, c, d, e;
	struct ledger_report r;

	(void)state;
	r = rep(11, 7600, 520);
	assert_int_equal(ledger_fold(NULL, NULL, &r, "2026-12", 5, "gcp",
				     DEC1 + H, &a), 1);
	assert_int_equal(a.bytes[0], 7600);
	assert_int_equal(a.bytes[2], 520);
	assert_int_equal(a.first_ms, DEC1 + H);
	/* the same report again: nothing to commit */
	assert_int_equal(ledger_fold(&a, &a, &r, "2026-12", 5, "gcp",
				     DEC1 + 2 * H, &b), 0);
	/* more traffic, folded by another leader from the committed entry:
	 * only what is new is added */
	r = rep(11, 9120, 572);
	assert_int_equal(ledger_fold(&a, &a, &r, "2026-12", 5, "gcp",
				     DEC1 + 3 * H, &b), 1);
	assert_int_equal(b.bytes[0], 9120);
	assert_int_equal(b.bytes[2], 572);
	/* the member restarted: a new process counts from zero, all new */
	r = rep(12, 760, 52);
	assert_int_equal(ledger_fold(&b, &b, &r, "2026-12", 5, "gcp",
				     DEC1 + 4 * H, &c), 1);
	assert_int_equal(c.bytes[0], 9880);
	assert_int_equal(c.bytes[2], 624);
	assert_int_equal(c.boot, 12);
	/* a new month: what came since the last commit opens it */
	r = rep(12, 836, 52);
	assert_int_equal(ledger_fold(NULL, &c, &r, "2027-01", 5, "gcp",
				     DEC1 + 31 * 24 * H + 1, &d), 1);
	assert_string_equal(d.month, "2027-01");
	assert_int_equal(d.bytes[0], 76);
	assert_int_equal(d.bytes[2], 0);
	/* nothing reported (boot 0): nothing added */
	r = rep(0, 0, 0);
	assert_int_equal(ledger_fold(&d, &d, &r, "2027-01", 5, "gcp",
				     DEC1 + 32 * 24 * H, &e), 0);
	assert_int_equal(e.bytes[0], 76);
}

/* No projection before a day is measured; then the day's rate to the
 * month's end. */
static void projection(void **state)
{
	struct fsm_ledger a, b;
	struct ledger_report r;
	uint64_t day = 24 * H, t0 = DEC1 + day; /* Dec 2, 00:00 */

	(void)state;
	r = rep(1, 0, 0);
	ledger_fold(NULL, NULL, &r, "2026-12", 1, "gcp", t0, &a);
	r = rep(1, 500000000, 0);
	ledger_fold(&a, &a, &r, "2026-12", 1, "gcp", t0 + 12 * H, &b);
	assert_int_equal(b.day_bytes, 0);
	assert_int_equal(ledger_projected(&b, 500000000, t0 + 12 * H),
			 500000000);
	/* a day measured: 1 GB a day, 29 days to go */
	r = rep(1, 1000000000, 0);
	ledger_fold(&b, &b, &r, "2026-12", 1, "gcp", t0 + day, &a);
	assert_int_equal(a.day_bytes, 1000000000);
	assert_int_equal(a.mark_ms, t0 + day);
	assert_int_equal(ledger_projected(&a, 1000000000, t0 + day),
			 30ULL * 1000000000);
	/* the last instant of the month: actual */
	assert_int_equal(ledger_projected(&a, 7, DEC1 + 31 * day), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(months),
		cmocka_unit_test(fold),
		cmocka_unit_test(projection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
