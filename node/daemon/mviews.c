#include "node/daemon/mviews.h"
#include "node/base/wirelen.h"
#include "node/cluster/cluster.h"
#include "node/cost/cost.h"
#include "node/crosscheck/crosscheck.h"
#include "node/ntp/tstate.h"
#include "node/rotation/rotation.h"
#include "node/serve/serve.h"
#include "node/time/sync.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Reply-duration buckets: the serving histogram's bounds that are powers
 * of two (serve_hist_upper_ns(4k + 3) = 2^(k+2) ns), from 512 ns to
 * about 33.6 ms; slower replies fall in +Inf. */
#define LE_FIRST_K 7
#define LE_LAST_K 23

static void tracking(void *arg, struct metrics_tracking *t)
{
	struct mviews *mv = arg;
	struct sync_tracking_view v;
	struct tstate ts;

	tstate_read(&ts);
	if (!mv->sync) {
		/* `local stratum N`, or no source at all */
		snprintf(t->state, sizeof(t->state), "%s",
			 ts.local ? "local" : "unsynchronized");
		t->stratum = ts.stratum;
		t->leap = ts.leap;
		t->refid = ts.refid;
		t->root_delay = ts.root_delay;
		t->root_disp = ts.root_disp;
		t->ref_time_ns = 0;
		return;
	}
	sync_tracking(mv->sync, &v);
	snprintf(t->state, sizeof(t->state), "%s", v.state);
	snprintf(t->reference, sizeof(t->reference), "%s", v.reference);
	/* what the replies carry (a leap announced, or LI 3) */
	t->stratum = ts.stratum;
	t->leap = ts.leap;
	t->refid = v.refid;
	t->last_offset = v.last_offset;
	t->rms_offset = v.rms_offset;
	t->jitter = v.jitter;
	t->freq_ppm = v.freq_ppm;
	t->root_delay = v.root_delay;
	t->root_disp = v.root_disp;
	t->ref_time_ns = v.last_update_ns;
	t->sources = v.configured;
	t->reachable = v.reachable;
	t->agree = v.agree;
}

static int n_sources(void *arg)
{
	struct mviews *mv = arg;

	return mv->sync ? sync_n_sources(mv->sync) : 0;
}

static void source(void *arg, int i, struct metrics_source *s)
{
	struct mviews *mv = arg;
	struct sync_source_view v;

	sync_source(mv->sync, i, &v);
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", v.name);
	snprintf(s->addr, sizeof(s->addr), "%s", v.addr);
	snprintf(s->state, sizeof(s->state), "%s", v.state);
	s->stratum = v.stratum;
	s->poll = v.poll;
	s->reach = v.reach;
	s->have_sample = v.have_sample;
	s->offset = v.offset;
	s->last_offset = v.last_offset;
	s->delay = v.delay;
	s->jitter = v.jitter;
}

static void serving(void *arg, struct metrics_serving *out)
{
	struct mviews *mv = arg;
	struct serve_stats s;
	uint64_t cum = 0;
	int i, k;

	memset(out, 0, sizeof(*out));
	if (!mv->serve)
		return;
	serve_get_stats(mv->serve, &s);
	out->running = 1;
	out->received = s.received;
	out->replied = s.replied;
	out->kod_sent = s.kod_sent;
	out->rate_limited = s.rate_limited;
	out->send_errors = s.send_errors;
	out->dropped[METRICS_DROP_SHORT] = s.drop_short;
	out->dropped[METRICS_DROP_VERSION] = s.drop_version;
	out->dropped[METRICS_DROP_MODE] = s.drop_mode;
	out->dropped[METRICS_DROP_CONTROL] = s.drop_control;
	out->dropped[METRICS_DROP_AUTH] = s.drop_auth;
	out->dropped[METRICS_DROP_DENIED] = s.drop_denied;
	out->dropped[METRICS_DROP_RATELIMIT] = s.drop_ratelimit;
	out->dropped[METRICS_DROP_UNANSWERABLE] = s.drop_unanswerable;
	k = LE_FIRST_K;
	for (i = 0; i < SERVE_HIST_BUCKETS; i++) {
		cum += s.reply_ns_hist[i];
		if (i == 4 * k + 3 && k <= LE_LAST_K &&
		    out->n_le < METRICS_HIST_MAX) {
			out->le[out->n_le] = (double)serve_hist_upper_ns(i) /
					     1e9;
			out->cum[out->n_le++] = cum;
			k++;
		}
	}
	out->count = cum;
	out->sum = (double)s.reply_ns_sum / 1e9;
}

