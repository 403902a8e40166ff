/*
 * The time engine on the libuv loop: resolves the configured upstreams and
 * pools, polls them (one UDP socket per address family, kernel receive
 * timestamps), filters, selects, disciplines, and publishes the time state
 * (tstate.h) that the serving threads read. It is tstate's only writer.
 */
#ifndef NTPMC_SYNC_H
#define NTPMC_SYNC_H

#include <limits.h>
#include <stdint.h>
#include <uv.h>

#include "node/time/disc.h"

#define SYNC_MAX_UPSTREAM 32
#define SYNC_HOST_MAX 254
#define SYNC_POLL_MIN (-6)
#define SYNC_POLL_MAX 17
#define SYNC_DEFAULT_MINPOLL 6
#define SYNC_DEFAULT_MAXPOLL 10
#define SYNC_DEFAULT_MAXSOURCES 4
#define SYNC_DEFAULT_MAXDISTANCE 3.0   /* s, chrony's */
#define SYNC_DEFAULT_MAXSLEWRATE 500.0 /* ppm, see docs/time-engine.md */
#define SYNC_DEFAULT_MAKESTEP 1.0      /* s */
#define SYNC_DEFAULT_MAKESTEP_LIMIT 3
#define SYNC_DEFAULT_HOLDOVER 3600.0   /* s */
#define SYNC_DEFAULT_NTP_PORT 123

/* One `upstream` or `pool` line. */
struct sync_upstream {
	char host[SYNC_HOST_MAX + 1]; /* name or numeric address */
	uint16_t port;
	int8_t minpoll, maxpoll;      /* log2 s, -6..17 */
	uint8_t iburst, prefer;
	uint8_t smearing;             /* smears leap seconds (cloud NTP): not
					 used within 12 h of one, no LI vote */
	uint8_t pool;                 /* `pool`: up to maxsources members */
	int maxsources;
};

/* What the time engine needs of the config (docs/time-engine.md). */
struct sync_conf {
	struct sync_upstream up[SYNC_MAX_UPSTREAM];
	int n_up;
	int minsources;
	double maxdistance;           /* s */
	double maxslewrate;           /* ppm */
	double makestep;              /* s */
	int makestep_limit;           /* < 0: always */
	double holdover;              /* s */
	int local_stratum;            /* `local stratum N`; 0: not set */
	enum disc_mode discipline;
	char leapfile[PATH_MAX];      /* "" = none */
	char hostsfile[PATH_MAX];     /* test-only: names from here, no DNS */
	int clock_error_set;          /* test-only clock error */
	double clock_error_offset;    /* s */
	double clock_error_drift;     /* ppm */
};

/* The built-in defaults (no upstreams, virtual discipline). */
void sync_conf_defaults(struct sync_conf *t);

struct sync;

/* Where the frequency estimate is kept (main.c puts it in the node-local
 * LMDB table); both return 0 or a negative errno. */
struct sync_persist {
	int (*load)(void *arg, double *freq);
	int (*save)(void *arg, double freq);
	void *arg;
};

/* First claim: wait at most this long for a majority of the configured
 * sources to answer. */
#define SYNC_FIRST_CLAIM_WAIT_NS 8000000000LL

/*
 * persist (may be NULL) keeps the frequency estimate across restarts: it is
 * saved after the first update, hourly and at stop, and restored here.
 * adjtimex is used only with `discipline kernel`. Returns NULL after
 * logging why.
 */
struct sync *sync_start(uv_loop_t *loop, const struct sync_conf *c,
			const struct sync_persist *persist,
			disc_adjtimex_fn adjtimex);
/* Saves the frequency, closes everything; run the loop afterwards. */
void sync_stop(struct sync *sy);

/* For the control commands (syncctl.c). */
struct sync_source_view {
	const char *name;       /* as configured */
	char addr[64];          /* "" when unresolved */
	int pool;
	int smearing;           /* configured `smearing` */
	const char *state;      /* selected candidate falseticker unreachable
				   kod unresolved unusable */
	char reason[128];       /* why not used; "" when selected */
	int stratum, poll;
	uint8_t reach;
	int have_sample;
	double offset, delay, jitter; /* last estimate, s */
	double last_offset, last_delay;
	double distance;
	uint64_t sent, good, bad;
};

struct sync_tracking_view {
	int synced;
	const char *state;      /* "synchronized", "holdover", "suspect",
				   "unsynchronized" */
	const char *reason;
	char reference[64];     /* system peer address, "" */
	uint32_t refid;
	int stratum;
	double correction;      /* served - raw clock now, s */
	double freq_ppm;
	double remaining;       /* offset still being slewed, s */
	double last_offset;     /* combined offset at the last update, s */
	double rms_offset;      /* long-term RMS of last_offset, s */
	double jitter;          /* selection and system peer jitter, s */
	double root_delay, root_disp;
	int leap;
	int leap_pending;       /* LI of the leap waiting for its moment, 0 */
	int64_t leap_moment_ns; /* its moment (served Unix ns), 0 */
	uint64_t leap_inserted, leap_deleted; /* applied since start */
	int64_t leap_last_end;  /* midnight (Unix s) ending the last applied
				   leap's day, 0 = none */
	int64_t last_update_ns; /* served Unix ns, 0 = never */
	int agree, reachable, configured;
	const char *discipline;
	int steps;
	uint64_t rx_unknown;    /* datagrams from addresses that are no source */
	uint64_t rx_errors, tx_errors;
	uint64_t tx_ip_bytes;   /* requests to upstreams at the IP layer
				   (node/base/wirelen.h) */
};

/*
 * The cross-check's verdict about this node's own clock, for the daemon
 * to wire (node/crosscheck, when it exists; nothing calls it yet). While
 * suspect the node claims no sync although it still tracks its sources:
 * the published state is unsynchronized (LI 3, stratum 0), the tracking
 * view says "suspect", and with `discipline kernel` STA_UNSYNC is set
 * (timedatectl and node_exporter see an unsynchronized clock).
 */
void sync_set_suspect(struct sync *sy, int suspect);

int sync_n_sources(const struct sync *sy);
void sync_source(const struct sync *sy, int i, struct sync_source_view *v);
void sync_tracking(const struct sync *sy, struct sync_tracking_view *v);

#endif
