/*
 * The time engine. Flow per good reply: source_reply() (checks, sample
 * into the source's filter) -> run_selection() (estimates of every source
 * at one instant, select_run()) -> disc_update() -> publish(). A 1 s
 * housekeeping timer re-runs the selection (first-claim deadline, ageing,
 * holdover), replaces bad pool members and saves the frequency.
 */
#include "node/sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <time.h>
#include <unistd.h>

#include "node/clk.h"
#include "node/hosts.h"
#include "node/leap.h"
#include "node/log.h"
#include "node/refid.h"
#include "node/select.h"
#include "node/source.h"
#include "node/tstate.h"

#define SYNC_MAX_SLOTS 64
#define SYNC_MAX_ADDRS 16
#define SYNC_AVOID 16
#define SYNC_RETRY_MIN_S 1
#define SYNC_RETRY_MAX_S 600
#define SYNC_COMBINELIMIT 3.0
#define SYNC_FALSE_REPLACE 8      /* falseticker selections before a pool
				     member is replaced */
#define SYNC_SAVE_INTERVAL_NS (3600LL * 1000000000LL)

struct sync_entry;

struct sync_slot {
	struct sync *sy;
	struct sync_entry *ent;
	int have_addr;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addr_str[64];
	struct source *src;
	uv_timer_t timer;
	int polls;               /* since the address was assigned */
	int false_count;
	enum select_state sel;
	char reason[128];
	struct filter_est est;
	uint32_t tx_id;          /* SOF_TIMESTAMPING_OPT_ID of the request */
	int tx_pending;          /* its kernel transmit timestamp is due */
};

struct sync_entry {
	struct sync *sy;
	const struct conf_upstream *cu;
	int first, n;            /* its slots */
	uv_getaddrinfo_t gai;
	int resolving;
	uv_timer_t retry;
	int retry_s;
	int failures;
	char error[128];
	struct sockaddr_storage avoid[SYNC_AVOID];
	int n_avoid, avoid_next;
};

struct sync {
	uv_loop_t *loop;
	struct conf_time ct;
	enum disc_mode mode;
	struct sync_entry ent[CONF_MAX_UPSTREAM];
	int n_ent;
	struct sync_slot slot[SYNC_MAX_SLOTS];
	int n_slot;
	int fd4, fd6;
	uv_poll_t poll4, poll6;
	int txts4, txts6;        /* kernel transmit timestamps enabled */
	uint32_t txid4, txid6;   /* next OPT_ID per socket */
	uv_timer_t house, slew;
	struct disc *disc;
	struct leap_list *leap;
	struct sync_persist persist;
	int64_t start_mono;
	int claimed_once, synced, holdover;
	int64_t last_update_mono;
	int64_t last_update_ns;   /* served time of the last update */
	int sys;
	struct select_out sel;
	struct tstate ts;
	int64_t last_save_mono;
	double saved_freq;
	uint64_t rx_unknown, rx_errors, tx_errors;
	int open_handles, stopping;
};

static int64_t mono_ns(void)
{
	return (int64_t)uv_hrtime();
}

/* Oscillator time now: the clock reading minus the kernel's share. */
static int64_t osc_now(const struct sync *sy, int64_t *reading)
{
	int64_t r = clk_raw_ns();

	if (reading)
		*reading = r;
	return r - llround(disc_in_clock(sy->disc, r) * 1e9);
}

static uint64_t ns_to_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (uint64_t)((ns + 999999) / 1000000);
}

static void addr_to_str(const struct sockaddr_storage *a, char *buf,
			size_t len)
{
	char h[INET6_ADDRSTRLEN];
	uint16_t port;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a;

		inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
		port = ntohs(s->sin_port);
		snprintf(buf, len, "%s:%u", h, port);
	} else {
		const struct sockaddr_in6 *s = (const void *)a;

		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
		port = ntohs(s->sin6_port);
		snprintf(buf, len, "[%s]:%u", h, port);
	}
}

