/* The member handshake (raft/transport/hs.c) and the record layer
 * (raft/transport/chan.c, frame.c); joins are in test_hs_join.c. */
#include "hs_fixture.h"

static void hs_member_success(void **state)
{
	struct hs_config c1 = cfg_for(1), c2 = cfg_for(2);
	struct hs *c, *s;
	struct hs_peer p;
	struct run r;

	assert_int_equal(hs_client_new(&c1, 2, &c), 0);
	assert_int_equal(hs_server_new(&c2, &s), 0);
	W.admit_calls = 0;
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, -1);
	assert_true(hs_done(c));
	assert_true(hs_done(s));
	/* Admission saw the hello: a member, id 1, its key. */
	assert_int_equal(W.admit_calls, 1);
	assert_false(W.last_hello.join);
	assert_int_equal(W.last_hello.client_id, 1);
	assert_null(W.last_hello.token_id);
	assert_true(W.last_hello.client_key != NULL);
	hs_peer_info(s, &p);
	assert_int_equal(p.id, 1);
	assert_false(p.join);
	assert_memory_equal(p.key, ident_public(W.id[1]), IDENT_PK_LEN);
	hs_peer_info(c, &p);
	assert_int_equal(p.id, 2);
	check_chans(c, s);
	hs_free(c);
	hs_free(s);
}

static int expect_fail_run(uint64_t cid, uint64_t peer, uint64_t sid,
			   tamper_fn t, struct run *r)
{
	struct hs_config cc = cfg_for(cid), sc = cfg_for(sid);
	struct hs *c, *s;

	assert_int_equal(hs_client_new(&cc, peer, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, t, r);
	assert_int_not_equal(r->fail_at, -1);
	assert_false(hs_done(c) && hs_done(s));
	/* A failed side has no channel to hand out. */
	assert_null(hs_take_chan(r->fail_at % 2 ? c : s));
	hs_free(c);
	hs_free(s);
	return r->client_rc ? r->client_rc : r->server_rc;
}

static int expect_fail(uint64_t cid, uint64_t peer, uint64_t sid,
		       tamper_fn t, int *at)
{
	struct run r;
	int rc = expect_fail_run(cid, peer, sid, t, &r);

	*at = r.fail_at;
	return rc;
}

static void hs_wrong_cluster(void **state)
{
	struct hs_config cc = cfg_for(1), sc = cfg_for(2);
	struct hs *c, *s;
	struct run r;

	cc.cluster_id[0] ^= 1;
	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, 0);
	assert_int_equal(r.server_rc, -HS_ERR_CLUSTER);
	/* The client is told why. */
	assert_int_equal(refusal_of(&r), HS_ERR_CLUSTER);
	assert_true(r.client_refused);
	hs_free(c);
	hs_free(s);
}

static void hs_unknown_key(void **state)
{
	struct run r;
	int at;

	/* Node 3 is not a member: the server refuses it, and says so. */
	assert_int_equal(expect_fail_run(3, 2, 2, NULL, &r),
			 -HS_ERR_UNKNOWN_KEY);
	assert_int_equal(r.fail_at, 0);
	assert_int_equal(refusal_of(&r), HS_ERR_UNKNOWN_KEY);
	/* Node 3 answering as if it were member 2: the client refuses. */
	W.member[3] = true;
	assert_int_equal(expect_fail(1, 2, 3, NULL, &at), -HS_ERR_PEER_ID);
	W.member[3] = false;
}

/* Admission refuses before anything is looked up or signed. */
static void hs_admission_first(void **state)
{
	struct run r;

	W.admit_rc = -HS_ERR_BUSY;
	assert_int_equal(expect_fail_run(1, 2, 2, NULL, &r), -HS_ERR_BUSY);
	assert_int_equal(r.fail_at, 0);
	assert_int_equal(refusal_of(&r), HS_ERR_BUSY);
	assert_true(r.client_refused);
	W.admit_rc = 0;
}

/* Node 3's key presented under member 2's id. */
static void hs_key_substitution(void **state)
{
	struct hs_config sc;
	struct hs_config cc = cfg_for(1);
	struct hs *c, *s;
	struct run r;

	sc = cfg_for(2);
	sc.ident = W.id[3]; /* the impostor signs with its own key */
	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, 1);
	assert_int_equal(r.client_rc, -HS_ERR_UNKNOWN_KEY);
	hs_free(c);
	hs_free(s);
}

static void tamper_reply_sig(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 1)
		REPACK(Ntpmc__HsReply, ntpmc__hs_reply, msg, len,
		       flip_field(&m_->server_sig, 63));
}

