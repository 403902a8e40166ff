/* The established data path: every bad frame is refused and counted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <sodium.h>

#include "raft/transport/chan.h"
#include "raft/msgcodec.h"
#include "raft/transport/wire.h"

struct sink {
	int n;
	raft_term last_term;
};

static void deliver(void *ctx, struct raft_message *m)
{
	struct sink *s = ctx;

	s->n++;
	s->last_term = m->timeout_now.term;
	msgcodec_release(m);
}

static void deliver_app(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;

	s->n += 100;
	s->last_term = len;
	assert_memory_equal(buf, "app!", len);
}

static struct sink S;
static const struct wire_sink SINK = { deliver, deliver_app, &S };

static void pair(struct chan **a, struct chan **b)
{
	uint8_t k1[32], k2[32], ha[CHAN_HEADER_LEN], hb[CHAN_HEADER_LEN];

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	assert_int_equal(chan_new(k1, k2, ha, a), 0);
	assert_int_equal(chan_new(k2, k1, hb, b), 0);
	assert_int_equal(chan_set_rx_header(*a, hb), 0);
	assert_int_equal(chan_set_rx_header(*b, ha), 0);
}

static void seal_tn(struct chan *a, uint64_t from, raft_term term,
		    struct wire_stats *st, uint8_t **rec, size_t *len)
{
	struct raft_message m = { 0 };

	m.type = RAFT_TIMEOUT_NOW;
	m.timeout_now.term = term;
	assert_int_equal(wire_tx_seal(a, &m, from, st, rec, len), 0);
}

static void good_frames_delivered(void **state)
{
	struct wire_stats st = { 0 };
	struct chan *a, *b;
	struct wire_rx rx;
	struct sink *sp = &S;

	memset(&S, 0, sizeof(S));
	uint8_t *r1, *r2, both[256];
	size_t l1, l2, i;

	pair(&a, &b);
	wire_rx_init(&rx, b, 5, false, &st);
	seal_tn(a, 5, 1, &st, &r1, &l1);
	seal_tn(a, 5, 2, &st, &r2, &l2);
	/* Two records in one read, then split across reads. */
	memcpy(both, r1, l1);
	memcpy(both + l1, r2, l2);
	assert_int_equal(wire_rx_feed(&rx, both, 3, &SINK), 0);
	for (i = 3; i < l1 + l2; i++)
		assert_int_equal(wire_rx_feed(&rx, both + i, 1, &SINK),
				 0);
	assert_int_equal(sp->n, 2);
	assert_int_equal(sp->last_term, 2);
	assert_int_equal(st.frames_rx, 2);
	assert_int_equal(st.frames_tx, 2);
	wire_rx_eof(&rx);
	assert_int_equal(st.drops[WIRE_DROP_TRUNCATED], 0);
	free(r1);
	free(r2);
	chan_free(a);
	chan_free(b);
}

static void wrong_sender_dropped(void **state)
{
	struct wire_stats st = { 0 };
	struct chan *a, *b;
	struct wire_rx rx;
	struct sink *sp = &S;

	memset(&S, 0, sizeof(S));
	struct raft_message m = { 0 };
	uint8_t *r;
	size_t l;

	pair(&a, &b);
	wire_rx_init(&rx, b, 5, false, &st);
	/* Peer 5 claims to be 6: dropped, but the stream goes on. */
	seal_tn(a, 6, 1, &st, &r, &l);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	free(r);
	/* A vote request for candidate 6 sent by 5. */
	m.type = RAFT_REQUEST_VOTE;
	m.request_vote.candidate_id = 6;
	m.request_vote.term = 3;
	assert_int_equal(wire_tx_seal(a, &m, 5, &st, &r, &l), 0);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	free(r);
	assert_int_equal(st.drops[WIRE_DROP_WRONG_ID], 2);
	assert_int_equal(sp->n, 0);
	seal_tn(a, 5, 9, &st, &r, &l);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	assert_int_equal(sp->n, 1);
	free(r);
	wire_rx_free(&rx);
	chan_free(a);
	chan_free(b);
}

