/*
 * ntpbench's parts: options (bench_opts.c), the load loop and reply checks
 * (ntpbench.c), the report (bench_report.c).
 */
#ifndef NTPMC_NTPBENCH_H
#define NTPMC_NTPBENCH_H

#include <stdint.h>
#include <stdio.h>

#include "tools/bench_hist.h"

#define MAX_SLOTS 65536        /* slot index lives in 16 bits of the xmt */
#define MAX_CLIENTS 16777214U  /* 127.0.0.1 .. 127.255.255.254 */

/* Why a reply was invalid (bench_report.c names them). */
enum bad { BAD_LEN, BAD_MODE, BAD_VERSION, BAD_ORIGIN, BAD_UNSYNC,
	   BAD_TIMES, BAD_SOURCE, BAD_POLL, BAD_N };

struct opts {
	const char *addr;
	const char *port;
	double duration;
	double rate;           /* 0: closed loop */
	int sockets;
	int inflight;
	uint32_t clients;      /* 0: connected sockets, kernel-chosen source */
	uint64_t count;        /* stop after this many requests (0: duration) */
	int timeout_ms;        /* a request unanswered this long is lost */
	int version;
	int json;
};

struct result {
	uint64_t sent, valid, kod, late, lost, overrun, send_err;
	uint64_t bad[BAD_N];
	struct hist rtt, server;
};

/* The sending span, measured by the load loop. */
struct span {
	double wall;           /* seconds of sending */
	double cpu;            /* our CPU seconds over the same span */
	double wait;           /* seconds runnable but waiting for a CPU */
};

/* bench_opts.c: 0, or -1 after printing why (--help exits). */
void bench_usage(FILE *f);
int bench_parse_opts(int argc, char **argv, struct opts *o);

/* bench_report.c */
uint64_t bench_bad_total(const struct result *r);
void bench_report(const struct opts *o, const struct result *r,
		  const struct span *sp);

#endif
