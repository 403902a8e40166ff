/* raft_message <-> RaftMsg round trips and malformed inputs. */
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

#include "proto/raftmsg.pb-c.h"
#include "raft/transport/chan.h"
#include "raft/msgcodec.h"

static void round_trip(const struct raft_message *in, struct raft_message *out)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(msgcodec_encode(in, 7, CHAN_PLAIN_MAX, &buf, &len), 0);
	assert_int_equal(msgcodec_decode(buf, len, out), 0);
	assert_int_equal(out->type, in->type);
	assert_int_equal(out->server_id, 7); /* the sender, not the dest */
	assert_null(out->server_address);
	free(buf);
}

static void rt_request_vote(void **state)
{
	struct raft_message m = { 0 }, o;

	m.type = RAFT_REQUEST_VOTE;
	m.server_id = 2;
	m.request_vote.version = 2;
	m.request_vote.term = 9;
	m.request_vote.candidate_id = 7;
	m.request_vote.last_log_index = 1ULL << 40;
	m.request_vote.last_log_term = 8;
	m.request_vote.disrupt_leader = true;
	m.request_vote.pre_vote = true;
	round_trip(&m, &o);
	assert_memory_equal(&o.request_vote, &m.request_vote,
			    sizeof(m.request_vote));
	m.request_vote.pre_vote = false;
	m.request_vote.disrupt_leader = false;
	round_trip(&m, &o);
	assert_false(o.request_vote.pre_vote);
	assert_false(o.request_vote.disrupt_leader);
}

static void rt_request_vote_result(void **state)
{
	struct raft_message m = { 0 }, o;

	m.type = RAFT_REQUEST_VOTE_RESULT;
	m.request_vote_result.version = 2;
	m.request_vote_result.term = 3;
	m.request_vote_result.vote_granted = true;
	m.request_vote_result.pre_vote = true;
	m.request_vote_result.features = 0xabcd;
	m.request_vote_result.capacity = 0xffff;
	round_trip(&m, &o);
	assert_memory_equal(&o.request_vote_result, &m.request_vote_result,
			    sizeof(m.request_vote_result));
}

static void rt_append_entries(void **state)
{
	struct raft_message m = { 0 }, o;
	struct raft_entry e[3];
	uint8_t d0[5] = "abcde", d2[1000];
	unsigned i;

	memset(d2, 0x5a, sizeof(d2));
	e[0] = (struct raft_entry){ 4, RAFT_COMMAND, { d0, sizeof(d0) }, NULL };
	e[1] = (struct raft_entry){ 4, RAFT_BARRIER, { NULL, 0 }, NULL };
	e[2] = (struct raft_entry){ 5, RAFT_CHANGE, { d2, sizeof(d2) }, NULL };
	m.type = RAFT_APPEND_ENTRIES;
	m.append_entries.version = 0;
	m.append_entries.term = 5;
	m.append_entries.prev_log_index = 10;
	m.append_entries.prev_log_term = 4;
	m.append_entries.leader_commit = 9;
	m.append_entries.entries = e;
	m.append_entries.n_entries = 3;
	round_trip(&m, &o);
	assert_int_equal(o.append_entries.term, 5);
	assert_int_equal(o.append_entries.prev_log_index, 10);
	assert_int_equal(o.append_entries.prev_log_term, 4);
	assert_int_equal(o.append_entries.leader_commit, 9);
	assert_int_equal(o.append_entries.n_entries, 3);
	for (i = 0; i < 3; i++) {
		const struct raft_entry *x = &o.append_entries.entries[i];

		assert_int_equal(x->term, e[i].term);
		assert_int_equal(x->type, e[i].type);
		assert_int_equal(x->buf.len, e[i].buf.len);
		if (x->buf.len)
			assert_memory_equal(x->buf.base, e[i].buf.base,
					    x->buf.len);
		/* One batch for all payloads (transport.h contract). */
		assert_ptr_equal(x->batch, o.append_entries.entries[0].batch);
		assert_non_null(x->batch);
	}
	msgcodec_release(&o);

	/* Heartbeat: no entries, no allocation. */
	m.append_entries.n_entries = 0;
	m.append_entries.entries = NULL;
	round_trip(&m, &o);
	assert_int_equal(o.append_entries.n_entries, 0);
	assert_null(o.append_entries.entries);
	msgcodec_release(&o);
}

