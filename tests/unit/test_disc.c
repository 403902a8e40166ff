/*
 * Discipline: virtual slew limits, makestep, and the kernel maths through
 * a fake adjtimex (the real one is never called with changes by tests).
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

#define S 1000000000LL
#define MS 1000000LL

static const struct disc_params vparams = {
	.mode = DISC_VIRTUAL, .maxslew = 500e-6, .step_threshold = 1.0,
	.step_limit = 3,
};

static double served_minus_raw(const struct tstate *ts, int64_t raw)
{
	return ts->corr_offset + ts->corr_freq * (double)(raw - ts->corr_base_ns) * 1e-9;
}

static void test_first_update_sets_directly(void **st)
{
	struct disc *d = disc_new(&vparams, 0);
	struct tstate ts;

	(void)st;
	assert_int_equal(disc_update(d, 10 * S, 0.25, 3e-6, 1), DISC_STEPPED);
	disc_fill_tstate(d, &ts);
	assert_true(fabs(served_minus_raw(&ts, 10 * S) - 0.25) < 1e-12);
	assert_true(fabs(served_minus_raw(&ts, 20 * S) - (0.25 + 30e-6)) < 1e-12);
	assert_int_equal(disc_slew_end(d), 0);
	disc_free(d);
}

/* A later error is slewed at exactly maxslew and ends when it is gone. */
static void test_slew_rate_limit(void **st)
{
	struct disc *d = disc_new(&vparams, 0);
	struct tstate ts;
	int64_t t0 = 10 * S, end;
	double prev;

	(void)st;
	disc_update(d, 0, 0.0, 0.0, 1);
	assert_int_equal(disc_update(d, t0, 0.010, 0.0, 1), DISC_SLEWED);
	end = disc_slew_end(d);
	assert_true(llabs(end - (t0 + 20 * S)) < 1000); /* 10 ms at 500 ppm */
	disc_fill_tstate(d, &ts);
	/* served time never moves faster than maxslew relative to raw */
	prev = served_minus_raw(&ts, t0);
	assert_true(fabs(prev) < 1e-12);
	for (int64_t t = t0 + S; t <= end; t += S) {
		double c = served_minus_raw(&ts, t);

		assert_true(c - prev <= 500e-6 + 1e-12);
		prev = c;
	}
	/* at the slew end the engine re-publishes: the target, no more slew */
	disc_tick(d, end);
	disc_fill_tstate(d, &ts);
	assert_true(fabs(served_minus_raw(&ts, end) - 0.010) < 1e-9);
	assert_true(fabs(ts.corr_freq) < 1e-12);
	assert_true(fabs(disc_remaining(d, end + S)) < 1e-9);
	assert_int_equal(disc_steps(d), 1);
	disc_free(d);
}

static void test_late_tick_converges(void **st)
{
	struct disc *d = disc_new(&vparams, 0);

	(void)st;
	disc_update(d, 0, 0.0, 1e-6, 1);
	disc_update(d, S, -0.002, 1e-6, 1);
	/* the tick comes 3 s late: the overshoot is slewed back */
	disc_tick(d, disc_slew_end(d) + 3 * S);
	assert_true(disc_slew_end(d) != 0);
	disc_tick(d, disc_slew_end(d));
	assert_true(fabs(disc_remaining(d, 100 * S)) < 1e-9);
	disc_free(d);
}

/*
 * The re-publish at the slew end comes from a millisecond timer, typically
 * a fraction of a millisecond late, and the published line slews on until
 * then. Slewing that overshoot back would overshoot again just as much: the
 * correction went back and forth every millisecond for ever (about 700
 * re-publishes a second in the accuracy benchmark). A late tick whose
 * overshoot is within what such lateness makes ends the slew there.
 */
static void test_late_tick_small_overshoot_stops(void **st)
{
	struct disc *d = disc_new(&vparams, 0);
	struct tstate ts;
	int64_t end;

	(void)st;
	disc_update(d, 0, 0.0, 20e-6, 1);
	disc_update(d, S, 30e-6, 20e-6, 1); /* 10 us up: 20 ms at 500 ppm */
	end = disc_slew_end(d);
	assert_true(end > S);
	disc_tick(d, end + 800000); /* 0.8 ms late: 0.4 us over */
	assert_int_equal(disc_slew_end(d), 0);
	disc_fill_tstate(d, &ts);
	assert_true(fabs(ts.corr_freq - 20e-6) < 1e-12);
	assert_true(fabs(disc_remaining(d, end + S) + 0.4e-6) < 1e-9);
	/* the next update slews the rest as usual */
	disc_update(d, end + S, 30e-6 + 20e-6 * 1e-9 * (double)end, 20e-6, 1);
	assert_true(disc_slew_end(d) != 0);
	disc_free(d);
}

