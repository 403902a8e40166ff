/* wgjoin: endpoint resolution, the leader's allocation at join (full
 * subnet refused, in-flight joins reserved), JoinReply mesh fields through
 * the protobuf wire and back (bad sizes refused), the re-announce decision,
 * the node-local mesh record (truncations refused). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/cluster/wg/wgjoin.h"
#include "raft/fsm.h"

static const char *const KEY_B64 =
	"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

static void put(struct fsm *f, const struct fsm_member *m, uint64_t *idx)
{
	void *b;
	size_t n;
	int result = -1;

	assert_int_equal(fsm_cmd_member_put(m, 1, &b, &n), 0);
	assert_int_equal(fsm_apply(f, ++*idx, b, n, &result), 0);
	assert_int_equal(result, FSM_OK);
	free(b);
}

static void member(struct fsm_member *m, uint64_t id, const char *ov,
		   const char *ep)
{
	memset(m, 0, sizeof(*m));
	m->id = id;
	snprintf(m->name, sizeof(m->name), "n%llu", (unsigned long long)id);
	snprintf(m->provider, sizeof(m->provider), "other");
	snprintf(m->overlay, sizeof(m->overlay), "%s", ov);
	snprintf(m->endpoint, sizeof(m->endpoint), "%s", ep);
	snprintf(m->address, sizeof(m->address), "%s:4460", ov);
	memset(m->wg_public, (int)id, sizeof(m->wg_public));
	memset(m->idkey, (int)id, sizeof(m->idkey));
	m->cmd_version = FSM_CMD_VERSION;
}

static void test_endpoint(void **state)
{
	char out[WGM_ENDPOINT_MAX];

	(void)state;
	/* default: cluster-advertise's host with the WireGuard port */
	assert_int_equal(wgj_endpoint("", "10.250.1.2:4460", 51820, out), 0);
	assert_string_equal(out, "10.250.1.2:51820");
	assert_int_equal(wgj_endpoint("", "[2001:db8::1]:4460", 5000, out), 0);
	assert_string_equal(out, "[2001:db8::1]:5000");
	/* wireguard-endpoint wins; its own port or the WireGuard port */
	assert_int_equal(wgj_endpoint("203.0.113.7", "10.0.0.1:4460", 51821,
				      out), 0);
	assert_string_equal(out, "203.0.113.7:51821");
	assert_int_equal(wgj_endpoint("203.0.113.7:1234", "10.0.0.1:4460",
				      51821, out), 0);
	assert_string_equal(out, "203.0.113.7:1234");
	/* never a DNS name, never junk */
	assert_int_equal(wgj_endpoint("", "node1.example.net:4460", 51820,
				      out), -EINVAL);
	assert_int_equal(wgj_endpoint("host.example:1", "10.0.0.1:1", 1, out),
			 -EINVAL);
	assert_int_equal(wgj_endpoint("1.2.3.4:0", "10.0.0.1:1", 1, out),
			 -EINVAL);
	assert_int_equal(wgj_endpoint("", NULL, 1, out), -EINVAL);
	assert_int_equal(wgj_endpoint("", "10.0.0.1", 1, out), -EINVAL);
	/* splitting host:port: tests/unit/test_hostport.c */
}

static void test_dial_address(void **state)
{
	struct fsm_member m;
	char out[WGJ_HOSTPORT_MAX];

	(void)state;
	member(&m, 1, "192.168.10.1", "10.250.1.2:51820");
	assert_int_equal(wgj_dial_address(&m, out), 0);
	assert_string_equal(out, "10.250.1.2:4460");
	m.overlay[0] = 0;  /* not a mesh member: its raft address */
	assert_int_equal(wgj_dial_address(&m, out), -ENOENT);
}

static void request(Ntpmc__JoinRequest *jr, const char *ep)
{
	ntpmc__join_request__init(jr);
	jr->name = "j";
	jr->address = "10.250.9.2:4460";
	jr->wg_public = (char *)KEY_B64;
	jr->wg_endpoint = (char *)ep;
}

