/*
 * crosscheck: the schedule, the members and the verdict (crosscheck.h).
 *
 * One timer: a check of I seconds sends member k its request at
 * (k + 1/2) / n of the first 80 % of the interval (the rest leaves
 * replies time to come back), then decides at the end of the interval.
 * The members, their addresses and pair keys are read from the cluster
 * before each check; the pair-key table the serving threads verify with
 * (node/ntp/pkeys.h) is rewritten when the membership changed.
 */
#include "node/crosscheck/crosscheck.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/base/log.h"
#include "node/base/wirelen.h"
#include "node/cluster/cluster.h"
#include "node/crosscheck/xcdecide.h"
#include "node/crosscheck/xcpeer.h"
#include "node/crosscheck/xcprobe.h"
#include "node/ntp/clk.h"
#include "node/ntp/ntp.h"
#include "node/ntp/pkeys.h"
#include "node/ntp/pmac.h"
#include "node/ntp/tstate.h"

#define SEND_SPAN 0.8           /* of the interval, for the requests */

_Static_assert((int)XCD_V_UNKNOWN == CLUSTER_CHECK_UNKNOWN &&
	       (int)XCD_V_OK == CLUSTER_CHECK_OK &&
	       (int)XCD_V_SUSPECT == CLUSTER_CHECK_SUSPECT,
	       "the rule's verdicts are the cluster's");

struct xc_member {
	uint64_t id;
	char name[65];
	struct sockaddr_storage addr;
	socklen_t addrlen;          /* 0: no address known, not probed */
	uint32_t key_id;
	uint8_t key[PMAC_KEY_LEN];
	int have_key;
	struct xcp_request req;
	uint32_t tx_id;
	int tx_pending;
	struct xcp_peer win;
	uint64_t sent, good, bad;
	/* at the last decision */
	int answered;
	double offset, delay, half;
};

struct crosscheck {
	uv_loop_t *loop;
	struct cluster *cl;
	crosscheck_suspect_fn on_suspect;   /* the daemon's: the engine */
	void *on_suspect_arg;
	uv_timer_t timer;
	uv_timer_t record;          /* until the record was looked at */
	int open_handles;
	struct xcprobe *probe;
	char overlay[64];           /* what the probe's IPv4 socket is bound to */
	uint32_t self_id;
	unsigned interval_s;
	int64_t check;              /* the check in progress, from 1 */
	uint64_t check_start;       /* loop ms */
	int slot;                   /* next member to send to */
	int n;
	struct xc_member m[CROSSCHECK_MAX_PEERS];
	uint64_t keys_sum;          /* the member set the key table holds */
	struct xcd_state st;
	int verdict;                /* enum cluster_verdict */
	int record_read;            /* the FSM's verdict was looked at */
	struct xcd_decision last;
	int have_last;
	double own_half;
	char why[CLUSTER_CHECK_WHY_MAX + 1];
	uint64_t decided, first_decided, suspect_at, cleared_at, transitions;
	uint64_t sent, replies, bad;
	uint64_t tx_ip_bytes;       /* egress of the requests (wirelen.h) */
};

/* The claim goes (or returns): the published state says so at once, and
 * the daemon tells the time engine (the kernel's STA_UNSYNC). */
static void withdraw(struct crosscheck *xc, int suspect)
{
	tstate_withdraw(suspect);
	if (xc->on_suspect)
		xc->on_suspect(xc->on_suspect_arg, suspect);
}

/* ---------------------------------------------------------------- */
/* helpers */

static int64_t served_now(int64_t raw, double *corr)
{
	struct tstate c;
	int64_t s;

	tstate_read_claim(&c);
	s = tstate_served_ns(&c, raw);
	if (corr)
		*corr = (double)(s - raw) / 1e9;
	return s;
}