static void crosscheck(void *arg, struct metrics_crosscheck *out)
{
	struct mviews *mv = arg;
	struct crosscheck_view *v;
	int i;

	memset(out, 0, sizeof(*out));
	if (!mv->xc)
		return;
	v = malloc(sizeof(*v));
	if (!v)
		return;
	crosscheck_view(mv->xc, v);
	out->present = 1;
	out->verdict = v->verdict == CLUSTER_CHECK_OK ? 1 :
		       v->verdict == CLUSTER_CHECK_SUSPECT ? 2 : 0;
	for (i = 0; i < v->n_peer && i < METRICS_XC_PEERS; i++) {
		snprintf(out->peer[i].name, sizeof(out->peer[i].name), "%s",
			 v->peer[i].name);
		out->peer[i].answered = v->peer[i].answered;
		out->peer[i].offset = v->peer[i].offset;
	}
	out->n_peer = i;
	free(v);
}

void mviews_egress(const struct mviews *mv, struct egress_counts *out)
{
	struct crosscheck_view *xv;
	struct serve_stats s;
	struct sync_tracking_view sv;

	memset(out, 0, sizeof(*out));
	if (mv->serve) {
		serve_get_stats(mv->serve, &s);
		out->bytes[EGRESS_NTP] = s.tx_bytes;
		out->bytes[EGRESS_CROSSCHECK] = s.peer_tx_bytes;
		/* Replies to members leave from the overlay address, inside
		 * WireGuard, once there is a mesh: all of one size. */
		if (mv->xc && s.peer_replied) {
			char ov[64];

			cluster_overlay(mv->cl, ov, sizeof(ov));
			if (ov[0])
				out->bytes[EGRESS_CROSSCHECK] =
					s.peer_replied *
					wirelen_wg(0, s.peer_tx_bytes /
							      s.peer_replied);
		}
	}
	if (mv->xc) {
		xv = malloc(sizeof(*xv));
		if (xv) {
			crosscheck_view(mv->xc, xv);
			out->bytes[EGRESS_CROSSCHECK] += xv->tx_ip_bytes;
			free(xv);
		}
	}
	if (mv->sync) {
		sync_tracking(mv->sync, &sv);
		out->bytes[EGRESS_OTHER] = sv.tx_ip_bytes;
	}
	out->bytes[EGRESS_CLUSTER] = cluster_egress(mv->cl);
}

static void egress(void *arg, struct metrics_egress *out)
{
	struct mviews *mv = arg;
	struct egress_counts c;
	int i;

	memset(out, 0, sizeof(*out));
	if (!mv->serve)
		return;
	mviews_egress(mv, &c);
	for (i = 0; i < EGRESS_NCLASS; i++) {
		out->cls[i].name = egress_class_name(i);
		out->cls[i].bytes = c.bytes[i];
	}
	out->n = EGRESS_NCLASS;
	out->has_ratio = cost_used_ratio(mv->cost, &out->used_ratio);
	if (mv->cost)
		out->governor = cost_governor(mv->cost, &out->governor_rate);
}

static void rot_member(void *arg, const char *member, int planned_on)
{
	struct metrics_rotation *out = arg;

	if (out->n_member >= METRICS_ROT_MEMBERS)
		return;
	snprintf(out->member[out->n_member].name,
		 sizeof(out->member[out->n_member].name), "%s", member);
	out->member[out->n_member++].planned = planned_on != 0;
}

static void rotation(void *arg, struct metrics_rotation *out)
{
	struct mviews *mv = arg;

	memset(out, 0, sizeof(*out));
	if (!mv->rot)
		return;
	out->present = 1;
	rotation_planned(mv->rot, rot_member, out);
	out->alerts = rotation_alerts(mv->rot);
}

void mviews_init(struct mviews *mv)
{
	memset(&mv->v, 0, sizeof(mv->v));
	mv->v.arg = mv;
	mv->v.tracking = tracking;
	mv->v.n_sources = n_sources;
	mv->v.source = source;
	mv->v.serving = serving;
	mv->v.crosscheck = crosscheck;
	mv->v.egress = egress;
	mv->v.rotation = rotation;
}
