/*
 * The families, in the order they are written. Names follow
 * chrony_exporter's (collector/tracking.go, sources.go, serverstats.go)
 * where it has one, with our prefix; base units (seconds, ratios 0..1),
 * counters end in _total. Families with no sample are left out.
 *
 * Reserved, not written until their subsystem exports them (so that a
 * zero is never mistaken for a measurement): ntpmc_budget_used_ratio
 * only once a budget is known. The rotation's families only where a
 * rotation runs (a cluster member).
 */
#include "node/metrics/mexp.h"
#include "node/metrics/prom.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const drop_reason[METRICS_DROP_N] = {
	[METRICS_DROP_SHORT] = "short",
	[METRICS_DROP_VERSION] = "version",
	[METRICS_DROP_MODE] = "mode",
	[METRICS_DROP_CONTROL] = "control",
	[METRICS_DROP_AUTH] = "auth",
	[METRICS_DROP_DENIED] = "denied",
	[METRICS_DROP_RATELIMIT] = "ratelimit",
	[METRICS_DROP_UNANSWERABLE] = "unanswerable",
};

static void gauge1(struct prom *p, const char *name, const char *help,
		   double v)
{
	prom_family(p, name, "gauge", help);
	prom_gauge(p, name, NULL, v);
}

static void build(struct prom *p, const struct mexp_in *in)
{
	const char *l[] = { "version", in->version, NULL };

	prom_family(p, "ntpmc_build_info", "gauge",
		    "ntpnode build: 1, labelled with its version");
	prom_gauge(p, "ntpmc_build_info", l, 1);
	gauge1(p, "ntpmc_up_seconds", "Seconds since ntpnode started",
	       in->up_s);
}

static void tracking(struct prom *p, const struct metrics_tracking *t)
{
	char refid[16];
	const char *l[] = { "tracking_refid", refid, "tracking_address",
			    t->reference, "state", t->state, NULL };

	snprintf(refid, sizeof(refid), "%08X", t->refid);
	prom_family(p, "ntpmc_tracking_info", "gauge",
		    "The time engine's reference: 1, labelled with its refid, "
		    "address and state");
	prom_gauge(p, "ntpmc_tracking_info", l, 1);
	gauge1(p, "ntpmc_tracking_stratum", "Stratum the replies carry "
	       "(0: unsynchronized)", t->stratum);
	gauge1(p, "ntpmc_tracking_leap_status", "Leap indicator the replies "
	       "carry: 0 none, 1 insert, 2 delete, 3 unsynchronized",
	       t->leap);
	gauge1(p, "ntpmc_tracking_last_offset_seconds", "Offset of the "
	       "combined sources at the last clock update", t->last_offset);
	gauge1(p, "ntpmc_tracking_rms_offset_seconds", "Long-term average "
	       "of the offset (root mean square)", t->rms_offset);
	gauge1(p, "ntpmc_tracking_jitter_seconds", "Jitter of the combined "
	       "sources and the system peer", t->jitter);
	gauge1(p, "ntpmc_tracking_frequency_ppms", "Frequency error of the "
	       "local clock being corrected, ppm", t->freq_ppm);
	gauge1(p, "ntpmc_tracking_root_delay_seconds", "Root delay the "
	       "replies carry", t->root_delay);
	gauge1(p, "ntpmc_tracking_root_dispersion_seconds", "Root "
	       "dispersion the replies carry", t->root_disp);
	gauge1(p, "ntpmc_tracking_reference_timestamp_seconds", "Unix time "
	       "of the last clock update (0: never)",
	       (double)t->ref_time_ns / 1e9);
}

static void sources(struct prom *p, const struct metrics_source *s, int n)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ "ntpmc_sources_state_info", "Source state: 1, labelled "
		  "with it (selected combined candidate falseticker "
		  "unreachable unusable kod unresolved)" },
		{ "ntpmc_sources_stratum", "Stratum of the source's last "
		  "good reply" },
		{ "ntpmc_sources_polling_interval_seconds", "Current polling "
		  "interval" },
		{ "ntpmc_sources_reachability_ratio", "Share of the last 8 "
		  "polls answered" },
		{ "ntpmc_sources_reachability_success", "1 when the last "
		  "poll was answered" },
		{ "ntpmc_sources_offset_seconds", "Filtered offset estimate "
		  "of the source (source minus served time)" },
		{ "ntpmc_sources_last_sample_offset_seconds", "Offset of the "
		  "source's newest sample" },
		{ "ntpmc_sources_delay_seconds", "Round-trip delay of the "
		  "source's newest sample" },
		{ "ntpmc_sources_jitter_seconds", "Jitter of the source's "
		  "samples (RMS of the filter residuals)" },
	};
	int f, i;

	for (f = 0; f < (int)(sizeof(fam) / sizeof(fam[0])); f++) {
		if (f >= 5) {
			for (i = 0; i < n && !s[i].have_sample; i++)
				;
			if (i == n)
				continue;
		}
		prom_family(p, fam[f].name, "gauge", fam[f].help);
		for (i = 0; i < n; i++) {
			const struct metrics_source *x = &s[i];
			const char *l[] = { "source_address", x->addr,
					    "source_name", x->name,
					    f == 0 ? "source_state" : NULL,
					    x->state, NULL };
			double v;

			switch (f) {
			case 0: v = 1; break;
			case 1: v = x->stratum; break;
			case 2: v = ldexp(1.0, x->poll); break;
			case 3: v = __builtin_popcount(x->reach) / 8.0; break;
			case 4: v = x->reach & 1; break;
			case 5: v = x->offset; break;
			case 6: v = x->last_offset; break;
			case 7: v = x->delay; break;
			default: v = x->jitter; break;
			}
			if (f >= 5 && !x->have_sample)
				continue;
			prom_gauge(p, fam[f].name, l, v);
		}
	}
}

