/*
 * libFuzzer: the pool-check history record decoder (node/metrics/phist.c)
 * on arbitrary bytes. What it accepts must encode back to the same bytes
 * (floats by value), so a damaged record is refused, never read
 * half-way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/metrics/phist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct phist_block b;
	uint8_t out[PHIST_BLOCK_LEN];
	int m;

	if (phist_decode(data, size, &b) < 0)
		return 0;
	for (m = 0; m < 60; m++)
		if ((b.present >> m & 1) && b.s[m].minute != b.hour * 60 + m)
			abort();
	phist_encode(&b, out);
	/* unsampled minutes are zero when written; the decoder ignores
	 * what they hold, so compare the sampled ones and the header */
	if (memcmp(out, data, 12) != 0)
		abort();
	for (m = 0; m < 60; m++) {
		size_t o = 12 + (size_t)m * PHIST_REC_LEN;

		const struct phist_sample *s = &b.s[m];
		const double v[4] = { s->offset, s->jitter, s->freq_ppm,
				      s->peer_offset };
		int k;

		if (!(b.present >> m & 1))
			continue;
		if (memcmp(out + o, data + o, 4) != 0)
			abort();
		/* floats by value: a NaN may come back with another
		 * payload (signalling NaNs are quietened) */
		for (k = 0; k < 4; k++) {
			float x, y;

			memcpy(&x, data + o + 4 + 4 * k, 4);
			memcpy(&y, out + o + 4 + 4 * k, 4);
			if (!(x == y || (x != x && y != y && v[k] != v[k])))
				abort();
		}
	}
	return 0;
}
