/*
 * Internals shared by the time engine's modules:
 *   sync.c         life cycle, housekeeping timer
 *   sync_names.c   names -> addresses -> slots, pool member replacement,
 *                  resolving unreachable plain names again
 *   sync_poll.c    the UDP sockets: requests, replies, kernel timestamps
 *   sync_select.c  per-source estimates -> select_run(), reasons
 *   sync_claim.c   discipline, holdover, published state, frequency store
 *   sync_leap.c    leap seconds: LI, the step at the moment, the sample
 *                  guard, the smear window
 *   sync_view.c    the views for ntpctl (sync.h)
 * A slot is one source address; an entry is one upstream/pool line and
 * owns the slots first .. first + n - 1.
 */
#ifndef NTPMC_SYNC_INT_H
#define NTPMC_SYNC_INT_H

#include <math.h>
#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "node/ntp/clk.h"
#include "node/time/disc.h"
#include "node/time/filter.h"
#include "node/time/leap.h"
#include "node/time/leapsec.h"
#include "node/time/select.h"
#include "node/time/source.h"
#include "node/time/sync.h"
#include "node/ntp/tstate.h"

#define SYNC_MAX_SLOTS 64
#define SYNC_MAX_ADDRS 16
#define SYNC_AVOID 16
#define SYNC_RETRY_MIN_S 1
#define SYNC_RETRY_MAX_S 600
#define SYNC_COMBINELIMIT 3.0
/* A source found beyond the combine limit stays out of the combination
 * until this many of its own samples in a row came within it (chrony's
 * DISTANT_PENALTY is 32 updates of the system peer). */
#define SYNC_DISTANT_HOLD 16
#define SYNC_FALSE_REPLACE 8      /* falseticker selections before a pool
				     member is replaced */
#define SYNC_SAVE_INTERVAL_NS (3600LL * 1000000000LL)
/* A plain upstream name is resolved again after this many polls without a
 * reply (chrony replaces a named source whose 8-bit reach register is
 * empty); while the name keeps giving the same address, the interval
 * doubles up to the maximum. */
#define SYNC_REFRESH_POLLS 8
#define SYNC_REFRESH_MAX_POLLS 128

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
	int distant;             /* samples still to hold it out (select_in) */
	int64_t distant_t;       /* newest sample time when last counted */
	enum select_state sel;
	char reason[128];
	struct filter_est est;
	uint32_t tx_id;          /* SOF_TIMESTAMPING_OPT_ID of the request */
	int tx_pending;          /* its kernel transmit timestamp is due */
};

struct sync_entry {
	struct sync *sy;
	const struct sync_upstream *cu;
	int first, n;            /* its slots */
	uv_getaddrinfo_t gai;
	int resolving;
	uv_timer_t retry;
	int retry_s;
	int failures;
	char error[128];
	struct sockaddr_storage avoid[SYNC_AVOID];
	int n_avoid, avoid_next;
	int refreshing;          /* plain name: resolving it again */
	int refresh_at;          /* ... once its slot has sent this many polls */
	int refresh_every;
	uint64_t refreshes;      /* times resolved again */
};

struct sync {
	uv_loop_t *loop;
	struct sync_conf ct;
	enum disc_mode mode;
	struct sync_entry ent[SYNC_MAX_UPSTREAM];
	int n_ent;
	struct sync_slot slot[SYNC_MAX_SLOTS];
	int n_slot;
	int fd4, fd6;
	uv_poll_t poll4, poll6;
	int txts4, txts6;        /* kernel transmit timestamps enabled */
	uint32_t txid4, txid6;   /* next OPT_ID per socket */
	uv_timer_t house, slew, leap_timer;
	struct disc *disc;
	struct leap_list *leap;
	struct leapsec *lsec;
	int kleap;               /* kernel: the leap bit we set (LI 0..2) */
	struct sync_persist persist;
	int64_t start_mono;
	int claimed_once, synced, holdover;
	int suspect;             /* sync_set_suspect(): claim nothing */
	int ksync;               /* kernel: the sync status last told it
				    (disc_new() told it "not synced") */
	int kfresh;              /* kernel: a clock update to pass on */
	double est_error;        /* s: the last update's combined jitter */
	int64_t last_update_mono;
	int64_t last_update_ns;   /* served time of the last update */
	double last_offset;       /* combined offset at the last update */
	double avg2_offset;       /* running mean of its square */
	double sys_jitter;        /* selection + system peer jitter */
	int sys;
	struct select_out sel;
	struct tstate ts;
	int64_t last_save_mono;
	double saved_freq;
	uint64_t rx_unknown, rx_errors, tx_errors;
	uint64_t tx_ip_bytes;   /* requests to upstreams (wirelen.h) */
	int open_handles, stopping;
};

static inline int64_t sync_mono_ns(void)
{
	return (int64_t)uv_hrtime();
}

/* Oscillator time now: the clock reading minus the kernel's share. */
static inline int64_t sync_osc_now(const struct sync *sy, int64_t *reading)
{
	int64_t r = clk_raw_ns();

	if (reading)
		*reading = r;
	return r - llround(disc_in_clock(sy->disc, r) * 1e9);
}

static inline uint64_t sync_ns_to_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (uint64_t)((ns + 999999) / 1000000);
}

/* sync.c: every handle and pending lookup holds a reference. */
void sync_release(struct sync *sy);

/* sync_names.c */
void sync_names_resolve(struct sync_entry *e);
/* 1 s housekeeping: replaces bad pool members, resolves the names of
 * unreachable plain upstreams again. */
void sync_names_check(struct sync *sy);
struct sync_slot *sync_slot_for(struct sync *sy,
				const struct sockaddr_storage *from);

/* sync_poll.c: returns the socket, or -1 */
int sync_poll_open(struct sync *sy, int family, uv_poll_t *h, int *txts);
void sync_poll_arm(struct sync_slot *sl, uint64_t ms);

/* sync_select.c: fresh = a new sample arrived */
void sync_select_run(struct sync *sy, int fresh);

/* sync_claim.c */
void sync_claim_apply(struct sync *sy, const struct select_out *o,
		      int fresh, int64_t osc, int64_t reading, int64_t mono);
void sync_claim_publish(struct sync *sy, int64_t reading);
void sync_claim_save_freq(struct sync *sy);
/* Re-publish when the current slew ends (osc: oscillator time now). */
void sync_claim_arm_slew(struct sync *sy, int64_t osc);
void sync_claim_restore_freq(struct sync *sy);

/* sync_leap.c: called by every publish with ts carrying the current
 * correction; may step it (leap due). Returns the LI to publish when
 * synchronized. */
int sync_leap_publish(struct sync *sy, struct tstate *ts, int64_t reading);
/* A leap second is within 12 h of served time (smearing sources). */
int sync_leap_window(const struct sync *sy, int64_t served);

#endif