static int make_addr(const char *host, uint16_t port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char h[64];
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (!port || !n || n >= sizeof(h))
		return -1;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	/* "[v6]" as raft addresses write it */
	if (host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = 0;
		host = h;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;   /* a name: members' addresses are numeric */
}

static struct xc_member *by_key_id(struct crosscheck *xc, uint32_t id)
{
	int i;

	for (i = 0; i < xc->n; i++)
		if (xc->m[i].have_key && xc->m[i].key_id == id)
			return &xc->m[i];
	return NULL;
}

/* ---------------------------------------------------------------- */
/* the members */

/* Reads the membership; keeps what we know of members that stay. */
static void refresh_members(struct crosscheck *xc)
{
	struct cluster_member_info *info;
	struct xc_member *old;
	struct pkeys_entry *e;
	uint64_t sum = 1469598103934665603ULL;
	int i, j, n, ne = 0;

	info = calloc(CROSSCHECK_MAX_PEERS, sizeof(*info));
	old = malloc(sizeof(xc->m));
	e = calloc(CROSSCHECK_MAX_PEERS, sizeof(*e));
	if (!info || !old || !e)
		goto out;
	memcpy(old, xc->m, sizeof(xc->m));
	n = cluster_members(xc->cl, info, CROSSCHECK_MAX_PEERS);
	memset(xc->m, 0, sizeof(xc->m));
	for (i = 0; i < n; i++) {
		struct xc_member *m = &xc->m[i];

		for (j = 0; j < xc->n; j++)
			if (old[j].id == info[i].id) {
				*m = old[j];
				break;
			}
		m->id = info[i].id;
		snprintf(m->name, sizeof(m->name), "%s", info[i].name);
		if (info[i].stopped ||
		    make_addr(info[i].host, info[i].ntp_port, &m->addr,
			      &m->addrlen) < 0)
			m->addrlen = 0;
		if (!m->have_key &&
		    cluster_pair_key(xc->cl, m->id, m->key) == 0) {
			m->have_key = 1;
			m->key_id = pmac_key_id(m->id);
		}
		if (m->have_key) {
			e[ne].key_id = m->key_id;
			memcpy(e[ne].key, m->key, PMAC_KEY_LEN);
			ne++;
			sum = (sum ^ m->id) * 1099511628211ULL;
		}
	}
	xc->n = n;
	if (sum != xc->keys_sum) {
		pkeys_set(xc->self_id, e, (size_t)ne);
		xc->keys_sum = sum;
	}
out:
	if (old)
		sodium_memzero(old, sizeof(xc->m));
	if (e)
		sodium_memzero(e, CROSSCHECK_MAX_PEERS * sizeof(*e));
	free(info);
	free(old);
	free(e);
}

/* ---------------------------------------------------------------- */
/* requests and replies */

static void send_request(struct crosscheck *xc, struct xc_member *m)
{
	uint8_t pkt[PMAC_LEN];
	struct ntp_hdr h;
	int64_t t1_raw;
	uint32_t b;
	int rc;

	if (!m->addrlen || !m->have_key || !xc->probe)
		return;
	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.mode = NTP_MODE_CLIENT;
	h.poll = (int8_t)(xc->interval_s >= 2 ?
			  31 - __builtin_clz(xc->interval_s) : 0);
	h.precision = TSTATE_PRECISION;
	/* A random origin, as chrony sends: only our member can echo it. */
	randombytes_buf(&h.xmt, sizeof(h.xmt));
	ntp_encode(&h, pkt);
	pmac_sign(pkt, xc->self_id, m->key);
	rc = xcprobe_send(xc->probe, (struct sockaddr *)&m->addr, m->addrlen,
			  pkt, sizeof(pkt), &t1_raw, &m->tx_id,
			  &m->tx_pending);
	if (rc < 0)
		return;
	m->sent++;
	xc->sent++;
	/* Sent from the overlay address: it leaves inside WireGuard (an
	 * IPv4 endpoint assumed, docs/cost.md). */
	b = wirelen_udp((struct sockaddr *)&m->addr, sizeof(pkt));
	xc->tx_ip_bytes += xc->overlay[0] ? wirelen_wg(0, b) : b;
	m->req.cookie = h.xmt;
	m->req.t1_ns = served_now(t1_raw, NULL);
	m->req.check = xc->check;
	m->req.pending = 1;
}

static void on_sent(void *arg, int family, uint32_t tx_id, int64_t t1_raw)
{
	struct crosscheck *xc = arg;
	int i;

	for (i = 0; i < xc->n; i++) {
		struct xc_member *m = &xc->m[i];

		if (m->tx_pending && m->tx_id == tx_id &&
		    m->addr.ss_family == family) {
			m->tx_pending = 0;
			if (m->req.pending)
				m->req.t1_ns = served_now(t1_raw, NULL);
			return;
		}
	}
}

static void on_reply(void *arg, const struct sockaddr_storage *from,
		     const uint8_t *buf, size_t len, int64_t t4_raw)
{
	struct crosscheck *xc = arg;
	struct xc_member *m = by_key_id(xc, pmac_peek_id(buf, len));
	struct xcp_sample s;
	double corr;
	int64_t t4;
	int rc;

	(void)from;
	if (!m) {
		xc->bad++;
		return;
	}
	t4 = served_now(t4_raw, &corr);
	rc = xcp_parse_reply(buf, len, m->key, m->key_id, &m->req, t4, corr,
			     TSTATE_PRECISION, &s);
	if (rc != XCP_OK) {
		m->bad++;
		xc->bad++;
		if (rc != XCP_EAUTH)
			log_debug("cross-check: reply from %s refused (%d)",
				  m->name, rc);
		return;
	}
	m->good++;
	xc->replies++;
	xcp_add(&m->win, &s);
}

/* ---------------------------------------------------------------- */
/* the decision */

static void fmt_ms(char *out, size_t len, double s)
{
	snprintf(out, len, "%+.3f ms", s * 1e3);
}

/* "n1, n2" of the peers in the decisive set. */
static void names_of(struct crosscheck *xc, const struct xcd_decision *d,
		     char *out, size_t len)
{
	size_t used = 0;
	int i, j;

	out[0] = 0;
	for (i = 0; i < d->n_with; i++)
		for (j = 0; j < xc->n; j++) {
			if (xc->m[j].id != d->with[i])
				continue;
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "",
						 xc->m[j].name[0] ?
						 xc->m[j].name : "?");
			if (used >= len)
				return;
		}
}