static void rt_append_entries_result(void **state)
{
	struct raft_message m = { 0 }, o;

	m.type = RAFT_APPEND_ENTRIES_RESULT;
	m.append_entries_result.version = 2;
	m.append_entries_result.term = 5;
	m.append_entries_result.rejected = 11;
	m.append_entries_result.last_log_index = 10;
	m.append_entries_result.features = 1;
	m.append_entries_result.capacity = 300;
	round_trip(&m, &o);
	assert_memory_equal(&o.append_entries_result, &m.append_entries_result,
			    sizeof(m.append_entries_result));
}

static void rt_install_snapshot(void **state)
{
	struct raft_message m = { 0 }, o;
	uint8_t data[4096];

	randombytes_buf(data, sizeof(data));
	m.type = RAFT_INSTALL_SNAPSHOT;
	m.install_snapshot.version = 0;
	m.install_snapshot.term = 6;
	m.install_snapshot.last_index = 100;
	m.install_snapshot.last_term = 5;
	m.install_snapshot.conf_index = 90;
	raft_configuration_init(&m.install_snapshot.conf);
	assert_int_equal(raft_configuration_add(&m.install_snapshot.conf, 1,
						"10.0.0.1:7400", RAFT_VOTER),
			 0);
	assert_int_equal(raft_configuration_add(&m.install_snapshot.conf, 2,
						"10.0.0.2:7400", RAFT_SPARE),
			 0);
	assert_int_equal(raft_configuration_add(&m.install_snapshot.conf, 3,
						"10.0.0.3:7400", RAFT_STANDBY),
			 0);
	m.install_snapshot.data.base = data;
	m.install_snapshot.data.len = sizeof(data);
	round_trip(&m, &o);
	assert_int_equal(o.install_snapshot.term, 6);
	assert_int_equal(o.install_snapshot.last_index, 100);
	assert_int_equal(o.install_snapshot.last_term, 5);
	assert_int_equal(o.install_snapshot.conf_index, 90);
	assert_int_equal(o.install_snapshot.conf.n, 3);
	assert_int_equal(o.install_snapshot.conf.servers[1].id, 2);
	assert_string_equal(o.install_snapshot.conf.servers[1].address,
			    "10.0.0.2:7400");
	assert_int_equal(o.install_snapshot.conf.servers[1].role, RAFT_SPARE);
	assert_int_equal(o.install_snapshot.conf.servers[2].role,
			 RAFT_STANDBY);
	assert_int_equal(o.install_snapshot.data.len, sizeof(data));
	assert_memory_equal(o.install_snapshot.data.base, data, sizeof(data));
	msgcodec_release(&o);
	raft_configuration_close(&m.install_snapshot.conf);
}

static void rt_timeout_now(void **state)
{
	struct raft_message m = { 0 }, o;

	m.type = RAFT_TIMEOUT_NOW;
	m.timeout_now.term = 12;
	m.timeout_now.last_log_index = 44;
	m.timeout_now.last_log_term = 11;
	round_trip(&m, &o);
	assert_memory_equal(&o.timeout_now, &m.timeout_now,
			    sizeof(m.timeout_now));
}

static void encode_limits(void **state)
{
	struct raft_message m = { 0 };
	struct raft_entry e;
	static uint8_t big[1024];
	uint8_t *buf;
	size_t len;

	m.type = 99;
	assert_int_equal(msgcodec_encode(&m, 1, CHAN_PLAIN_MAX, &buf, &len),
			 -EINVAL);
	e = (struct raft_entry){ 1, RAFT_COMMAND, { big, sizeof(big) }, NULL };
	m.type = RAFT_APPEND_ENTRIES;
	m.append_entries.entries = &e;
	m.append_entries.n_entries = 1;
	assert_int_equal(msgcodec_encode(&m, 1, 512, &buf, &len), -E2BIG);
}

/* Packs a hand-built RaftMsg. */
static size_t pack(const Ntpmc__RaftMsg *m, uint8_t *out)
{
	return ntpmc__raft_msg__pack(m, out);
}

