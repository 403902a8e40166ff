/*
 * libFuzzer: the metrics endpoint's request-head parser on arbitrary
 * bytes, cut into chunks as reads would deliver them (the first byte
 * chooses the chunk size). The chunked result must equal the one-shot
 * result, the cap must hold, and a finished head's fields must be
 * NUL-terminated strings of the kinds the parser promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/metrics/hreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hreq a, b;
	size_t chunk, off = 0, used, cap;
	int ra, rb = HREQ_MORE;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] % 23 + 1;
	cap = (size_t)data[1] * 8 + 1;
	data += 2;
	size -= 2;
	hreq_init(&a, cap);
	ra = hreq_feed(&a, (const char *)data, size, &used);
	if (used > size || (ra == HREQ_MORE && used != size))
		abort();
	hreq_init(&b, cap);
	while (off < size && rb == HREQ_MORE) {
		size_t n = size - off < chunk ? size - off : chunk;

		rb = hreq_feed(&b, (const char *)data + off, n, &used);
		if (used > n)
			abort();
		off += used;
	}
	if (ra != rb)
		abort();
	if (ra == HREQ_DONE) {
		if (off > cap || a.path[0] != '/' || strcmp(a.path, b.path) ||
		    strlen(a.path) > HREQ_PATH_MAX || a.method[0] == '\0' ||
		    strlen(a.method) > HREQ_METHOD_MAX || a.minor < 0 ||
		    a.minor > 9)
			abort();
	}
	return 0;
}