static void explain(struct crosscheck *xc, const struct xcd_decision *d,
		    int synced)
{
	char off[32], who[96];

	fmt_ms(off, sizeof(off), d->from_median);
	names_of(xc, d, who, sizeof(who));
	if (!synced)
		snprintf(xc->why, sizeof(xc->why), "this member claims no "
			 "synchronization: nothing to check");
	else if (d->n < 3)
		snprintf(xc->why, sizeof(xc->why), "%d of %d peer%s answered: "
			 "a decision needs 2", d->n - 1, xc->n,
			 xc->n == 1 ? "" : "s");
	else if (d->result == XCD_UNKNOWN)
		snprintf(xc->why, sizeof(xc->why), "no majority: at best %d "
			 "of %d agree", d->best, d->n);
	else if (d->result == XCD_OK)
		snprintf(xc->why, sizeof(xc->why), "%s from the median of %d "
			 "peer%s; %d of %d agree with it", off, d->n - 1,
			 d->n == 2 ? "" : "s", d->best, d->n);
	else if (snprintf(xc->why, sizeof(xc->why), "%s from the median of "
			  "%s; %d of %d agree without it", off, who, d->best,
			  d->n) >= (int)sizeof(xc->why)) {
		/* a long list of names is cut: the message stays useful */
	}
}

