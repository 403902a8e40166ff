/*
 * The engine's state as ntpctl shows it (`sources`, `tracking`; the
 * formatting is syncctl.c's).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "node/time/sync_int.h"

int sync_n_sources(const struct sync *sy)
{
	return sy->n_slot;
}

void sync_source(const struct sync *sy, int i, struct sync_source_view *v)
{
	const struct sync_slot *sl = &sy->slot[i];
	struct source_info info;
	int k;

	memset(v, 0, sizeof(*v));
	v->name = sl->ent->cu->host;
	v->pool = sl->ent->cu->pool;
	v->smearing = sl->ent->cu->smearing;
	snprintf(v->reason, sizeof(v->reason), "%s", sl->reason);
	if (!sl->have_addr) {
		v->state = "unresolved";
		v->poll = sl->ent->cu->minpoll;
		return;
	}
	snprintf(v->addr, sizeof(v->addr), "%s", sl->addr_str);
	source_get_info(sl->src, &info);
	v->stratum = info.stratum;
	v->poll = info.poll;
	v->reach = info.reach;
	v->sent = info.sent;
	v->good = info.good;
	for (k = 1; k < SOURCE_N_VERDICTS; k++)
		v->bad += info.bad[k];
	v->have_sample = sl->est.n > 0;
	v->offset = sl->est.offset;
	v->delay = sl->est.last_delay;
	v->jitter = sl->est.jitter;
	v->last_offset = sl->est.last_offset;
	v->last_delay = sl->est.last_delay;
	v->distance = sl->est.distance;
	if (info.denied) {
		v->state = "kod";
		return;
	}
	switch (sl->sel) {
	case SELECT_SELECTED:
		v->state = "selected";
		v->reason[0] = '\0';
		break;
	case SELECT_COMBINED:
		/* a candidate that is used: combined with the system peer */
		v->state = sy->sel.result == SELECT_OK ? "combined" : "candidate";
		break;
	case SELECT_CANDIDATE:
		v->state = "candidate";
		break;
	case SELECT_FALSETICKER:
		v->state = "falseticker";
		break;
	case SELECT_UNUSABLE:
		v->state = !info.reach ? "unreachable" : "unusable";
		break;
	}
	if (info.kod && !info.denied && v->reason[0] == '\0' &&
	    sl->sel != SELECT_SELECTED)
		snprintf(v->reason, sizeof(v->reason),
			 "kiss-o'-death RATE: polling backed off");
}

void sync_tracking(const struct sync *sy, struct sync_tracking_view *v)
{
	int64_t reading = clk_raw_ns();
	int64_t osc = reading - llround(disc_in_clock(sy->disc, reading) * 1e9);

	memset(v, 0, sizeof(*v));
	v->synced = sy->synced && !sy->suspect;
	v->state = sy->suspect && sy->synced ? "suspect" :
		   sy->synced ? (sy->holdover ? "holdover" : "synchronized") :
				"unsynchronized";
	v->reason = sy->suspect && sy->synced ?
		    "the cross-check holds this clock suspect" :
		    sy->synced && !sy->holdover ? "" :
		    sy->holdover ? "no usable source" :
		    !sy->claimed_once && sy->sel.result == SELECT_OK ?
		    "stratum limit" : select_result_str(sy->sel.result);
	if (sy->synced && sy->sys >= 0)
		snprintf(v->reference, sizeof(v->reference), "%s",
			 sy->slot[sy->sys].addr_str);
	v->refid = sy->synced ? sy->ts.refid : 0;
	v->stratum = sy->synced ? sy->ts.stratum : 0;
	v->correction = sy->mode == DISC_VIRTUAL ?
			disc_correction(sy->disc, osc) : 0.0;
	v->freq_ppm = disc_freq(sy->disc) * 1e6;
	v->remaining = disc_remaining(sy->disc, osc);
	v->last_offset = sy->last_offset;
	v->rms_offset = sqrt(sy->avg2_offset);
	v->jitter = sy->sys_jitter;
	v->root_delay = sy->synced ? sy->ts.root_delay : 0;
	v->root_disp = sy->synced ?
		       tstate_root_disp_at(&sy->ts,
					   tstate_served_ns(&sy->ts, reading)) : 0;
	v->leap = v->synced ? sy->ts.leap : 3;
	v->leap_moment_ns = leapsec_moment(sy->lsec, &v->leap_pending);
	v->leap_inserted = leapsec_count(sy->lsec, 1);
	v->leap_deleted = leapsec_count(sy->lsec, 2);
	v->leap_last_end = leapsec_last(sy->lsec, NULL);
	v->last_update_ns = sy->last_update_ns;
	v->agree = sy->sel.agree;
	v->reachable = sy->sel.reachable;
	v->configured = sy->n_slot;
	v->discipline = sy->mode == DISC_KERNEL ? "kernel" : "virtual";
	v->steps = disc_steps(sy->disc);
	v->rx_unknown = sy->rx_unknown;
	v->rx_errors = sy->rx_errors;
	v->tx_errors = sy->tx_errors;
	v->tx_ip_bytes = sy->tx_ip_bytes;
}