static int same_addr(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Publishing */

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
	int64_t s = served_ns / 1000000000;
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

static void publish(struct sync *sy, int64_t reading)
{
	struct tstate ts;

	if (sy->synced) {
		ts = sy->ts;
	} else {
		tstate_unsynced(&ts);
	}
	disc_fill_tstate(sy->disc, &ts);
	if (sy->synced)
		ts.leap = (uint8_t)leap_now(sy, tstate_served_ns(&ts, reading));
	sy->ts = ts;
	tstate_publish(&ts);
}

static void slew_cb(uv_timer_t *t);

/* The virtual correction bends when a slew ends: re-publish then. */
static void arm_slew(struct sync *sy, int64_t osc)
{
	int64_t end = disc_slew_end(sy->disc);

	uv_timer_stop(&sy->slew);
	if (end)
		uv_timer_start(&sy->slew, slew_cb, ns_to_ms(end - osc), 0);
}

static void save_freq(struct sync *sy)
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
	sy->last_save_mono = mono_ns();
}

/* ---------------------------------------------------------------- */
/* Selection and discipline */

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
		w = 1.0 / (in[i].weight_dist > 0 ? in[i].weight_dist :
						   in[i].distance);
		wsum += w;
		sum += w * off;
	}
	if (wsum > 0)
		o->offset = sum / wsum;
}

/* fresh: a new sample arrived (otherwise only the first claim, ageing and
 * holdover can change anything; the discipline is not updated again). */