static void test_makestep(void **st)
{
	struct disc *d = disc_new(&vparams, 0);

	(void)st;
	assert_int_equal(disc_update(d, 0, 0.0, 0, 1), DISC_STEPPED); /* 1st */
	assert_int_equal(disc_update(d, S, 0.5, 0, 1), DISC_SLEWED);   /* < 1 s */
	assert_int_equal(disc_update(d, 2 * S, 2.0, 0, 1), DISC_STEPPED); /* 3rd */
	assert_true(fabs(disc_correction(d, 2 * S) - 2.0) < 1e-12);
	/* beyond the limit (3 updates): slewed, never stepped */
	assert_int_equal(disc_update(d, 3 * S, 5.0, 0, 1), DISC_SLEWED);
	assert_true(fabs(disc_correction(d, 4 * S) - (2.0 + 500e-6)) < 1e-9);
	disc_free(d);
}

static void test_freq_kept_when_unknown_and_clamped(void **st)
{
	struct disc *d = disc_new(&vparams, 0);

	(void)st;
	disc_restore_freq(d, 0, 12e-6);
	assert_true(fabs(disc_freq(d) - 12e-6) < 1e-15);
	disc_update(d, S, 0.0, 99e-6, 0);
	assert_true(fabs(disc_freq(d) - 12e-6) < 1e-15);
	disc_update(d, 2 * S, 0.0, 0.9, 1);
	assert_true(fabs(disc_freq(d) - DISC_MAX_FREQ) < 1e-15);
	disc_free(d);
}

/* ---- kernel mode through a fake adjtimex ---- */

static struct {
	long freq;      /* scaled ppm */
	int status;
	long maxerror, esterror; /* us */
	long last_ss;   /* last singleshot, us */
	int64_t stepped_ns;
	int calls, fail;
} kern;

static int fake_adjtimex(struct timex *tx)
{
	kern.calls++;
	if (kern.fail)
		return -1;
	if (tx->modes == 0) {
		tx->freq = kern.freq;
		tx->status = kern.status;
		tx->maxerror = kern.maxerror;
		tx->esterror = kern.esterror;
		return 0;
	}
	if (tx->modes == ADJ_OFFSET_SINGLESHOT) {
		kern.last_ss = tx->offset;
		return 0;
	}
	if (tx->modes & ADJ_SETOFFSET) {
		assert_true(tx->modes & ADJ_NANO);
		assert_true(tx->time.tv_usec >= 0 && tx->time.tv_usec < 1000000000);
		kern.stepped_ns += (int64_t)tx->time.tv_sec * S + tx->time.tv_usec;
		return 0;
	}
	if (tx->modes & ADJ_FREQUENCY)
		kern.freq = tx->freq;
	if (tx->modes & ADJ_STATUS)
		kern.status = tx->status;
	if (tx->modes & ADJ_MAXERROR)
		kern.maxerror = tx->maxerror;
	if (tx->modes & ADJ_ESTERROR)
		kern.esterror = tx->esterror;
	return 0;
}

/*
 * What the rest of the system reads from the kernel (the fake's state):
 * timedatectl's "System clock synchronized" (systemd's ntp_synced()) and
 * node_exporter's node_timex_sync_status are !(status & STA_UNSYNC);
 * `adjtimex -p` prints status, maxerror and esterror (us); node_exporter's
 * node_timex_maxerror_seconds / node_timex_estimated_error_seconds are
 * those / 1e6, and the usual NodeClockNotSynchronising alert fires on
 * sync_status 0 with maxerror >= 16 s.
 */
static int seen_synced(void)
{
	return !(kern.status & STA_UNSYNC);
}

