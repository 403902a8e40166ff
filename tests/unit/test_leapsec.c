/*
 * Leap-second application without a clock: a fake oscillator walks across
 * a midnight with a leap announced, the way sync_leap.c drives leapsec.c
 * and disc.c on every publish. The served time must step back (insert) or
 * forward (delete) by exactly 1 s, once, LI 0 after; the samples shifted
 * with it keep the discipline from slewing the leap back out; replies
 * measured next to the leap are discarded; the kernel gets STA_INS /
 * STA_DEL through a fake adjtimex.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/time/disc.h"
#include "node/time/filter.h"
#include "node/time/leapsec.h"
#include "node/ntp/ntp.h"
#include "node/time/source.h"

#define S 1000000000LL
#define MS 1000000LL
#define M (1798761600LL * S) /* 2027-01-01T00:00:00Z */

static const struct disc_params vparams = {
	.mode = DISC_VIRTUAL, .maxslew = 500e-6, .step_threshold = 1.0,
	.step_limit = 3,
};

struct node {
	struct disc *d;
	struct leapsec *l;
	int announce;  /* LI the leap file says for the day ending at M */
	int steps;     /* leaps applied by publish() */
};

static int64_t served(const struct node *n, int64_t osc)
{
	return osc + llround(disc_correction(n->d, osc) * 1e9);
}

/* LI for the served day: the leap file's answer (only the day before M). */
static int announced(const struct node *n, int64_t s)
{
	return s >= M - 86400 * S && s < M ? n->announce : 0;
}

/* One publish as sync_leap_publish() does it; returns the LI served. */
static int publish(struct node *n, int64_t osc)
{
	int64_t s = served(n, osc);
	int due;

	leapsec_announce(n->l, s, announced(n, s));
	due = leapsec_due(n->l, s);
	if (due) {
		assert_int_equal(disc_leap_step(n->d, osc, due == 1 ? -1.0 : 1.0), 0);
		leapsec_applied(n->l);
		n->steps++;
		s = served(n, osc);
	}
	return leapsec_li(n->l, s, announced(n, s));
}

static void node_init(struct node *n, int li)
{
	memset(n, 0, sizeof(*n));
	n->d = disc_new(&vparams, 0);
	n->l = leapsec_new();
	assert_non_null(n->d);
	assert_non_null(n->l);
	n->announce = li;
	/* synchronized: oscillator 0.25 s behind UTC, a slew in progress */
	assert_int_equal(disc_update(n->d, M - 100 * S, 0.25, 0, 1),
			 DISC_STEPPED);
	assert_int_equal(disc_update(n->d, M - 4 * S, 0.253, 0, 1),
			 DISC_SLEWED);
}

static void node_free(struct node *n)
{
	disc_free(n->d);
	leapsec_free(n->l);
}

/* Walks the oscillator in 1 ms steps from 3 s before the moment to 3 s
 * after; returns the served-time jumps (other than the 1 ms advance). */
static int walk(struct node *n, int64_t moment, double *jump, int *li_before,
		int *li_after)
{
	int64_t osc, start = moment - 3 * S - 250 * MS, prev = 0;
	int jumps = 0, li;

	for (osc = start; osc < start + 6 * S; osc += MS) {
		li = publish(n, osc);
		if (prev) {
			int64_t d = served(n, osc) - prev - MS;

			if (llabs(d) > 1000) {
				*jump = (double)d * 1e-9;
				jumps++;
			}
		}
		if (!jumps)
			*li_before = li;
		else
			*li_after = li;
		prev = served(n, osc);
		/* a second publish at the same instant changes nothing */
		assert_int_equal(publish(n, osc), li);
		assert_int_equal(served(n, osc), prev);
	}
	return jumps;
}

static void test_insert(void **st)
{
	struct node n;
	double jump = 0;
	int li_before = -1, li_after = -1;
	int64_t m;

	(void)st;
	node_init(&n, 1);
	leapsec_announce(n.l, served(&n, M - 80 * S), 1);
	m = leapsec_moment(n.l, NULL);
	assert_int_equal(m, M);
	assert_int_equal(walk(&n, M, &jump, &li_before, &li_after), 1);
	assert_true(fabs(jump + 1.0) < 2e-6);
	assert_int_equal(li_before, 1);
	assert_int_equal(li_after, 0);
	assert_int_equal(n.steps, 1);
	assert_int_equal(leapsec_count(n.l, 1), 1);
	assert_int_equal(leapsec_count(n.l, 2), 0);
	assert_int_equal(leapsec_last(n.l, NULL), M / S);
	/* the slew in progress (3 ms from M - 4 s at 500 ppm) goes on:
	 * target and correction moved together */
	assert_true(fabs(disc_remaining(n.d, M + S) - 0.0005) < 1e-6);
	assert_true(fabs(disc_correction(n.d, M + 2 * S) - (0.253 - 1.0)) < 1e-6);
	node_free(&n);
}