static void test_join_alloc(void **state)
{
	struct fsm *f = fsm_new();
	struct fsm_member m, a;
	struct wgm_subnet sn;
	Ntpmc__JoinRequest jr;
	const char *res[1] = { "192.168.10.2" };
	char err[160];
	uint64_t idx = 0;

	(void)state;
	assert_non_null(f);
	assert_int_equal(wgm_subnet_parse("192.168.10.0/30", &sn), 0);
	member(&a, 1, "192.168.10.1", "10.250.1.2:51820");
	put(f, &a, &idx);
	/* not a WireGuard joiner: unchanged */
	request(&jr, "");
	memset(&m, 0, sizeof(m));
	snprintf(m.address, sizeof(m.address), "10.250.9.2:4460");
	assert_int_equal(wgj_join_member(&jr, f, &sn, NULL, 0, &m, err,
					 sizeof(err)), 0);
	assert_string_equal(m.address, "10.250.9.2:4460");
	/* lowest free address, raft address = OVERLAY:PORT */
	request(&jr, "10.250.9.2:51820");
	assert_int_equal(wgj_join_member(&jr, f, &sn, NULL, 0, &m, err,
					 sizeof(err)), 1);
	assert_string_equal(m.overlay, "192.168.10.2");
	assert_string_equal(m.address, "192.168.10.2:4460");
	assert_string_equal(m.endpoint, "10.250.9.2:51820");
	/* a /30 has two hosts: one member + one join in flight = full */
	assert_int_equal(wgj_join_member(&jr, f, &sn, res, 1, &m, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "192.168.10.0/30 is full"));
	/* bad key, bad endpoint */
	request(&jr, "10.250.9.2:51820");
	jr.wg_public = "AAAA";
	assert_int_equal(wgj_join_member(&jr, f, &sn, NULL, 0, &m, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "public key"));
	request(&jr, "joiner.example:51820");
	assert_int_equal(wgj_join_member(&jr, f, &sn, NULL, 0, &m, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "endpoint"));
	fsm_free(f);
}

/* The leader's JoinReply, packed, unpacked by the joiner, decoded. */
static Ntpmc__JoinReply *roundtrip(struct fsm *f, const struct wgm_subnet *sn,
				   const uint64_t *ids, size_t n)
{
	Ntpmc__JoinReply jr = NTPMC__JOIN_REPLY__INIT;
	struct wgj_reply_buf b;
	uint8_t buf[4096];
	size_t len;

	jr.member_ids = (uint64_t *)ids;
	jr.n_member_ids = n;
	wgj_reply_fill(f, sn, &jr, &b);
	len = ntpmc__join_reply__get_packed_size(&jr);
	assert_true(len <= sizeof(buf));
	ntpmc__join_reply__pack(&jr, buf);
	return ntpmc__join_reply__unpack(NULL, len, buf);
}

