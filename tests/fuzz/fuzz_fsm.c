/*
 * fuzz_fsm: committed commands and snapshots are bytes from the log or
 * from a peer's InstallSnapshot; the FSM must refuse or apply them, never
 * crash, and a restored state must round-trip (snapshot -> restore gives
 * the same state hash).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/fsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	struct fsm *f, *g;
	void *buf;
	size_t len;
	int result;

	if (size < 1)
		return 0;
	f = fsm_new();
	g = fsm_new();
	if (f == NULL || g == NULL)
		abort();
	if (data[0] & 1) {
		/* A sequence of commands: 1-byte length prefixes. */
		size_t off = 1, i = 1;

		while (off < size) {
			size_t n = data[off++];

			if (n > size - off)
				n = size - off;
			if (fsm_apply(f, i++, data + off, n, &result) == 0 &&
			    (result < FSM_OK || result > FSM_EFULL))
				abort();
			off += n;
		}
	} else if (fsm_restore(f, 5, data + 1, size - 1) != 0) {
		goto out;
	}
	if (fsm_snapshot(f, &buf, &len) != 0)
		abort();
	if (fsm_restore(g, 5, buf, len) != 0)
		abort();
	free(buf);
	if (fsm_hash(f, h1) != 0 || fsm_hash(g, h2) != 0 ||
	    memcmp(h1, h2, FSM_HASH_LEN) != 0)
		abort();
out:
	fsm_free(f);
	fsm_free(g);
	return 0;
}
