#include "node/time/disc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"

#define DISC_EPS 1e-9 /* s: an error this small is done */
/*
 * How late the slew-end re-publish may come (s): a libuv timer of whole
 * milliseconds, rounded up. Until it comes the published line slews on,
 * so a late tick finds the correction past its target by up to maxslew x
 * this. Slewing that back would overshoot again by as much: the virtual
 * correction went back and forth every millisecond for ever (about 700
 * re-publishes a second, +-0.3 us, in the accuracy benchmark). Such a
 * residual is left to the next update.
 */
#define DISC_TICK_LATE 2e-3

struct disc {
	struct disc_params p;
	/* target: reference - oscillator = t_off + t_freq * (t - t_base) */
	double t_off, t_freq;
	int64_t t_base;
	/* correction: c(t) = c_off + c_rate * (t - c_base) until slew_end,
	 * then continues at t_freq */
	double c_off, c_rate;
	int64_t c_base, slew_end;
	int updates, steps;
};

static double sec(int64_t ns)
{
	return (double)ns * 1e-9;
}

static double clampf(double v, double lim)
{
	return v > lim ? lim : v < -lim ? -lim : v;
}

/*
 * Virtual: c is exactly the published line until the engine re-publishes
 * (disc_tick), late or not. Kernel: the kernel stops slewing by itself.
 */
double disc_correction(const struct disc *d, int64_t t)
{
	if (d->p.mode == DISC_KERNEL && d->slew_end && t > d->slew_end)
		return d->c_off + d->c_rate * sec(d->slew_end - d->c_base) +
		       d->t_freq * sec(t - d->slew_end);
	return d->c_off + d->c_rate * sec(t - d->c_base);
}

static double target(const struct disc *d, int64_t t)
{
	return d->t_off + d->t_freq * sec(t - d->t_base);
}

double disc_remaining(const struct disc *d, int64_t t)
{
	return target(d, t) - disc_correction(d, t);
}

double disc_in_clock(const struct disc *d, int64_t t)
{
	return d->p.mode == DISC_KERNEL ? disc_correction(d, t) : 0.0;
}

double disc_freq(const struct disc *d)
{
	return d->t_freq;
}

int disc_steps(const struct disc *d)
{
	return d->steps;
}

int64_t disc_slew_end(const struct disc *d)
{
	return d->slew_end;
}

static int kernel_freq(struct disc *d, double f)
{
	struct timex tx;

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	/* scaled ppm: ppm with a 16-bit fraction */
	tx.freq = lround(f * 1e6 * 65536.0);
	if (d->p.adjtimex(&tx) < 0) {
		log_warn("adjtimex(ADJ_FREQUENCY)");
		return -1;
	}
	return 0;
}

/* The kernel slews an ADJ_OFFSET_SINGLESHOT amount (us) at 500 ppm,
 * replacing any slew still in progress. */
static int kernel_slew(struct disc *d, long us)
{
	struct timex tx;

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	tx.offset = us;
	if (d->p.adjtimex(&tx) < 0) {
		log_warn("adjtimex(ADJ_OFFSET_SINGLESHOT)");
		return -1;
	}
	return 0;
}

static int kernel_step(struct disc *d, double off)
{
	struct timex tx;
	int64_t ns = llround(off * 1e9);

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_sec = ns / 1000000000;
	tx.time.tv_usec = ns % 1000000000; /* nanoseconds with ADJ_NANO */
	if (tx.time.tv_usec < 0) {
		tx.time.tv_usec += 1000000000;
		tx.time.tv_sec--;
	}
	if (d->p.adjtimex(&tx) < 0) {
		log_warn("adjtimex(ADJ_SETOFFSET)");
		return -1;
	}
	return 0;
}

struct disc *disc_new(const struct disc_params *p, int64_t now)
{
	struct disc *d = calloc(1, sizeof(*d));
	struct timex tx;

	if (!d)
		return NULL;
	d->p = *p;
	d->t_base = d->c_base = now;
	if (p->mode == DISC_KERNEL) {
		d->p.maxslew = DISC_KERNEL_SLEW;
		memset(&tx, 0, sizeof(tx));
		if (!p->adjtimex || p->adjtimex(&tx) < 0) {
			log_warn("adjtimex (read)");
			free(d);
			return NULL;
		}
		/* The kernel's current frequency is part of the correction from
		 * now on; its PLL must not fight ours. A leap bit left by an
		 * earlier run would make the kernel step the clock at the
		 * next midnight, whatever the day. */
		d->t_freq = d->c_rate = (double)tx.freq / 65536.0 * 1e-6;
		if (tx.status & (STA_PLL | STA_FLL | STA_INS | STA_DEL)) {
			int st = tx.status &
				 ~(STA_PLL | STA_FLL | STA_INS | STA_DEL);

			memset(&tx, 0, sizeof(tx));
			tx.modes = ADJ_STATUS;
			tx.status = st;
			if (p->adjtimex(&tx) < 0) {
				log_warn("adjtimex(ADJ_STATUS)");
				free(d);
				return NULL;
			}
		}
		/* Not synchronized until the first update says so, whatever
		 * an earlier run left behind. */
		if (disc_kernel_sync(d, 0, 0, 0) < 0) {
			free(d);
			return NULL;
		}
	}
	return d;
}

void disc_free(struct disc *d)
{
	free(d);
}

