/* fsm: apply results, tokens, audit cap, versions, snapshot/restore, hash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/cluster_fsm.pb-c.h"
#include "raft/fsm.h"

static uint64_t idx;

static int apply_buf(struct fsm *f, void *buf, size_t len)
{
	int result = -1;

	assert_int_equal(fsm_apply(f, ++idx, buf, len, &result), 0);
	free(buf);
	return result;
}

static int cfg(struct fsm *f, const char *k, const char *v, uint64_t t)
{
	void *b;
	size_t n;

	assert_int_equal(fsm_cmd_config_set(k, v, t, &b, &n), 0);
	return apply_buf(f, b, n);
}

static void test_config(void **state)
{
	struct fsm *f = fsm_new();

	assert_int_equal(cfg(f, "min-serving-nodes", "2", 1), FSM_OK);
	assert_int_equal(cfg(f, "alpha", "x", 2), FSM_OK);
	assert_string_equal(fsm_config_get(f, "min-serving-nodes"), "2");
	assert_int_equal(cfg(f, "alpha", "", 3), FSM_OK);
	assert_null(fsm_config_get(f, "alpha"));
	assert_int_equal(cfg(f, "", "v", 4), FSM_EINVAL);
	assert_int_equal(fsm_applied(f), idx);
	assert_int_equal(fsm_audit_count(f), 2 + 1);
	fsm_free(f);
}

static void test_tokens(void **state)
{
	struct fsm *f = fsm_new();
	unsigned char pk[FSM_TOKEN_PK_LEN], other[FSM_TOKEN_PK_LEN];
	unsigned char k1[FSM_IDKEY_LEN], k2[FSM_IDKEY_LEN];
	void *b;
	size_t n;

	memset(pk, 1, sizeof(pk));
	memset(other, 2, sizeof(other));
	memset(k1, 3, sizeof(k1));
	memset(k2, 4, sizeof(k2));
	assert_int_equal(fsm_cmd_token_add(5, pk, 1, 1000, 10, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_true(fsm_token_at(f, 0)->has_pubkey);
	assert_memory_equal(fsm_token_at(f, 0)->pubkey, pk, sizeof(pk));
	assert_int_equal(fsm_cmd_token_add(5, pk, 1, 1000, 10, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_EINVAL);	/* dup id */
	assert_int_equal(fsm_cmd_token_use(other, k1, 20, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_ENOKEY);
	assert_int_equal(fsm_cmd_token_use(pk, k1, 20, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	/* Same joiner retrying: still fine; another identity: used up. */
	assert_int_equal(fsm_cmd_token_use(pk, k1, 30, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_cmd_token_use(pk, k2, 30, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_EUSED);
	/* Expired, even for the bound identity. */
	assert_int_equal(fsm_cmd_token_use(pk, k1, 1001, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_EEXPIRED);
	assert_int_equal(fsm_token_count(f), 1);
	assert_int_equal(fsm_token_at(f, 0)->uses_left, 0);
	assert_int_equal(fsm_cmd_token_revoke(5, 40, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_token_count(f), 0);
	assert_int_equal(fsm_cmd_token_revoke(5, 40, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_ENOKEY);
	fsm_free(f);
}

/* Version 2 revoke keeps the token, marked revoked: its uses are refused
 * as revoked (so its holder is told), it survives snapshots, a second
 * revoke finds nothing, and the version-1 revoke still removes it. */
static void test_token_revoke_keep(void **state)
{
	struct fsm *f = fsm_new(), *g = fsm_new();
	unsigned char pk[FSM_TOKEN_PK_LEN], k1[FSM_IDKEY_LEN];
	unsigned char ha[FSM_HASH_LEN], hb[FSM_HASH_LEN];
	void *b;
	size_t n;

	memset(pk, 7, sizeof(pk));
	memset(k1, 3, sizeof(k1));
	assert_int_equal(fsm_cmd_token_add(9, pk, 2, 1000, 10, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_cmd_token_use(pk, k1, 20, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_cmd_token_revoke_keep(9, 30, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_token_count(f), 1);
	assert_true(fsm_token_at(f, 0)->revoked);
	assert_int_equal(fsm_token_at(f, 0)->uses_left, 0);
	assert_int_equal(fsm_token_at(f, 0)->n_bound, 0);
	/* Even the identity it was bound to. */
	assert_int_equal(fsm_cmd_token_use(pk, k1, 31, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_EREVOKED);
	assert_int_equal(fsm_cmd_token_revoke_keep(9, 32, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_ENOKEY);
	assert_int_equal(fsm_snapshot(f, &b, &n), 0);
	assert_int_equal(fsm_restore(g, 50, b, n), 0);
	free(b);
	assert_true(fsm_token_at(g, 0)->revoked);
	assert_int_equal(fsm_hash(f, ha), 0);
	assert_int_equal(fsm_hash(g, hb), 0);
	assert_memory_equal(ha, hb, FSM_HASH_LEN);
	assert_int_equal(fsm_cmd_token_revoke(9, 33, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_token_count(f), 0);
	fsm_free(f);
	fsm_free(g);
}

/* A version-1 command as an older release proposed it. */
static void *old_cmd(Ntpmc__Fsm__FsmCommand *c, size_t *n)
{
	void *b;

	c->version = 1;
	c->time_ms = 10;
	*n = ntpmc__fsm__fsm_command__get_packed_size(c);
	b = malloc(*n + 1);
	assert_non_null(b);
	ntpmc__fsm__fsm_command__pack(c, b);
	return b;
}

/* Tokens of the older format replay as they applied (a log or snapshot
 * of an older release), stay apart from key-pair tokens, survive
 * snapshots, and any revoke removes them (their MAC key must go). */
static void test_tokens_old_format(void **state)
{
	struct fsm *f = fsm_new(), *g = fsm_new();
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmTokenAdd a = NTPMC__FSM__FSM_TOKEN_ADD__INIT;
	Ntpmc__Fsm__FsmTokenUse u = NTPMC__FSM__FSM_TOKEN_USE__INIT;
	unsigned char mac[FSM_TOKEN_HASH_LEN], k1[FSM_IDKEY_LEN];
	void *b;
	size_t n;

	memset(mac, 5, sizeof(mac));
	memset(k1, 3, sizeof(k1));
	a.id = 4;
	a.hash.data = mac;
	a.hash.len = sizeof(mac);
	a.uses = 1;
	a.expires_ms = 1000;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_TOKEN_ADD;
	c.token_add = &a;
	b = old_cmd(&c, &n);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_false(fsm_token_at(f, 0)->has_pubkey);
	assert_memory_equal(fsm_token_at(f, 0)->hash, mac, sizeof(mac));
	/* A version-1 add with a public key is not a key-pair token. */
	a.id = 6;
	a.hash.len = 0;
	a.pubkey.data = mac;
	a.pubkey.len = sizeof(mac);
	b = old_cmd(&c, &n);
	assert_int_equal(apply_buf(f, b, n), FSM_EINVAL);
	/* The old use, by MAC key. */
	u.hash.data = mac;
	u.hash.len = sizeof(mac);
	u.idkey.data = k1;
	u.idkey.len = sizeof(k1);
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_TOKEN_USE;
	c.token_use = &u;
	b = old_cmd(&c, &n);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	/* A key-pair use with those bytes finds nothing. */
	assert_int_equal(fsm_cmd_token_use(mac, k1, 20, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_ENOKEY);
	assert_int_equal(fsm_snapshot(f, &b, &n), 0);
	assert_int_equal(fsm_restore(g, 50, b, n), 0);
	free(b);
	assert_false(fsm_token_at(g, 0)->has_pubkey);
	assert_memory_equal(fsm_token_at(g, 0)->hash, mac, sizeof(mac));
	/* Revoked with keep: removed all the same. */
	assert_int_equal(fsm_cmd_token_revoke_keep(4, 30, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_token_count(f), 0);
	fsm_free(f);
	fsm_free(g);
}

static void test_members_versions(void **state)
{
	struct fsm *f = fsm_new();
	struct fsm_member m;
	void *b;
	size_t n;

	assert_true(fsm_version_ok(f, FSM_CMD_VERSION));
	assert_false(fsm_version_ok(f, FSM_CMD_VERSION + 1));
	memset(&m, 0, sizeof(m));
	m.id = 9;
	strcpy(m.name, "gcp-1");
	strcpy(m.provider, "gcp");
	strcpy(m.address, "10.0.0.9:7000");
	m.role = FSM_ROLE_VOTER;
	m.cmd_version = 0;	/* an old member advertising nothing */
	assert_int_equal(fsm_cmd_member_put(&m, 1, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_false(fsm_version_ok(f, 1));
	m.cmd_version = 1;
	assert_int_equal(fsm_cmd_member_put(&m, 2, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_true(fsm_version_ok(f, 1));
	assert_int_equal(fsm_member_count(f), 1);
	assert_string_equal(fsm_member_find(f, 9)->name, "gcp-1");
	assert_int_equal(fsm_member_named(f, "gcp-1")->id, 9);
	assert_null(fsm_member_named(f, "gcp-2"));
	assert_int_equal(fsm_cmd_member_del(9, 3, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_null(fsm_member_find(f, 9));
	assert_null(fsm_member_named(f, "gcp-1"));
	fsm_free(f);
	/* Each command carries the lowest version that knows it: a member
	 * of version 1 applies all but the key-pair token commands. */
	{
		static const unsigned char k[32];
		static const uint32_t want[] = { 1, 1, 2, 2, 2 };
		size_t i;

		for (i = 0; i < 5; i++) {
			Ntpmc__Fsm__FsmCommand *cmd;
			void *buf = NULL;
			size_t len = 0;
			int rc;

			switch (i) {
			case 0:
				rc = fsm_cmd_config_set("a", "b", 1, &buf, &len);
				break;
			case 1:
				rc = fsm_cmd_token_revoke(5, 1, &buf, &len);
				break;
			case 2:
				rc = fsm_cmd_token_revoke_keep(5, 1, &buf, &len);
				break;
			case 3:
				rc = fsm_cmd_token_add(5, k, 1, 9, 1, &buf, &len);
				break;
			default:
				rc = fsm_cmd_token_use(k, k, 1, &buf, &len);
				break;
			}
			assert_int_equal(rc, 0);
			cmd = ntpmc__fsm__fsm_command__unpack(NULL, len, buf);
			assert_non_null(cmd);
			assert_int_equal(cmd->version, want[i]);
			ntpmc__fsm__fsm_command__free_unpacked(cmd, NULL);
			free(buf);
		}
	}
}

/* The cross-check verdict: recorded by a check command (version 2) with
 * one audit event per change, kept by member_put, carried by snapshots;
 * the NTP port travels with the record. */
static void test_member_check(void **state)
{
	struct fsm *f = fsm_new(), *g = fsm_new();
	struct fsm_member m;
	unsigned audits;
	char big[FSM_CHECK_TEXT_MAX + 2];
	void *b;
	size_t n;

	memset(&m, 0, sizeof(m));
	m.id = 3;
	strcpy(m.name, "n3");
	strcpy(m.address, "127.0.0.1:4000");
	m.cmd_version = FSM_CMD_VERSION;
	m.ntp_port = 12345;
	assert_int_equal(fsm_cmd_member_put(&m, 1, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_member_find(f, 3)->ntp_port, 12345);
	assert_true(fsm_version_ok(f, 2));
	assert_int_equal(fsm_cmd_check(4, 1, "x", 2, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_ENOKEY);
	audits = fsm_audit_count(f);
	assert_int_equal(fsm_cmd_check(3, 1, "+20.0 ms from n1, n2", 3, &b,
				       &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_member_find(f, 3)->suspect, 1);
	assert_int_equal(fsm_audit_count(f), audits + 1);
	assert_string_equal(fsm_audit_at(f, audits, NULL),
			    "member 3 (n3) cross-check suspect: +20.0 ms "
			    "from n1, n2");
	/* the same verdict again: nothing recorded */
	assert_int_equal(fsm_cmd_check(3, 1, "again", 4, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_audit_count(f), audits + 1);
	/* a record put by anyone keeps the verdict */
	m.suspect = 0;
	m.ntp_port = 123;
	assert_int_equal(fsm_cmd_member_put(&m, 5, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_member_find(f, 3)->suspect, 1);
	assert_int_equal(fsm_member_find(f, 3)->ntp_port, 123);
	assert_int_equal(fsm_snapshot(f, &b, &n), 0);
	assert_int_equal(fsm_restore(g, 9, b, n), 0);
	free(b);
	assert_int_equal(fsm_member_find(g, 3)->suspect, 1);
	assert_int_equal(fsm_member_find(g, 3)->ntp_port, 123);
	assert_int_equal(fsm_cmd_check(3, 0, "3 ok checks", 6, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_member_find(f, 3)->suspect, 0);
	assert_string_equal(fsm_audit_at(f, fsm_audit_count(f) - 1, NULL),
			    "member 3 (n3) cross-check cleared: 3 ok checks");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(fsm_cmd_check(3, 1, big, 7, &b, &n), -EINVAL);
	/* the check command needs version 2; the others stay at 1 */
	{
		Ntpmc__Fsm__FsmCommand *c;

		assert_int_equal(fsm_cmd_check(3, 1, "v", 8, &b, &n), 0);
		c = ntpmc__fsm__fsm_command__unpack(NULL, n, b);
		assert_non_null(c);
		assert_int_equal(c->version, 2);
		ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
		free(b);
		assert_int_equal(fsm_cmd_member_del(3, 8, &b, &n), 0);
		c = ntpmc__fsm__fsm_command__unpack(NULL, n, b);
		assert_non_null(c);
		assert_int_equal(c->version, 1);
		ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
		free(b);
	}
	fsm_free(f);
	fsm_free(g);
}

static void test_halt(void **state)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	struct fsm *f = fsm_new();
	unsigned char buf[64];
	int result;
	size_t n;

	/* Garbage. */
	assert_int_equal(fsm_apply(f, 1, "\xff\xff\xff", 3, &result), FSM_HALT);
	/* A newer version than this build knows. */
	c.version = FSM_CMD_VERSION + 1;
	n = ntpmc__fsm__fsm_command__pack(&c, buf);
	assert_int_equal(fsm_apply(f, 1, buf, n, &result), FSM_HALT);
	/* Our version but no operation we know (a newer oneof member). */
	c.version = FSM_CMD_VERSION;
	n = ntpmc__fsm__fsm_command__pack(&c, buf);
	assert_int_equal(fsm_apply(f, 1, buf, n, &result), FSM_HALT);
	assert_int_equal(fsm_applied(f), 0);
	fsm_free(f);
}

static void test_snapshot_hash(void **state)
{
	struct fsm *a = fsm_new(), *b = fsm_new();
	unsigned char ha[FSM_HASH_LEN], hb[FSM_HASH_LEN];
	char k[16];
	void *buf;
	size_t len;
	int i;

	/* Same state reached in a different order: same bytes, same hash. */
	assert_int_equal(cfg(a, "x", "1", 5), FSM_OK);
	assert_int_equal(cfg(a, "y", "2", 5), FSM_OK);
	assert_int_equal(fsm_snapshot(a, &buf, &len), 0);
	assert_int_equal(fsm_restore(b, 7, buf, len), 0);
	free(buf);
	assert_int_equal(fsm_applied(b), 7);
	assert_int_equal(fsm_hash(a, ha), 0);
	assert_int_equal(fsm_hash(b, hb), 0);
	assert_memory_equal(ha, hb, FSM_HASH_LEN);
	assert_int_equal(cfg(b, "y", "3", 6), FSM_OK);
	assert_int_equal(fsm_hash(b, hb), 0);
	assert_memory_not_equal(ha, hb, FSM_HASH_LEN);
	/* Bad bytes are refused and the state is kept. */
	assert_int_equal(fsm_restore(b, 9, "\x08\x63", 2), -EINVAL);
	assert_int_equal(fsm_restore(b, 9, "\xff\xff", 2), -EINVAL);
	assert_string_equal(fsm_config_get(b, "y"), "3");
	/* The audit trail keeps only the last FSM_AUDIT_MAX events. */
	for (i = 0; i < FSM_AUDIT_MAX + 50; i++) {
		snprintf(k, sizeof(k), "k%d", i % 10);
		assert_int_equal(cfg(a, k, "v", (uint64_t)i), FSM_OK);
	}
	assert_int_equal(fsm_audit_count(a), FSM_AUDIT_MAX);
	assert_int_equal(fsm_snapshot(a, &buf, &len), 0);
	assert_int_equal(fsm_restore(b, 10, buf, len), 0);
	free(buf);
	assert_int_equal(fsm_audit_count(b), FSM_AUDIT_MAX);
	assert_int_equal(fsm_hash(a, ha), 0);
	assert_int_equal(fsm_hash(b, hb), 0);
	assert_memory_equal(ha, hb, FSM_HASH_LEN);
	fsm_free(a);
	fsm_free(b);
}

/* The drained flag (ntpctl node drain) survives apply, snapshot and
 * restore, changes the state hash, and a record without it keeps the
 * bytes it had before the field existed. */
static void test_member_drained(void **state)
{
	struct fsm *f = fsm_new(), *g = fsm_new();
	unsigned char h0[FSM_HASH_LEN], h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	struct fsm_member m;
	void *b, *snap;
	size_t n, sn, sn0;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.id = 7;
	strcpy(m.name, "n7");
	strcpy(m.address, "127.0.0.1:7000");
	m.role = FSM_ROLE_VOTER;
	assert_int_equal(fsm_cmd_member_put(&m, 1, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_hash(f, h0), 0);
	assert_int_equal(fsm_snapshot(f, &snap, &sn0), 0);
	free(snap);
	assert_int_equal(fsm_member_find(f, 7)->drained, 0);

	m = *fsm_member_find(f, 7);
	m.drained = 1;
	assert_int_equal(fsm_cmd_member_put(&m, 2, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_member_find(f, 7)->drained, 1);
	assert_int_equal(fsm_hash(f, h1), 0);
	assert_memory_not_equal(h0, h1, FSM_HASH_LEN);

	assert_int_equal(fsm_snapshot(f, &snap, &sn), 0);
	assert_int_equal(fsm_restore(g, 2, snap, sn), 0);
	free(snap);
	assert_int_equal(fsm_member_find(g, 7)->drained, 1);
	assert_int_equal(fsm_hash(g, h2), 0);
	assert_memory_equal(h1, h2, FSM_HASH_LEN);

	/* Undrained: the record's bytes are those of a never-drained one
	 * (the audit trail, not the member, says it happened). */
	m.drained = 0;
	assert_int_equal(fsm_cmd_member_put(&m, 3, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_member_find(f, 7)->drained, 0);
	assert_int_equal(fsm_hash(f, h2), 0);
	assert_memory_not_equal(h1, h2, FSM_HASH_LEN);
	fsm_free(f);
	fsm_free(g);
}

/* The version a builder encoded. */
static uint32_t version_of(const void *buf, size_t len)
{
	Ntpmc__Fsm__FsmCommand *c;
	uint32_t v;

	c = ntpmc__fsm__fsm_command__unpack(NULL, len, buf);
	assert_non_null(c);
	v = c->version;
	ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
	return v;
}

static void put_member(struct fsm *f, uint64_t id, const char *name,
		       const char *instance)
{
	struct fsm_member m;
	void *b;
	size_t n;

	memset(&m, 0, sizeof(m));
	m.id = id;
	snprintf(m.name, sizeof(m.name), "%s", name);
	strcpy(m.provider, "aws");
	strcpy(m.address, "127.0.0.1:7000");
	m.cmd_version = 2;
	snprintf(m.instance_id, sizeof(m.instance_id), "%s", instance);
	assert_int_equal(fsm_cmd_member_put(&m, 1, &b, &n), 0);
	/* the lowest version that carries it */
	assert_int_equal(version_of(b, n), instance[0] ? 3 : 1);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
}

static int rot(struct fsm *f, uint64_t id, int state, int phase, int parked,
	       const char *reason, uint64_t t)
{
	struct fsm_rot r;
	void *b;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.state = state;
	r.phase = phase;
	r.parked = parked;
	r.sched_ms = t * 10;
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	assert_int_equal(fsm_cmd_rot_set(&r, t, &b, &n), 0);
	assert_int_equal(version_of(b, n), 3);
	return apply_buf(f, b, n);
}

static int hours(struct fsm *f, uint64_t id, uint32_t month, uint64_t add,
		 uint64_t to)
{
	struct fsm_hours_item it = { id, month, add, to };
	void *b;
	size_t n;

	assert_int_equal(fsm_cmd_hours_add(&it, 1, 5, &b, &n), 0);
	return apply_buf(f, b, n);
}

static const char *last_audit(struct fsm *f)
{
	return fsm_audit_at(f, fsm_audit_count(f) - 1, NULL);
}

/* Version 3: the instance id, the schedule, rotation records, the hours
 * ledger and notes: apply, bounds, audit lines, snapshot and hash; a
 * version 3 operation in a command that says 1 is refused. */
static void test_rotation_state(void **state)
{
	Ntpmc__Fsm__FsmCommand *c;
	struct fsm *f = fsm_new(), *g = fsm_new();
	unsigned char h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	const struct fsm_hours *h;
	const struct fsm_rot *r;
	char big[FSM_WINDOWS_MAX + 2];
	void *b, *snap;
	size_t n, sn;

	(void)state;
	put_member(f, 3, "aws-a", "i-0123456789abcdef0");
	put_member(f, 4, "aws-b", "");
	assert_string_equal(fsm_member_find(f, 3)->instance_id,
			    "i-0123456789abcdef0");

	/* schedule: sorted by target, replaced, removed, conflict kept */
	assert_int_equal(fsm_cmd_sched_set("provider:aws", "mon-wed", 0, 2,
					   &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_int_equal(fsm_cmd_sched_set("member:aws-b", "thu-sun", 1, 2,
					   &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_string_equal(last_audit(f), "rotation schedule member:aws-b: "
			    "thu-sun (conflict: below min-serving, forced)");
	assert_int_equal(fsm_sched_count(f), 2);
	assert_string_equal(fsm_sched_at(f, 0)->target, "member:aws-b");
	assert_true(fsm_sched_find(f, "member:aws-b")->conflict);
	assert_int_equal(fsm_cmd_sched_set("member:aws-b", "", 0, 3, &b, &n),
			 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_null(fsm_sched_find(f, "member:aws-b"));
	assert_int_equal(fsm_cmd_sched_set("member:aws-b", "", 0, 3, &b, &n),
			 0);
	assert_int_equal(apply_buf(f, b, n), FSM_ENOKEY);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(fsm_cmd_sched_set("member:x", big, 0, 3, &b, &n),
			 -EINVAL);

	/* rotation records: members only; since changes with the state */
	assert_int_equal(rot(f, 99, FSM_ROT_STOPPING, 1, 1, "x", 10),
			 FSM_ENOKEY);
	assert_int_equal(rot(f, 3, FSM_ROT_STOPPING, 0, 1,
			     "scheduled off from thu 00:00", 10), FSM_OK);
	assert_string_equal(last_audit(f), "rotation aws-a stopping (parked): "
			    "scheduled off from thu 00:00");
	assert_int_equal(rot(f, 3, FSM_ROT_STOPPING, 2, 1, "drained", 20),
			 FSM_OK);
	r = fsm_rot_find(f, 3);
	assert_non_null(r);
	assert_int_equal(r->since_ms, 10);
	assert_int_equal(r->phase, 2);
	assert_int_equal(r->sched_ms, 200);
	assert_true(r->parked);
	assert_int_equal(rot(f, 3, FSM_ROT_STOPPED, 0, 1, "stopped", 30),
			 FSM_OK);
	assert_int_equal(fsm_rot_find(f, 3)->since_ms, 30);
	assert_int_equal(rot(f, 3, FSM_ROT_STOPPED + 1, 0, 0, "x", 31),
			 FSM_EINVAL);
	assert_int_equal(rot(f, 3, FSM_ROT_STOPPED, FSM_ROT_PHASE_MAX + 1, 0,
			     "x", 31), FSM_EINVAL);

	/* hours: months roll, a late item goes to the previous month */
	assert_int_equal(hours(f, 3, 202501, 3600000, 100), FSM_OK);
	assert_int_equal(hours(f, 3, 202501, 1800000, 200), FSM_OK);
	assert_int_equal(hours(f, 3, 202502, 60000, 300), FSM_OK);
	assert_int_equal(hours(f, 3, 202501, 1000, 250), FSM_OK);
	h = fsm_hours_find(f, 3);
	assert_non_null(h);
	assert_int_equal(h->month, 202502);
	assert_int_equal(h->ms, 60000);
	assert_int_equal(h->prev_month, 202501);
	assert_int_equal(h->prev_ms, 5401000);
	assert_int_equal(h->counted_to, 300);
	assert_int_equal(hours(f, 3, 202513, 1, 1), FSM_EINVAL);
	assert_int_equal(hours(f, 77, 202502, 5, 1), FSM_OK); /* not a member */

	assert_int_equal(fsm_cmd_note("aws allowance at 80%", 40, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_string_equal(last_audit(f), "rotation: aws allowance at 80%");

	/* snapshot: every part comes back, same hash */
	assert_int_equal(fsm_snapshot(f, &snap, &sn), 0);
	assert_int_equal(fsm_restore(g, 9, snap, sn), 0);
	free(snap);
	assert_int_equal(fsm_hash(f, h1), 0);
	assert_int_equal(fsm_hash(g, h2), 0);
	assert_memory_equal(h1, h2, FSM_HASH_LEN);
	assert_int_equal(fsm_sched_count(g), 1);
	assert_int_equal(fsm_rot_find(g, 3)->state, FSM_ROT_STOPPED);
	assert_int_equal(fsm_hours_find(g, 3)->prev_ms, 5401000);
	assert_string_equal(fsm_member_find(g, 3)->instance_id,
			    "i-0123456789abcdef0");

	/* a former member's hours go once a newer month is counted; its
	 * rotation record goes with the member */
	assert_int_equal(fsm_cmd_member_del(3, 50, &b, &n), 0);
	assert_int_equal(apply_buf(f, b, n), FSM_OK);
	assert_null(fsm_rot_find(f, 3));
	assert_non_null(fsm_hours_find(f, 3));
	assert_int_equal(hours(f, 4, 202503, 5, 1), FSM_OK);
	assert_null(fsm_hours_find(f, 3));
	assert_null(fsm_hours_find(f, 77));

	/* version 1 with a version 3 operation: refused everywhere alike */
	assert_int_equal(fsm_cmd_note("x", 60, &b, &n), 0);
	c = ntpmc__fsm__fsm_command__unpack(NULL, n, b);
	free(b);
	assert_non_null(c);
	c->version = 1;
	n = ntpmc__fsm__fsm_command__get_packed_size(c);
	b = malloc(n);
	assert_non_null(b);
	ntpmc__fsm__fsm_command__pack(c, b);
	ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
	assert_int_equal(apply_buf(f, b, n), FSM_EINVAL);
	fsm_free(f);
	fsm_free(g);
}

static int ledger_put(struct fsm *f, const char *month, uint64_t id,
		      uint64_t ntp, uint64_t t)
{
	struct fsm_ledger e;
	void *b;
	size_t n;

	memset(&e, 0, sizeof(e));
	snprintf(e.month, sizeof(e.month), "%s", month);
	e.id = id;
	snprintf(e.provider, sizeof(e.provider), "gcp");
	e.bytes[0] = ntp;
	e.bytes[2] = 52;
	e.boot = 77;
	e.base[0] = ntp / 2;
	e.first_ms = t;
	e.updated_ms = t;
	e.day_bytes = 1000;
	assert_int_equal(fsm_cmd_ledger(&e, t, &b, &n), 0);
	assert_int_equal(version_of(b, n), 4);
	return apply_buf(f, b, n);
}

/* The monthly egress ledger: set semantics per (month, member), sorted,
 * capped (the oldest month goes first), kept by snapshots, bad months
 * refused, and only from version 4 commands. */
static void test_ledger(void **state)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmLedger l = NTPMC__FSM__FSM_LEDGER__INIT;
	struct fsm *f = fsm_new(), *g = fsm_new();
	const struct fsm_ledger *e;
	unsigned char h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	void *snap, *b;
	size_t n;
	unsigned i;

	(void)state;
	assert_int_equal(ledger_put(f, "2026-12", 2, 760, 100), FSM_OK);
	assert_int_equal(ledger_put(f, "2026-11", 1, 76, 50), FSM_OK);
	assert_int_equal(ledger_put(f, "2026-12", 1, 152, 110), FSM_OK);
	assert_int_equal(ledger_put(f, "2026-12", 2, 836, 120), FSM_OK);
	assert_int_equal(fsm_ledger_count(f), 3);
	assert_string_equal(fsm_ledger_at(f, 0)->month, "2026-11");
	assert_int_equal(fsm_ledger_at(f, 1)->id, 1);
	e = fsm_ledger_find(f, "2026-12", 2);
	assert_non_null(e);
	assert_int_equal(e->bytes[0], 836);
	assert_int_equal(e->bytes[2], 52);
	assert_int_equal(e->base[0], 418);
	assert_int_equal(e->boot, 77);
	assert_string_equal(e->provider, "gcp");
	assert_null(fsm_ledger_find(f, "2026-10", 1));
	/* bad months and ids change nothing */
	assert_int_equal(ledger_put(f, "2026-13", 1, 1, 130), FSM_EINVAL);
	assert_int_equal(ledger_put(f, "26-12", 1, 1, 130), FSM_EINVAL);
	assert_int_equal(ledger_put(f, "2026-00", 1, 1, 130), FSM_EINVAL);
	assert_int_equal(ledger_put(f, "2026-12", 0, 1, 130), FSM_EINVAL);
	assert_int_equal(fsm_ledger_count(f), 3);
	/* a version 3 command cannot carry one */
	l.month = "2026-12";
	l.id = 9;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_LEDGER;
	c.ledger = &l;
	c.version = 3;
	c.time_ms = 5;
	n = ntpmc__fsm__fsm_command__get_packed_size(&c);
	b = malloc(n + 1);
	assert_non_null(b);
	ntpmc__fsm__fsm_command__pack(&c, b);
	assert_int_equal(apply_buf(f, b, n), FSM_EINVAL);
	assert_null(fsm_ledger_find(f, "2026-12", 9));
	/* a snapshot keeps it, byte for byte */
	assert_int_equal(fsm_snapshot(f, &snap, &n), 0);
	assert_int_equal(fsm_restore(g, 99, snap, n), 0);
	free(snap);
	assert_int_equal(fsm_hash(f, h1), 0);
	assert_int_equal(fsm_hash(g, h2), 0);
	assert_memory_equal(h1, h2, FSM_HASH_LEN);
	assert_int_equal(fsm_ledger_find(g, "2026-12", 2)->bytes[0], 836);
	assert_int_equal(fsm_ledger_find(g, "2026-12", 2)->day_bytes, 1000);
	/* full: the oldest month's entries go first */
	for (i = 0; fsm_ledger_count(f) < FSM_LEDGER_MAX; i++)
		assert_int_equal(ledger_put(f, "2027-01", 100 + i, 1, 200),
				 FSM_OK);
	assert_int_equal(ledger_put(f, "2027-02", 1, 1, 300), FSM_OK);
	assert_int_equal(fsm_ledger_count(f), FSM_LEDGER_MAX);
	assert_null(fsm_ledger_find(f, "2026-11", 1));
	assert_non_null(fsm_ledger_find(f, "2027-02", 1));
	/* older than everything kept, when full: refused */
	assert_int_equal(ledger_put(f, "2025-01", 1, 1, 300), FSM_EFULL);
	fsm_free(f);
	fsm_free(g);
}

static int freeze(struct fsm *f, int on, const char *why, uint64_t t)
{
	void *b;
	size_t n;

	assert_int_equal(fsm_cmd_freeze(on, why, t, &b, &n), 0);
	assert_int_equal(version_of(b, n), 5);
	return apply_buf(f, b, n);
}

/* Version 5: the rotation's freeze: apply (the first freeze's time kept,
 * a resume when not frozen refused), audit, snapshot round trip and hash
 * (a state never frozen keeps its bytes), and the version gate: a command
 * that says 4 cannot carry it. */
static void test_freeze(void **state)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmFreeze z = NTPMC__FSM__FSM_FREEZE__INIT;
	struct fsm *f = fsm_new(), *g = fsm_new();
	unsigned char h1[FSM_HASH_LEN], h2[FSM_HASH_LEN];
	char longer[FSM_REASON_MAX + 2];
	const char *why;
	uint64_t since;
	void *snap, *b;
	size_t n, n0;

	(void)state;
	put_member(f, 7, "n1", "i-1");
	assert_int_equal(fsm_frozen(f, &since, &why), 0);
	assert_int_equal(since, 0);
	assert_string_equal(why, "");
	assert_int_equal(fsm_snapshot(f, &snap, &n0), 0);
	free(snap);
	/* a resume when not frozen: refused, no audit */
	n = fsm_audit_count(f);
	assert_int_equal(freeze(f, 0, "", 10), FSM_ENOKEY);
	assert_int_equal(fsm_audit_count(f), n);
	/* the gate: version 4 cannot carry a freeze */
	z.frozen = 1;
	z.reason = "old";
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_FREEZE;
	c.freeze = &z;
	c.version = 4;
	c.time_ms = 11;
	n = ntpmc__fsm__fsm_command__get_packed_size(&c);
	b = malloc(n + 1);
	assert_non_null(b);
	ntpmc__fsm__fsm_command__pack(&c, b);
	assert_int_equal(apply_buf(f, b, n), FSM_EINVAL);
	assert_int_equal(fsm_frozen(f, NULL, NULL), 0);
	/* frozen; a second freeze keeps the first one's time */
	assert_int_equal(freeze(f, 1, "emergency shutdown", 20), FSM_OK);
	assert_int_equal(fsm_frozen(f, &since, &why), 1);
	assert_int_equal(since, 20);
	assert_string_equal(why, "emergency shutdown");
	assert_non_null(strstr(last_audit(f), "rotation frozen: emergency "
					       "shutdown"));
	assert_int_equal(freeze(f, 1, "again", 30), FSM_OK);
	assert_int_equal(fsm_frozen(f, &since, &why), 1);
	assert_int_equal(since, 20);
	assert_string_equal(why, "again");
	/* bounds */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	assert_int_equal(fsm_cmd_freeze(1, longer, 1, &b, &n), -EINVAL);
	/* the snapshot keeps it, byte for byte */
	assert_int_equal(fsm_snapshot(f, &snap, &n), 0);
	assert_true(n > n0);
	assert_int_equal(fsm_restore(g, 99, snap, n), 0);
	free(snap);
	assert_int_equal(fsm_frozen(g, &since, &why), 1);
	assert_int_equal(since, 20);
	assert_string_equal(why, "again");
	assert_int_equal(fsm_hash(f, h1), 0);
	assert_int_equal(fsm_hash(g, h2), 0);
	assert_memory_equal(h1, h2, FSM_HASH_LEN);
	/* resumed: back to the bytes of a state never frozen (but the
	 * audit trail's) */
	assert_int_equal(freeze(g, 0, "by the operator", 40), FSM_OK);
	assert_int_equal(fsm_frozen(g, &since, &why), 0);
	assert_int_equal(since, 0);
	assert_non_null(strstr(last_audit(g), "rotation resumed: by the "
					       "operator"));
	assert_int_equal(fsm_snapshot(g, &snap, &n), 0);
	assert_int_equal(fsm_restore(f, 100, snap, n), 0);
	free(snap);
	assert_int_equal(fsm_frozen(f, NULL, NULL), 0);
	fsm_free(f);
	fsm_free(g);
}

/* A snapshot whose freeze fields contradict each other is refused. */
static void test_freeze_bad_snapshot(void **state)
{
	struct fsm *f = fsm_new(), *g = fsm_new();
	void *snap;
	uint8_t *buf;
	size_t n;
	Ntpmc__Fsm__FsmState *p;

	(void)state;
	assert_int_equal(freeze(f, 1, "x", 5), FSM_OK);
	assert_int_equal(fsm_snapshot(f, &snap, &n), 0);
	p = ntpmc__fsm__fsm_state__unpack(NULL, n, snap);
	free(snap);
	assert_non_null(p);
	p->frozen = 0;          /* a reason and a time, but not frozen */
	n = ntpmc__fsm__fsm_state__get_packed_size(p);
	buf = malloc(n);
	assert_non_null(buf);
	ntpmc__fsm__fsm_state__pack(p, buf);
	ntpmc__fsm__fsm_state__free_unpacked(p, NULL);
	assert_int_equal(fsm_restore(g, 1, buf, n), -EINVAL);
	free(buf);
	fsm_free(f);
	fsm_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_token_revoke_keep),
		cmocka_unit_test(test_tokens_old_format),
		cmocka_unit_test(test_members_versions),
		cmocka_unit_test(test_member_check),
		cmocka_unit_test(test_halt),
		cmocka_unit_test(test_snapshot_hash),
		cmocka_unit_test(test_member_drained),
		cmocka_unit_test(test_rotation_state),
		cmocka_unit_test(test_ledger),
		cmocka_unit_test(test_freeze),
		cmocka_unit_test(test_freeze_bad_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