static void tamper_proof_sig(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 2)
		REPACK(Ntpmc__HsProof, ntpmc__hs_proof, msg, len,
		       flip_field(&m_->client_sig, 5));
}

/* The stream headers are in the transcripts each side signs. */
static void tamper_server_header(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 1)
		REPACK(Ntpmc__HsReply, ntpmc__hs_reply, msg, len,
		       flip_field(&m_->stream_header, 3));
}

static void tamper_client_header(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 2)
		REPACK(Ntpmc__HsProof, ntpmc__hs_proof, msg, len,
		       flip_field(&m_->stream_header, 3));
}

static void tamper_finished(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 3)
		REPACK(Ntpmc__HsDone, ntpmc__hs_done, msg, len,
		       flip_field(&m_->finished, 31));
}

static void tamper_hello_eph(int idx, uint8_t *msg, size_t *len)
{
	/* A man in the middle swapping the client's ephemeral. */
	if (idx == 0)
		REPACK(Ntpmc__HsHello, ntpmc__hs_hello, msg, len,
		       flip_field(&m_->client_eph, 7));
}

static void tamper_truncate(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 1)
		*len -= 10;
}

static void hs_bad_signatures(void **state)
{
	int at;

	assert_int_equal(expect_fail(1, 2, 2, tamper_reply_sig, &at),
			 -HS_ERR_BAD_SIG);
	assert_int_equal(at, 1);
	assert_int_equal(expect_fail(1, 2, 2, tamper_proof_sig, &at),
			 -HS_ERR_BAD_SIG);
	assert_int_equal(at, 2);
}

/* A changed stream header fails the handshake itself (not only the first
 * record), and so does a changed Finished. */
static void hs_headers_and_finished(void **state)
{
	int at;

	assert_int_equal(expect_fail(1, 2, 2, tamper_server_header, &at),
			 -HS_ERR_BAD_SIG);
	assert_int_equal(at, 1);
	assert_int_equal(expect_fail(1, 2, 2, tamper_client_header, &at),
			 -HS_ERR_BAD_SIG);
	assert_int_equal(at, 2);
	assert_int_equal(expect_fail(1, 2, 2, tamper_finished, &at),
			 -HS_ERR_FINISHED);
	assert_int_equal(at, 3);
}

static void hs_tampered_transcript(void **state)
{
	int at, rc;

	/* The server's signature covers the client's ephemeral. */
	rc = expect_fail(1, 2, 2, tamper_hello_eph, &at);
	assert_int_equal(rc, -HS_ERR_BAD_SIG);
	assert_int_equal(at, 1);
	rc = expect_fail(1, 2, 2, tamper_truncate, &at);
	assert_int_equal(rc, -HS_ERR_MALFORMED);
	assert_int_equal(at, 1);
}

static void hello_server_id_0(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 0)
		REPACK(Ntpmc__HsHello, ntpmc__hs_hello, msg, len,
		       m_->server_id = 0);
}

static void hello_version_1(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 0)
		REPACK(Ntpmc__HsHello, ntpmc__hs_hello, msg, len,
		       m_->version = 1);
}

/* A member hello naming no server (id 0, the join form without a token)
 * is refused, and so is a hello of the older version, with the reason. */
static void hs_hello_forms(void **state)
{
	struct run r;

	W.token_lookups = 0;
	assert_int_equal(expect_fail_run(1, 2, 2, hello_server_id_0, &r),
			 -HS_ERR_PEER_ID);
	assert_int_equal(r.fail_at, 0);
	assert_int_equal(refusal_of(&r), HS_ERR_PEER_ID);
	assert_int_equal(expect_fail_run(1, 2, 2, hello_version_1, &r),
			 -HS_ERR_VERSION);
	assert_int_equal(refusal_of(&r), HS_ERR_VERSION);
	assert_true(r.client_refused);
	assert_int_equal(W.token_lookups, 0);
	assert_string_equal(hs_strerror(-HS_ERR_VERSION),
			    "another handshake version (a node of another "
			    "release)");
}

