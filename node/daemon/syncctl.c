#include "node/daemon/syncctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/cluster/cluster.h"
#include "node/crosscheck/crosscheck.h"
#include "node/ctl/ctl.h"
#include "node/base/json.h"
#include "node/base/log.h"
#include "node/base/strbuf.h"
#include "node/ntp/tstate.h"
#include "node/time/sync.h"
#include "node/cost/cost.h"

/* What the commands answer from (one per process). */
static struct {
	struct sync *sy;
	const struct crosscheck *xc;
	const struct cost *cost;
} src;

/* Answers with the text in b and the JSON in j, and frees both. */
static void reply(struct ctl_call *call, struct json *j, struct strbuf *b)
{
	char *js = json_finish(j);
	char *text = strbuf_finish(b, NULL);

	json_free(j);
	if (!js || !text)
		ctl_reply(call, CTL_ERR, "out of memory", NULL, NULL);
	else
		ctl_reply(call, CTL_OK, NULL, text, js);
	free(js);
	free(text);
}

/* Seconds in a short human unit: "+1.234ms". */
static const char *human(double s, char *out, size_t len)
{
	double a = s < 0 ? -s : s;

	if (a >= 1.0)
		snprintf(out, len, "%+.3fs", s);
	else if (a >= 1e-3)
		snprintf(out, len, "%+.3fms", s * 1e3);
	else
		snprintf(out, len, "%+.1fus", s * 1e6);
	return out;
}

/* ---------------------------------------------------------------- */
/* a node without upstream or pool lines: it answers, saying so */

#define NO_SOURCES "no upstream or pool lines are configured: this node " \
	"syncs from nothing"

/* What the node serves instead, from the published time state. */
static const char *serves(const struct tstate *ts, char *out, size_t len)
{
	if (ts->local && ts->stratum)
		snprintf(out, len, "it serves its own clock at stratum %d "
			 "(local stratum)", ts->stratum);
	else
		snprintf(out, len, "its replies say unsynchronized (LI 3, "
			 "stratum 0)");
	return out;
}

static void sources_none(struct ctl_call *call)
{
	struct strbuf b = STRBUF_INIT;
	struct tstate ts;
	struct json *j;
	char what[96];

	tstate_read_claim(&ts);
	strbuf_addf(&b, "%s; %s\n", NO_SOURCES, serves(&ts, what,
		    sizeof(what)));
	j = json_new();
	json_obj_begin(j, NULL);
	json_arr_begin(j, "sources");
	json_arr_end(j);
	json_str(j, "note", NO_SOURCES);
	json_obj_end(j);
	reply(call, j, &b);
}