static void publish(struct crosscheck *xc)
{
	struct cluster_check c;

	memset(&c, 0, sizeof(c));
	c.verdict = xc->verdict;
	c.peers = xc->have_last ? xc->last.n - 1 : 0;
	c.has_offset = xc->have_last && xc->last.n > 1;
	c.offset = c.has_offset ? xc->last.from_median : 0;
	memcpy(c.why, xc->why, sizeof(c.why));
	cluster_check_report(xc->cl, &c);
}

/* A restarted member the cluster recorded as a suspect starts as one: it
 * must earn its claim back with ok checks. Looked at every RECORD_MS
 * until the first check with a majority (a restarted member's log
 * catches up within a heartbeat or two), so that it claims nothing in
 * between. */
#define RECORD_MS 100

static void read_record(struct crosscheck *xc)
{
	if (xc->record_read || xc->st.suspect) {
		uv_timer_stop(&xc->record);
		return;
	}
	if (!cluster_self_suspect(xc->cl))
		return;
	uv_timer_stop(&xc->record);
	xc->record_read = 1;
	xc->st.suspect = 1;
	xc->verdict = CLUSTER_CHECK_SUSPECT;
	withdraw(xc, 1);
	snprintf(xc->why, sizeof(xc->why), "the cluster's record says this "
		 "member is a suspect");
	log_warnx("cross-check: the cluster's record says this member is a "
		  "suspect: replies say unsynchronized (LI 3) until %d checks "
		  "in a row say ok", XCD_CLEAR_AFTER);
}

static void on_record(uv_timer_t *t)
{
	read_record(t->data);
}

static void decide(struct crosscheck *xc)
{
	struct xcd_peer p[CROSSCHECK_MAX_PEERS];
	struct xcd_decision d;
	struct tstate claim;
	enum xcd_result r;
	int64_t now;
	double corr;
	int i, np = 0, changed, synced;

	now = served_now(clk_raw_ns(), &corr);
	tstate_read_claim(&claim);
	synced = claim.leap != NTP_LEAP_UNSYNC && claim.stratum != 0;
	xc->own_half = claim.root_delay / 2 +
		       (claim.local ? claim.root_disp :
			tstate_root_disp_at(&claim, now));
	for (i = 0; i < xc->n; i++) {
		struct xc_member *m = &xc->m[i];

		m->answered = xcp_best(&m->win, xc->check, now, corr,
				       &m->offset, &m->half, &m->delay) == 0;
		if (!m->answered)
			continue;
		p[np].id = m->id;
		p[np].offset = m->offset;
		p[np].half = m->half;
		np++;
	}
	xcd_decide(xc->own_half, p, np, &d);
	r = synced ? d.result : XCD_UNKNOWN;
	if (r != XCD_UNKNOWN)
		xc->record_read = 1;
	if (r != XCD_UNKNOWN && !xc->decided++)
		xc->first_decided = (uint64_t)xc->check;
	xc->verdict = (int)xcd_step(&xc->st, r, &changed);
	xc->last = d;
	xc->last.result = r;
	xc->have_last = 1;
	explain(xc, &d, synced);
	if (changed) {
		xc->transitions++;
		withdraw(xc, xc->st.suspect);
		if (xc->st.suspect) {
			xc->suspect_at = (uint64_t)xc->check;
			log_warnx("cross-check: this member is a suspect: %s; "
				  "replies say unsynchronized (LI 3) until %d "
				  "checks in a row say ok", xc->why,
				  XCD_CLEAR_AFTER);
		} else {
			xc->cleared_at = (uint64_t)xc->check;
			log_info("cross-check: %d checks in a row ok (%s): "
				 "this member claims synchronization again",
				 XCD_CLEAR_AFTER, xc->why);
		}
	} else if (r == XCD_CANDIDATE && !xc->st.suspect) {
		log_info("cross-check: out-voted once: %s", xc->why);
	}
	publish(xc);
}

/* ---------------------------------------------------------------- */
/* the schedule */

static unsigned interval_now(struct crosscheck *xc)
{
	const char *v = cluster_key_value(xc->cl, "crosscheck-interval");
	long s = v ? atol(v) : 0;

	if (s < CROSSCHECK_MIN_INTERVAL || s > CROSSCHECK_MAX_INTERVAL)
		s = CROSSCHECK_DEFAULT_INTERVAL;
	return (unsigned)s;
}

