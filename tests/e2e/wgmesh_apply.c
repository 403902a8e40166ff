/*
 * wgmesh_apply: the e2e tests' stand-in for the cluster glue. It builds the
 * membership FSM a leader would commit (members in the order given, each
 * given the overlay address wgm_alloc_from_fsm() allocates, as the leader
 * does before adding a joiner), renders member --self's WireGuard file and
 * applies it with wgm_apply(). Prints "overlay ADDR" and "mesh HASH".
 *
 *   wgmesh_apply --self ID --key-file F --iface NAME [--subnet S]
 *                [--port N] [--dry-run] --member ID,PUBKEY_B64,ENDPOINT ...
 *
 * The private key is read from F (wg genkey's output) and only ever goes to
 * wgm_render() / wgm_apply().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/wgmesh.h"
#include "raft/fsm.h"

#define MAX_MEMBERS 16

static int usage(void)
{
	fprintf(stderr, "usage: wgmesh_apply --self ID --key-file F --iface "
		"NAME [--subnet S] [--port N] [--dry-run] "
		"--member ID,PUBKEY,ENDPOINT ...\n");
	return 2;
}

static int add_member(struct fsm *f, const struct wgm_subnet *sn,
		      const char *spec, uint64_t *idx)
{
	char buf[256], *id, *pub, *ep, ov[WGM_ADDR_MAX];
	struct fsm_member m;
	size_t len = 0;
	void *b;
	size_t n;
	int result = -1;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	id = strtok(buf, ",");
	pub = strtok(NULL, ",");
	ep = strtok(NULL, ",");
	if (id == NULL || pub == NULL || ep == NULL)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.id = strtoull(id, NULL, 10);
	snprintf(m.name, sizeof(m.name), "m%s", id);
	if (m.id == 0 ||
	    sodium_base642bin(m.wg_public, sizeof(m.wg_public), pub,
			      strlen(pub), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != FSM_WGKEY_LEN || wgm_endpoint_check(ep) != 0 ||
	    wgm_alloc_from_fsm(f, sn, ov) != 0)
		return -EINVAL;
	strcpy(m.overlay, ov);
	strcpy(m.endpoint, ep);
	snprintf(m.address, sizeof(m.address), "%s", ov);
	m.cmd_version = FSM_CMD_VERSION;
	if (fsm_cmd_member_put(&m, 1, &b, &n) != 0)
		return -ENOMEM;
	if (fsm_apply(f, ++*idx, b, n, &result) != 0 || result != FSM_OK) {
		free(b);
		return -EINVAL;
	}
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *keyfile = NULL, *iface = NULL, *subnet = WGM_DEFAULT_SUBNET;
	const char *members[MAX_MEMBERS];
	unsigned n_members = 0, port = 0, i;
	uint64_t self = 0, idx = 0;
	int dry = 0, rc = 1, a;
	struct wgm_subnet sn;
	struct wgm_peer *peers = NULL;
	size_t n_peers = 0, len = 0;
	unsigned char h[WGM_HASH_LEN];
	char hex[2 * WGM_HASH_LEN + 1], *conf = NULL, *priv = NULL;
	const char *overlay = NULL;
	struct fsm *f = NULL;
	FILE *kf;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--dry-run") == 0)
			dry = 1;
		else if (a + 1 >= argc)
			return usage();
		else if (strcmp(argv[a], "--self") == 0)
			self = strtoull(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--key-file") == 0)
			keyfile = argv[++a];
		else if (strcmp(argv[a], "--iface") == 0)
			iface = argv[++a];
		else if (strcmp(argv[a], "--subnet") == 0)
			subnet = argv[++a];
		else if (strcmp(argv[a], "--port") == 0)
			port = (unsigned)strtoul(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--member") == 0 &&
			 n_members < MAX_MEMBERS)
			members[n_members++] = argv[++a];
		else
			return usage();
	}
	if (self == 0 || keyfile == NULL || iface == NULL || n_members == 0)
		return usage();
	if (sodium_init() < 0 || wgm_subnet_parse(subnet, &sn) != 0) {
		fprintf(stderr, "wgmesh_apply: bad subnet '%s'\n", subnet);
		return 1;
	}
	f = fsm_new();
	priv = sodium_malloc(128);
	if (f == NULL || priv == NULL)
		goto out;
	for (i = 0; i < n_members; i++)
		if (add_member(f, &sn, members[i], &idx) != 0) {
			fprintf(stderr, "wgmesh_apply: bad --member '%s'\n",
				members[i]);
			goto out;
		}
	kf = fopen(keyfile, "r");
	if (kf == NULL || fgets(priv, 128, kf) == NULL) {
		fprintf(stderr, "wgmesh_apply: cannot read %s\n", keyfile);
		if (kf)
			fclose(kf);
		goto out;
	}
	fclose(kf);
	priv[strcspn(priv, "\r\n")] = '\0';
	if (wgm_peers_from_fsm(f, &peers, &n_peers) != 0 ||
	    wgm_hash(peers, n_peers, h) != 0)
		goto out;
	for (i = 0; i < n_peers; i++)
		if (peers[i].id == self)
			overlay = peers[i].overlay;
	if (overlay == NULL) {
		fprintf(stderr, "wgmesh_apply: --self is not a member\n");
		goto out;
	}
	if (wgm_render(peers, n_peers, self, priv, port, &conf, &len) != 0) {
		fprintf(stderr, "wgmesh_apply: cannot render (bad key?)\n");
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	printf("overlay %s\nmesh %s\n", overlay, hex);
	if (!dry) {
		int e = wgm_apply(iface, conf, len, overlay, &sn);

		if (e != 0) {
			fprintf(stderr, "wgmesh_apply: apply to %s: %s\n",
				iface, strerror(-e));
			goto out;
		}
	}
	rc = 0;
out:
	wgm_conf_free(conf, len);
	if (priv)
		sodium_free(priv);
	free(peers);
	fsm_free(f);
	return rc;
}
