/*
 * The node's one realtime-clock reader. Everything that needs "now" on the
 * realtime scale (served timestamps, sample timestamps, kernel receive
 * timestamps) goes through here, so that the test-only clock error applies
 * everywhere at once. CLOCK_MONOTONIC, timers and raft time never do.
 */
#ifndef NTPMC_CLK_H
#define NTPMC_CLK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds since the Unix epoch of the raw clock (system + test error). */
int64_t clk_raw_ns(void);
/* Apply the test error to a kernel timestamp taken from the system clock. */
int64_t clk_raw_from_kernel(const struct timespec *ts);
/* Test-only: add offset + drift to every raw reading from now on. */
void clk_set_error(double offset_s, double drift_ppm);

#endif