static void run_selection(struct sync *sy, int fresh)
{
	struct select_in in[SYNC_MAX_SLOTS];
	enum select_state st[SYNC_MAX_SLOTS];
	struct select_params p;
	struct select_out o;
	int64_t reading, osc = osc_now(sy, &reading), mono = mono_ns();
	int i;

	for (i = 0; i < sy->n_slot; i++) {
		struct sync_slot *sl = &sy->slot[i];
		struct source_info info;
		double rdist;

		memset(&in[i], 0, sizeof(in[i]));
		sl->reason[0] = '\0';
		if (!sl->have_addr) {
			memset(&sl->est, 0, sizeof(sl->est));
			set_reason(sl, "%s", sl->ent->error[0] ? sl->ent->error :
				   "not resolved yet");
			continue;
		}
		source_get_info(sl->src, &info);
		filter_estimate(source_filter(sl->src), osc, &sl->est);
		if (info.denied) {
			set_reason(sl, "kiss-o'-death %.4s: the server refused us",
				   (const char *)&(uint32_t){ htonl((uint32_t)info.kod) });
			continue;
		}
		in[i].reachable = info.reach != 0;
		if (!sl->est.n) {
			set_reason(sl, "no reply yet");
			continue;
		}
		if (!info.reach) {
			set_reason(sl, "no reply to the last 8 polls");
			continue;
		}
		rdist = sl->est.root_delay / 2 + sl->est.root_disp;
		if (rdist > sy->ct.maxdistance) {
			set_reason(sl, "root distance %.3f s > maxdistance %.3f s",
				   rdist, sy->ct.maxdistance);
			continue;
		}
		in[i].usable = 1;
		in[i].prefer = sl->ent->cu->prefer;
		in[i].offset = sl->est.offset;
		in[i].distance = sl->est.distance;
		in[i].weight_dist = sl->est.root_dist;
		in[i].jitter = sl->est.jitter;
		in[i].freq = sl->est.freq;
		in[i].freq_sd = sl->est.freq_sd;
		in[i].leap = sl->est.leap;
		in[i].stratum = sl->est.stratum;
	}
	memset(&p, 0, sizeof(p));
	p.minsources = sy->ct.minsources;
	p.combinelimit = SYNC_COMBINELIMIT;
	p.prev_sys = sy->sys;
	/* First claim: a majority of the configured sources must have
	 * answered, or 8 s passed, so a falseticker cannot win the race. */
	if (!sy->claimed_once && mono - sy->start_mono < SYNC_FIRST_CLAIM_WAIT_NS)
		p.min_usable = configured_sources(sy) / 2 + 1;
	select_run(in, sy->n_slot, &p, &o, st);
	if (o.result == SELECT_OK && o.freq_ok)
		refine_offset(sy, st, in, osc, &o);
	sy->sel = o;
	for (i = 0; i < sy->n_slot; i++) {
		struct sync_slot *sl = &sy->slot[i];

		sl->sel = st[i];
		if (st[i] == SELECT_FALSETICKER) {
			sl->false_count++;
			set_reason(sl, "outside the intersection of %d agreeing sources",
				   o.agree);
		} else {
			if (st[i] != SELECT_UNUSABLE)
				sl->false_count = 0;
			if (st[i] == SELECT_CANDIDATE)
				set_reason(sl, "truechimer not combined (distance above %.0fx the best, or clustered out)",
					   SYNC_COMBINELIMIT);
		}
		if (o.result != SELECT_OK && st[i] >= SELECT_CANDIDATE)
			set_reason(sl, "not synchronizing: %s",
				   select_result_str(o.result));
	}
	if (o.result == SELECT_OK) {
		const struct sync_slot *sys = &sy->slot[o.sys];
		int stratum = sys->est.stratum + 1;
		int rc;

		if (stratum >= 16) {
			sy->synced = 0;
			publish(sy, reading);
			return;
		}
		if (sy->synced && !fresh && sy->sys == o.sys)
			return;
		rc = disc_update(sy->disc, osc, o.offset, o.freq, o.freq_ok);
		if (rc == DISC_STEPPED)
			log_info("sync: correction set to %+.6f s (%s)",
				 disc_correction(sy->disc, osc),
				 sy->claimed_once ? "step" : "first update");
		if (!sy->claimed_once) {
			sy->claimed_once = 1;
			log_info("sync: synchronized to %s, %d of %d sources agree",
				 sys->addr_str, o.agree, o.reachable);
		} else if (sy->sys != o.sys || !sy->synced) {
			log_info("sync: system peer %s, %d of %d sources agree",
				 sys->addr_str, o.agree, o.reachable);
		}
		sy->sys = o.sys;
		sy->synced = 1;
		sy->holdover = 0;
		sy->last_update_mono = mono;
		/* RFC 5905 11.2.3: root delay and dispersion via the system
		 * peer, plus our own selection jitter and pending slew. */
		sy->ts.stratum = (uint8_t)stratum;
		sy->ts.refid = refid_of_addr((const struct sockaddr *)&sys->addr);
		sy->ts.precision = TSTATE_PRECISION;
		sy->ts.root_delay = sys->est.root_delay;
		sy->ts.root_disp = sys->est.root_disp +
				   sqrt(o.jitter * o.jitter +
					sys->est.jitter * sys->est.jitter) +
				   fabs(disc_remaining(sy->disc, osc));
		sy->ts.local = 0;
		disc_fill_tstate(sy->disc, &sy->ts);
		sy->ts.ref_ns = tstate_served_ns(&sy->ts, reading);
		sy->last_update_ns = sy->ts.ref_ns;
		publish(sy, reading);
		arm_slew(sy, osc);
		if (sy->saved_freq == 0 ||
		    mono - sy->last_save_mono > SYNC_SAVE_INTERVAL_NS)
			save_freq(sy);
		return;
	}
	/* No selection. Sources that disagree end the claim at once; with
	 * no usable source at all we hold over on the last estimate. */
	if (!sy->synced)
		return;
	if (o.result == SELECT_NO_SOURCES &&
	    (double)(mono - sy->last_update_mono) < sy->ct.holdover * 1e9) {
		if (!sy->holdover)
			log_warnx("sync: no usable source, holding over for up to %.0f s",
				  sy->ct.holdover);
		sy->holdover = 1;
		return;
	}
	log_warnx("sync: unsynchronized: %s",
		  o.result == SELECT_NO_SOURCES ? "holdover expired" :
		  select_result_str(o.result));
	sy->synced = 0;
	sy->holdover = 0;
	sy->sys = -1;
	publish(sy, reading);
}