static void serving(struct prom *p, const struct metrics_serving *s)
{
	const char *l[] = { "reason", NULL, NULL };
	int i;

	prom_family(p, "ntpmc_serverstats_ntp_packets_received_total",
		    "counter", "NTP datagrams read by the serving threads");
	prom_count(p, "ntpmc_serverstats_ntp_packets_received_total", NULL,
		   s->received);
	prom_family(p, "ntpmc_serverstats_ntp_packets_dropped_total",
		    "counter", "NTP datagrams not answered, by reason");
	for (i = 0; i < METRICS_DROP_N; i++) {
		l[1] = drop_reason[i];
		prom_count(p, "ntpmc_serverstats_ntp_packets_dropped_total",
			   l, s->dropped[i]);
	}
	prom_family(p, "ntpmc_serverstats_ntp_replies_total", "counter",
		    "NTP replies sent (KoD included)");
	prom_count(p, "ntpmc_serverstats_ntp_replies_total", NULL,
		   s->replied);
	prom_family(p, "ntpmc_serverstats_ntp_kod_packets_total", "counter",
		    "Kiss-o'-death RATE replies sent");
	prom_count(p, "ntpmc_serverstats_ntp_kod_packets_total", NULL,
		   s->kod_sent);
	prom_family(p, "ntpmc_serverstats_ntp_send_errors_total", "counter",
		    "Replies the kernel refused to send");
	prom_count(p, "ntpmc_serverstats_ntp_send_errors_total", NULL,
		   s->send_errors);
	prom_family(p, "ntpmc_serverstats_reply_duration_seconds",
		    "histogram", "In-process reply time (datagram read to "
		    "send call) per reply");
	prom_histogram(p, "ntpmc_serverstats_reply_duration_seconds",
		       s->n_le, s->le, s->cum, s->sum, s->count);
}

static void cluster(struct prom *p, const struct cluster_view *v)
{
	static const char *const roles[] = { "voter", "standby", "spare" };
	unsigned counts[3] = { v->voters, v->standbys, v->spares };
	const char *l[] = { "role", NULL, NULL };
	int i;

	gauge1(p, "ntpmc_cluster_is_leader", "1 when this member leads the "
	       "cluster", v->is_leader);
	gauge1(p, "ntpmc_cluster_term", "Raft term this member is in",
	       (double)v->term);
	gauge1(p, "ntpmc_cluster_commit_index", "Highest raft log index "
	       "this member knows to be committed", (double)v->commit_index);
	gauge1(p, "ntpmc_cluster_applied_index", "Highest raft log index "
	       "this member has applied", (double)v->applied_index);
	prom_family(p, "ntpmc_cluster_role", "gauge", "This member's role: "
		    "1 for the current one, 0 for the others");
	for (i = 0; i < 3; i++) {
		l[1] = roles[i];
		prom_gauge(p, "ntpmc_cluster_role", l,
			   strcmp(v->role, roles[i]) == 0);
	}
	/* Only the leader's view is the cluster's, and a sum over the
	 * members must not count each member once per member. */
	if (!v->is_leader)
		return;
	prom_family(p, "ntpmc_cluster_members", "gauge", "Members in the "
		    "configuration by role (exported by the leader only)");
	for (i = 0; i < 3; i++) {
		l[1] = roles[i];
		prom_gauge(p, "ntpmc_cluster_members", l, counts[i]);
	}
	gauge1(p, "ntpmc_cluster_fault_tolerance", "Voters that may fail "
	       "before quorum is lost: reachable voters minus quorum "
	       "(exported by the leader only)", v->fault_tolerance);
}

/* The verdict (unknown without a cross-check) and what each peer's clock
 * reads against ours, for the peers that answered lately. */