static void test_kernel_sync_status(void **st)
{
	struct disc_params p = vparams;
	struct disc *d;

	(void)st;
	memset(&kern, 0, sizeof(kern));
	kern.status = 0;        /* an earlier run left it "synchronized" */
	p.mode = DISC_KERNEL;
	p.adjtimex = fake_adjtimex;
	d = disc_new(&p, 0);
	assert_non_null(d);
	/* not synchronized until the engine says so */
	assert_false(seen_synced());
	assert_int_equal(kern.maxerror, 16000000);
	assert_int_equal(kern.esterror, 16000000);

	/* synchronized: root distance 25 ms, jitter 1 ms */
	assert_int_equal(disc_kernel_sync(d, 1, 0.025, 0.001), 0);
	assert_true(seen_synced());
	assert_int_equal(kern.maxerror, 25000);
	assert_int_equal(kern.esterror, 1000);

	/* a leap bit set meanwhile survives; holdover past its limit */
	kern.status |= STA_INS;
	assert_int_equal(disc_kernel_sync(d, 0, 0.025, 0.001), 0);
	assert_false(seen_synced());
	assert_true(kern.status & STA_INS);
	assert_int_equal(kern.maxerror, 16000000);
	assert_int_equal(kern.esterror, 16000000);

	/* again; the leap bit still there */
	assert_int_equal(disc_kernel_sync(d, 1, 0.5, 0.002), 0);
	assert_true(seen_synced());
	assert_true(kern.status & STA_INS);
	assert_int_equal(kern.maxerror, 500000);

	/* a distance the kernel would call unsynchronized, or nonsense */
	assert_int_equal(disc_kernel_sync(d, 1, 16.0, 0.001), 0);
	assert_false(seen_synced());
	assert_int_equal(disc_kernel_sync(d, 1, 0.01, 0.001), 0);
	assert_int_equal(disc_kernel_sync(d, 1, NAN, 0.001), 0);
	assert_false(seen_synced());
	assert_int_equal(kern.maxerror, 16000000);
	assert_int_equal(disc_kernel_sync(d, 1, 0.01, INFINITY), 0);
	assert_true(seen_synced());
	assert_int_equal(kern.esterror, 16000000);

	/* a failing adjtimex is an error, not a crash */
	kern.fail = 1;
	assert_int_equal(disc_kernel_sync(d, 0, 0, 0), -1);
	disc_free(d);

	/* virtual: the kernel is never touched */
	memset(&kern, 0, sizeof(kern));
	d = disc_new(&vparams, 0);
	assert_int_equal(disc_kernel_sync(d, 1, 0.01, 0.001), 0);
	assert_int_equal(disc_kernel_sync(d, 0, 0, 0), 0);
	assert_int_equal(kern.calls, 0);
	disc_free(d);
}

static void test_kernel_maths(void **st)
{
	struct disc_params p = vparams;
	struct disc *d;
	struct tstate ts = { .corr_offset = 1 };

	(void)st;
	memset(&kern, 0, sizeof(kern));
	kern.freq = 10 * 65536; /* 10 ppm already set */
	kern.status = STA_PLL;
	p.mode = DISC_KERNEL;
	p.adjtimex = fake_adjtimex;
	d = disc_new(&p, 0);
	assert_non_null(d);
	assert_int_equal(kern.status & STA_PLL, 0);
	assert_true(fabs(disc_freq(d) - 10e-6) < 1e-15);
	/* the existing kernel frequency is part of the correction */
	assert_true(fabs(disc_in_clock(d, 100 * S) - 1e-3) < 1e-12);

	/* first update: stepped by (target - c(now)), as ADJ_SETOFFSET */
	assert_int_equal(disc_update(d, 100 * S, -0.25, 12e-6, 1), DISC_STEPPED);
	assert_int_equal(kern.stepped_ns, -251 * MS);
	assert_int_equal(kern.freq, 12 * 65536);
	assert_int_equal(kern.last_ss, 0);
	assert_true(fabs(disc_in_clock(d, 100 * S) + 0.25) < 1e-12);

	/* small error: singleshot in us, the kernel slews it at 500 ppm */
	assert_int_equal(disc_update(d, 200 * S, -0.25 + 12e-6 * 100 + 0.003,
				     12e-6, 1), DISC_SLEWED);
	assert_int_equal(kern.last_ss, 3000);
	assert_true(llabs(disc_slew_end(d) - (200 * S + 6 * S)) < 1000);
	assert_true(fabs(disc_in_clock(d, 203 * S) -
			 (-0.25 + 12e-6 * 103 + 0.0015)) < 1e-9);
	/* kernel mode publishes no virtual correction */
	disc_fill_tstate(d, &ts);
	assert_true(ts.corr_offset == 0 && ts.corr_freq == 0);
	/* slew over: only the frequency remains, nothing re-issued */
	kern.calls = 0;
	disc_tick(d, 207 * S);
	assert_int_equal(kern.calls, 0);
	assert_true(fabs(disc_remaining(d, 300 * S)) < 1e-6);
	/* frequency clamped to the kernel's limit */
	disc_update(d, 300 * S, disc_correction(d, 300 * S), 800e-6, 1);
	assert_int_equal(kern.freq, 500 * 65536);
	/* a failing adjtimex is an error, not a crash */
	kern.fail = 1;
	assert_int_equal(disc_update(d, 400 * S, 0, 0, 1), -1);
	disc_free(d);
	assert_null(disc_new(&p, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_update_sets_directly),
		cmocka_unit_test(test_slew_rate_limit),
		cmocka_unit_test(test_late_tick_converges),
		cmocka_unit_test(test_late_tick_small_overshoot_stops),
		cmocka_unit_test(test_makestep),
		cmocka_unit_test(test_freq_kept_when_unknown_and_clamped),
		cmocka_unit_test(test_kernel_maths),
		cmocka_unit_test(test_kernel_sync_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
