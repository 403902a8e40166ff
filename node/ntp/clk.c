/*
 * The realtime reader. The test-only error is a set of relaxed atomics: set
 * before the threads start in practice, but never a data race if not.
 */
#include "node/ntp/clk.h"

#include <stdatomic.h>

static _Atomic int clk_err_on;
static _Atomic int64_t clk_err_offset_ns;
static _Atomic double clk_err_drift;   /* s/s */
static _Atomic int64_t clk_err_base_ns; /* system ns when drift started */

static int64_t sys_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t with_error(int64_t ns)
{
	int64_t off;
	double drift;

	if (!atomic_load_explicit(&clk_err_on, memory_order_relaxed))
		return ns;
	off = atomic_load_explicit(&clk_err_offset_ns, memory_order_relaxed);
	drift = atomic_load_explicit(&clk_err_drift, memory_order_relaxed);
	return ns + off +
	       (int64_t)(drift * (double)(ns - atomic_load_explicit(
					   &clk_err_base_ns,
					   memory_order_relaxed)));
}

int64_t clk_raw_ns(void)
{
	return with_error(sys_ns());
}

int64_t clk_raw_from_kernel(const struct timespec *ts)
{
	return with_error((int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec);
}

void clk_set_error(double offset_s, double drift_ppm)
{
	atomic_store(&clk_err_offset_ns, (int64_t)(offset_s * 1e9));
	atomic_store(&clk_err_drift, drift_ppm * 1e-6);
	atomic_store(&clk_err_base_ns, sys_ns());
	atomic_store(&clk_err_on, offset_s != 0.0 || drift_ppm != 0.0);
}
