/*
 * One upstream. Reply checks follow RFC 5905 section 8 (the "bogus" and
 * "duplicate" tests) with chrony's stricter habits: the origin timestamp
 * must equal the random cookie we sent (our real transmit time never goes
 * on the wire), so an off-path attacker must guess 64 random bits, and a
 * kiss-o'-death only counts when it passes that same test.
 */
#include "node/time/source.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/time/disc.h"
#include "node/ntp/ntp.h"

#define SOURCE_IBURST 4              /* fast polls at start */
#define SOURCE_IBURST_MAX_NS 2000000000LL
#define SOURCE_RAISE_AFTER 8         /* good polls in a row before poll+1 */
#define SOURCE_MAX_ROOT_DIST 16.0    /* s, RFC 5905 MAXDISP */
#define SOURCE_MAX_DELAY 16.0        /* s */
#define SOURCE_LOCAL_PREC 1e-6       /* s, our timestamps */
#define SOURCE_PHI 15e-6

#define KISS(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			  (uint32_t)(c) << 8 | (uint32_t)(d))

struct source {
	struct source_params p;
	int poll, kod_floor, iburst_left, streak, missed;
	uint8_t reach;
	uint64_t cookie;     /* 0: nothing outstanding */
	int64_t t1;          /* clock reading at send */
	int64_t guard_from, guard_to; /* leap second: no samples (osc ns) */
	struct source_info info;
	struct filter *filter;
};

static int clamp_poll(int p)
{
	return p < -6 ? -6 : p > 17 ? 17 : p;
}

struct source *source_new(const struct source_params *p)
{
	struct source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->filter = filter_new();
	if (!s->filter) {
		free(s);
		return NULL;
	}
	s->p = *p;
	s->p.minpoll = clamp_poll(p->minpoll);
	s->p.maxpoll = clamp_poll(p->maxpoll);
	if (s->p.maxpoll < s->p.minpoll)
		s->p.maxpoll = s->p.minpoll;
	source_reset(s);
	return s;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	filter_free(s->filter);
	free(s);
}

void source_reset(struct source *s)
{
	struct filter *f = s->filter;

	filter_reset(f);
	memset(&s->info, 0, sizeof(s->info));
	s->poll = s->p.minpoll;
	s->kod_floor = -100;
	s->iburst_left = s->p.iburst ? SOURCE_IBURST : 0;
	s->streak = s->missed = 0;
	s->reach = 0;
	s->cookie = 0;
	s->t1 = 0;
}

static int64_t poll_ns(int poll)
{
	return poll >= 0 ? (1000000000LL << poll) : (1000000000LL >> -poll);
}

int64_t source_request(struct source *s, uint8_t req[48], int64_t t1)
{
	struct ntp_hdr h;
	int64_t iv;
	uint32_t r;

	/* RFC 5905 13: the reach register shifts at every poll. */
	s->reach <<= 1;
	if (s->cookie) {
		/* the previous request went unanswered */
		if (++s->missed >= 2 && s->poll > s->p.minpoll &&
		    s->poll > s->kod_floor) {
			s->poll--;
			s->missed = 0;
		}
		s->streak = 0;
	}
	do
		randombytes_buf(&s->cookie, sizeof(s->cookie));
	while (!s->cookie);
	s->t1 = t1;
	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.mode = NTP_MODE_CLIENT;
	h.poll = (int8_t)s->poll;
	h.precision = -20;
	h.xmt = s->cookie;
	ntp_encode(&h, req);
	s->info.sent++;

	iv = poll_ns(s->poll);
	if (s->iburst_left > 0) {
		s->iburst_left--;
		iv = poll_ns(s->p.minpoll - 1);
		if (iv > SOURCE_IBURST_MAX_NS)
			iv = SOURCE_IBURST_MAX_NS;
	}
	/* +-10 % random jitter so that sources and nodes drift apart. */
	r = randombytes_uniform(2001);
	return iv + (int64_t)((double)iv * 0.1 * ((double)r - 1000.0) / 1000.0);
}

void source_tx_time(struct source *s, int64_t t1)
{
	if (s->cookie)
		s->t1 = t1;
}

static enum source_verdict check(const struct source *s, const uint8_t *buf,
				 size_t len, struct ntp_hdr *h)
{
	double rdist;

	if (len < NTP_HDR_LEN)
		return SOURCE_BAD_LENGTH;
	ntp_decode(buf, h);
	if (h->version < 1 || h->version > 4)
		return SOURCE_BAD_VERSION;
	if (h->mode != NTP_MODE_SERVER)
		return SOURCE_BAD_MODE;
	if (!s->cookie)
		return SOURCE_UNEXPECTED;
	if (h->org != s->cookie)
		return SOURCE_BAD_ORIGIN;
	if (h->stratum == 0) {
		/* RFC 5905 7.4: kiss codes, honoured only with our cookie. */
		if (h->refid == KISS('R', 'A', 'T', 'E'))
			return SOURCE_KOD_RATE;
		if (h->refid == KISS('D', 'E', 'N', 'Y') ||
		    h->refid == KISS('R', 'S', 'T', 'R'))
			return SOURCE_KOD_DENY;
		return SOURCE_BAD_KOD;
	}
	if (h->stratum >= 16)
		return SOURCE_BAD_STRATUM;
	if (h->leap == NTP_LEAP_UNSYNC)
		return SOURCE_UNSYNC;
	if (h->rec == 0 || h->xmt == 0)
		return SOURCE_ZERO_TS;
	rdist = ntp_short_to_s(h->root_delay) / 2 + ntp_short_to_s(h->root_disp);
	if (!(rdist <= SOURCE_MAX_ROOT_DIST))
		return SOURCE_BAD_DISTANCE;
	return SOURCE_OK;
}