static void decode_malformed(void **state)
{
	Ntpmc__RaftMsg m = NTPMC__RAFT_MSG__INIT;
	Ntpmc__RaftAppendEntriesPb ae = NTPMC__RAFT_APPEND_ENTRIES_PB__INIT;
	Ntpmc__RaftEntryPb e = NTPMC__RAFT_ENTRY_PB__INIT, *ep = &e;
	Ntpmc__RaftInstallSnapshotPb is = NTPMC__RAFT_INSTALL_SNAPSHOT_PB__INIT;
	Ntpmc__RaftServerPb s1 = NTPMC__RAFT_SERVER_PB__INIT,
			    s2 = NTPMC__RAFT_SERVER_PB__INIT;
	Ntpmc__RaftServerPb *sp[2] = { &s1, &s2 };
	Ntpmc__RaftTimeoutNowPb tn = NTPMC__RAFT_TIMEOUT_NOW_PB__INIT;
	struct raft_message o;
	uint8_t buf[4096];
	size_t n;
	int i;

	/* Random bytes never crash and mostly fail. */
	for (i = 0; i < 2000; i++) {
		size_t len = randombytes_uniform(64) + 1;

		randombytes_buf(buf, len);
		if (msgcodec_decode(buf, len, &o) == 0)
			msgcodec_release(&o);
	}
	/* No body. */
	m.codec = 1;
	m.server_id = 3;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	/* Unknown codec version, and a zero sender id. */
	m.body_case = NTPMC__RAFT_MSG__BODY_TIMEOUT_NOW;
	m.timeout_now = &tn;
	m.codec = 2;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	m.codec = 1;
	m.server_id = 0;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	m.server_id = 3;
	tn.version = 256;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	tn.version = 0;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), 0);
	/* Unknown entry type. */
	e.term = 1;
	e.type = 9;
	ae.n_entries = 1;
	ae.entries = &ep;
	m.body_case = NTPMC__RAFT_MSG__BODY_APPEND_ENTRIES;
	m.append_entries = &ae;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	/* Configuration: bad role, id 0, duplicate id, empty address. */
	m.body_case = NTPMC__RAFT_MSG__BODY_INSTALL_SNAPSHOT;
	m.install_snapshot = &is;
	is.n_conf = 2;
	is.conf = sp;
	s1.id = 1;
	s1.address = "a:1";
	s1.role = RAFT_VOTER;
	s2.id = 2;
	s2.address = "b:1";
	s2.role = 7;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	s2.role = RAFT_VOTER;
	s2.id = 0;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	s2.id = 1;
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	s2.id = 2;
	s2.address = "";
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), -EINVAL);
	s2.address = "b:1";
	n = pack(&m, buf);
	assert_int_equal(msgcodec_decode(buf, n, &o), 0);
	msgcodec_release(&o);
	/* Every truncation of a valid message fails or decodes cleanly. */
	for (i = (int)n - 1; i >= 0; i--) {
		if (msgcodec_decode(buf, (size_t)i, &o) == 0)
			msgcodec_release(&o);
	}
}

/* Many empty entries: the allocation budget refuses the amplification. */
static void decode_amplification(void **state)
{
	size_t n = 400000, i, len = 0;
	uint8_t *buf = malloc(2 + 10 + 2 + 5 + n * 2 + 16);
	struct raft_message o;
	uint8_t *p;

	/* RaftMsg{codec=1, server_id=3, append_entries{entries:[{}]*n}}. */
	p = buf;
	*p++ = 0x08;
	*p++ = 1;
	*p++ = 0x10;
	*p++ = 3;
	*p++ = 0x1a; /* field 3, length-delimited */
	{
		size_t body = n * 2, v = body;

		while (v >= 0x80) {
			*p++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*p++ = (uint8_t)v;
	}
	for (i = 0; i < n; i++) {
		*p++ = 0x32; /* field 6, length-delimited */
		*p++ = 0;
	}
	len = (size_t)(p - buf);
	assert_true(len < CHAN_PLAIN_MAX);
	assert_int_equal(msgcodec_decode(buf, len, &o), -EINVAL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rt_request_vote),
		cmocka_unit_test(rt_request_vote_result),
		cmocka_unit_test(rt_append_entries),
		cmocka_unit_test(rt_append_entries_result),
		cmocka_unit_test(rt_install_snapshot),
		cmocka_unit_test(rt_timeout_now),
		cmocka_unit_test(encode_limits),
		cmocka_unit_test(decode_malformed),
		cmocka_unit_test(decode_amplification),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
