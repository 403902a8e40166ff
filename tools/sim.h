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
 * direction, a deterministic function of (seed, server, time slot, the
 * client's request number in that slot).
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
	double slot;        /* seconds: requests in one slot share a draw */
	struct sim_truth truth;
	struct sim_server servers[SIM_MAX_SERVERS];
	int n_servers;
};

/* Common random numbers: a path draw is a pure function of its key, not
 * of a stream consumed in arrival order, so every client that sends in the
 * same time slot sees the same network (docs/ntpsim.md, "Path model"). */
struct sim_key {
	uint64_t seed;
	uint64_t stream;    /* server index (relays: 1000 + relay index) */
	uint64_t slot;      /* floor(time since t0 / slot length) */
	uint64_t sub;       /* this client's n-th request in the slot, from 0 */
};

/* Uniform [0, 1) for one field of a key (counter-based splitmix64). */
double sim_key_uniform(const struct sim_key *k, unsigned field);

/* One exchange's path. */
struct sim_draw {
	int req_lost, reply_lost;
	double fwd, ret;    /* seconds */
};

void sim_path_draw(const struct sim_server *s, const struct sim_key *k,
		   struct sim_draw *out);

/* Per server: how many requests each client (address and port) has sent
 * in the current slot, so that a client sending twice in one slot gets two
 * different draws while different clients' first requests share one. */
#define SIM_SLOT_CLIENTS 32

struct sim_slot_client {
	struct sockaddr_storage addr;
	socklen_t len;
	uint64_t slot, n;
};

struct sim_slots {
	struct sim_slot_client c[SIM_SLOT_CLIENTS];
	int n;
};

/* slot length in seconds (> 0); since_t0 in seconds (>= 0) */
uint64_t sim_slot_of(double since_t0, double slot_len);
/* Returns the sub index of this request and counts it. */
uint64_t sim_slots_next(struct sim_slots *t, const struct sockaddr_storage *a,
			socklen_t len, uint64_t slot);

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
/* Scenario file: "seed N", "slot D", "truth-offset D", "truth-drift PPM",
 * "server SPEC". */
int sim_load_scenario(struct sim_scenario *sc, const char *path);

/* Status file written by ntpsim once every server is bound. */
int sim_write_status(const struct sim_scenario *sc, const char *path);
int sim_read_truth(const char *path, struct sim_truth *out);

int64_t sim_now_ns(void);

#endif