/* Fold c up to now into (c_off, c_base), at the rate it had. */
static void rebase(struct disc *d, int64_t now)
{
	d->c_off = disc_correction(d, now);
	if (d->p.mode == DISC_KERNEL && d->slew_end && now >= d->slew_end)
		d->c_rate = d->t_freq;
	d->c_base = now;
	d->slew_end = 0;
}

/* Plan the slew from c(now) towards the target. */
static int plan(struct disc *d, int64_t now)
{
	double e = target(d, now) - d->c_off;

	if (d->p.mode == DISC_KERNEL) {
		long us = lround(e * 1e6);

		if (kernel_freq(d, d->t_freq) || kernel_slew(d, us))
			return -1;
		e = (double)us * 1e-6; /* what the kernel will really do */
	}
	if (fabs(e) < DISC_EPS) {
		d->c_rate = d->t_freq;
		return 0;
	}
	d->c_rate = d->t_freq + (e > 0 ? d->p.maxslew : -d->p.maxslew);
	d->slew_end = now + llround(fabs(e) / d->p.maxslew * 1e9);
	if (d->slew_end <= now)
		d->slew_end = now + 1;
	return 0;
}

int disc_restore_freq(struct disc *d, int64_t now, double freq)
{
	rebase(d, now);
	d->t_off = target(d, now);
	d->t_base = now;
	d->t_freq = clampf(freq, DISC_MAX_FREQ);
	return plan(d, now);
}

int disc_update(struct disc *d, int64_t now, double offset, double freq,
		int freq_ok)
{
	double e;
	int step;

	rebase(d, now);
	d->t_off = offset;
	d->t_base = now;
	if (freq_ok)
		d->t_freq = clampf(freq, DISC_MAX_FREQ);
	e = offset - d->c_off;
	step = d->updates == 0 ||
	       (fabs(e) > d->p.step_threshold &&
		(d->p.step_limit < 0 || d->updates < d->p.step_limit));
	d->updates++;
	if (step) {
		if (d->p.mode == DISC_KERNEL && kernel_step(d, e))
			return -1;
		d->c_off = offset;
		d->steps++;
	}
	if (plan(d, now))
		return -1;
	return step ? DISC_STEPPED : DISC_SLEWED;
}

int disc_tick(struct disc *d, int64_t now)
{
	if (!d->slew_end || now < d->slew_end)
		return 0;
	rebase(d, now);
	/* Kernel: its slew finished on its own; only re-plan virtually. */
	if (d->p.mode == DISC_KERNEL)
		return 0;
	if (fabs(target(d, now) - d->c_off) <= d->p.maxslew * DISC_TICK_LATE) {
		d->c_rate = d->t_freq;
		return 0;
	}
	return plan(d, now);
}

int disc_leap_step(struct disc *d, int64_t now, double step_s)
{
	double t;

	if (d->p.mode == DISC_KERNEL)
		return 0; /* the kernel steps the clock itself */
	/* Keep the error still to be slewed: target and c move together. */
	rebase(d, now);
	t = target(d, now);
	d->t_off = t + step_s;
	d->t_base = now;
	d->c_off += step_s;
	return plan(d, now);
}

int disc_kernel_leap(struct disc *d, int li)
{
	struct timex tx;
	int state;

	if (d->p.mode != DISC_KERNEL)
		return 0;
	memset(&tx, 0, sizeof(tx));
	state = d->p.adjtimex(&tx);
	if (state < 0) {
		log_warn("adjtimex (read)");
		return -1;
	}
	tx.status &= ~(STA_INS | STA_DEL);
	tx.status |= li == 1 ? STA_INS : li == 2 ? STA_DEL : 0;
	tx.modes = ADJ_STATUS;
	state = d->p.adjtimex(&tx);
	if (state < 0) {
		log_warn("adjtimex(ADJ_STATUS)");
		return -1;
	}
	return state;
}

int disc_kernel_sync(struct disc *d, int synced, double maxerr,
		     double esterr)
{
	struct timex tx;

	if (d->p.mode != DISC_KERNEL)
		return 0;
	memset(&tx, 0, sizeof(tx));
	if (d->p.adjtimex(&tx) < 0) {
		log_warn("adjtimex (read)");
		return -1;
	}
	/* NaN and negatives count as the worst case */
	if (!(maxerr >= 0 && maxerr < DISC_MAX_ERROR))
		synced = 0;
	if (!synced)
		maxerr = esterr = DISC_MAX_ERROR;
	if (!(esterr >= 0 && esterr <= DISC_MAX_ERROR))
		esterr = DISC_MAX_ERROR;
	tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
	tx.status = synced ? tx.status & ~STA_UNSYNC : tx.status | STA_UNSYNC;
	tx.maxerror = lround(maxerr * 1e6);
	tx.esterror = lround(esterr * 1e6);
	if (d->p.adjtimex(&tx) < 0) {
		log_warn("adjtimex(ADJ_STATUS|ADJ_MAXERROR|ADJ_ESTERROR)");
		return -1;
	}
	return 0;
}

void disc_fill_tstate(const struct disc *d, struct tstate *ts)
{
	if (d->p.mode == DISC_KERNEL) {
		ts->corr_offset = 0;
		ts->corr_freq = 0;
		ts->corr_base_ns = d->c_base;
		return;
	}
	ts->corr_offset = d->c_off;
	ts->corr_freq = d->c_rate;
	ts->corr_base_ns = d->c_base;
}
