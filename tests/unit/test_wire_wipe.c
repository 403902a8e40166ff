/*
 * Plaintext record buffers are wiped before they are freed (wire.c,
 * msgcodec.c): linked with -Wl,--wrap=free, so every free() of our code
 * passes through __wrap_free, which looks for a marker the test put in a
 * message's plaintext before the block goes back to the heap.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "raft/msgcodec.h"
#include "raft/transport/chan.h"
#include "raft/transport/wire.h"

#define MARK_LEN 24
static const char MARK[MARK_LEN + 1] = "plaintext-marker-0123456";

static struct {
	bool on;
	unsigned leaked;  /* freed blocks that still held the marker */
	unsigned wiped;   /* freed blocks of plaintext size, all zero */
	size_t plain_len; /* the record's plaintext length */
} F;

void __real_free(void *p);
void __wrap_free(void *p);

static bool holds_mark(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + MARK_LEN <= n; i++)
		if (memcmp(b + i, MARK, MARK_LEN) == 0)
			return true;
	return false;
}

void __wrap_free(void *p)
{
	if (F.on && p != NULL) {
		size_t n = malloc_usable_size(p), i;
		const uint8_t *b = p;
		bool zero = true;

		if (holds_mark(b, n))
			F.leaked++;
		for (i = 0; i < n && i < F.plain_len && zero; i++)
			zero = b[i] == 0;
		if (zero && n >= F.plain_len)
			F.wiped++;
	}
	__real_free(p);
}

static void chan_pair(struct chan **a, struct chan **b)
{
	uint8_t k1[32], k2[32], ha[CHAN_HEADER_LEN], hb[CHAN_HEADER_LEN];

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	assert_int_equal(chan_new(k1, k2, ha, a), 0);
	assert_int_equal(chan_new(k2, k1, hb, b), 0);
	assert_int_equal(chan_set_rx_header(*a, hb), 0);
	assert_int_equal(chan_set_rx_header(*b, ha), 0);
}

static int app_seen;

static void sink_app(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	/* The sink gets the plaintext; it is the transport's to wipe. */
	assert_true(holds_mark(buf, len));
	app_seen++;
}

static void sink_raft(void *ctx, struct raft_message *m)
{
	(void)ctx;
	msgcodec_release(m);
}

static void wipe_app_record(void **state)
{
	struct wire_stats stats;
	struct wire_sink sink = { sink_raft, sink_app, NULL };
	struct wire_rx rx;
	struct chan *a, *b;
	uint8_t msg[200], *rec;
	size_t len;

	(void)state;
	memset(&stats, 0, sizeof(stats));
	memset(&F, 0, sizeof(F));
	memset(msg, 'x', sizeof(msg));
	memcpy(msg + 50, MARK, MARK_LEN);
	chan_pair(&a, &b);
	wire_rx_init(&rx, b, 7, false, &stats);
	F.plain_len = 64; /* well under the encoded message */
	F.on = true;
	/* Sending: the encoded message is wiped once sealed. */
	assert_int_equal(wire_tx_seal_app(a, msg, sizeof(msg), 7, &stats,
					  &rec, &len),
			 0);
	/* Receiving: the opened record, the decoder's copies and the app
	 * buffer handed to the sink. */
	assert_int_equal(wire_rx_feed(&rx, rec, len, &sink), 0);
	F.on = false;
	assert_int_equal(app_seen, 1);
	assert_int_equal(F.leaked, 0);
	/* Not vacuous: the wrapper saw the plaintext blocks go, zeroed (the
	 * encoded message, the opened record, unpack's copy, the app). */
	assert_true(F.wiped >= 3);
	free(rec);
	wire_rx_free(&rx);
	chan_free(a);
	chan_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wipe_app_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
