/*
 * The self-suspicion rule (node/crosscheck/xcdecide.h) on table cases:
 * 3, 4 and 5 members; one liar; two liars of five; asymmetric delay that
 * is not a lie; one peer measured; a peer that flaps; and the verdict over
 * checks (suspect at the 2nd candidate, cleared by 3 ok, unknown never
 * clears).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/crosscheck/xcdecide.h"
#include "node/crosscheck/xcpeer.h"

#define MS 1e-3
#define US 1e-6

struct row {
	const char *what;
	double own_half;
	int np;
	struct xcd_peer p[6];
	enum xcd_result want;
	int best;               /* -1: not checked */
};

/* offsets are peer minus us; half = delay/2 + dispersion + root distance */
static const struct row rows[] = {
	{ "3 members on one clock (local stratum, loopback)", 0, 2,
	  { { 2, 3 * US, 60 * US }, { 3, -4 * US, 55 * US } },
	  XCD_OK, 3 },
	{ "3 members, ours 20 ms fast: both peers 20 ms behind us", 0, 2,
	  { { 2, -20 * MS, 60 * US }, { 3, -20 * MS + 5 * US, 60 * US } },
	  XCD_CANDIDATE, 2 },
	{ "3 members, one liar 500 ms off", 0.5 * MS, 2,
	  { { 2, 0.1 * MS, 1 * MS }, { 3, 500 * MS, 1 * MS } },
	  XCD_OK, 2 },
	{ "3 members, both peers off and apart: no majority", 0.5 * MS, 2,
	  { { 2, 30 * MS, 1 * MS }, { 3, -30 * MS, 1 * MS } },
	  XCD_UNKNOWN, 1 },
	{ "4 members agree", 1 * MS, 3,
	  { { 2, 0.5 * MS, 1 * MS }, { 3, -0.4 * MS, 2 * MS },
	    { 4, 0.2 * MS, 1 * MS } },
	  XCD_OK, 4 },
	{ "4 members, we are 30 ms off", 1 * MS, 3,
	  { { 2, -30 * MS, 1 * MS }, { 3, -30.5 * MS, 2 * MS },
	    { 4, -29.8 * MS, 1 * MS } },
	  XCD_CANDIDATE, 3 },
	{ "4 members split 2 and 2: no majority", 1 * MS, 3,
	  { { 2, 0.5 * MS, 1 * MS }, { 3, 40 * MS, 1 * MS },
	    { 4, 40.2 * MS, 1 * MS } },
	  XCD_UNKNOWN, 2 },
	{ "5 members, two liars that agree with each other", 1 * MS, 4,
	  { { 2, 0.2 * MS, 1 * MS }, { 3, -0.3 * MS, 1 * MS },
	    { 4, 80 * MS, 1 * MS }, { 5, 80.5 * MS, 1 * MS } },
	  XCD_OK, 3 },
	{ "5 members, two liars apart", 1 * MS, 4,
	  { { 2, 0.2 * MS, 1 * MS }, { 3, -0.3 * MS, 1 * MS },
	    { 4, 80 * MS, 1 * MS }, { 5, -500 * MS, 1 * MS } },
	  XCD_OK, 3 },
	{ "5 members, we are one of two liars", 1 * MS, 4,
	  { { 2, 0.1 * MS, 1 * MS }, { 3, -50 * MS, 1 * MS },
	    { 4, -50.3 * MS, 1 * MS }, { 5, -49.8 * MS, 1 * MS } },
	  XCD_CANDIDATE, 3 },
	{ "asymmetric path (40 ms delay, offset biased 12 ms): not a lie",
	  0.5 * MS, 2,
	  { { 2, 12 * MS, 20 * MS + 0.5 * MS }, { 3, 0.1 * MS, 0.6 * MS } },
	  XCD_OK, 3 },
	{ "both paths slow and asymmetric, opposite ways", 0.5 * MS, 2,
	  { { 2, 12 * MS, 21 * MS }, { 3, -9 * MS, 16 * MS } },
	  XCD_OK, 3 },
	{ "only 1 peer measured, however far off", 0.5 * MS, 1,
	  { { 2, 200 * MS, 1 * MS } },
	  XCD_UNKNOWN, -1 },
	{ "nobody answered", 0.5 * MS, 0, { { 0, 0, 0 } }, XCD_UNKNOWN, 1 },
	{ "touching intervals share a point", 1 * MS, 2,
	  { { 2, 2 * MS, 1 * MS }, { 3, 2 * MS, 1 * MS } },
	  XCD_OK, 3 },
	{ "a peer's nonsense (NaN) does not count: 1 peer left", 0.5 * MS,
	  2, { { 2, NAN, 1 * MS }, { 3, 0, 1 * MS } },
	  XCD_UNKNOWN, -1 },
};