enum source_verdict source_reply(struct source *s, const uint8_t *buf,
				 size_t len, int64_t t4, const struct disc *d)
{
	struct filter_sample smp;
	struct ntp_hdr h;
	enum source_verdict v = check(s, buf, len, &h);
	int64_t t1o, t4o, t2, t3;
	double theta, delta;

	if (v != SOURCE_OK && v != SOURCE_KOD_RATE && v != SOURCE_KOD_DENY) {
		s->info.bad[v]++;
		return v;
	}
	if (v == SOURCE_KOD_RATE) {
		/* The cookie is spent: a second copy is a duplicate. */
		s->cookie = 0;
		/* RFC 5905 7.4: RATE means poll less often; we never go back
		 * below this for the life of the source. */
		s->kod_floor = clamp_poll((s->poll > s->p.minpoll ? s->poll :
					   s->p.minpoll) + 1);
		s->poll = s->kod_floor;
		s->iburst_left = 0;
		s->info.kod = (int)h.refid;
		s->info.bad[v]++;
		return v;
	}
	if (v == SOURCE_KOD_DENY) {
		s->cookie = 0;
		s->info.kod = (int)h.refid;
		s->info.denied = 1;
		s->info.bad[v]++;
		return v;
	}
	/* Oscillator times: clock readings minus what the kernel discipline
	 * already put in the clock. */
	t1o = s->t1 - (d ? llround(disc_in_clock(d, s->t1) * 1e9) : 0);
	t4o = t4 - (d ? llround(disc_in_clock(d, t4) * 1e9) : 0);
	if (s->guard_to && (t1o < t4o ? t1o : t4o) <= s->guard_to &&
	    (t1o > t4o ? t1o : t4o) >= s->guard_from) {
		/* The server answered (reach), but across or next to a
		 * leap second the sample may be off by up to 1 s. */
		s->cookie = 0;
		s->reach |= 1;
		s->missed = 0;
		s->info.bad[SOURCE_LEAP]++;
		return SOURCE_LEAP;
	}
	t2 = ntp_ts_to_ns(h.rec, t1o);
	t3 = ntp_ts_to_ns(h.xmt, t1o);
	/* RFC 5905 8: offset and delay from the four timestamps. */
	theta = ((double)(t2 - t1o) + (double)(t3 - t4o)) / 2e9;
	delta = ((double)(t4o - t1o) - (double)(t3 - t2)) / 1e9;
	if (t3 < t2 || t4o < t1o || delta > SOURCE_MAX_DELAY ||
	    delta < -2 * SOURCE_LOCAL_PREC - ldexp(1.0, h.precision)) {
		s->info.bad[SOURCE_BAD_TIMES]++;
		return SOURCE_BAD_TIMES;
	}
	if (delta < 0)
		delta = 0;
	s->cookie = 0;
	s->reach |= 1;
	s->missed = 0;
	s->info.good++;
	s->info.stratum = h.stratum;
	s->info.leap = h.leap;
	s->info.refid = h.refid;
	s->info.last_rx = t4o;
	smp.t = t1o + (t4o - t1o) / 2;
	smp.offset = theta;
	smp.delay = delta;
	smp.disp = ldexp(1.0, h.precision) + SOURCE_LOCAL_PREC +
		   SOURCE_PHI * (double)(t4o - t1o) * 1e-9;
	smp.root_delay = ntp_short_to_s(h.root_delay);
	smp.root_disp = ntp_short_to_s(h.root_disp);
	smp.stratum = h.stratum;
	smp.leap = h.leap;
	filter_add(s->filter, &smp);
	/* Poll less often once the source is steady (all of the last 8
	 * polls answered, a full filter), up to maxpoll. */
	if (s->reach == 0xff && filter_count(s->filter) >= 8 &&
	    ++s->streak >= SOURCE_RAISE_AFTER && s->poll < s->p.maxpoll) {
		s->poll++;
		s->streak = 0;
	}
	return SOURCE_OK;
}

void source_set_guard(struct source *s, int64_t from, int64_t to)
{
	s->guard_from = from;
	s->guard_to = to;
}

void source_leap_shift(struct source *s, double step_s)
{
	filter_shift(s->filter, step_s);
}

const struct filter *source_filter(const struct source *s)
{
	return s->filter;
}

void source_get_info(const struct source *s, struct source_info *out)
{
	*out = s->info;
	out->poll = s->poll;
	out->reach = s->reach;
}