static uint64_t slot_ms(const struct crosscheck *xc, int k)
{
	double span = xc->interval_s * 1000.0 * SEND_SPAN;

	return xc->check_start +
	       (uint64_t)((k + 0.5) * span / (xc->n ? xc->n : 1));
}

static void on_timer(uv_timer_t *t);

static void arm(struct crosscheck *xc)
{
	uint64_t now = uv_now(xc->loop), at;

	at = xc->slot < xc->n ? slot_ms(xc, xc->slot) :
	     xc->check_start + xc->interval_s * 1000ULL;
	uv_timer_start(&xc->timer, on_timer, at > now ? at - now : 0, 0);
}

static void on_reply(void *arg, const struct sockaddr_storage *from,
		     const uint8_t *buf, size_t len, int64_t t4_raw);
static void on_sent(void *arg, int family, uint32_t tx_id, int64_t t1_raw);

/* The probe sockets, bound to our overlay address once we know it (a
 * joiner learns it from the log): reopened when it changes. */
static int open_probe(struct crosscheck *xc)
{
	struct xcprobe_cb cb = { on_reply, on_sent, xc };
	struct xcprobe *p;
	char ov[64];
	int i;

	cluster_overlay(xc->cl, ov, sizeof(ov));
	if (xc->probe && strcmp(ov, xc->overlay) == 0)
		return 0;
	p = xcprobe_open(xc->loop, ov, &cb);
	if (!p)
		return -1;
	xcprobe_close(xc->probe);
	xc->probe = p;
	for (i = 0; i < xc->n; i++) {
		xc->m[i].req.pending = 0;
		xc->m[i].tx_pending = 0;
	}
	if (ov[0])
		log_info("cross-check: sending from the overlay address %s",
			 ov);
	snprintf(xc->overlay, sizeof(xc->overlay), "%s", ov);
	return 0;
}

static void begin_check(struct crosscheck *xc)
{
	unsigned iv = interval_now(xc);
	uint64_t now = uv_now(xc->loop);
	/* back to back: the next check starts where this one ended, unless
	 * the loop fell behind by more than a check */
	uint64_t next = xc->check_start + xc->interval_s * 1000ULL;

	xc->check_start = xc->check_start && next <= now &&
			  now - next < xc->interval_s * 1000ULL ? next : now;
	if (iv != xc->interval_s) {
		if (xc->interval_s)
			log_info("cross-check: a check every %u s (was %u)",
				 iv, xc->interval_s);
		xc->interval_s = iv;
	}
	refresh_members(xc);
	open_probe(xc);
	read_record(xc);
	xc->check++;
	xc->slot = 0;
	arm(xc);
}

static void on_timer(uv_timer_t *t)
{
	struct crosscheck *xc = t->data;

	if (xc->slot < xc->n) {
		send_request(xc, &xc->m[xc->slot++]);
		arm(xc);
		return;
	}
	decide(xc);
	begin_check(xc);
}

/* ---------------------------------------------------------------- */
/* lifetime */

struct crosscheck *crosscheck_start(uv_loop_t *loop, struct cluster *cl,
				    const struct crosscheck_conf *c,
				    uint16_t ntp_port,
				    crosscheck_suspect_fn on_suspect, void *arg)
{
	struct crosscheck *xc;

	if (sodium_init() < 0)
		return NULL;
	xc = calloc(1, sizeof(*xc));
	if (!xc) {
		log_warnx("cross-check: out of memory");
		return NULL;
	}
	xc->loop = loop;
	xc->cl = cl;
	xc->on_suspect = on_suspect;
	xc->on_suspect_arg = arg;
	xc->self_id = pmac_key_id(cluster_self_id(cl));
	if (open_probe(xc) < 0) {
		free(xc);
		return NULL;
	}
	if (c->interval_s) {
		char v[16];

		snprintf(v, sizeof(v), "%u", c->interval_s);
		cluster_key_file(cl, "crosscheck-interval", v);
	}
	cluster_set_ntp_port(cl, c->port ? c->port : ntp_port);
	uv_timer_init(loop, &xc->timer);
	uv_timer_init(loop, &xc->record);
	xc->timer.data = xc->record.data = xc;
	xc->open_handles = 2;
	uv_timer_start(&xc->record, on_record, 0, RECORD_MS);
	begin_check(xc);
	log_info("cross-check: every %u s, %d member%s to measure",
		 xc->interval_s, xc->n, xc->n == 1 ? "" : "s");
	return xc;
}

