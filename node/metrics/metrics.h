/*
 * metrics: the member's Prometheus endpoint (GET /metrics, text format
 * 0.0.4), its health check (GET /health) and its minute-sampled history
 * for `ntpctl pool-check`. Everything runs on the control-plane loop: a
 * scrape reads the serving threads' counters (relaxed atomic loads) and
 * the published time state, and never waits for those threads.
 *
 * node/metrics never reaches the serving threads or the time engine
 * directly: the daemon hands it views (struct metrics_views) that fill
 * the plain structs below. The cluster it reads itself (cluster_view()).
 */
#ifndef NTPMC_METRICS_H
#define NTPMC_METRICS_H

#include <stdint.h>
#include <uv.h>

#include "node/base/netaddr.h"

/* Outside 9100-9999, the range Prometheus's port list has handed out to
 * exporters (chrony_exporter 9123, ntpd-rs 9975), beside the cluster
 * port (docs/monitoring.md). */
#define METRICS_DEFAULT_PORT 4461

struct cluster;
struct ctl;
struct st;

/* `metrics-listen ADDR [port N]`; off unless listen_set. */
struct metrics_conf {
	int listen_set;
	struct netaddr listen;          /* port filled in */
};

/* The time engine's state (always present: the local clock's under
 * `local stratum`, unsynchronized values without any source). */
struct metrics_tracking {
	char state[16];                 /* synchronized, holdover,
					   unsynchronized, local */
	int stratum;                    /* 0: unsynchronized */
	int leap;                       /* LI 0..3 of the replies */
	uint32_t refid;
	char reference[64];             /* system peer address, "" */
	double last_offset;             /* s, at the last clock update */
	double rms_offset;              /* s, long-term average */
	double jitter;                  /* s, of the combined sources */
	double freq_ppm;
	double root_delay, root_disp;   /* s */
	int64_t ref_time_ns;            /* last update, Unix ns; 0 never */
	int sources, reachable, agree;
};

struct metrics_source {
	char name[256];                 /* as configured */
	char addr[64];                  /* "" unresolved */
	char state[16];                 /* selected combined candidate ... */
	int stratum, poll;
	uint8_t reach;
	int have_sample;
	double offset, last_offset, delay, jitter;  /* s */
};

enum metrics_drop {
	METRICS_DROP_SHORT, METRICS_DROP_VERSION, METRICS_DROP_MODE,
	METRICS_DROP_CONTROL, METRICS_DROP_AUTH, METRICS_DROP_DENIED,
	METRICS_DROP_RATELIMIT, METRICS_DROP_UNANSWERABLE, METRICS_DROP_N
};

#define METRICS_HIST_MAX 32

struct metrics_serving {
	int running;
	uint64_t received, replied, kod_sent, rate_limited, send_errors;
	uint64_t dropped[METRICS_DROP_N];
	/* reply duration: cumulative counts under each upper bound (s) */
	int n_le;
	double le[METRICS_HIST_MAX];
	uint64_t cum[METRICS_HIST_MAX];
	uint64_t count;
	double sum;                     /* s */
};

/* Filled by the daemon; any function may be NULL (nothing to report). */
/* This member's cross-check (node/crosscheck): its verdict about itself
 * and what it measured of each peer. */
#define METRICS_XC_PEERS 64
struct metrics_crosscheck {
	int present;                    /* 0: no cross-check runs here */
	int verdict;                    /* 0 unknown, 1 ok, 2 suspect */
	int n_peer;
	struct {
		char name[65];
		int answered;           /* a sample in the last 3 checks */
		double offset;          /* the peer minus us, s */
	} peer[METRICS_XC_PEERS];
};

/* This member's egress by class (node/cost/egress.h) and, once a
 * budget is known, the larger of its actual and projected use. */
#define METRICS_EGRESS_CLASSES 8
struct metrics_egress {
	int n;                          /* 0: not counted here */
	struct {
		const char *name;       /* static: "ntp", "cluster", ... */
		uint64_t bytes;
	} cls[METRICS_EGRESS_CLASSES];
	int has_ratio;
	double used_ratio;              /* used / allowance or budget */
	const char *governor;           /* "off", "on", "limiting"; NULL */
	uint64_t governor_rate;         /* B/s, 0 none */
};

/* The rotation (node/rotation): each member planned on or off now, from
 * this member's replicated state and clock, and the alerts the leader
 * holds (0 on a follower). */
#define METRICS_ROT_MEMBERS 64
struct metrics_rotation {
	int present;                    /* 0: no rotation runs here */
	unsigned alerts;
	int n_member;
	struct {
		char name[65];
		int planned;            /* 1 on, 0 off */
	} member[METRICS_ROT_MEMBERS];
};

struct metrics_views {
	void *arg;
	void (*tracking)(void *arg, struct metrics_tracking *out);
	int (*n_sources)(void *arg);
	void (*source)(void *arg, int i, struct metrics_source *out);
	void (*serving)(void *arg, struct metrics_serving *out);
	void (*crosscheck)(void *arg, struct metrics_crosscheck *out);
	void (*egress)(void *arg, struct metrics_egress *out);
	void (*rotation)(void *arg, struct metrics_rotation *out);
};

struct metrics;

/*
 * Starts the history sampler (st may be NULL: no history is kept) and,
 * with c->listen_set, the HTTP endpoint. cl may be NULL (standalone).
 * views, c and version must outlive m. Returns NULL after logging why.
 */
struct metrics *metrics_start(uv_loop_t *loop, const struct metrics_conf *c,
			      const struct metrics_views *views,
			      struct cluster *cl, struct st *st,
			      const char *version);
/* Registers `pool-check` on the control socket. */
int metrics_register(struct metrics *m, struct ctl *ctl);
/* Closes the endpoint and the timers; m is freed once the loop has run. */
void metrics_stop(struct metrics *m);

#endif
