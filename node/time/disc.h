/*
 * Clock discipline. The engine's model says: reference - oscillator =
 * offset + freq * (t - now). The discipline keeps a correction c(t) with
 * served = oscillator + c, and steers c towards the model:
 * - the first update after start sets c directly (step);
 * - later an offset error above the makestep threshold is stepped (only
 *   in the first `limit` updates, limit < 0: always), smaller errors are
 *   slewed at maxslew on top of the model frequency, and the slew ends
 *   exactly when the error is gone (disc_slew_end() says when to call
 *   disc_tick()).
 * Virtual: c is published through tstate, the kernel is never touched.
 * Kernel: c is applied with adjtimex (ADJ_FREQUENCY for the frequency,
 * ADJ_OFFSET_SINGLESHOT for slews, which the kernel runs at a fixed
 * 500 ppm, ADJ_SETOFFSET for steps), so readings already include it.
 * adjtimex is a function pointer: tests pass a fake.
 */
#ifndef NTPMC_DISC_H
#define NTPMC_DISC_H

#include <stdint.h>
#include <sys/timex.h>

#include "node/ntp/tstate.h"

#define DISC_KERNEL_SLEW 500e-6   /* adjtime(3)'s fixed slew rate */
#define DISC_MAX_FREQ 500e-6      /* kernel frequency limit (MAXFREQ) */

enum disc_mode { DISC_VIRTUAL, DISC_KERNEL };

typedef int (*disc_adjtimex_fn)(struct timex *tx);

struct disc_params {
	enum disc_mode mode;
	double maxslew;          /* s/s (virtual) */
	double step_threshold;   /* s */
	int step_limit;          /* updates in which steps are allowed; <0 all */
	disc_adjtimex_fn adjtimex; /* kernel mode only */
};

enum disc_action { DISC_SLEWED, DISC_STEPPED };

struct disc;

/* Kernel mode reads the current frequency; NULL if adjtimex fails. */
struct disc *disc_new(const struct disc_params *p, int64_t now);
void disc_free(struct disc *d);

/* A persisted frequency estimate, before the first update. */
int disc_restore_freq(struct disc *d, int64_t now, double freq);
/*
 * One clock update at oscillator time now (ns). freq_ok = 0 keeps the
 * current frequency. Returns DISC_SLEWED, DISC_STEPPED, or -1 (adjtimex
 * failed; logged).
 */
int disc_update(struct disc *d, int64_t now, double offset, double freq,
		int freq_ok);
/* Re-plans after the slew end (and is harmless at any time). */
int disc_tick(struct disc *d, int64_t now);
/* Oscillator time at which the current slew ends, 0 if none. */
int64_t disc_slew_end(const struct disc *d);

/* c(t): served - oscillator, s. */
double disc_correction(const struct disc *d, int64_t t);
/* The part of c(t) already inside clock readings (kernel mode), s. */
double disc_in_clock(const struct disc *d, int64_t t);
/* Offset still to be slewed at t, s. */
double disc_remaining(const struct disc *d, int64_t t);
double disc_freq(const struct disc *d);
int disc_steps(const struct disc *d);
/*
 * Leap seconds (leapsec.h says when). Virtual: c and its target step by
 * step_s (-1 insert, +1 delete) at now, so the served time follows UTC
 * and nothing is slewed back; the caller shifts the sources' samples by
 * the same amount. Kernel: the kernel steps the clock itself at midnight;
 * disc_kernel_leap() sets STA_INS (li 1), STA_DEL (li 2) or clears both
 * (li 0), keeping the other status bits, and returns the kernel's clock
 * state (TIME_OK ... TIME_WAIT, its return value) or -1 (adjtimex failed;
 * logged). disc_new() clears stale bits.
 */
int disc_leap_step(struct disc *d, int64_t now, double step_s);
int disc_kernel_leap(struct disc *d, int li);
/*
 * Kernel mode: what the rest of the system reads about our sync from the
 * kernel's NTP variables (`adjtimex -p`, timedatectl's "System clock
 * synchronized", node_exporter's node_timex_sync_status,
 * node_timex_maxerror_seconds, node_timex_estimated_error_seconds).
 * synced: STA_UNSYNC cleared, maxerror = maxerr (the root distance) and
 * esterror = esterr, in us and capped at DISC_MAX_ERROR; from then on the
 * kernel adds 500 us/s to maxerror by itself and sets STA_UNSYNC when it
 * reaches 16 s, so call again at every clock update. maxerr >= the cap
 * counts as not synced. Not synced: STA_UNSYNC set, both at the cap.
 * Other status bits (STA_INS/STA_DEL) are kept. While STA_UNSYNC is clear
 * Linux also copies the system time to the RTC every 11 minutes (chrony's
 * rtcsync). disc_new() sets STA_UNSYNC. Virtual mode: nothing. Returns 0,
 * or -1 (adjtimex failed; logged).
 */
#define DISC_MAX_ERROR 16.0      /* s: the kernel's NTP_PHASE_LIMIT */
int disc_kernel_sync(struct disc *d, int synced, double maxerr,
		     double esterr);
/* Virtual mode: corr_* of ts describe c; kernel mode: zero. */
void disc_fill_tstate(const struct disc *d, struct tstate *ts);

#endif