static void on_sources(void *arg, struct ctl_call *call, int argc,
		       char **argv)
{
	struct sync *sy = src.sy;
	struct json *j;
	struct strbuf b = STRBUF_INIT;
	int i;

	(void)argv;
	if (argc) {
		ctl_reply(call, CTL_EUSAGE, "sources takes no arguments", NULL,
			  NULL);
		return;
	}
	if (!sy) {
		sources_none(call);
		return;
	}
	j = json_new();
	json_obj_begin(j, NULL);
	json_arr_begin(j, "sources");
	strbuf_addf(&b, "%-24s %-28s %-11s %2s %4s %4s %10s %10s %10s  %s\n",
		"NAME", "ADDRESS", "STATE", "ST", "POLL", "REACH", "OFFSET",
		"DELAY", "JITTER", "REASON");
	for (i = 0; i < sync_n_sources(sy); i++) {
		struct sync_source_view v;
		char o[24], d[24], jt[24];

		sync_source(sy, i, &v);
		if (v.have_sample)
			strbuf_addf(&b, "%-24s %-28s %-11s %2d %4d  %03o %10s %10s %10s  %s\n",
				v.name, v.addr[0] ? v.addr : "-", v.state,
				v.stratum, v.poll, v.reach,
				human(v.last_offset, o, sizeof(o)),
				human(v.last_delay, d, sizeof(d)),
				human(v.jitter, jt, sizeof(jt)) + 1, v.reason);
		else
			strbuf_addf(&b, "%-24s %-28s %-11s %2s %4d  %03o %10s %10s %10s  %s\n",
				v.name, v.addr[0] ? v.addr : "-", v.state, "-",
				v.poll, v.reach, "-", "-", "-", v.reason);
		json_obj_begin(j, NULL);
		json_str(j, "name", v.name);
		json_str(j, "address", v.addr[0] ? v.addr : NULL);
		json_bool(j, "pool", v.pool);
		json_bool(j, "smearing", v.smearing);
		json_str(j, "state", v.state);
		json_str(j, "reason", v.reason);
		json_int(j, "stratum", v.stratum);
		json_int(j, "poll", v.poll);
		json_int(j, "reach", v.reach);
		if (v.have_sample) {
			json_double(j, "last_offset", v.last_offset);
			json_double(j, "last_delay", v.last_delay);
			json_double(j, "offset", v.offset);
			json_double(j, "jitter", v.jitter);
			json_double(j, "distance", v.distance);
		} else {
			json_null(j, "last_offset");
			json_null(j, "last_delay");
			json_null(j, "offset");
			json_null(j, "jitter");
			json_null(j, "distance");
		}
		json_uint(j, "sent", v.sent);
		json_uint(j, "good", v.good);
		json_uint(j, "dropped", v.bad);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	reply(call, j, &b);
}

static void refid_str(uint32_t r, char *out, size_t len)
{
	snprintf(out, len, "%u.%u.%u.%u", r >> 24, (r >> 16) & 255,
		 (r >> 8) & 255, r & 255);
}

/* "2016-12-31" for the UTC day that ends at midnight end_s. */
static void day_str(int64_t end_s, char *out, size_t len)
{
	time_t t = (time_t)(end_s - 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d", &tm);
}

/* The egress governor's line (docs/cost.md), and its JSON object (null
 * outside a cluster). */
static void governor_out(struct strbuf *b, struct json *j)
{
	uint64_t rate;
	const char *st;

	if (!src.cost) {
		json_null(j, "egress_governor");
		return;
	}
	st = cost_governor(src.cost, &rate);
	if (rate)
		strbuf_addf(b, "Egress governor : %s (%llu B/s)\n", st,
			    (unsigned long long)rate);
	else
		strbuf_addf(b, "Egress governor : %s\n", st);
	json_obj_begin(j, "egress_governor");
	json_str(j, "state", st);
	json_uint(j, "limit_bps", rate);
	json_obj_end(j);
}

/* The cross-check's line, and its JSON object (null without one). */
static void crosscheck_out(struct strbuf *b, struct json *j)
{
	struct crosscheck_view *v;
	char line[256];

	if (!src.xc) {
		json_null(j, "crosscheck");
		return;
	}
	v = malloc(sizeof(*v));
	if (!v) {
		strbuf_adds(b, "Cross-check     : (out of memory)\n");
		json_null(j, "crosscheck");
		return;
	}
	crosscheck_view(src.xc, v);
	crosscheck_summary(v, line, sizeof(line));
	strbuf_addf(b, "Cross-check     : %s\n", line);
	json_obj_begin(j, "crosscheck");
	json_str(j, "verdict", cluster_verdict_name(v->verdict));
	json_str(j, "last_check", v->result);
	if (v->has_offset)
		json_double(j, "offset_ms", v->offset * 1e3);
	else
		json_null(j, "offset_ms");
	json_int(j, "peers", v->peers);
	json_int(j, "members", v->members);
	json_str(j, "why", v->why);
	json_double(j, "root_distance_ms", v->own_half * 1e3);
	json_int(j, "interval_s", v->interval_s);
	json_uint(j, "checks", v->checks);
	json_uint(j, "decided", v->decided);
	json_uint(j, "first_decided_check", v->first_decided);
	json_uint(j, "suspect_at_check", v->suspect_at);
	json_uint(j, "cleared_at_check", v->cleared_at);
	json_uint(j, "transitions", v->transitions);
	json_uint(j, "requests_sent", v->sent);
	json_uint(j, "replies", v->replies);
	json_uint(j, "refused", v->bad);
	json_uint(j, "request_bytes_sent", v->bytes_sent);
	json_arr_begin(j, "members_measured");
	for (int i = 0; i < v->n_peer; i++) {
		const struct crosscheck_peer_view *p = &v->peer[i];

		json_obj_begin(j, NULL);
		json_str(j, "name", p->name);
		json_bool(j, "answered", p->answered);
		if (p->answered) {
			json_double(j, "offset_ms", p->offset * 1e3);
			json_double(j, "delay_ms", p->delay * 1e3);
			json_double(j, "half_width_ms", p->half * 1e3);
		}
		json_uint(j, "sent", p->sent);
		json_uint(j, "good", p->good);
		json_uint(j, "refused", p->bad);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	free(v);
}

/* No engine: what the published state claims, and the cross-check. */
static void tracking_published(struct ctl_call *call)
{
	struct json *j = json_new();
	struct strbuf b = STRBUF_INIT;
	struct tstate t;
	char what[96];
	int synced;

	if (!j) {
		ctl_reply(call, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	tstate_read_claim(&t);
	synced = t.leap != 3 && t.stratum != 0;
	strbuf_addf(&b, "Sync state      : %s%s\n", t.local ?
		    "synchronized (local clock)" : synced ? "synchronized" :
		    "unsynchronized: " NO_SOURCES,
		    t.withdrawn ? ", withdrawn by the cross-check: replies say "
		    "unsynchronized (LI 3)" : "");
	strbuf_addf(&b, "Serving         : %s\n", serves(&t, what,
		    sizeof(what)));
	strbuf_addf(&b, "Stratum         : %d\n", t.stratum);
	strbuf_addf(&b, "Leap            : %d\n", t.leap);
	strbuf_addf(&b, "Sources         : 0 configured\n");
	json_obj_begin(j, NULL);
	json_bool(j, "synchronized", synced && !t.withdrawn);
	json_str(j, "state", t.local ? "local" : synced ? "synchronized" :
		 "unsynchronized");
	json_str(j, "reason", NO_SOURCES);
	json_int(j, "stratum", t.stratum);
	json_int(j, "leap", t.leap);
	json_int(j, "configured", 0);
	json_bool(j, "withdrawn", t.withdrawn);
	crosscheck_out(&b, j);
	governor_out(&b, j);
	json_obj_end(j);
	reply(call, j, &b);
}

static void on_tracking(void *arg, struct ctl_call *call, int argc,
			char **argv)
{
	struct sync *sy = src.sy;
	struct sync_tracking_view v;
	struct tstate claim;
	struct json *j;
	struct strbuf b = STRBUF_INIT;
	char rid[20], when[40] = "never", last[16] = "", next[16] = "";

	(void)argv;
	if (argc) {
		ctl_reply(call, CTL_EUSAGE, "tracking takes no arguments", NULL,
			  NULL);
		return;
	}
	if (!sy) {
		tracking_published(call);
		return;
	}
	sync_tracking(sy, &v);
	tstate_read_claim(&claim);
	refid_str(v.refid, rid, sizeof(rid));
	if (v.last_update_ns) {
		time_t t = (time_t)(v.last_update_ns / 1000000000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	strbuf_addf(&b, "Sync state      : %s%s%s%s\n", v.state,
		    v.reason[0] ? ": " : "", v.reason, claim.withdrawn ?
		    ", withdrawn by the cross-check: replies say unsynchronized "
		    "(LI 3)" : "");
	strbuf_addf(&b, "Reference       : %s (refid %s)\n",
		v.reference[0] ? v.reference : "-", rid);
	strbuf_addf(&b, "Stratum         : %d\n", v.stratum);
	strbuf_addf(&b, "Correction      : %+.9f s (still to slew %+.9f s)\n",
		v.correction, v.remaining);
	strbuf_addf(&b, "Frequency       : %+.3f ppm\n", v.freq_ppm);
	strbuf_addf(&b, "Root delay      : %.9f s\n", v.root_delay);
	strbuf_addf(&b, "Root dispersion : %.9f s\n", v.root_disp);
	if (v.leap_last_end)
		day_str(v.leap_last_end, last, sizeof(last));
	if (v.leap_moment_ns)
		day_str(v.leap_moment_ns / 1000000000 +
			(v.leap_pending == 2 ? 1 : 0), next, sizeof(next));
	strbuf_addf(&b, "Leap            : %d\n", v.leap);
	strbuf_addf(&b, "Leap seconds    : %llu inserted, %llu deleted%s%s%s%s\n",
		(unsigned long long)v.leap_inserted,
		(unsigned long long)v.leap_deleted,
		last[0] ? ", last at the end of " : "", last,
		next[0] ? (v.leap_pending == 1 ? ", insert pending at the end of " :
			   ", delete pending at the end of ") : "", next);
	strbuf_addf(&b, "Last update     : %s\n", when);
	strbuf_addf(&b, "Sources         : %d agree, %d reachable, %d configured\n",
		v.agree, v.reachable, v.configured);
	strbuf_addf(&b, "Discipline      : %s (%d steps)\n", v.discipline,
		v.steps);
	strbuf_addf(&b, "Dropped         : %llu from non-sources, %llu receive "
		"errors, %llu send errors\n",
		(unsigned long long)v.rx_unknown,
		(unsigned long long)v.rx_errors,
		(unsigned long long)v.tx_errors);
	j = json_new();
	json_obj_begin(j, NULL);
	json_bool(j, "synchronized", v.synced);
	json_str(j, "state", v.state);
	json_str(j, "reason", v.reason);
	json_str(j, "reference", v.reference[0] ? v.reference : NULL);
	json_str(j, "refid", rid);
	json_int(j, "stratum", v.stratum);
	json_double(j, "correction", v.correction);
	json_double(j, "remaining", v.remaining);
	json_double(j, "frequency_ppm", v.freq_ppm);
	json_double(j, "root_delay", v.root_delay);
	json_double(j, "root_dispersion", v.root_disp);
	json_int(j, "leap", v.leap);
	json_uint(j, "leap_inserted", v.leap_inserted);
	json_uint(j, "leap_deleted", v.leap_deleted);
	if (last[0])
		json_str(j, "leap_last_day", last);
	else
		json_null(j, "leap_last_day");
	if (next[0])
		json_str(j, "leap_pending_day", next);
	else
		json_null(j, "leap_pending_day");
	json_int(j, "leap_pending", v.leap_pending);
	if (v.last_update_ns)
		json_str(j, "last_update", when);
	else
		json_null(j, "last_update");
	json_int(j, "agree", v.agree);
	json_int(j, "reachable", v.reachable);
	json_int(j, "configured", v.configured);
	json_str(j, "discipline", v.discipline);
	json_int(j, "steps", v.steps);
	json_uint(j, "rx_from_non_sources", v.rx_unknown);
	json_uint(j, "rx_errors", v.rx_errors);
	json_uint(j, "tx_errors", v.tx_errors);
	json_bool(j, "withdrawn", claim.withdrawn);
	crosscheck_out(&b, j);
	governor_out(&b, j);
	json_obj_end(j);
	reply(call, j, &b);
}

void syncctl_set_cost(const struct cost *c)
{
	src.cost = c;
}

int syncctl_register(struct ctl *ctl, struct sync *sy,
		     const struct crosscheck *xc)
{
	src.sy = sy;
	src.xc = xc;
	if (ctl_register(ctl, "sources", on_sources, NULL) < 0 ||
	    ctl_register(ctl, "tracking", on_tracking, NULL) < 0) {
		log_err("sync: cannot register the control commands");
		return -1;
	}
	return 0;
}