static void crosscheck(struct prom *p, const struct metrics_crosscheck *xc)
{
	static const char *const verdicts[] = { "unknown", "ok", "suspect" };
	const char *l[] = { "verdict", NULL, NULL };
	int i, v = xc && xc->present ? xc->verdict : 0;

	prom_family(p, "ntpmc_crosscheck_verdict", "gauge", "Peers' verdict "
		    "on this member's clock: 1 for the current one, 0 for "
		    "the others");
	for (i = 0; i < 3; i++) {
		l[1] = verdicts[i];
		prom_gauge(p, "ntpmc_crosscheck_verdict", l, i == v);
	}
	prom_family(p, "ntpmc_crosscheck_offset_seconds", "gauge", "A peer's "
		    "clock minus this member's, from the cross-check's "
		    "filtered samples");
	l[0] = "peer";
	for (i = 0; xc && xc->present && i < xc->n_peer; i++) {
		if (!xc->peer[i].answered)
			continue;
		l[1] = xc->peer[i].name;
		prom_gauge(p, "ntpmc_crosscheck_offset_seconds", l,
			   xc->peer[i].offset);
	}
}

/* Each member planned on (1) or off (0) now, and the leader's alerts:
 * every member exports the plan it computes from the replicated state
 * (the alert rules take the max per member). */
static void rotation(struct prom *p, const struct metrics_rotation *r)
{
	const char *l[] = { "member", NULL, NULL };
	int i;

	prom_family(p, "ntpmc_rotation_planned", "gauge", "1 while the "
		    "rotation plans the member to run, 0 while it plans it "
		    "off");
	for (i = 0; i < r->n_member; i++) {
		l[1] = r->member[i].name;
		prom_gauge(p, "ntpmc_rotation_planned", l, r->member[i].planned);
	}
	gauge1(p, "ntpmc_rotation_alerts", "Rotation alerts the leader holds "
	       "(an allowance that cannot be kept, a hook that keeps "
	       "failing); 0 on a follower", r->alerts);
}

static void http(struct prom *p, const struct mhttp_stats *h)
{
	char code[8];
	const char *l[] = { "code", code, NULL };
	int i;

	prom_family(p, "ntpmc_metrics_http_responses_total", "counter",
		    "Answers of this endpoint by HTTP status");
	for (i = 0; i < MHTTP_N_CODES; i++) {
		if (i == MHTTP_C_OTHER)
			snprintf(code, sizeof(code), "other");
		else
			snprintf(code, sizeof(code), "%d", mhttp_code_of(i));
		prom_count(p, "ntpmc_metrics_http_responses_total", l,
			   h->responses[i]);
	}
	prom_family(p, "ntpmc_metrics_http_rejected_total", "counter",
		    "Connections closed at once: over the connection cap");
	prom_count(p, "ntpmc_metrics_http_rejected_total", NULL, h->rejected);
}

static void egress(struct prom *p, const struct metrics_egress *e)
{
	const char *l[] = { "class", NULL, NULL };
	int i;

	prom_family(p, "ntpmc_egress_bytes_total", "counter",
		    "Bytes this member sent at the IP layer since it started, "
		    "by class (docs/cost.md)");
	for (i = 0; i < e->n && i < METRICS_EGRESS_CLASSES; i++) {
		l[1] = e->cls[i].name;
		prom_count(p, "ntpmc_egress_bytes_total", l,
			   e->cls[i].bytes);
	}
	if (e->governor) {
		static const char *const st[] = { "off", "on", "limiting" };
		const char *g[] = { "state", NULL, NULL };

		prom_family(p, "ntpmc_egress_governor_state", "gauge",
			    "The egress governor: 1 for its state, 0 for the "
			    "others");
		for (i = 0; i < 3; i++) {
			g[1] = st[i];
			prom_gauge(p, "ntpmc_egress_governor_state", g,
				   strcmp(e->governor, st[i]) == 0);
		}
		gauge1(p, "ntpmc_egress_governor_limit_bytes_per_second",
		       "The rate the governor allows public replies at the "
		       "IP layer (0: no limit)", (double)e->governor_rate);
	}
	if (e->has_ratio)
		gauge1(p, "ntpmc_budget_used_ratio", "The month's actual or "
		       "projected use over its allowance or budget, the "
		       "larger (1 = all of it)", e->used_ratio);
}

char *mexp_render(const struct mexp_in *in, size_t *len)
{
	struct prom *p = prom_new();

	*len = 0;
	if (!p)
		return NULL;
	build(p, in);
	if (in->tr)
		tracking(p, in->tr);
	if (in->src && in->n_src > 0)
		sources(p, in->src, in->n_src);
	if (in->sv && in->sv->running)
		serving(p, in->sv);
	if (in->cv && in->cv->member)
		cluster(p, in->cv);
	crosscheck(p, in->xc);
	if (in->eg && in->eg->n > 0)
		egress(p, in->eg);
	if (in->rot && in->rot->present)
		rotation(p, in->rot);
	if (in->http)
		http(p, in->http);
	return prom_finish(p, len);
}