static void hs_every_hello_byte(void **state)
{
	struct hs_config cc = cfg_for(1), sc = cfg_for(2);
	uint8_t hello[HS_MSG_MAX], out[HS_MSG_MAX];
	struct hs *c, *s;
	struct run r;
	size_t n, i;

	/* Flip each byte of a recorded hello in turn: no variant may
	 * complete the handshake with the original client. */
	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, -1);
	memcpy(hello, r.msg[0], r.len[0]);
	n = r.len[0];
	hs_free(c);
	hs_free(s);
	for (i = 0; i < n; i++) {
		size_t on;
		int rc;

		assert_int_equal(hs_client_new(&cc, 2, &c), 0);
		assert_int_equal(hs_server_new(&sc, &s), 0);
		assert_int_equal(hs_start(c, out, sizeof(out), &on), 0);
		out[i] ^= 0x01;
		rc = hs_recv(s, out, on, hello, sizeof(hello), &on);
		if (rc == 0 || on > 0) {
			rc = hs_recv(c, hello, on, out, sizeof(out), &on);
			assert_int_not_equal(rc, 0);
		}
		hs_free(c);
		hs_free(s);
	}
}

static void hs_replay_recorded(void **state)
{
	struct hs_config cc = cfg_for(1), sc = cfg_for(2);
	struct hs *c, *s, *s2;
	struct run r;
	uint8_t out[HS_MSG_MAX];
	size_t n;

	assert_int_equal(hs_client_new(&cc, 2, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.fail_at, -1);
	/* An attacker replays the client's hello and proof to a new
	 * connection: the server's fresh ephemeral changes the transcript. */
	assert_int_equal(hs_server_new(&sc, &s2), 0);
	assert_int_equal(hs_recv(s2, r.msg[0], r.len[0], out, sizeof(out), &n),
			 0);
	assert_memory_not_equal(out, r.msg[1], n < r.len[1] ? n : r.len[1]);
	assert_int_equal(hs_recv(s2, r.msg[2], r.len[2], out, sizeof(out), &n),
			 -HS_ERR_BAD_SIG);
	assert_false(hs_done(s2));
	/* A message out of order is refused too. */
	assert_int_equal(hs_recv(s2, r.msg[0], r.len[0], out, sizeof(out), &n),
			 -HS_ERR_MALFORMED);
	hs_free(c);
	hs_free(s);
	hs_free(s2);
}

static void hs_malformed(void **state)
{
	struct hs_config sc = cfg_for(2);
	struct hs *s;
	uint8_t junk[HS_MSG_MAX + 1], out[HS_MSG_MAX];
	size_t n;
	int i;

	for (i = 0; i < 200; i++) {
		size_t len = 1 + randombytes_uniform(HS_MSG_MAX);

		randombytes_buf(junk, len);
		assert_int_equal(hs_server_new(&sc, &s), 0);
		assert_int_not_equal(hs_recv(s, junk, len, out, sizeof(out), &n),
				     0);
		/* Noise gets no answer, or at most a bare refusal. */
		if (n > 0) {
			Ntpmc__HsReply *m =
				ntpmc__hs_reply__unpack(NULL, n, out);

			assert_non_null(m);
			assert_int_not_equal(m->refused, 0);
			assert_int_equal(m->server_sig.len, 0);
			ntpmc__hs_reply__free_unpacked(m, NULL);
		}
		hs_free(s);
	}
	assert_int_equal(hs_server_new(&sc, &s), 0);
	memset(junk, 0, sizeof(junk));
	assert_int_equal(hs_recv(s, junk, sizeof(junk), out, sizeof(out), &n),
			 -HS_ERR_MALFORMED);
	assert_int_equal(n, 0);
	hs_free(s);
}

/* --- record layer --- */

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

static void chan_rekey_many(void **state)
{
	struct chan *a, *b;
	uint8_t rec[600], pt[600], msg[512];
	size_t n;
	uint32_t i;

	chan_pair(&a, &b);
	chan_set_rekey_interval(a, 7);
	for (i = 0; i < 5000; i++) {
		size_t len = i % sizeof(msg);

		memset(msg, (int)i, len);
		assert_int_equal(chan_seal(a, msg, len, rec, sizeof(rec)), 0);
		assert_int_equal(chan_open(b, rec + 4, frame_get_len(rec), pt,
					   &n),
				 0);
		assert_int_equal(n, len);
		assert_memory_equal(pt, msg, len);
	}
	assert_int_equal(chan_rekeys_tx(a), 5000 / 7);
	assert_int_equal(chan_rekeys_rx(b), 5000 / 7);
	chan_free(a);
	chan_free(b);
}

static void chan_refuses_forged_replayed(void **state)
{
	struct chan *a, *b;
	uint8_t r1[64], r2[64], pt[64];
	size_t n;

	/* Forged: one flipped bit; the stream is then dead. */
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_seal(a, (const uint8_t *)"two", 3, r2, 64), 0);
	r1[10] ^= 4;
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1), pt, &n),
			 -EBADMSG);
	assert_int_equal(chan_open(b, r2 + 4, frame_get_len(r2), pt, &n),
			 -EBADMSG);
	chan_free(a);
	chan_free(b);

	/* Replayed and reordered. */
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_seal(a, (const uint8_t *)"two", 3, r2, 64), 0);
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1), pt, &n), 0);
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1), pt, &n),
			 -EBADMSG);
	chan_free(b);
	chan_free(a);
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_seal(a, (const uint8_t *)"two", 3, r2, 64), 0);
	assert_int_equal(chan_open(b, r2 + 4, frame_get_len(r2), pt, &n),
			 -EBADMSG);
	chan_free(a);
	chan_free(b);

	/* Truncated, and a record for the other direction (reflection). */
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_open(b, r1 + 4, frame_get_len(r1) - 1, pt, &n),
			 -EBADMSG);
	chan_free(b);
	chan_free(a);
	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, (const uint8_t *)"one", 3, r1, 64), 0);
	assert_int_equal(chan_open(a, r1 + 4, frame_get_len(r1), pt, &n),
			 -EBADMSG);
	assert_int_equal(chan_open(b, r1 + 4, 5, pt, &n), -EBADMSG);
	chan_free(a);
	chan_free(b);
}

