/*
 * Selection glue: every source's filter estimate at one instant becomes a
 * select_in (or a reason why not), select_run() picks and combines, the
 * combined offset is refined along the common frequency, and each slot
 * keeps its state and reason for ntpctl. sync_claim.c acts on the result.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/time/sync_int.h"

static void set_reason(struct sync_slot *sl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(struct sync_slot *sl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sl->reason, sizeof(sl->reason), fmt, ap);
	va_end(ap);
}

static int configured_sources(const struct sync *sy)
{
	return sy->n_slot;
}

/*
 * The local clock's frequency error is common to every source, so the
 * combined frequency is known better than any one regression's slope.
 * Re-estimate each combined source's offset along it (the weighted mean
 * of its samples, not a line's noisier end point) and combine again with
 * the same weights. Simulated on the jittery path model (4 sources,
 * 10 ms +- asymmetry, 3 ms exponential jitter, 1 s polls) this lowered
 * the median error from 99 to 89 us.
 */
static void refine_offset(struct sync *sy, const enum select_state *st,
			  const struct select_in *in, int64_t osc,
			  struct select_out *o)
{
	double wsum = 0, sum = 0, off;
	int i;

	for (i = 0; i < sy->n_slot; i++) {
		double w;

		if (st[i] != SELECT_COMBINED && st[i] != SELECT_SELECTED)
			continue;
		if (filter_offset_at_freq(source_filter(sy->slot[i].src), osc,
					  o->freq, &off) < 0)
			return;
		w = select_weight(&in[i], o);
		wsum += w;
		sum += w * off;
	}
	if (wsum > 0)
		o->offset = sum / wsum;
}

/* One slot's input to the selection; leaves it unusable with a reason.
 * leap_window: a leap second is within 12 h (smearing sources). */
static void slot_input(struct sync *sy, struct sync_slot *sl, int64_t osc,
		       int leap_window, struct select_in *in)
{
	struct source_info info;
	double rdist;

	memset(in, 0, sizeof(*in));
	sl->reason[0] = '\0';
	if (!sl->have_addr) {
		memset(&sl->est, 0, sizeof(sl->est));
		set_reason(sl, "%s", sl->ent->error[0] ? sl->ent->error :
			   "not resolved yet");
		return;
	}
	source_get_info(sl->src, &info);
	filter_estimate(source_filter(sl->src), osc, &sl->est);
	if (info.denied) {
		set_reason(sl, "kiss-o'-death %.4s: the server refused us",
			   (const char *)&(uint32_t){ htonl((uint32_t)info.kod) });
		return;
	}
	in->reachable = info.reach != 0;
	if (!sl->est.n || !info.reach) {
		const char *why = !sl->est.n ? "no reply yet" :
				  "no reply to the last 8 polls";

		if (sl->ent->refreshes)
			set_reason(sl, "%s (name resolved again %llu times)", why,
				   (unsigned long long)sl->ent->refreshes);
		else
			set_reason(sl, "%s", why);
		return;
	}
	if (sl->ent->cu->smearing && leap_window) {
		/* Google and AWS smear the leap over 24 h noon to noon: up
		 * to 0.5 s off at midnight. Not counted for the majority
		 * either, so good sources alone can keep the claim. */
		in->reachable = 0;
		set_reason(sl, "smearing source in a leap window");
		return;
	}
	rdist = sl->est.root_delay / 2 + sl->est.root_disp;
	if (rdist > sy->ct.maxdistance) {
		set_reason(sl, "root distance %.3f s > maxdistance %.3f s",
			   rdist, sy->ct.maxdistance);
		return;
	}
	in->usable = 1;
	in->prefer = sl->ent->cu->prefer;
	in->offset = sl->est.offset;
	in->distance = sl->est.distance;
	in->weight_dist = sl->est.root_dist;
	in->path_dist = sl->est.path_dist;
	in->path_err = sl->est.path_err;
	in->freq = sl->est.freq;
	in->freq_sd = sl->est.freq_sd;
	in->leap = sl->ent->cu->smearing ? -1 : sl->est.leap;
	in->stratum = sl->est.stratum;
	in->distant = sl->distant;
}