static void forged_replayed_truncated_oversized(void **state)
{
	struct wire_stats st = { 0 };
	struct chan *a, *b;
	struct wire_rx rx;
	struct sink *sp = &S;

	memset(&S, 0, sizeof(S));
	uint8_t *r, hdr[4];
	size_t l;

	/* Forged. */
	pair(&a, &b);
	wire_rx_init(&rx, b, 5, false, &st);
	seal_tn(a, 5, 1, &st, &r, &l);
	r[l - 1] ^= 1;
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), -EBADMSG);
	assert_int_equal(st.drops[WIRE_DROP_FORGED], 1);
	free(r);
	wire_rx_free(&rx);
	chan_free(a);
	chan_free(b);

	/* Replayed. */
	pair(&a, &b);
	wire_rx_init(&rx, b, 5, false, &st);
	seal_tn(a, 5, 1, &st, &r, &l);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), -EBADMSG);
	assert_int_equal(st.drops[WIRE_DROP_FORGED], 2);
	assert_int_equal(sp->n, 1);
	free(r);
	wire_rx_free(&rx);

	/* Truncated: the connection ends inside a record. */
	wire_rx_init(&rx, b, 5, false, &st);
	seal_tn(a, 5, 2, &st, &r, &l);
	assert_int_equal(wire_rx_feed(&rx, r, l - 3, &SINK), 0);
	wire_rx_eof(&rx);
	assert_int_equal(st.drops[WIRE_DROP_TRUNCATED], 1);
	free(r);

	/* Oversized: refused from the length alone. */
	wire_rx_init(&rx, b, 5, false, &st);
	frame_put_len(hdr, (uint32_t)CHAN_RECORD_MAX + 1);
	assert_int_equal(wire_rx_feed(&rx, hdr, 4, &SINK), -E2BIG);
	assert_int_equal(st.drops[WIRE_DROP_OVERSIZED], 1);
	wire_rx_free(&rx);
	assert_int_equal(sp->n, 1);
	chan_free(a);
	chan_free(b);
}

static void malformed_authentic_frame(void **state)
{
	struct wire_stats st = { 0 };
	struct chan *a, *b;
	struct wire_rx rx;
	struct sink *sp = &S;

	memset(&S, 0, sizeof(S));
	uint8_t rec[64];
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };

	pair(&a, &b);
	wire_rx_init(&rx, b, 5, false, &st);
	/* A peer bug: authentic bytes that are no RaftMsg. Dropped, the
	 * stream stays usable. */
	assert_int_equal(chan_seal(a, junk, sizeof(junk), rec, sizeof(rec)),
			 0);
	assert_int_equal(wire_rx_feed(&rx, rec, chan_sealed_len(sizeof(junk)),
				      &SINK),
			 0);
	assert_int_equal(st.drops[WIRE_DROP_MALFORMED], 1);
	/* An empty record is a keepalive. */
	assert_int_equal(chan_seal(a, junk, 0, rec, sizeof(rec)), 0);
	assert_int_equal(wire_rx_feed(&rx, rec, chan_sealed_len(0), &SINK),
			 0);
	assert_int_equal(sp->n, 0);
	assert_int_equal(st.frames_rx, 0);
	wire_rx_free(&rx);
	chan_free(a);
	chan_free(b);
	assert_string_equal(wire_drop_name(WIRE_DROP_WRONG_ID), "wrong_id");
}

static void app_and_joiner(void **state)
{
	struct wire_stats st = { 0 };
	struct chan *a, *b;
	struct wire_rx rx;
	struct sink *sp = &S;
	uint8_t *r;
	size_t l;

	memset(&S, 0, sizeof(S));
	pair(&a, &b);
	/* A joiner's app messages arrive; its raft messages do not. */
	wire_rx_init(&rx, b, 5, true, &st);
	assert_int_equal(wire_tx_seal_app(a, "app!", 4, 5, &st, &r, &l), 0);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	free(r);
	assert_int_equal(sp->n, 100);
	assert_int_equal(sp->last_term, 4);
	seal_tn(a, 5, 1, &st, &r, &l);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	free(r);
	assert_int_equal(sp->n, 100);
	assert_int_equal(st.drops[WIRE_DROP_NOT_MEMBER], 1);
	/* App message claiming another sender. */
	assert_int_equal(wire_tx_seal_app(a, "app!", 4, 6, &st, &r, &l), 0);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	free(r);
	assert_int_equal(st.drops[WIRE_DROP_WRONG_ID], 1);
	assert_int_equal(wire_tx_seal_ping(a, &r, &l), 0);
	assert_int_equal(wire_rx_feed(&rx, r, l, &SINK), 0);
	free(r);
	assert_int_equal(sp->n, 100);
	wire_rx_free(&rx);
	chan_free(a);
	chan_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_frames_delivered),
		cmocka_unit_test(wrong_sender_dropped),
		cmocka_unit_test(forged_replayed_truncated_oversized),
		cmocka_unit_test(malformed_authentic_frame),
		cmocka_unit_test(app_and_joiner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
