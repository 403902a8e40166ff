/*
 * Log-linear latency histogram for the benchmark tools: fixed size, no
 * allocation per sample, relative error below 1/64 (1.6 %), values in ns.
 */
#ifndef NTPMC_BENCH_HIST_H
#define NTPMC_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB 64                      /* sub-buckets per power of two */
#define HIST_BUCKETS (HIST_SUB * 40)     /* up to 2^45 ns, ~9.7 hours */

struct hist {
	uint64_t count;
	uint64_t n[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t v);
/* The value at quantile q (0..1), in ns; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