/* ---------------------------------------------------------------- */
/* Packets */

/*
 * Kernel transmit timestamps come back on the error queue, tagged with the
 * socket's running packet counter (SOF_TIMESTAMPING_OPT_ID). Our t1 then
 * is the kernel's instant, not a reading before the send syscall (chrony
 * does the same; the difference is tens of microseconds on a busy host).
 */
static void drain_errqueue(struct sync *sy, int fd, int family)
{
	for (;;) {
		char cbuf[512];
		struct msghdr m = {
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		const struct sock_extended_err *ee = NULL;
		struct timespec ts = { 0, 0 };
		int i;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPING) {
				struct scm_timestamping sts;

				memcpy(&sts, CMSG_DATA(c), sizeof(sts));
				ts = sts.ts[0];
			} else if ((c->cmsg_level == SOL_IP &&
				    c->cmsg_type == IP_RECVERR) ||
				   (c->cmsg_level == SOL_IPV6 &&
				    c->cmsg_type == IPV6_RECVERR)) {
				ee = (const void *)CMSG_DATA(c);
			}
		}
		if (!ee || ee->ee_origin != SO_EE_ORIGIN_TIMESTAMPING ||
		    (!ts.tv_sec && !ts.tv_nsec))
			continue;
		for (i = 0; i < sy->n_slot; i++) {
			struct sync_slot *sl = &sy->slot[i];

			if (sl->tx_pending && sl->tx_id == ee->ee_data &&
			    sl->addr.ss_family == family) {
				source_tx_time(sl->src, clk_raw_from_kernel(&ts));
				sl->tx_pending = 0;
				break;
			}
		}
	}
}

static void send_poll(uv_timer_t *t)
{
	struct sync_slot *sl = t->data;
	struct sync *sy = sl->sy;
	uint8_t req[48];
	int fd = sl->addr.ss_family == AF_INET6 ? sy->fd6 : sy->fd4;
	int64_t next;

	if (!sl->have_addr)
		return;
	sl->polls++;
	next = source_request(sl->src, req, clk_raw_ns());
	sl->tx_pending = 0;
	if (fd < 0 || sendto(fd, req, sizeof(req), 0,
			     (struct sockaddr *)&sl->addr, sl->addrlen) < 0) {
		sy->tx_errors++;
	} else if (fd == sy->fd4 ? sy->txts4 : sy->txts6) {
		uint32_t *id = fd == sy->fd4 ? &sy->txid4 : &sy->txid6;

		sl->tx_id = (*id)++;
		sl->tx_pending = 1;
		/* On loopback and most drivers the timestamp is already there. */
		drain_errqueue(sy, fd, sl->addr.ss_family);
	}
	{
		struct source_info info;

		source_get_info(sl->src, &info);
		if (info.denied)
			return; /* DENY/RSTR: never poll it again */
	}
	uv_timer_start(&sl->timer, send_poll, ns_to_ms(next), 0);
}

