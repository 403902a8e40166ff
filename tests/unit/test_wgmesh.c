/* wgmesh: allocation, canonical mesh identical across members, re-render
 * on membership change, private keys only in the member's own file. */
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

#include "node/cluster/wg/wgmesh.h"
#include "raft/fsm.h"
#include "raft/transport/ident.h"

#define N_NODES 3

static struct ident *ids[N_NODES];

static int setup(void **state)
{
	int i;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (i = 0; i < N_NODES; i++)
		if (ident_generate(&ids[i]) != 0)
			return -1;
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < N_NODES; i++)
		ident_free(ids[i]);
	return 0;
}

static void test_subnet(void **state)
{
	struct wgm_subnet sn;
	char out[WGM_ADDR_MAX];

	(void)state;
	assert_int_equal(wgm_subnet_parse("192.168.10.0/24", &sn), 0);
	assert_int_equal(sn.prefix, 24);
	wgm_subnet_format(&sn, out);
	assert_string_equal(out, "192.168.10.0/24");
	assert_int_equal(wgm_subnet_parse("10.99.0.0/16", &sn), 0);
	/* host bits set, prefix out of range, junk */
	assert_int_equal(wgm_subnet_parse("192.168.10.1/24", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("192.168.10.0/31", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("10.0.0.0/8", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("192.168.10.0", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("192.168.10.0/", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("192.168.10.0/24x", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("fd00::/64", &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse(NULL, &sn), -EINVAL);
	assert_int_equal(wgm_subnet_parse("192.168.10.0/24", &sn), 0);
	assert_true(wgm_subnet_contains(&sn, "192.168.10.1"));
	assert_true(wgm_subnet_contains(&sn, "192.168.10.254"));
	assert_false(wgm_subnet_contains(&sn, "192.168.10.0"));
	assert_false(wgm_subnet_contains(&sn, "192.168.10.255"));
	assert_false(wgm_subnet_contains(&sn, "192.168.11.1"));
	assert_false(wgm_subnet_contains(&sn, "nonsense"));
}

static void test_alloc(void **state)
{
	struct wgm_subnet sn, tiny;
	char out[WGM_ADDR_MAX];
	const char *used1[] = { "192.168.10.1", "192.168.10.2" };
	/* a hole at .1 (its member was removed) is filled first; foreign,
	 * broadcast and junk entries never block anything */
	const char *used2[] = { "192.168.10.2", "10.0.0.1", "", "junk",
				"192.168.10.255", "192.168.10.3" };
	const char *full[] = { "10.1.1.2", "10.1.1.1" };

	(void)state;
	assert_int_equal(wgm_subnet_parse("192.168.10.0/24", &sn), 0);
	assert_int_equal(wgm_alloc(&sn, NULL, 0, out), 0);
	assert_string_equal(out, "192.168.10.1");
	assert_int_equal(wgm_alloc(&sn, used1, 2, out), 0);
	assert_string_equal(out, "192.168.10.3");
	assert_int_equal(wgm_alloc(&sn, used2, 6, out), 0);
	assert_string_equal(out, "192.168.10.1");
	assert_int_equal(wgm_subnet_parse("10.1.1.0/30", &tiny), 0);
	assert_int_equal(wgm_alloc(&tiny, full, 1, out), 0);
	assert_string_equal(out, "10.1.1.1");
	assert_int_equal(wgm_alloc(&tiny, full, 2, out), -ENOSPC);
}

static void test_checks(void **state)
{
	(void)state;
	assert_int_equal(wgm_endpoint_check("10.250.0.2:51820"), 0);
	assert_int_equal(wgm_endpoint_check("[fd00::1]:51820"), 0);
	assert_int_equal(wgm_endpoint_check("10.250.0.2"), -EINVAL);
	assert_int_equal(wgm_endpoint_check("10.250.0.2:0"), -EINVAL);
	assert_int_equal(wgm_endpoint_check("10.250.0.2:65536"), -EINVAL);
	assert_int_equal(wgm_endpoint_check("10.250.0.2:-1"), -EINVAL);
	/* never a host name: no DNS from the mesh */
	assert_int_equal(wgm_endpoint_check("example.org:51820"), -EINVAL);
	assert_int_equal(wgm_endpoint_check("fd00::1:51820"), -EINVAL);
	assert_int_equal(wgm_endpoint_check(""), -EINVAL);
	assert_int_equal(wgm_ifname_check("wg0"), 0);
	assert_int_equal(wgm_ifname_check("ntpmc-1234_a.b"), 0);
	assert_int_equal(wgm_ifname_check(""), -EINVAL);
	assert_int_equal(wgm_ifname_check("-wg"), -EINVAL);
	assert_int_equal(wgm_ifname_check("0123456789abcdef"), -EINVAL);
	assert_int_equal(wgm_ifname_check("wg 0"), -EINVAL);
	assert_int_equal(wgm_ifname_check("wg/0"), -EINVAL);
}

/* Member i of the test cluster as the leader would record it. */
static void member(int i, struct wgm_subnet *sn, struct fsm *f,
		   struct fsm_member *m)
{
	char b64[IDENT_WG_B64_LEN], ov[WGM_ADDR_MAX];
	size_t len;

	memset(m, 0, sizeof(*m));
	m->id = 1000 + (uint64_t)i * 7;
	snprintf(m->name, sizeof(m->name), "vm%d", i);
	snprintf(m->address, sizeof(m->address), "10.250.%d.2:4460", i);
	snprintf(m->endpoint, sizeof(m->endpoint), "10.250.%d.2:51820", i);
	memcpy(m->idkey, ident_public(ids[i]), FSM_IDKEY_LEN);
	ident_wg_public_b64(ids[i], b64);
	assert_int_equal(sodium_base642bin(m->wg_public, FSM_WGKEY_LEN, b64,
					   strlen(b64), NULL, &len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(len, FSM_WGKEY_LEN);
	assert_int_equal(wgm_alloc_from_fsm(f, sn, ov), 0);
	strcpy(m->overlay, ov);
	m->cmd_version = FSM_CMD_VERSION;
}

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

static void del(struct fsm *f, uint64_t id, uint64_t *idx)
{
	void *b;
	size_t n;
	int result = -1;

	assert_int_equal(fsm_cmd_member_del(id, 1, &b, &n), 0);
	assert_int_equal(fsm_apply(f, ++*idx, b, n, &result), 0);
	assert_int_equal(result, FSM_OK);
	free(b);
}

static void mesh_hash(const struct fsm *f, unsigned char h[WGM_HASH_LEN])
{
	struct wgm_peer *p;
	size_t n;

	assert_int_equal(wgm_peers_from_fsm(f, &p, &n), 0);
	assert_int_equal(wgm_hash(p, n, h), 0);
	free(p);
}

static int contains(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle), i;

	for (i = 0; i + nl <= len; i++)
		if (memcmp(hay + i, needle, nl) == 0)
			return 1;
	return 0;
}

static int count(const char *hay, const char *needle)
{
	int c = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		c++;
		p += strlen(needle);
	}
	return c;
}

/* Three members each apply the same log; every member's canonical mesh has
 * the same hash; each one's rendered file has its own key only, and a peer
 * for each other member. A member restored from a snapshot agrees too. */
static void test_identical(void **state)
{
	struct wgm_subnet sn;
	struct fsm *f[N_NODES], *r;
	struct fsm_member m[N_NODES];
	unsigned char h[N_NODES][WGM_HASH_LEN], hr[WGM_HASH_LEN];
	uint64_t idx[N_NODES] = { 0 }, ridx;
	void *snap;
	size_t snap_len;
	int i, j;

	(void)state;
	assert_int_equal(wgm_subnet_parse(WGM_DEFAULT_SUBNET, &sn), 0);
	for (i = 0; i < N_NODES; i++)
		f[i] = fsm_new();
	/* the leader (f[0]) allocates, then every member applies */
	for (i = 0; i < N_NODES; i++) {
		member(i, &sn, f[0], &m[i]);
		for (j = 0; j < N_NODES; j++)
			put(f[j], &m[i], &idx[j]);
	}
	assert_string_equal(m[0].overlay, "192.168.10.1");
	assert_string_equal(m[1].overlay, "192.168.10.2");
	assert_string_equal(m[2].overlay, "192.168.10.3");
	for (i = 0; i < N_NODES; i++)
		mesh_hash(f[i], h[i]);
	for (i = 1; i < N_NODES; i++)
		assert_memory_equal(h[0], h[i], WGM_HASH_LEN);

	/* the mesh data survives a snapshot round trip */
	assert_int_equal(fsm_snapshot(f[0], &snap, &snap_len), 0);
	r = fsm_new();
	ridx = fsm_applied(f[0]);
	assert_int_equal(fsm_restore(r, ridx, snap, snap_len), 0);
	free(snap);
	mesh_hash(r, hr);
	assert_memory_equal(h[0], hr, WGM_HASH_LEN);
	fsm_free(r);

	for (i = 0; i < N_NODES; i++) {
		struct wgm_peer *p;
		size_t n, len, clen;
		char priv[IDENT_WG_B64_LEN], pub[IDENT_WG_B64_LEN], *conf;
		char *canon, line[512];

		assert_int_equal(wgm_peers_from_fsm(f[i], &p, &n), 0);
		assert_int_equal(n, N_NODES);
		ident_wg_private_b64(ids[i], priv);
		assert_int_equal(wgm_render(p, n, m[i].id, priv, 0, &conf,
					    &len), 0);
		assert_int_equal(strlen(conf), len);
		assert_int_equal(count(conf, "[Interface]"), 1);
		assert_int_equal(count(conf, priv), 1);
		assert_int_equal(count(conf, "ListenPort = 51820\n"), 1);
		assert_int_equal(count(conf, "[Peer]"), N_NODES - 1);
		/* not a peer of itself */
		ident_wg_public_b64(ids[i], pub);
		assert_int_equal(count(conf, pub), 0);
		for (j = 0; j < N_NODES; j++) {
			char opriv[IDENT_WG_B64_LEN];

			if (j == i)
				continue;
			ident_wg_public_b64(ids[j], pub);
			snprintf(line, sizeof(line), "PublicKey = %s\n", pub);
			assert_int_equal(count(conf, line), 1);
			snprintf(line, sizeof(line),
				 "AllowedIPs = %s/32\nEndpoint = %s\n",
				 m[j].overlay, m[j].endpoint);
			assert_int_equal(count(conf, line), 1);
			/* nobody else's private key */
			ident_wg_private_b64(ids[j], opriv);
			assert_int_equal(count(conf, opriv), 0);
			sodium_memzero(opriv, sizeof(opriv));
		}
		/* the shared part never holds any private key */
		assert_int_equal(wgm_canonical(p, n, &canon, &clen), 0);
		for (j = 0; j < N_NODES; j++) {
			char opriv[IDENT_WG_B64_LEN];

			ident_wg_private_b64(ids[j], opriv);
			assert_false(contains(canon, clen, opriv));
			sodium_memzero(opriv, sizeof(opriv));
		}
		assert_false(contains(canon, clen, "PrivateKey"));
		/* the peer part of the member's file is the canonical text
		 * of the membership without itself, byte for byte */
		free(canon);
		{
			struct wgm_peer others[N_NODES];
			size_t k = 0, q;

			for (q = 0; q < n; q++)
				if (p[q].id != m[i].id)
					others[k++] = p[q];
			assert_int_equal(wgm_canonical(others, k, &canon,
						       &clen), 0);
			assert_string_equal(strstr(conf, "[Peer]"), canon);
		}
		free(canon);
		sodium_memzero(priv, sizeof(priv));
		wgm_conf_free(conf, len);
		free(p);
	}
	for (i = 0; i < N_NODES; i++)
		fsm_free(f[i]);
}

/* Any change of the membership's mesh data changes the hash; putting the
 * old data back restores it. Role changes do not touch the mesh. */
static void test_rerender(void **state)
{
	struct wgm_subnet sn;
	struct fsm *f = fsm_new();
	struct fsm_member m[N_NODES], moved;
	unsigned char h2[WGM_HASH_LEN], h3[WGM_HASH_LEN], h[WGM_HASH_LEN];
	uint64_t idx = 0;
	char ov[WGM_ADDR_MAX];
	int i;

	(void)state;
	assert_int_equal(wgm_subnet_parse(WGM_DEFAULT_SUBNET, &sn), 0);
	for (i = 0; i < 2; i++) {
		member(i, &sn, f, &m[i]);
		put(f, &m[i], &idx);
	}
	mesh_hash(f, h2);
	member(2, &sn, f, &m[2]);
	put(f, &m[2], &idx);
	mesh_hash(f, h3);
	assert_memory_not_equal(h2, h3, WGM_HASH_LEN);

	/* a promotion is not a mesh change */
	m[2].role = FSM_ROLE_SPARE;
	put(f, &m[2], &idx);
	mesh_hash(f, h);
	assert_memory_equal(h, h3, WGM_HASH_LEN);

	/* re-announced public endpoint (a VM got a new public IP) */
	moved = m[1];
	strcpy(moved.endpoint, "10.250.77.2:51820");
	put(f, &moved, &idx);
	mesh_hash(f, h);
	assert_memory_not_equal(h, h3, WGM_HASH_LEN);
	put(f, &m[1], &idx);
	mesh_hash(f, h);
	assert_memory_equal(h, h3, WGM_HASH_LEN);

	/* removal: back to the two-member mesh; the freed address is the
	 * next one allocated, a held one never is */
	del(f, m[2].id, &idx);
	mesh_hash(f, h);
	assert_memory_equal(h, h2, WGM_HASH_LEN);
	assert_int_equal(wgm_alloc_from_fsm(f, &sn, ov), 0);
	assert_string_equal(ov, m[2].overlay);
	del(f, m[0].id, &idx);
	assert_int_equal(wgm_alloc_from_fsm(f, &sn, ov), 0);
	assert_string_equal(ov, "192.168.10.1");
	fsm_free(f);
}

/* Members without a key or an overlay address yet are not in the mesh;
 * a bad endpoint is left out but the peer kept; bad arguments refused. */
static void test_partial(void **state)
{
	struct wgm_peer p[3];
	char *conf, *canon;
	size_t len;
	char priv[IDENT_WG_B64_LEN];

	(void)state;
	memset(p, 0, sizeof(p));
	p[0].id = 1;
	memset(p[0].pub, 1, WGM_KEY_LEN);
	strcpy(p[0].overlay, "192.168.10.1");
	strcpy(p[0].endpoint, "not-an-endpoint");
	p[1].id = 2;			/* no key */
	strcpy(p[1].overlay, "192.168.10.2");
	p[2].id = 3;			/* no overlay */
	memset(p[2].pub, 3, WGM_KEY_LEN);
	assert_int_equal(wgm_canonical(p, 3, &canon, &len), 0);
	assert_int_equal(count(canon, "[Peer]"), 1);
	assert_int_equal(count(canon, "Endpoint"), 0);
	assert_int_equal(count(canon, "AllowedIPs = 192.168.10.1/32\n"), 1);
	free(canon);

	ident_wg_private_b64(ids[0], priv);
	assert_int_equal(wgm_render(p, 3, 99, "short", 0, &conf, &len),
			 -EINVAL);
	assert_int_equal(wgm_render(p, 3, 99, priv, 70000, &conf, &len),
			 -EINVAL);
	p[1].id = 1;			/* duplicate id */
	assert_int_equal(wgm_render(p, 3, 99, priv, 0, &conf, &len), -EINVAL);
	assert_int_equal(wgm_canonical(p, 3, &canon, &len), -EINVAL);
	assert_int_equal(wgm_render(p, 0, 99, priv, 4242, &conf, &len), 0);
	assert_int_equal(count(conf, "ListenPort = 4242\n"), 1);
	assert_int_equal(count(conf, "[Peer]"), 0);
	wgm_conf_free(conf, len);
	sodium_memzero(priv, sizeof(priv));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnet),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_rerender),
		cmocka_unit_test(test_partial),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
