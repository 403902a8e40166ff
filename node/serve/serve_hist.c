/*
 * The reply-time histogram's buckets (serve.h): log-linear, 4 per power of
 * two. Pure arithmetic, shared by the serving threads and srvstats.
 */
#include "node/serve/serve.h"

int serve_hist_bucket(uint64_t ns)
{
	int e, idx;

	if (ns < 4)
		return (int)ns;
	e = 63 - __builtin_clzll(ns);
	idx = (e - 1) * 4 + (int)((ns >> (e - 2)) & 3);
	return idx < SERVE_HIST_BUCKETS ? idx : SERVE_HIST_BUCKETS - 1;
}

uint64_t serve_hist_upper_ns(int idx)
{
	int e = idx / 4 + 1, sub = idx % 4;

	if (idx < 4)
		return (uint64_t)idx + 1;
	return (uint64_t)(5 + sub) << (e - 2);
}

uint64_t serve_hist_quantile_ns(const struct serve_stats *st, double q)
{
	uint64_t total = 0, seen = 0, want;
	int i;

	for (i = 0; i < SERVE_HIST_BUCKETS; i++)
		total += st->reply_ns_hist[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (i = 0; i < SERVE_HIST_BUCKETS; i++) {
		seen += st->reply_ns_hist[i];
		if (seen > want)
			return serve_hist_upper_ns(i);
	}
	return serve_hist_upper_ns(SERVE_HIST_BUCKETS - 1);
}