static struct sync_slot *slot_for(struct sync *sy,
				  const struct sockaddr_storage *from)
{
	int i;

	for (i = 0; i < sy->n_slot; i++)
		if (sy->slot[i].have_addr && same_addr(&sy->slot[i].addr, from))
			return &sy->slot[i];
	return NULL;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct sync *sy = h->data;
	int fd = h == &sy->poll4 ? sy->fd4 : sy->fd6;

	(void)events;
	/* A late transmit timestamp raises POLLERR, on which libuv stops
	 * the handle: collect it and watch the socket again. */
	drain_errqueue(sy, fd, h == &sy->poll4 ? AF_INET : AF_INET6);
	if (status < 0) {
		uv_poll_start(h, UV_READABLE, on_readable);
		if (status != UV_EBADF)
			return;
	}
	for (;;) {
		uint8_t buf[1024];
		char cbuf[256];
		struct sockaddr_storage from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		struct sync_slot *sl;
		int64_t t4 = 0;
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				sy->rx_errors++;
			if (errno == EINTR)
				continue;
			return;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				t4 = clk_raw_from_kernel(&ts);
			}
		if (!t4)
			t4 = clk_raw_ns();
		sl = slot_for(sy, &from);
		if (!sl) {
			sy->rx_unknown++;
			continue;
		}
		switch (source_reply(sl->src, buf, (size_t)n, t4, sy->disc)) {
		case SOURCE_OK:
			run_selection(sy, 1);
			break;
		case SOURCE_KOD_RATE:
			log_warnx("sync: %s sent KoD RATE: polling less often",
				  sl->addr_str);
			break;
		case SOURCE_KOD_DENY:
			log_warnx("sync: %s sent KoD DENY/RSTR: not used any more",
				  sl->addr_str);
			uv_timer_stop(&sl->timer);
			run_selection(sy, 0);
			break;
		default:
			break;
		}
	}
}

static int open_socket(struct sync *sy, int family, uv_poll_t *h,
		       int *txts)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	int tsf = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		  SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		log_warn("sync: SO_TIMESTAMPNS");
	*txts = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsf,
			   sizeof(tsf)) == 0;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (uv_poll_init(sy->loop, h, fd) < 0) {
		close(fd);
		return -1;
	}
	h->data = sy;
	sy->open_handles++;
	uv_poll_start(h, UV_READABLE, on_readable);
	return fd;
}

/* ---------------------------------------------------------------- */
/* Names */

static void resolve(struct sync_entry *e);
static void release(struct sync *sy);

static void retry_cb(uv_timer_t *t)
{
	resolve(t->data);
}

static int avoided(const struct sync_entry *e, const struct sockaddr_storage *a)
{
	int i;

	for (i = 0; i < e->n_avoid; i++)
		if (same_addr(&e->avoid[i], a))
			return 1;
	return 0;
}

static void assign(struct sync_entry *e, const struct sockaddr_storage *a,
		   int n)
{
	struct sync *sy = e->sy;
	int i, j, empty = 0;

	for (j = 0; j < n; j++) {
		struct sync_slot *sl = NULL;

		if (slot_for(sy, &a[j]) || avoided(e, &a[j]))
			continue;
		for (i = e->first; i < e->first + e->n; i++)
			if (!sy->slot[i].have_addr) {
				sl = &sy->slot[i];
				break;
			}
		if (!sl)
			break;
		sl->addr = a[j];
		sl->addrlen = a[j].ss_family == AF_INET6 ?
			      sizeof(struct sockaddr_in6) :
			      sizeof(struct sockaddr_in);
		addr_to_str(&sl->addr, sl->addr_str, sizeof(sl->addr_str));
		source_reset(sl->src);
		sl->have_addr = 1;
		sl->polls = sl->false_count = 0;
		log_info("sync: %s %s -> %s", e->cu->pool ? "pool" : "upstream",
			 e->cu->host, sl->addr_str);
		/* First poll soon, spread over 100 ms. */
		uv_timer_start(&sl->timer, send_poll,
			       randombytes_uniform(100) + 1, 0);
	}
	for (i = e->first; i < e->first + e->n; i++)
		empty += !sy->slot[i].have_addr;
	if (empty) {
		/* Back off: 1, 2, 4 ... 600 s. */
		uv_timer_start(&e->retry, retry_cb,
			       (uint64_t)e->retry_s * 1000, 0);
		if (e->retry_s < SYNC_RETRY_MAX_S)
			e->retry_s = e->retry_s * 2 > SYNC_RETRY_MAX_S ?
				     SYNC_RETRY_MAX_S : e->retry_s * 2;
	} else {
		e->retry_s = SYNC_RETRY_MIN_S;
		e->error[0] = '\0';
	}
}