static void timer_closed(uv_handle_t *h)
{
	struct crosscheck *xc = h->data;

	if (--xc->open_handles == 0)
		free(xc);
}

void crosscheck_stop(struct crosscheck *xc)
{
	if (!xc)
		return;
	uv_timer_stop(&xc->timer);
	uv_timer_stop(&xc->record);
	xcprobe_close(xc->probe);
	pkeys_clear();
	/* A suspect stays withdrawn: the serving threads answer until the
	 * process ends. */
	sodium_memzero(xc->m, sizeof(xc->m));
	uv_close((uv_handle_t *)&xc->timer, timer_closed);
	uv_close((uv_handle_t *)&xc->record, timer_closed);
}

/* ---------------------------------------------------------------- */
/* the view */

void crosscheck_view(const struct crosscheck *xc, struct crosscheck_view *v)
{
	int i;

	memset(v, 0, sizeof(*v));
	v->verdict = xc->verdict;
	v->result = xc->have_last ? xcd_result_name(xc->last.result) :
		    "none yet";
	v->peers = xc->have_last ? xc->last.n - 1 : 0;
	v->members = xc->n;
	v->has_offset = xc->have_last && xc->last.n > 1;
	v->offset = v->has_offset ? xc->last.from_median : 0;
	v->own_half = xc->own_half;
	v->interval_s = xc->interval_s;
	v->checks = xc->check > 0 ? (uint64_t)xc->check - 1 : 0;
	v->decided = xc->decided;
	v->first_decided = xc->first_decided;
	v->suspect_at = xc->suspect_at;
	v->cleared_at = xc->cleared_at;
	v->transitions = xc->transitions;
	v->ok_run = xc->st.ok_run;
	snprintf(v->why, sizeof(v->why), "%s",
		 xc->have_last ? xc->why : "no check yet");
	v->sent = xc->sent;
	v->replies = xc->replies;
	v->bad = xc->bad;
	v->bytes_sent = xc->sent * PMAC_LEN;
	v->tx_ip_bytes = xc->tx_ip_bytes;
	v->n_peer = xc->n;
	for (i = 0; i < xc->n; i++) {
		const struct xc_member *m = &xc->m[i];
		struct crosscheck_peer_view *p = &v->peer[i];

		p->id = m->id;
		snprintf(p->name, sizeof(p->name), "%s", m->name);
		p->answered = m->answered;
		p->offset = m->offset;
		p->delay = m->delay;
		p->half = m->half;
		p->sent = m->sent;
		p->good = m->good;
		p->bad = m->bad;
	}
}

void crosscheck_summary(const struct crosscheck_view *v, char *out,
			size_t len)
{
	if (v->verdict == CLUSTER_CHECK_OK)
		snprintf(out, len, "ok (%d peer%s, %.2f ms from consensus)",
			 v->peers, v->peers == 1 ? "" : "s",
			 fabs(v->offset) * 1e3);
	else if (v->verdict == CLUSTER_CHECK_SUSPECT)
		snprintf(out, len, "suspect (%s; %d of %d ok checks to clear)",
			 v->why, v->ok_run, XCD_CLEAR_AFTER);
	else
		snprintf(out, len, "unknown (%s)", v->why);
}