static void test_reply(void **state)
{
	struct fsm *f = fsm_new();
	struct fsm_member a, b;
	struct wgm_subnet sn, got;
	struct wgm_peer *p = NULL;
	Ntpmc__JoinReply *r;
	uint64_t ids[2] = { 1, 2 }, idx = 0;
	char ov[WGM_ADDR_MAX];
	size_t n = 0;
	uint8_t shortkey[5] = { 1, 2, 3, 4, 5 };

	(void)state;
	assert_int_equal(wgm_subnet_parse("192.168.10.0/24", &sn), 0);
	member(&a, 1, "192.168.10.1", "10.250.1.2:51820");
	put(f, &a, &idx);
	/* the joiner's record not applied yet (a lagging follower) */
	r = roundtrip(f, &sn, ids, 2);
	assert_non_null(r);
	assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov), -EAGAIN);
	ntpmc__join_reply__free_unpacked(r, NULL);
	member(&b, 2, "192.168.10.2", "10.250.2.2:51820");
	put(f, &b, &idx);
	r = roundtrip(f, &sn, ids, 2);
	assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov), 0);
	assert_string_equal(ov, "192.168.10.2");
	assert_int_equal(n, 2);
	assert_int_equal(got.prefix, 24);
	assert_memory_equal(p[0].pub, a.wg_public, WGM_KEY_LEN);
	assert_string_equal(p[0].endpoint, "10.250.1.2:51820");
	free(p);
	/* bad sizes and values are refused */
	{
		uint8_t *keep = r->member_wg_public[0].data;

		r->member_wg_public[0].len = 5;
		r->member_wg_public[0].data = shortkey;
		assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov),
				 -EINVAL);
		r->member_wg_public[0].data = keep;
		r->member_wg_public[0].len = 0;
	}
	r->n_member_overlays = 1;
	assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov), -EINVAL);
	r->n_member_overlays = 2;
	r->member_overlays[0][0] = '9';  /* 992.168... / outside the subnet */
	assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov), -EINVAL);
	r->member_overlays[0][0] = '1';
	r->member_endpoints[0][0] = 'x';
	assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov), -EINVAL);
	r->member_endpoints[0][0] = '1';
	r->member_ids[0] = 2;  /* the same member twice */
	assert_int_equal(wgj_reply_decode(r, 2, &got, &p, &n, ov), -EINVAL);
	ntpmc__join_reply__free_unpacked(r, NULL);
	/* a cluster without WireGuard: no mesh at all */
	{
		Ntpmc__JoinReply e = NTPMC__JOIN_REPLY__INIT;

		e.member_ids = ids;
		e.n_member_ids = 2;
		assert_int_equal(wgj_reply_decode(&e, 2, &got, &p, &n, ov),
				 -ENOENT);
		e.overlay_subnet = "192.168.10.0/8";
		assert_int_equal(wgj_reply_decode(&e, 2, &got, &p, &n, ov),
				 -EINVAL);
	}
	fsm_free(f);
}

static void test_announce(void **state)
{
	struct fsm_member m;

	(void)state;
	member(&m, 3, "192.168.10.3", "10.250.3.2:51820");
	assert_int_equal(wgj_announce_needed(&m, "10.250.3.2:51820"), 0);
	assert_int_equal(wgj_announce_needed(&m, "10.250.3.3:51820"), 1);
	assert_int_equal(wgj_announce_needed(&m, "bogus"), 0);
	assert_int_equal(wgj_announce_needed(NULL, "10.250.3.3:51820"), 0);
	m.overlay[0] = 0;  /* not in the mesh (no WireGuard) */
	assert_int_equal(wgj_announce_needed(&m, "10.250.3.3:51820"), 0);
}

static void test_mesh_record(void **state)
{
	struct wgm_peer in[2], *out = NULL;
	struct wgm_subnet sn, got;
	void *buf;
	size_t len, n, cut;
	unsigned char *b;

	(void)state;
	memset(in, 0, sizeof(in));
	assert_int_equal(wgm_subnet_parse("10.99.0.0/16", &sn), 0);
	in[0].id = 0x0102030405060708ULL;
	memset(in[0].pub, 7, WGM_KEY_LEN);
	strcpy(in[0].overlay, "10.99.0.1");
	strcpy(in[0].endpoint, "[2001:db8::1]:51820");
	in[1].id = 9;
	strcpy(in[1].overlay, "10.99.0.2");
	assert_int_equal(wgj_mesh_pack(&sn, in, 2, &buf, &len), 0);
	assert_int_equal(wgj_mesh_unpack(buf, len, &got, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got.net, sn.net);
	assert_int_equal(got.prefix, 16);
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	/* every truncation, and trailing bytes, refused */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(wgj_mesh_unpack(buf, cut, &got, &out, &n),
				 -EINVAL);
	b = malloc(len + 1);
	memcpy(b, buf, len);
	b[len] = 0;
	assert_int_equal(wgj_mesh_unpack(b, len + 1, &got, &out, &n), -EINVAL);
	b[8] = 8;  /* prefix /8: not a subnet the mesh accepts */
	assert_int_equal(wgj_mesh_unpack(b, len, &got, &out, &n), -EINVAL);
	b[8] = 16;
	b[11 + 8 + WGM_KEY_LEN] = 200;  /* overlay length past the end */
	assert_int_equal(wgj_mesh_unpack(b, len, &got, &out, &n), -EINVAL);
	free(b);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_dial_address),
		cmocka_unit_test(test_join_alloc),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_mesh_record),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