static void resolve_failed(struct sync_entry *e, const char *why)
{
	e->failures++;
	snprintf(e->error, sizeof(e->error),
		 "cannot resolve: %s (%d tries, next in %d s)", why,
		 e->failures, e->retry_s);
	if (e->failures == 1 || e->failures % 10 == 0)
		log_warnx("sync: %s: %s", e->cu->host, e->error);
	assign(e, NULL, 0);
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct sync_entry *e = req->data;
	struct sockaddr_storage a[SYNC_MAX_ADDRS];
	struct addrinfo *ai;
	int n = 0;

	e->resolving = 0;
	if (e->sy->stopping || status == UV_ECANCELED) {
		if (res)
			uv_freeaddrinfo(res);
		release(e->sy);
		return;
	}
	release(e->sy); /* the loop still holds the handles: sy lives on */
	if (status < 0) {
		resolve_failed(e, uv_strerror(status));
		return;
	}
	for (ai = res; ai && n < SYNC_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_addrlen > sizeof(a[0]))
			continue;
		memset(&a[n], 0, sizeof(a[n]));
		memcpy(&a[n], ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	uv_freeaddrinfo(res);
	if (!n) {
		resolve_failed(e, "no IPv4 or IPv6 address");
		return;
	}
	assign(e, a, n);
}

static void resolve(struct sync_entry *e)
{
	struct sync *sy = e->sy;
	struct sockaddr_storage a[SYNC_MAX_ADDRS];
	struct addrinfo hints;
	char port[8];
	int n, rc;

	if (e->resolving || sy->stopping)
		return;
	if (hosts_numeric(e->cu->host, e->cu->port, &a[0]) == 0) {
		assign(e, a, 1);
		return;
	}
	if (sy->ct.hostsfile[0]) {
		/* Test-only: the private hosts file is the only resolver. */
		n = hosts_lookup(sy->ct.hostsfile, e->cu->host, e->cu->port, a,
				 SYNC_MAX_ADDRS);
		if (n < 0)
			resolve_failed(e, "hostsfile unreadable");
		else if (n == 0)
			resolve_failed(e, "name not in hostsfile");
		else
			assign(e, a, n);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", e->cu->port);
	e->gai.data = e;
	rc = uv_getaddrinfo(sy->loop, &e->gai, gai_cb, e->cu->host, port,
			    &hints);
	if (rc < 0) {
		resolve_failed(e, uv_strerror(rc));
		return;
	}
	e->resolving = 1;
	sy->open_handles++;
}

/* A pool member that stopped answering, refused us, or keeps being a
 * falseticker gives its slot back; the pool is resolved again. */
static void replace_pool_members(struct sync *sy)
{
	int i;

	for (i = 0; i < sy->n_slot; i++) {
		struct sync_slot *sl = &sy->slot[i];
		struct sync_entry *e = sl->ent;
		struct source_info info;
		const char *why = NULL;

		if (!e->cu->pool || !sl->have_addr)
			continue;
		source_get_info(sl->src, &info);
		if (info.denied)
			why = "refused us (KoD)";
		else if (sl->polls >= 8 && !info.reach)
			why = "unreachable";
		else if (sl->false_count >= SYNC_FALSE_REPLACE)
			why = "falseticker";
		if (!why)
			continue;
		log_info("sync: pool %s: dropping %s (%s)", e->cu->host,
			 sl->addr_str, why);
		e->avoid[e->avoid_next] = sl->addr;
		e->avoid_next = (e->avoid_next + 1) % SYNC_AVOID;
		if (e->n_avoid < SYNC_AVOID)
			e->n_avoid++;
		uv_timer_stop(&sl->timer);
		source_reset(sl->src);
		sl->have_addr = 0;
		sl->addr_str[0] = '\0';
		if (sy->sys == i)
			sy->sys = -1;
		uv_timer_stop(&e->retry);
		e->retry_s = SYNC_RETRY_MIN_S;
		resolve(e);
	}
}

/* ---------------------------------------------------------------- */

static void house_cb(uv_timer_t *t)
{
	struct sync *sy = t->data;

	replace_pool_members(sy);
	run_selection(sy, 0);
	if (sy->claimed_once && sy->saved_freq != disc_freq(sy->disc) &&
	    mono_ns() - sy->last_save_mono > SYNC_SAVE_INTERVAL_NS)
		save_freq(sy);
}

static void slew_cb(uv_timer_t *t)
{
	struct sync *sy = t->data;
	int64_t reading, osc = osc_now(sy, &reading);

	disc_tick(sy->disc, osc);
	publish(sy, reading);
	arm_slew(sy, osc);
}

static void restore_freq(struct sync *sy)
{
	double f;

	if (!sy->persist.load || sy->persist.load(sy->persist.arg, &f) < 0)
		return;
	if (isfinite(f) && fabs(f) <= DISC_MAX_FREQ) {
		disc_restore_freq(sy->disc, osc_now(sy, NULL), f);
		sy->saved_freq = f;
		log_info("sync: restored frequency %+.3f ppm", f * 1e6);
	}
}

struct sync *sync_start(uv_loop_t *loop, const struct conf *c,
			const struct sync_persist *persist,
			disc_adjtimex_fn adjtimex)
{
	struct sync *sy = calloc(1, sizeof(*sy));
	struct disc_params dp;
	char err[256];
	int i, j;

	if (!sy) {
		log_err("sync: out of memory");
		return NULL;
	}
	sy->loop = loop;
	sy->ct = c->time;
	if (persist)
		sy->persist = *persist;
	sy->sys = -1;
	sy->fd4 = sy->fd6 = -1;
	sy->start_mono = mono_ns();
	memset(&dp, 0, sizeof(dp));
	dp.mode = c->discipline == CONF_DISCIPLINE_KERNEL ? DISC_KERNEL :
							    DISC_VIRTUAL;
	sy->mode = dp.mode;
	dp.maxslew = sy->ct.maxslewrate * 1e-6;
	dp.step_threshold = sy->ct.makestep;
	dp.step_limit = sy->ct.makestep_limit;
	dp.adjtimex = adjtimex;
	sy->disc = disc_new(&dp, clk_raw_ns());
	if (!sy->disc) {
		log_err("sync: cannot set up the %s discipline",
			dp.mode == DISC_KERNEL ? "kernel" : "virtual");
		free(sy);
		return NULL;
	}
	if (sy->ct.leapfile[0]) {
		if (leap_load(sy->ct.leapfile, &sy->leap, err, sizeof(err)) < 0) {
			log_err("sync: leapfile: %s", err);
			disc_free(sy->disc);
			free(sy);
			return NULL;
		}
		if (leap_indicator(sy->leap, clk_raw_ns() / 1000000000) < 0)
			log_warnx("sync: leapfile %s has expired: ignored, "
				  "leap from the sources' vote",
				  sy->ct.leapfile);
	}
	uv_timer_init(loop, &sy->house);
	sy->house.data = sy;
	sy->open_handles++;
	uv_timer_init(loop, &sy->slew);
	sy->slew.data = sy;
	sy->open_handles++;
	restore_freq(sy);
	tstate_unsynced(&sy->ts);
	publish(sy, clk_raw_ns());

	for (i = 0; i < sy->ct.n_up; i++) {
		struct sync_entry *e = &sy->ent[sy->n_ent++];
		int n = sy->ct.up[i].pool ? sy->ct.up[i].maxsources : 1;

		e->sy = sy;
		e->cu = &sy->ct.up[i];
		e->first = sy->n_slot;
		e->retry_s = SYNC_RETRY_MIN_S;
		uv_timer_init(loop, &e->retry);
		e->retry.data = e;
		sy->open_handles++;
		for (j = 0; j < n && sy->n_slot < SYNC_MAX_SLOTS; j++) {
			struct sync_slot *sl = &sy->slot[sy->n_slot++];
			struct source_params sp = {
				.minpoll = e->cu->minpoll,
				.maxpoll = e->cu->maxpoll,
				.iburst = e->cu->iburst,
				.prefer = e->cu->prefer,
			};

			sl->sy = sy;
			sl->ent = e;
			sl->src = source_new(&sp);
			if (!sl->src)
				fatalx("sync: out of memory");
			uv_timer_init(loop, &sl->timer);
			sl->timer.data = sl;
			sy->open_handles++;
			e->n++;
		}
	}
	sy->fd4 = open_socket(sy, AF_INET, &sy->poll4, &sy->txts4);
	sy->fd6 = open_socket(sy, AF_INET6, &sy->poll6, &sy->txts6);
	if (sy->fd4 < 0 && sy->fd6 < 0) {
		log_err("sync: no UDP socket for upstream queries");
		sync_stop(sy);
		return NULL;
	}
	uv_timer_start(&sy->house, house_cb, 1000, 1000);
	for (i = 0; i < sy->n_ent; i++)
		resolve(&sy->ent[i]);
	log_info("sync: %d source%s configured, %s discipline", sy->n_slot,
		 sy->n_slot == 1 ? "" : "s",
		 sy->mode == DISC_KERNEL ? "kernel" : "virtual");
	return sy;
}

static void free_all(struct sync *sy)
{
	int i;

	for (i = 0; i < sy->n_slot; i++)
		source_free(sy->slot[i].src);
	if (sy->fd4 >= 0)
		close(sy->fd4);
	if (sy->fd6 >= 0)
		close(sy->fd6);
	leap_free(sy->leap);
	disc_free(sy->disc);
	free(sy);
}

/* Every handle and pending lookup holds a reference; the last one frees. */
static void release(struct sync *sy)
{
	if (--sy->open_handles == 0)
		free_all(sy);
}

static void on_closed(uv_handle_t *h)
{
	release(h->data);
}

static void close_handle(struct sync *sy, uv_handle_t *h)
{
	h->data = sy;
	uv_close(h, on_closed);
}

void sync_stop(struct sync *sy)
{
	int i;

	if (!sy)
		return;
	sy->stopping = 1;
	save_freq(sy);
	sy->open_handles++; /* held while closing */
	for (i = 0; i < sy->n_ent; i++) {
		if (sy->ent[i].resolving)
			uv_cancel((uv_req_t *)&sy->ent[i].gai);
		close_handle(sy, (uv_handle_t *)&sy->ent[i].retry);
	}
	for (i = 0; i < sy->n_slot; i++)
		close_handle(sy, (uv_handle_t *)&sy->slot[i].timer);
	if (sy->fd4 >= 0)
		close_handle(sy, (uv_handle_t *)&sy->poll4);
	if (sy->fd6 >= 0)
		close_handle(sy, (uv_handle_t *)&sy->poll6);
	close_handle(sy, (uv_handle_t *)&sy->house);
	close_handle(sy, (uv_handle_t *)&sy->slew);
	release(sy);
}

/* ---------------------------------------------------------------- */
/* Views for ntpctl */

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
	v->synced = sy->synced;
	v->state = sy->synced ? (sy->holdover ? "holdover" : "synchronized") :
				"unsynchronized";
	v->reason = sy->synced && !sy->holdover ? "" :
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
	v->root_delay = sy->synced ? sy->ts.root_delay : 0;
	v->root_disp = sy->synced ?
		       tstate_root_disp_at(&sy->ts,
					   tstate_served_ns(&sy->ts, reading)) : 0;
	v->leap = sy->synced ? sy->ts.leap : 3;
	v->last_update_ns = sy->last_update_ns;
	v->agree = sy->sel.agree;
	v->reachable = sy->sel.reachable;
	v->configured = sy->n_slot;
	v->discipline = sy->mode == DISC_KERNEL ? "kernel" : "virtual";
	v->steps = disc_steps(sy->disc);
	v->rx_unknown = sy->rx_unknown;
	v->rx_errors = sy->rx_errors;
	v->tx_errors = sy->tx_errors;
}
