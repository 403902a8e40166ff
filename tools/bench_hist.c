#include "tools/bench_hist.h"

/*
 * Values below HIST_SUB get one bucket each; above, each power of two
 * [2^e, 2^(e+1)) is split into HIST_SUB equal buckets.
 */
static unsigned hist_index(uint64_t v)
{
	unsigned e, idx;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);    /* e >= 6 */
	idx = (e - 5) * HIST_SUB + (unsigned)((v >> (e - 6)) - HIST_SUB);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* Midpoint of a bucket, the value reported for it. */
static uint64_t hist_value(unsigned idx)
{
	unsigned e, sub;
	uint64_t lo, width;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + 5;
	sub = idx % HIST_SUB;
	width = 1ULL << (e - 6);
	lo = (uint64_t)(HIST_SUB + sub) * width;
	return lo + width / 2;
}

void hist_add(struct hist *h, uint64_t v)
{
	h->n[hist_index(v)]++;
	h->count++;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen > rank)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}
