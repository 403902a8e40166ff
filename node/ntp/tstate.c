/*
 * Published time state: a seqlock over relaxed atomic words (the writer is
 * single, readers retry and never block). Boehm's "Can seqlocks get along
 * with programming language memory models?" (2012) gives the fence pattern
 * used here; the data are atomic words so that readers never race in the C11
 * sense, even while they read a state being rewritten.
 */
#include "node/ntp/tstate.h"

#include "node/ntp/clk.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#define TS_WORDS ((sizeof(struct tstate) + 7) / 8)

static _Atomic uint32_t ts_seq;       /* odd while writing; 0 = never */
static _Atomic uint64_t ts_words[TS_WORDS];
/* The writer's side (one thread): the last claim and the verdict. */
static struct tstate ts_claim;
static int ts_withdrawn;

void tstate_unsynced(struct tstate *out)
{
	memset(out, 0, sizeof(*out));
	out->leap = 3;
	out->stratum = 0;
	out->precision = TSTATE_PRECISION;
}

static void publish_words(const struct tstate *s)
{
	uint64_t w[TS_WORDS] = { 0 };
	uint32_t seq = atomic_load_explicit(&ts_seq, memory_order_relaxed);
	size_t i;

	memcpy(w, s, sizeof(*s));
	atomic_store_explicit(&ts_seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < TS_WORDS; i++)
		atomic_store_explicit(&ts_words[i], w[i],
				      memory_order_relaxed);
	atomic_store_explicit(&ts_seq, seq + 2, memory_order_release);
}

void tstate_publish(const struct tstate *s)
{
	ts_claim = *s;
	ts_claim.withdrawn = (uint8_t)ts_withdrawn;
	publish_words(&ts_claim);
}

void tstate_withdraw(int on)
{
	ts_withdrawn = on != 0;
	/* Before the first publish readers see the unsynchronized default,
	 * which a withdrawal would not change. */
	if (atomic_load_explicit(&ts_seq, memory_order_relaxed) == 0)
		return;
	ts_claim.withdrawn = (uint8_t)ts_withdrawn;
	publish_words(&ts_claim);
}

void tstate_read_claim(struct tstate *out)
{
	uint64_t w[TS_WORDS];
	uint32_t s1, s2;
	size_t i;

	for (;;) {
		s1 = atomic_load_explicit(&ts_seq, memory_order_acquire);
		if (s1 == 0) {
			tstate_unsynced(out);
			return;
		}
		if (s1 & 1)
			continue;
		for (i = 0; i < TS_WORDS; i++)
			w[i] = atomic_load_explicit(&ts_words[i],
						    memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&ts_seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	memcpy(out, w, sizeof(*out));
}

void tstate_read(struct tstate *out)
{
	tstate_read_claim(out);
	if (!out->withdrawn)
		return;
	/* What an unsynchronized engine publishes (sync_claim.c): the
	 * default state plus the correction, which keeps the served time. */
	out->leap = 3;
	out->stratum = 0;
	out->refid = 0;
	out->root_delay = 0;
	out->root_disp = 0;
	out->ref_ns = 0;
	out->local = 0;
}

void tstate_set_local(int stratum)
{
	struct tstate s;

	memset(&s, 0, sizeof(s));
	s.leap = 0;
	s.stratum = (uint8_t)stratum;
	s.precision = TSTATE_PRECISION;
	s.refid = TSTATE_REFID_LOCAL;
	s.local = 1;
	tstate_publish(&s);
}

int64_t tstate_served_ns(const struct tstate *s, int64_t raw_ns)
{
	double corr;
	int64_t out;

	if (s->corr_offset == 0.0 && s->corr_freq == 0.0)
		return raw_ns;
	/* In doubles: a corrupt or extreme state must not overflow. */
	corr = s->corr_offset * 1e9 +
	       s->corr_freq * ((double)raw_ns - (double)s->corr_base_ns);
	if (!(fabs(corr) < 1e18))
		return raw_ns;
	if (__builtin_add_overflow(raw_ns, (int64_t)corr, &out))
		return raw_ns;
	return out;
}

double tstate_root_disp_at(const struct tstate *s, int64_t now_ns)
{
	/* RFC 5905 11.2: dispersion grows at PHI from the last update. */
	if (s->ref_ns == 0 || now_ns <= s->ref_ns)
		return s->root_disp;
	return s->root_disp +
	       TSTATE_PHI * ((double)now_ns - (double)s->ref_ns) / 1e9;
}

int64_t tstate_now_ns(int *synced)
{
	struct tstate s;

	tstate_read(&s);
	if (synced)
		*synced = s.leap != 3 && s.stratum != 0;
	return tstate_served_ns(&s, clk_raw_ns());
}