static void decision_table(void **state)
{
	struct xcd_decision d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		xcd_decide(r->own_half, r->p, r->np, &d);
		if (d.result != r->want ||
		    (r->best >= 0 && d.best != r->best))
			fail_msg("%s: got %s (best %d), want %s (best %d)",
				 r->what, xcd_result_name(d.result), d.best,
				 xcd_result_name(r->want), r->best);
	}
}

/* The decisive set names the peers against us, and the consensus offset
 * is us minus the median of the others. */
static void decision_details(void **state)
{
	struct xcd_peer p[3] = { { 7, -20 * MS, 0.1 * MS },
				 { 8, -20.05 * MS, 0.1 * MS },
				 { 9, 5 * MS, 0.1 * MS } };
	struct xcd_decision d;

	(void)state;
	xcd_decide(0, p, 3, &d);
	assert_int_equal(d.result, XCD_UNKNOWN);   /* 2 of 4 is no majority */
	p[2].offset = -19.9 * MS;
	xcd_decide(0, p, 3, &d);
	/* [-20.1,-19.9], [-20.15,-19.95], [-20.0,-19.8]: all at -20 ms */
	assert_int_equal(d.result, XCD_CANDIDATE);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.best, 3);
	assert_int_equal(d.n_with, 3);
	assert_true(fabs(d.from_median - 20 * MS) < 1e-9);
	assert_true(d.lo <= d.hi && d.hi < 0);
	/* even count: the mean of the middle two */
	xcd_decide(0, p, 2, &d);
	assert_true(fabs(d.from_median - 20.025 * MS) < 1e-9);
}

/* The verdict over checks. */
struct seq {
	const char *what;
	const char *results;    /* o ok, c candidate, u unknown */
	const char *verdicts;   /* o ok, s suspect, u unknown */
};

static const struct seq seqs[] = {
	{ "suspect at the 2nd consecutive candidate", "cc", "us" },
	{ "candidates must be consecutive", "cucuco", "uuuuuo" },
	{ "3 ok checks clear", "ccooo", "ussso" },
	{ "unknown never clears, and breaks the ok run", "ccoouooo",
	  "usssssso" },
	{ "a candidate breaks the ok run too", "ccoocooo", "usssssso" },
	{ "a peer that flaps (unknown between ok) never accuses",
	  "ououououou", "ououououou" },
	{ "suspect again after clearing", "cccooocc", "ussssous" },
};

static void verdict_sequences(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		struct xcd_state st = { 0 };
		const struct seq *q = &seqs[i];
		int changed, transitions = 0, want_tr = 0;

		for (k = 0; q->results[k]; k++) {
			enum xcd_result r = q->results[k] == 'o' ? XCD_OK :
					    q->results[k] == 'c' ?
					    XCD_CANDIDATE : XCD_UNKNOWN;
			enum xcd_verdict v = xcd_step(&st, r, &changed);
			char got = v == XCD_V_OK ? 'o' :
				   v == XCD_V_SUSPECT ? 's' : 'u';

			if (got != q->verdicts[k])
				fail_msg("%s: check %zu: verdict %c, want %c",
					 q->what, k + 1, got, q->verdicts[k]);
			transitions += changed;
			want_tr += k > 0 && ((q->verdicts[k] == 's') !=
					     (q->verdicts[k - 1] == 's'));
		}
		assert_int_equal(transitions, want_tr);
	}
}

/* A flapping peer over real windows: it answers every other check, still
 * counts (one sample in the last three checks is enough), so the honest
 * member stays decidable and ok. */
static void flapping_peer_window(void **state)
{
	struct xcp_peer a = { 0 }, b = { 0 };
	struct xcp_sample s;
	struct xcd_peer p[2];
	struct xcd_decision d;
	int64_t check;
	double delay;
	int np;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.delay = 100 * US;
	s.disp = 2 * US;
	for (check = 1; check <= 12; check++) {
		s.check = check;
		s.t_ns = check * 1000000000LL;
		s.offset = 10 * US;
		xcp_add(&a, &s);
		if (check % 2) {
			s.offset = -10 * US;
			xcp_add(&b, &s);
		}
		np = 0;
		if (xcp_best(&a, check, s.t_ns, 0, &p[np].offset, &p[np].half,
			     &delay) == 0)
			p[np++].id = 2;
		if (xcp_best(&b, check, s.t_ns, 0, &p[np].offset, &p[np].half,
			     &delay) == 0)
			p[np++].id = 3;
		xcd_decide(0, p, np, &d);
		assert_int_equal(np, 2);
		assert_int_equal(d.result, XCD_OK);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decision_table),
		cmocka_unit_test(decision_details),
		cmocka_unit_test(verdict_sequences),
		cmocka_unit_test(flapping_peer_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
