/*
 * Simulated upstream NTP servers (tools/ntpsim) and their probe
 * (tools/ntpprobe): the scenario model shared by both.
 *
 * Truth is a timescale defined from the system clock only, so that any
 * process can compute it from the status file ntpsim writes:
 *   truth(sys) = sys + truth_offset + truth_drift * (sys - t0)
 * A server's clock is truth plus its own error:
 *   server(sys) = truth(sys) + offset + drift * (sys - t0) + steps so far
 * Paths are one-way delays (base + exponential jitter) and losses per
 * direction, drawn from one deterministic generator per server.
 */
#ifndef NTPMC_SIM_H
#define NTPMC_SIM_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define SIM_MAX_SERVERS 64
#define SIM_MAX_STEPS 8
#define SIM_MAX_DOWN 4

struct sim_truth {
	int64_t t0_ns;      /* system clock at ntpsim start */
	double offset;      /* seconds */
	double drift_ppm;
};

struct sim_dir {
	double base;        /* seconds */
	double jitter;      /* mean of the exponential extra, seconds */
	double loss;        /* probability 0..1 */
};

struct sim_window {
	double from, to;    /* seconds after t0 */
};

struct sim_step {
	double at;          /* seconds after t0 */
	double size;        /* seconds */
};

struct sim_server {
	char addr[64];
	uint16_t port;      /* 0: ephemeral, filled in once bound */
	double offset;      /* seconds from truth */
	double drift_ppm;   /* relative to truth */
	struct sim_step steps[SIM_MAX_STEPS];
	int n_steps;
	struct sim_window down[SIM_MAX_DOWN];
	int n_down;
	int stratum, li, precision;
	uint32_t refid;     /* host order */
	double root_delay, root_disp;
	char kod[5];        /* "" or a kiss code such as RATE, DENY */
	struct sim_dir fwd; /* client -> server */
	struct sim_dir ret; /* server -> client */
};

struct sim_scenario {
	uint64_t seed;
	struct sim_truth truth;
	struct sim_server servers[SIM_MAX_SERVERS];
	int n_servers;
};

/* Deterministic generator (splitmix64): one per server. */
struct sim_rng {
	uint64_t s;
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);
double sim_rng_uniform(struct sim_rng *r); /* [0, 1) */

/* One exchange's path: drawn in a fixed order so runs are repeatable. */
struct sim_draw {
	int req_lost, reply_lost;
	double fwd, ret;    /* seconds */
};

void sim_path_draw(const struct sim_server *s, struct sim_rng *r,
		   struct sim_draw *out);

int64_t sim_truth_ns(const struct sim_truth *t, int64_t sys_ns);
int64_t sim_server_ns(const struct sim_truth *t, const struct sim_server *s,
		      int64_t sys_ns);
int sim_server_down(const struct sim_truth *t, const struct sim_server *s,
		    int64_t sys_ns);

/* Parsing: 0 on success, -1 after printing "WHERE: problem" to stderr. */
void sim_scenario_init(struct sim_scenario *sc);
void sim_server_defaults(struct sim_server *s);
int sim_parse_server(struct sim_server *s, const char *spec, const char *where);
int sim_parse_duration(const char *text, double *out);
int sim_parse_double(const char *text, double *out);
/* Scenario file: "seed N", "truth-offset D", "truth-drift PPM", "server SPEC". */
int sim_load_scenario(struct sim_scenario *sc, const char *path);

/* Status file written by ntpsim once every server is bound. */
int sim_write_status(const struct sim_scenario *sc, const char *path);
int sim_read_truth(const char *path, struct sim_truth *out);

int64_t sim_now_ns(void);

#endif
