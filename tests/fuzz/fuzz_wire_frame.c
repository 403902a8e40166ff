/*
 * The established receive path (raft/transport/wire.c): frame splitting, record
 * authentication and the RaftMsg decoder, driven two ways by the input: as
 * plaintexts sealed with the right key (reaching the decoder and the sender
 * checks), and as raw bytes injected into the stream (the splitter and
 * authentication failures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "raft/transport/chan.h"
#include "raft/msgcodec.h"
#include "raft/transport/wire.h"

static void on_raft(void *ctx, struct raft_message *m)
{
	(void)ctx;
	msgcodec_release(m);
}

static void on_app(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t k1[32] = { 1 }, k2[32] = { 2 };
	struct wire_sink sink = { on_raft, on_app, NULL };
	uint8_t ha[CHAN_HEADER_LEN], hb[CHAN_HEADER_LEN];
	struct wire_stats st;
	struct chan *a = NULL, *b = NULL;
	struct wire_rx rx;
	size_t off = 0;

	memset(&st, 0, sizeof(st));
	if (chan_new(k1, k2, ha, &a) != 0 || chan_new(k2, k1, hb, &b) != 0)
		goto out;
	chan_set_rx_header(a, hb);
	chan_set_rx_header(b, ha);
	chan_set_rekey_interval(a, 3);
	wire_rx_init(&rx, b, 5, size > 0 && (data[0] & 0x80), &st);
	/* Chunks: op byte, 2-byte length, bytes. */
	while (off + 3 <= size) {
		uint8_t op = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		int rc;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (op & 1) {
			size_t n = chan_sealed_len(len);
			uint8_t *rec = malloc(n);

			if (rec == NULL)
				break;
			chan_seal(a, data + off, len, rec, n);
			rc = wire_rx_feed(&rx, rec, n, &sink);
			free(rec);
		} else {
			rc = wire_rx_feed(&rx, data + off, len, &sink);
		}
		off += len;
		if (rc != 0)
			break;
	}
	wire_rx_eof(&rx);
	wire_rx_free(&rx);
out:
	chan_free(a);
	chan_free(b);
	return 0;
}
