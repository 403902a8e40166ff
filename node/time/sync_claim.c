/*
 * What the node claims after each selection: the discipline update, the
 * published time state (stratum, refid, root delay and dispersion, leap),
 * holdover when no source is usable, the re-publish when a slew ends, and
 * the stored frequency estimate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/ntp/refid.h"
#include "node/time/sync_int.h"

/*
 * Kernel discipline: the kernel's sync status follows what the node
 * claims, at once when that changes, and its error bounds are renewed at
 * every clock update (between updates the kernel grows maxerror by
 * itself, 500 us/s). maxerror is the root distance (RFC 5905 11.2.3:
 * root delay / 2 + root dispersion, pending slew included), esterror the
 * update's combined jitter, as chrony sets them.
 */
static void kernel_status(struct sync *sy)
{
	int claimed = sy->synced && !sy->suspect, fresh = sy->kfresh;

	sy->kfresh = 0;
	if (sy->mode != DISC_KERNEL ||
	    (claimed == sy->ksync && !(claimed && fresh)))
		return;
	if (disc_kernel_sync(sy->disc, claimed,
			     sy->ts.root_delay / 2 + sy->ts.root_disp,
			     sy->est_error) == 0)
		sy->ksync = claimed;
}

/* The engine publishes its own claim even while the cross-check holds it
 * suspect: the withdrawal (tstate_withdraw) is what makes every reply say
 * LI 3, and the cross-check judges this clock by the claim underneath
 * (tstate_read_claim), so the verdict can clear. */
void sync_claim_publish(struct sync *sy, int64_t reading)
{
	int claimed = sy->synced;
	struct tstate ts;
	int li;

	if (claimed) {
		ts = sy->ts;
	} else {
		tstate_unsynced(&ts);
	}
	disc_fill_tstate(sy->disc, &ts);
	li = sync_leap_publish(sy, &ts, reading);
	if (claimed)
		ts.leap = (uint8_t)li;
	sy->ts = ts;
	tstate_publish(&ts);
	kernel_status(sy);
}

void sync_set_suspect(struct sync *sy, int suspect)
{
	suspect = suspect != 0;
	if (sy->suspect == suspect)
		return;
	sy->suspect = suspect;
	if (suspect)
		log_warnx("sync: the cross-check holds this clock suspect: "
			  "claiming no synchronization");
	else
		log_info("sync: the cross-check no longer holds this clock "
			 "suspect");
	tstate_withdraw(suspect);
	kernel_status(sy);
}

static void slew_cb(uv_timer_t *t)
{
	struct sync *sy = t->data;
	int64_t reading, osc = sync_osc_now(sy, &reading);

	disc_tick(sy->disc, osc);
	sync_claim_publish(sy, reading);
	sync_claim_arm_slew(sy, osc);
}

/* The virtual correction bends when a slew ends: re-publish then. */
void sync_claim_arm_slew(struct sync *sy, int64_t osc)
{
	int64_t end = disc_slew_end(sy->disc);

	uv_timer_stop(&sy->slew);
	if (end)
		uv_timer_start(&sy->slew, slew_cb, sync_ns_to_ms(end - osc), 0);
}

void sync_claim_save_freq(struct sync *sy)
{
	double f = disc_freq(sy->disc);
	int rc;

	if (!sy->persist.save || !sy->claimed_once)
		return;
	rc = sy->persist.save(sy->persist.arg, f);
	if (rc < 0) {
		log_warnx("sync: saving the frequency: %s", strerror(-rc));
		return;
	}
	sy->saved_freq = f;
	sy->last_save_mono = sync_mono_ns();
}

void sync_claim_restore_freq(struct sync *sy)
{
	double f;

	if (!sy->persist.load || sy->persist.load(sy->persist.arg, &f) < 0)
		return;
	if (isfinite(f) && fabs(f) <= DISC_MAX_FREQ) {
		disc_restore_freq(sy->disc, sync_osc_now(sy, NULL), f);
		sy->saved_freq = f;
		log_info("sync: restored frequency %+.3f ppm", f * 1e6);
	}
}