/*
 * chrony's "distant" penalty: a truechimer beyond the combine limit is
 * held out until SYNC_DISTANT_HOLD of its own samples in a row came
 * within it. Without it a source whose distance hovers near the limit
 * goes in and out of the combination, moving the served time by its
 * share of its asymmetry each time (on the simulated internet a 27 ms
 * path 1.5 ms high next to an 8 ms one was combined in 8 of 30 snapshots,
 * each time moving the served time by about 0.3 ms).
 */
static void count_distant(struct sync *sy, const enum select_state *st,
			  const struct select_in *in, double limit)
{
	int i;

	for (i = 0; i < sy->n_slot; i++) {
		struct sync_slot *sl = &sy->slot[i];
		int fresh = sl->est.last_t != sl->distant_t;

		sl->distant_t = sl->est.last_t;
		if (st[i] < SELECT_CANDIDATE)
			continue;
		if (in[i].weight_dist > limit)
			sl->distant = SYNC_DISTANT_HOLD;
		else if (sl->distant > 0 && fresh)
			sl->distant--;
	}
}

/* Why a truechimer is not combined. */
static void candidate_reason(struct sync_slot *sl, const struct select_in *in,
			     const struct select_out *o)
{
	if (in->weight_dist > SYNC_COMBINELIMIT * o->best_dist)
		set_reason(sl, "distance %.1f ms above %.0fx the best (%.1f ms)",
			   in->weight_dist * 1e3, SYNC_COMBINELIMIT,
			   o->best_dist * 1e3);
	else if (in->distant > 0)
		set_reason(sl, "held out after a distance above %.0fx the best (%d of %d samples within it since)",
			   SYNC_COMBINELIMIT, SYNC_DISTANT_HOLD - sl->distant,
			   SYNC_DISTANT_HOLD);
	else
		set_reason(sl, "estimate outside the intervals of most agreeing sources");
}

/* Each slot keeps its selection state and the reason it is not used. */
static void slot_verdicts(struct sync *sy, const enum select_state *st,
			  const struct select_in *in,
			  const struct select_out *o)
{
	int i;

	for (i = 0; i < sy->n_slot; i++) {
		struct sync_slot *sl = &sy->slot[i];

		sl->sel = st[i];
		if (st[i] == SELECT_FALSETICKER) {
			sl->false_count++;
			set_reason(sl, "outside the intersection of %d agreeing sources",
				   o->agree);
		} else {
			if (st[i] != SELECT_UNUSABLE)
				sl->false_count = 0;
			if (st[i] == SELECT_CANDIDATE)
				candidate_reason(sl, &in[i], o);
		}
		if (o->result != SELECT_OK && st[i] >= SELECT_CANDIDATE)
			set_reason(sl, "not synchronizing: %s",
				   select_result_str(o->result));
	}
}

/* fresh: a new sample arrived (otherwise only the first claim, ageing and
 * holdover can change anything; the discipline is not updated again). */
void sync_select_run(struct sync *sy, int fresh)
{
	struct select_in in[SYNC_MAX_SLOTS];
	enum select_state st[SYNC_MAX_SLOTS];
	struct select_params p;
	struct select_out o;
	int64_t reading, osc = sync_osc_now(sy, &reading), mono = sync_mono_ns();
	int i, window;

	window = sync_leap_window(sy, tstate_served_ns(&sy->ts, reading));
	for (i = 0; i < sy->n_slot; i++)
		slot_input(sy, &sy->slot[i], osc, window, &in[i]);
	memset(&p, 0, sizeof(p));
	p.minsources = sy->ct.minsources;
	p.combinelimit = SYNC_COMBINELIMIT;
	p.prev_sys = sy->sys;
	/* First claim: a majority of the configured sources must have
	 * answered, or 8 s passed, so a falseticker cannot win the race. */
	if (!sy->claimed_once && mono - sy->start_mono < SYNC_FIRST_CLAIM_WAIT_NS)
		p.min_usable = configured_sources(sy) / 2 + 1;
	select_run(in, sy->n_slot, &p, &o, st);
	if (o.result == SELECT_OK)
		count_distant(sy, st, in, p.combinelimit * o.best_dist);
	if (o.result == SELECT_OK && o.freq_ok)
		refine_offset(sy, st, in, osc, &o);
	sy->sel = o;
	slot_verdicts(sy, st, in, &o);
	sync_claim_apply(sy, &o, fresh, osc, reading, mono);
}