static void test_delete(void **st)
{
	struct node n;
	double jump = 0;
	int li_before = -1, li_after = -1;

	(void)st;
	node_init(&n, 2);
	leapsec_announce(n.l, served(&n, M - 80 * S), 2);
	assert_int_equal(leapsec_moment(n.l, NULL), M - S);
	assert_int_equal(walk(&n, M - S, &jump, &li_before, &li_after), 1);
	assert_true(fabs(jump - 1.0) < 2e-6);
	assert_int_equal(li_before, 2);
	assert_int_equal(li_after, 0);
	assert_int_equal(n.steps, 1);
	assert_int_equal(leapsec_count(n.l, 2), 1);
	node_free(&n);
}

/* A vote that changes its mind before the day ends withdraws the leap. */
static void test_withdrawn(void **st)
{
	struct leapsec *l = leapsec_new();

	(void)st;
	leapsec_announce(l, M - 3600 * S, 1);
	assert_int_equal(leapsec_moment(l, NULL), M);
	leapsec_announce(l, M - 1800 * S, 0);
	assert_int_equal(leapsec_moment(l, NULL), 0);
	assert_int_equal(leapsec_due(l, M + S), 0);
	/* announced, then nothing to go by (holdover): still published */
	leapsec_announce(l, M - 3600 * S, 1);
	assert_int_equal(leapsec_li(l, M - 600 * S, 0), 1);
	assert_int_equal(leapsec_li(l, M - 86400 * S - S, 0), 0);
	leapsec_announce(l, M - 1800 * S, 0);
	/* a leap announced for another day does not count for this one */
	leapsec_announce(l, M - 86400 * S - S, 1);
	assert_int_equal(leapsec_moment(l, NULL), M - 86400 * S);
	leapsec_free(l);
}

/*
 * After the step the upstreams' samples are 1 s lower too. Shifted with
 * the correction, the next update sees no error: no step, no slew back.
 * Without the shift it would see +1 s (the failure this guards against).
 */
static void test_no_slew_back(void **st)
{
	struct disc *d = disc_new(&vparams, 0);
	struct filter *f = filter_new(), *g = filter_new();
	struct filter_sample smp;
	struct filter_est e;
	int64_t t;

	(void)st;
	memset(&smp, 0, sizeof(smp));
	smp.delay = 0.001;
	for (t = M - 64 * S; t < M - 2 * S; t += 2 * S) {
		smp.t = t;
		smp.offset = 0.25;
		filter_add(f, &smp);
		filter_add(g, &smp);
	}
	disc_update(d, 0, 0.25, 0, 1);
	disc_update(d, M - 3 * S, 0.25, 0, 1);
	assert_int_equal(disc_leap_step(d, M, -1.0), 0);
	filter_shift(f, -1.0);
	for (t = M + 2 * S; t < M + 10 * S; t += 2 * S) {
		smp.t = t;
		smp.offset = -0.75; /* the upstreams inserted the leap */
		filter_add(f, &smp);
		filter_add(g, &smp);
	}
	filter_estimate(f, M + 10 * S, &e);
	assert_true(fabs(e.offset + 0.75) < 1e-6);
	assert_int_equal(disc_update(d, M + 10 * S, e.offset, e.freq, 0),
			 DISC_SLEWED);
	assert_true(fabs(disc_correction(d, M + 10 * S) + 0.75) < 1e-6);
	assert_true(fabs(disc_remaining(d, M + 10 * S)) < 1e-6);
	/* unshifted, the filter's estimate is far off (a step in its
	 * history), and the discipline would act on it */
	filter_estimate(g, M + 10 * S, &e);
	print_message("unshifted filter: %+.6f s\n", e.offset);
	assert_true(fabs(e.offset + 0.75) > 0.1);
	filter_free(f);
	filter_free(g);
	disc_free(d);
}

/* ---- replies measured next to the leap are discarded ---- */

static void reply(const uint8_t *req, uint8_t *out, int64_t t1)
{
	struct ntp_hdr q, h;

	ntp_decode(req, &q);
	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.mode = NTP_MODE_SERVER;
	h.stratum = 1;
	h.precision = -20;
	h.root_disp = ntp_short_from_s(0.001);
	h.org = q.xmt;
	h.rec = ntp_ts_from_ns(t1 + 2 * MS);
	h.xmt = ntp_ts_from_ns(t1 + 2 * MS);
	ntp_encode(&h, out);
}