static void chan_oversized(void **state)
{
	struct chan *a, *b;
	uint8_t r[64];

	chan_pair(&a, &b);
	assert_int_equal(chan_seal(a, r, CHAN_PLAIN_MAX + 1, r, sizeof(r)),
			 -E2BIG);
	assert_int_equal(chan_seal(a, r, 60, r, sizeof(r)), -ENOBUFS);
	chan_free(a);
	chan_free(b);
}

static void frame_reader_splits(void **state)
{
	struct frame_reader fr;
	uint8_t stream[64];
	const uint8_t *rec;
	size_t len, used, off = 0;
	int got = 0, rc;

	/* Two records, fed one byte at a time. */
	frame_put_len(stream, 3);
	memcpy(stream + 4, "abc", 3);
	frame_put_len(stream + 7, 5);
	memcpy(stream + 11, "hello", 5);
	frame_reader_init(&fr, 16);
	while (off < 16) {
		rc = frame_reader_feed(&fr, stream + off, 1, &used, &rec, &len);
		assert_true(rc >= 0);
		off += used;
		if (rc == 1) {
			assert_int_equal(len, got == 0 ? 3 : 5);
			assert_memory_equal(rec, got == 0 ? "abc" : "hello",
					    len);
			got++;
		}
	}
	assert_int_equal(got, 2);
	assert_int_equal(frame_reader_pending(&fr), 0);
	/* A truncated record leaves bytes pending (counted at EOF). */
	frame_put_len(stream, 10);
	rc = frame_reader_feed(&fr, stream, 8, &used, &rec, &len);
	assert_int_equal(rc, 0);
	assert_int_equal(frame_reader_pending(&fr), 8);
	frame_reader_free(&fr);
	/* Oversized and empty announcements, before any allocation. */
	frame_reader_init(&fr, 16);
	frame_put_len(stream, 17);
	assert_int_equal(frame_reader_feed(&fr, stream, 4, &used, &rec, &len),
			 -E2BIG);
	frame_reader_free(&fr);
	frame_reader_init(&fr, 16);
	frame_put_len(stream, 0xffffffffu);
	assert_int_equal(frame_reader_feed(&fr, stream, 4, &used, &rec, &len),
			 -E2BIG);
	frame_reader_free(&fr);
	frame_reader_init(&fr, 16);
	frame_put_len(stream, 0);
	assert_int_equal(frame_reader_feed(&fr, stream, 4, &used, &rec, &len),
			 -EINVAL);
	frame_reader_free(&fr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hs_member_success),
		cmocka_unit_test(hs_wrong_cluster),
		cmocka_unit_test(hs_unknown_key),
		cmocka_unit_test(hs_admission_first),
		cmocka_unit_test(hs_key_substitution),
		cmocka_unit_test(hs_bad_signatures),
		cmocka_unit_test(hs_headers_and_finished),
		cmocka_unit_test(hs_tampered_transcript),
		cmocka_unit_test(hs_hello_forms),
		cmocka_unit_test(hs_every_hello_byte),
		cmocka_unit_test(hs_replay_recorded),
		cmocka_unit_test(hs_malformed),
		cmocka_unit_test(chan_rekey_many),
		cmocka_unit_test(chan_refuses_forged_replayed),
		cmocka_unit_test(chan_oversized),
		cmocka_unit_test(frame_reader_splits),
	};

	return cmocka_run_group_tests(tests, hs_setup, hs_teardown);
}
