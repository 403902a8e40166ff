/*
 * crosscheck: the members measure each other's clocks and each judges
 * itself (docs/cross-check.md).
 *
 * Every crosscheck-interval (replicated key, else the file's, else 16 s)
 * this member sends every other member of the configuration one signed
 * NTP request (node/ntp/pmac.h), spread over the interval, to the
 * member's serving port (over the WireGuard overlay when the mesh is on);
 * at the end of the interval it runs the rule of xcdecide.h on what came
 * back. A suspect withdraws its claim (node/ntp/tstate.h tstate_withdraw):
 * every NTP reply it sends says LI 3 until three checks in a row say ok.
 * The verdict goes to the cluster (cluster_check_report), which reports
 * it to the leader.
 *
 * Runs on the loop; start once the node is a committed member, stop before
 * the cluster stops.
 */
#ifndef NTPMC_CROSSCHECK_H
#define NTPMC_CROSSCHECK_H

#include <stdint.h>
#include <uv.h>

#define CROSSCHECK_DEFAULT_INTERVAL 16  /* s */
#define CROSSCHECK_MIN_INTERVAL 1
#define CROSSCHECK_MAX_INTERVAL 1024
#define CROSSCHECK_MAX_PEERS 64

/* What the cross-check needs of the config (`crosscheck-interval`). */
struct crosscheck_conf {
	unsigned interval_s;   /* 0: not in the file (replicated or default) */
	uint16_t port;         /* test-only `crosscheck-port`: the port members
				  are told to use (a delay relay); 0: ours */
};

struct cluster;
struct crosscheck;

/* Told when this member becomes a suspect (1) or is cleared (0). */
typedef void (*crosscheck_suspect_fn)(void *arg, int suspect);

/* ntp_port: where our serving threads answer (members are told it).
 * on_suspect (may be NULL): the daemon passes the verdict to the time
 * engine (sync_set_suspect: STA_UNSYNC with the kernel discipline).
 * NULL after logging why. */
struct crosscheck *crosscheck_start(uv_loop_t *loop, struct cluster *cl,
				    const struct crosscheck_conf *c,
				    uint16_t ntp_port,
				    crosscheck_suspect_fn on_suspect, void *arg);
/* Clears the key table and closes; a withdrawn claim stays withdrawn (the
 * serving threads answer until the process ends). Run the loop
 * afterwards. */
void crosscheck_stop(struct crosscheck *xc);

/* A read-only view for ntpctl tracking and the metrics endpoint. */
struct crosscheck_peer_view {
	uint64_t id;
	char name[65];
	int answered;           /* a sample in the last 3 checks */
	double offset;          /* it minus us, s */
	double delay, half;     /* s: round trip; interval half width */
	uint64_t sent, good, bad;  /* requests; samples; refused replies */
};

struct crosscheck_view {
	int verdict;            /* enum cluster_verdict (node/cluster) */
	const char *result;     /* last check: ok, suspect-candidate, unknown */
	int peers;              /* answered in the last 3 checks */
	int members;            /* members probed */
	int has_offset;
	double offset;          /* us minus the median of the others, s */
	double own_half;        /* our root distance, s */
	unsigned interval_s;
	uint64_t checks;        /* checks run */
	uint64_t decided;       /* of them with a majority (ok/candidate) */
	uint64_t first_decided; /* the first such check, 0 none */
	uint64_t suspect_at;    /* check that made us a suspect, 0 never */
	uint64_t cleared_at;    /* check that cleared us, 0 never */
	uint64_t transitions;   /* suspect began or ended */
	int ok_run;             /* ok checks in a row while suspect */
	char why[128];          /* why the verdict is what it is */
	uint64_t sent, replies, bad;
	uint64_t bytes_sent;    /* requests, payload bytes */
	uint64_t tx_ip_bytes;   /* requests at the IP layer (node/base/wirelen.h),
				   WireGuard's outer packet with the mesh */
	int n_peer;
	struct crosscheck_peer_view peer[CROSSCHECK_MAX_PEERS];
};

void crosscheck_view(const struct crosscheck *xc, struct crosscheck_view *v);
/* "ok (2 peers, 0.21 ms from consensus)" or why not: one line. */
void crosscheck_summary(const struct crosscheck_view *v, char *out,
			size_t len);

#endif