static enum source_verdict exchange(struct source *s, int64_t t1, int64_t t4)
{
	uint8_t req[48], rep[48];

	source_request(s, req, t1);
	reply(req, rep, t1);
	return source_reply(s, rep, 48, t4, NULL);
}

static void test_straddling_discarded(void **st)
{
	struct source_params p = { .minpoll = 0, .maxpoll = 4 };
	struct source *s = source_new(&p);
	struct source_info info;

	(void)st;
	source_set_guard(s, M - LEAPSEC_GUARD_NS, M + LEAPSEC_GUARD_NS);
	/* well before and well after: used */
	assert_int_equal(exchange(s, M - 10 * S, M - 10 * S + 4 * MS), SOURCE_OK);
	/* across the moment, and ending just before it: discarded */
	assert_int_equal(exchange(s, M - 2 * MS, M + 2 * MS), SOURCE_LEAP);
	assert_int_equal(exchange(s, M - S, M - S + 4 * MS), SOURCE_LEAP);
	/* the kernel's repeated second: t4 before t1 on the clock */
	assert_int_equal(exchange(s, M - 2 * MS, M - S + 2 * MS), SOURCE_LEAP);
	assert_int_equal(exchange(s, M + 10 * S, M + 10 * S + 4 * MS), SOURCE_OK);
	source_get_info(s, &info);
	assert_int_equal(info.bad[SOURCE_LEAP], 3);
	assert_int_equal(info.good, 2);
	assert_int_equal(filter_count(source_filter(s)), 2);
	/* the server answered: reach counts it */
	assert_int_equal(info.reach & 0xf, 0xf);
	source_free(s);
}

/* ---- kernel: STA_INS / STA_DEL through a fake adjtimex ---- */

static struct {
	int status, state, calls;
} kern;

static int fake_adjtimex(struct timex *tx)
{
	kern.calls++;
	if (tx->modes & ADJ_STATUS)
		kern.status = tx->status;
	tx->status = kern.status;
	return kern.state;
}

static void test_kernel_bits(void **st)
{
	struct disc_params p = vparams;
	struct disc *d;

	(void)st;
	memset(&kern, 0, sizeof(kern));
	/* a leap bit left by an earlier run is cleared at start */
	kern.status = STA_INS | STA_UNSYNC;
	p.mode = DISC_KERNEL;
	p.adjtimex = fake_adjtimex;
	d = disc_new(&p, 0);
	assert_non_null(d);
	assert_int_equal(kern.status, STA_UNSYNC);
	/* insert: STA_INS set, other bits kept; the state comes back */
	kern.state = TIME_INS;
	assert_int_equal(disc_kernel_leap(d, 1), TIME_INS);
	assert_int_equal(kern.status, STA_UNSYNC | STA_INS);
	/* after midnight the kernel says TIME_WAIT; the bit is cleared */
	kern.state = TIME_WAIT;
	assert_int_equal(disc_kernel_leap(d, 0), TIME_WAIT);
	assert_int_equal(kern.status, STA_UNSYNC);
	assert_int_equal(disc_kernel_leap(d, 2), TIME_WAIT);
	assert_int_equal(kern.status, STA_UNSYNC | STA_DEL);
	assert_int_equal(disc_kernel_leap(d, 0), TIME_WAIT);
	assert_int_equal(kern.status & (STA_INS | STA_DEL), 0);
	/* the kernel steps the clock itself: the correction does not move */
	assert_int_equal(disc_leap_step(d, 0, -1.0), 0);
	assert_true(fabs(disc_correction(d, 0)) < 1e-12);
	kern.state = -1;
	assert_int_equal(disc_kernel_leap(d, 1), -1);
	disc_free(d);
}

/* The smear window: 12 h either side of a pending or applied leap. */
static void test_window(void **st)
{
	struct leapsec *l = leapsec_new();

	(void)st;
	assert_false(leapsec_window(l, M));
	leapsec_announce(l, M - 20 * 3600 * S, 1);
	assert_false(leapsec_window(l, M - 12 * 3600 * S - S));
	assert_true(leapsec_window(l, M - 12 * 3600 * S));
	leapsec_applied(l);
	assert_true(leapsec_window(l, M + 12 * 3600 * S - S));
	assert_false(leapsec_window(l, M + 12 * 3600 * S));
	leapsec_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_withdrawn),
		cmocka_unit_test(test_no_slew_back),
		cmocka_unit_test(test_straddling_discarded),
		cmocka_unit_test(test_kernel_bits),
		cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
