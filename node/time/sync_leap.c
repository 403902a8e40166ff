/*
 * Leap seconds in the engine: what the node announces (LI), applying the
 * leap at its moment exactly once (leapsec.c decides when), discarding
 * samples measured next to it, and the window around it in which sources
 * marked `smearing` are not used.
 *
 * Virtual discipline: the correction steps by -1 s (insert) or +1 s
 * (delete) when the served time reaches the moment, and every source's
 * stored samples move by the same amount: the upstreams stepped too, so
 * without that shift the next update would see a 1 s error and slew the
 * leap back out (at 500 ppm, over half an hour).
 * Kernel discipline: STA_INS / STA_DEL are set during the leap day and
 * the kernel steps the clock; the clock readings and the upstreams then
 * step together and the samples need no shift. The bits are cleared as
 * soon as the kernel reports the leap done (TIME_OOP / TIME_WAIT).
 *
 * A uv timer wakes the engine at the moment; every publish checks again,
 * so a late or lost timer delays the step, never skips it.
 */
#include <time.h>

#include "node/base/log.h"
#include "node/time/sync_int.h"

#define NS 1000000000LL

static int last_day_of_month(int64_t unix_s)
{
	time_t t = (time_t)(unix_s + 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm.tm_mday == 1;
}

/* LI: a valid leap file decides; without one, the combined sources'
 * majority, believed only on the last day of a month (chrony does the
 * same: a leap can only end a month). */
static int leap_now(const struct sync *sy, int64_t served_ns)
{
	int64_t s = served_ns / NS;
	int li;

	if (sy->leap) {
		li = leap_indicator(sy->leap, s);
		if (li >= 0)
			return li;
	}
	if (sy->sel.leap && last_day_of_month(s))
		return sy->sel.leap;
	return 0;
}

static void day_str(int64_t end_s, char *out, size_t len)
{
	time_t t = (time_t)(end_s - 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d", &tm);
}

static void apply(struct sync *sy, int li, int64_t reading, int64_t served)
{
	int64_t late = served - leapsec_moment(sy->lsec, NULL);
	double step = li == 1 ? -1.0 : 1.0;
	int64_t end;
	char day[16];
	int i;

	/* Virtual: the oscillator is the clock reading itself. */
	if (sy->mode == DISC_VIRTUAL) {
		if (disc_leap_step(sy->disc, reading, step) < 0)
			return;
		for (i = 0; i < sy->n_slot; i++)
			source_leap_shift(sy->slot[i].src, step);
		sync_claim_arm_slew(sy, reading);
	}
	leapsec_applied(sy->lsec);
	end = leapsec_last(sy->lsec, NULL);
	day_str(end, day, sizeof(day));
	/* The kernel steps at the exact moment itself; we only notice. */
	if (sy->mode == DISC_KERNEL)
		log_info("sync: leap second %s at the end of %s (UTC 23:59:59 "
			 "%s) by the kernel", li == 1 ? "inserted" : "deleted",
			 day, li == 1 ? "repeated" : "skipped");
	else
		log_info("sync: leap second %s at the end of %s (UTC 23:59:59 "
			 "%s), %.3f ms after the moment",
			 li == 1 ? "inserted" : "deleted", day,
			 li == 1 ? "repeated" : "skipped", (double)late * 1e-6);
}

/*
 * Kernel: keep the leap bit in step with the pending leap, and say when
 * the kernel has done it. After an insert the clock reads the last second
 * of the day again, so "served >= moment" cannot tell; the kernel's state
 * (TIME_OOP during the inserted second, TIME_WAIT after either) can.
 */
static int kernel_due(struct sync *sy, int64_t served)
{
	int li, state;
	int64_t m = leapsec_moment(sy->lsec, &li);
	int want = m ? li : 0, near = m && served >= m - NS;

	if (want == sy->kleap && !near)
		return 0;
	state = disc_kernel_leap(sy->disc, want);
	if (state < 0)
		return 0;
	sy->kleap = want;
	if (!near)
		return 0;
	if (state == TIME_OOP || state == TIME_WAIT)
		return li;
	if (served >= m + LEAPSEC_GUARD_NS) {
		/* Someone cleared the bit: the discipline will see the 1 s
		 * error and slew it out; stop waiting for the kernel. */
		log_warnx("sync: the kernel did not apply the leap second "
			  "(clock state %d)", state);
		leapsec_skipped(sy->lsec);
	}
	return 0;
}

static void leap_cb(uv_timer_t *t)
{
	struct sync *sy = t->data;

	sync_claim_publish(sy, clk_raw_ns());
}

/* Wake at the moment; long waits end 1 s early and re-arm, so a clock
 * that drifts against the loop's monotonic time cannot make it late. */
static void arm(struct sync *sy, int64_t served)
{
	int64_t m = leapsec_moment(sy->lsec, NULL), wait;

	uv_timer_stop(&sy->leap_timer);
	if (!m)
		return;
	wait = m - served;
	if (wait > 2 * NS)
		wait -= NS;
	uv_timer_start(&sy->leap_timer, leap_cb,
		       wait > 0 ? sync_ns_to_ms(wait) : 1, 0);
}

/* Samples next to the moment are discarded (source_set_guard()). The
 * guard stays after the leap (it is in the past then) and after a
 * withdrawn one: losing 4 s of samples costs nothing. */
static void guard(struct sync *sy, int64_t served, int64_t reading)
{
	int64_t m = leapsec_moment(sy->lsec, NULL), osc;
	int i;

	if (!m)
		return;
	osc = reading - llround(disc_in_clock(sy->disc, reading) * 1e9) +
	      (m - served);
	for (i = 0; i < sy->n_slot; i++)
		source_set_guard(sy->slot[i].src, osc - LEAPSEC_GUARD_NS,
				 osc + LEAPSEC_GUARD_NS);
}

int sync_leap_publish(struct sync *sy, struct tstate *ts, int64_t reading)
{
	int64_t served = tstate_served_ns(ts, reading);
	int due;

	/* In holdover there is no vote to go by: keep what was announced. */
	if (sy->synced && !sy->holdover)
		leapsec_announce(sy->lsec, served, leap_now(sy, served));
	due = sy->mode == DISC_KERNEL ? kernel_due(sy, served) :
					leapsec_due(sy->lsec, served);
	if (due)
		apply(sy, due, reading, served);
	if (sy->mode == DISC_KERNEL && !leapsec_moment(sy->lsec, NULL))
		kernel_due(sy, served); /* applied or skipped: clear the bit */
	if (due) {
		disc_fill_tstate(sy->disc, ts);
		served = tstate_served_ns(ts, reading);
	}
	guard(sy, served, reading);
	arm(sy, served);
	return leapsec_li(sy->lsec, served, leap_now(sy, served));
}

int sync_leap_window(const struct sync *sy, int64_t served)
{
	return leapsec_window(sy->lsec, served) ||
	       (sy->leap && leap_near(sy->leap, served / NS,
				      LEAPSEC_SMEAR_NS / NS));
}