/* A good selection: update the discipline (only on a fresh sample or a
 * new system peer) and publish what the node now claims. */
static void claim(struct sync *sy, const struct select_out *o, int fresh,
		  int64_t osc, int64_t reading, int64_t mono)
{
	const struct sync_slot *sys = &sy->slot[o->sys];
	int stratum = sys->est.stratum + 1;
	int rc;

	if (stratum >= 16) {
		sy->synced = 0;
		sync_claim_publish(sy, reading);
		return;
	}
	if (sy->synced && !fresh && sy->sys == o->sys)
		return;
	/* The last offset and its RMS, as chrony's tracking report has
	 * them (reference.c last_offset, avg2_offset); the RMS here is an
	 * exponential average of the squares with weight 1/8. */
	sy->last_offset = o->offset;
	sy->avg2_offset = sy->claimed_once ?
			  sy->avg2_offset + (o->offset * o->offset -
					     sy->avg2_offset) / 8 :
			  o->offset * o->offset;
	sy->sys_jitter = sqrt(o->jitter * o->jitter +
			      sys->est.jitter * sys->est.jitter);
	rc = disc_update(sy->disc, osc, o->offset, o->freq, o->freq_ok);
	if (rc == DISC_STEPPED)
		log_info("sync: correction set to %+.6f s (%s)",
			 disc_correction(sy->disc, osc),
			 sy->claimed_once ? "step" : "first update");
	if (!sy->claimed_once) {
		sy->claimed_once = 1;
		log_info("sync: synchronized to %s, %d of %d sources agree",
			 sys->addr_str, o->agree, o->reachable);
	} else if (sy->sys != o->sys || !sy->synced) {
		log_info("sync: system peer %s, %d of %d sources agree",
			 sys->addr_str, o->agree, o->reachable);
	}
	sy->sys = o->sys;
	sy->synced = 1;
	sy->holdover = 0;
	sy->last_update_mono = mono;
	/* RFC 5905 11.2.3: root delay and dispersion via the system
	 * peer, plus our own selection jitter and pending slew. */
	sy->ts.stratum = (uint8_t)stratum;
	sy->ts.refid = refid_of_addr((const struct sockaddr *)&sys->addr);
	sy->ts.precision = TSTATE_PRECISION;
	sy->ts.root_delay = sys->est.root_delay;
	sy->est_error = sqrt(o->jitter * o->jitter +
			     sys->est.jitter * sys->est.jitter);
	sy->ts.root_disp = sys->est.root_disp + sy->est_error +
			   fabs(disc_remaining(sy->disc, osc));
	sy->ts.local = 0;
	disc_fill_tstate(sy->disc, &sy->ts);
	sy->ts.ref_ns = tstate_served_ns(&sy->ts, reading);
	sy->last_update_ns = sy->ts.ref_ns;
	sy->kfresh = 1;
	sync_claim_publish(sy, reading);
	sync_claim_arm_slew(sy, osc);
	if (sy->saved_freq == 0 ||
	    mono - sy->last_save_mono > SYNC_SAVE_INTERVAL_NS)
		sync_claim_save_freq(sy);
}

void sync_claim_apply(struct sync *sy, const struct select_out *o,
		      int fresh, int64_t osc, int64_t reading, int64_t mono)
{
	if (o->result == SELECT_OK) {
		claim(sy, o, fresh, osc, reading, mono);
		return;
	}
	/* No selection. Sources that disagree end the claim at once; with
	 * no usable source at all we hold over on the last estimate. */
	if (!sy->synced)
		return;
	if (o->result == SELECT_NO_SOURCES &&
	    (double)(mono - sy->last_update_mono) < sy->ct.holdover * 1e9) {
		if (!sy->holdover)
			log_warnx("sync: no usable source, holding over for up to %.0f s",
				  sy->ct.holdover);
		sy->holdover = 1;
		return;
	}
	log_warnx("sync: unsynchronized: %s",
		  o->result == SELECT_NO_SOURCES ? "holdover expired" :
		  select_result_str(o->result));
	sy->synced = 0;
	sy->holdover = 0;
	sy->sys = -1;
	sync_claim_publish(sy, reading);
}
