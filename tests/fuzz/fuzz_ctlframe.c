/*
 * libFuzzer: the control-socket frame reader and decoders on an arbitrary
 * byte stream, cut into chunks as reads would deliver it. The first byte
 * chooses the chunk size.
 */
#include <stdint.h>
#include <stdlib.h>

#include "node/ctl/ctlframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlframe_rd rd;
	size_t chunk, used;
	int r;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	/* A small cap so that the size check is reached too. */
	ctlframe_rd_init(&rd, 4096);
	while (size > 0) {
		size_t n = size < chunk ? size : chunk;

		r = ctlframe_rd_feed(&rd, data, n, &used);
		if (used > n)
			abort();
		data += used;
		size -= used;
		if (r < 0)
			break;
		if (r == CTLFRAME_DONE) {
			Ntpmc__CtlRequest *q;
			Ntpmc__CtlResponse *p;

			q = ctlframe_unpack_request(rd.body, rd.len);
			if (q)
				ntpmc__ctl_request__free_unpacked(q, NULL);
			p = ctlframe_unpack_response(rd.body, rd.len);
			if (p)
				ntpmc__ctl_response__free_unpacked(p, NULL);
		}
	}
	ctlframe_rd_free(&rd);
	return 0;
}
