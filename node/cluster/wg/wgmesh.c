/*
 * wgmesh: WireGuard mesh from the membership (see wgmesh.h).
 *
 * The rendered file is wg(8)'s configuration format (the one `wg
 * syncconf` / `wg setconf` read): an [Interface] section with PrivateKey
 * and ListenPort, then one [Peer] section per peer with PublicKey,
 * AllowedIPs, Endpoint and PersistentKeepalive. syncconf changes only what
 * differs, so re-applying the same mesh does not disturb live sessions.
 */
#include "node/cluster/wg/wgmesh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/base/hostport.h"
#include "node/base/strbuf.h"
#include "raft/fsm.h"

#define B64_LEN 45

int wgm_subnet_parse(const char *text, struct wgm_subnet *out)
{
	char buf[WGM_ADDR_MAX + 4], *slash, *end;
	struct in_addr a;
	unsigned long p;
	uint32_t mask, net;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	/* /31 and /32 have no room for a mesh; /16 is 65534 members, plenty */
	if (errno != 0 || end == slash + 1 || *end != '\0' || p < 16 ||
	    p > 30)
		return -EINVAL;
	mask = ~0u << (32 - p);
	net = ntohl(a.s_addr);
	if ((net & ~mask) != 0)
		return -EINVAL;
	out->net = net;
	out->prefix = (unsigned)p;
	return 0;
}

static void ip4_format(uint32_t host, char out[WGM_ADDR_MAX])
{
	struct in_addr a = { .s_addr = htonl(host) };

	inet_ntop(AF_INET, &a, out, WGM_ADDR_MAX);
}

void wgm_subnet_format(const struct wgm_subnet *sn, char out[WGM_ADDR_MAX])
{
	char a[WGM_ADDR_MAX];

	ip4_format(sn->net, a);
	snprintf(out, WGM_ADDR_MAX, "%.15s/%u", a, sn->prefix & 63u);
}

/* Host-order offset of addr inside sn, or 0 when it is not a host
 * address of sn (0 is the network address itself). */
static uint32_t host_index(const struct wgm_subnet *sn, const char *addr)
{
	struct in_addr a;
	uint32_t mask = ~0u << (32 - sn->prefix), h;

	if (addr == NULL || inet_pton(AF_INET, addr, &a) != 1)
		return 0;
	h = ntohl(a.s_addr);
	if ((h & mask) != sn->net || (h & ~mask) == ~mask)
		return 0;
	return h & ~mask;
}

int wgm_subnet_contains(const struct wgm_subnet *sn, const char *addr)
{
	return host_index(sn, addr) != 0;
}

int wgm_alloc(const struct wgm_subnet *sn, const char *const *used,
	      size_t n_used, char out[WGM_ADDR_MAX])
{
	uint32_t size = 1u << (32 - sn->prefix), best = 0, cand;
	size_t i;

	/* Smallest index not taken: walk the candidates upwards; at most
	 * n_used + 1 of them can be rejected before one is free. */
	for (cand = 1; cand < size - 1; cand++) {
		for (i = 0; i < n_used; i++)
			if (host_index(sn, used[i]) == cand)
				break;
		if (i == n_used) {
			best = cand;
			break;
		}
	}
	if (best == 0)
		return -ENOSPC;
	ip4_format(sn->net | best, out);
	return 0;
}

int wgm_endpoint_check(const char *ep)
{
	struct sockaddr_storage ss;

	if (ep == NULL || strlen(ep) >= WGM_ENDPOINT_MAX ||
	    hostport_to_sa(ep, &ss) != 0)
		return -EINVAL;
	return 0;
}

int wgm_ifname_check(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return -EINVAL;
	n = strlen(name);
	if (n == 0 || n > WGM_IFNAME_MAX || name[0] == '-' ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return -EINVAL;
	}
	return 0;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct wgm_peer *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int wgm_peers_from_fsm(const struct fsm *f, struct wgm_peer **out,
		       size_t *n)
{
	unsigned i, cnt = fsm_member_count(f);
	struct wgm_peer *p;

	p = calloc(cnt ? cnt : 1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const struct fsm_member *m = fsm_member_at(f, i);

		p[i].id = m->id;
		memcpy(p[i].pub, m->wg_public, WGM_KEY_LEN);
		/* too long for the mesh: treated as unknown, on every member */
		if (strlen(m->overlay) < sizeof(p[i].overlay))
			strcpy(p[i].overlay, m->overlay);
		if (strlen(m->endpoint) < sizeof(p[i].endpoint))
			strcpy(p[i].endpoint, m->endpoint);
	}
	qsort(p, cnt, sizeof(*p), peer_cmp);
	*out = p;
	*n = cnt;
	return 0;
}

int wgm_alloc_from_fsm(const struct fsm *f, const struct wgm_subnet *sn,
		       char out[WGM_ADDR_MAX])
{
	unsigned i, cnt = fsm_member_count(f);
	const char **used;
	int rc;

	used = calloc(cnt ? cnt : 1, sizeof(*used));
	if (used == NULL)
		return -ENOMEM;
	for (i = 0; i < cnt; i++)
		used[i] = fsm_member_at(f, i)->overlay;
	rc = wgm_alloc(sn, used, cnt, out);
	free(used);
	return rc;
}

/* The rendered file holds the private key: sodium memory (guarded,
 * locked, wiped on free), and never realloc()ed (strbuf.h). */
static void *key_alloc(size_t n)
{
	return sodium_malloc(n);
}

static const struct strbuf_mem key_mem = { key_alloc, sodium_free };

static int key_known(const unsigned char pub[WGM_KEY_LEN])
{
	static const unsigned char zero[WGM_KEY_LEN];

	return memcmp(pub, zero, WGM_KEY_LEN) != 0;
}

/* One [Peer] section: members without a key or a valid overlay address
 * are not in the mesh yet; an invalid endpoint is left out (the peer can
 * still reach us and WireGuard learns its endpoint from that). */
static void render_peer(struct strbuf *b, const struct wgm_peer *p)
{
	char b64[B64_LEN];
	struct in_addr a;

	if (!key_known(p->pub) || inet_pton(AF_INET, p->overlay, &a) != 1)
		return;
	sodium_bin2base64(b64, sizeof(b64), p->pub, WGM_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	strbuf_addf(b, "[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n", b64,
		    p->overlay);
	if (wgm_endpoint_check(p->endpoint) == 0)
		strbuf_addf(b, "Endpoint = %s\n", p->endpoint);
	strbuf_addf(b, "PersistentKeepalive = %d\n\n", WGM_KEEPALIVE);
}

static int sorted_copy(const struct wgm_peer *peers, size_t n,
		       struct wgm_peer **out)
{
	struct wgm_peer *s;
	size_t i;

	s = malloc((n ? n : 1) * sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	if (n)
		memcpy(s, peers, n * sizeof(*s));
	qsort(s, n, sizeof(*s), peer_cmp);
	for (i = 1; i < n; i++)
		if (s[i - 1].id == s[i].id) {
			free(s);
			return -EINVAL;
		}
	*out = s;
	return 0;
}

int wgm_canonical(const struct wgm_peer *peers, size_t n, char **out,
		  size_t *len)
{
	struct wgm_peer *s = NULL;
	struct strbuf b = STRBUF_INIT;
	size_t i;
	int rc;

	rc = sorted_copy(peers, n, &s);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++)
		render_peer(&b, &s[i]);
	*out = strbuf_finish(&b, len);
	free(s);
	return *out ? 0 : -ENOMEM;
}

int wgm_hash(const struct wgm_peer *peers, size_t n,
	     unsigned char out[WGM_HASH_LEN])
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = wgm_canonical(peers, n, &text, &len);
	if (rc != 0)
		return rc;
	crypto_generichash(out, WGM_HASH_LEN, (const unsigned char *)text,
			   len, NULL, 0);
	free(text);
	return 0;
}

int wgm_render(const struct wgm_peer *peers, size_t n, uint64_t self_id,
	       const char *priv_b64, unsigned listen_port, char **out,
	       size_t *len)
{
	struct wgm_peer *s = NULL;
	unsigned char raw[WGM_KEY_LEN];
	size_t raw_len = 0, i;
	struct strbuf b;
	int rc;

	/* a private key that is not 32 bytes of base64 would make wg fail
	 * later with a message quoting the line: refuse it here */
	if (priv_b64 == NULL ||
	    sodium_base642bin(raw, sizeof(raw), priv_b64, strlen(priv_b64),
			      NULL, &raw_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    raw_len != WGM_KEY_LEN) {
		sodium_memzero(raw, sizeof(raw));
		return -EINVAL;
	}
	sodium_memzero(raw, sizeof(raw));
	if (listen_port > 65535)
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOMEM;
	rc = sorted_copy(peers, n, &s);
	if (rc != 0)
		return rc;
	strbuf_init_secret(&b, &key_mem);
	strbuf_addf(&b, "[Interface]\nPrivateKey = %s\nListenPort = %u\n\n",
		    priv_b64, listen_port ? listen_port : WGM_DEFAULT_PORT);
	for (i = 0; i < n; i++)
		if (s[i].id != self_id)
			render_peer(&b, &s[i]);
	*out = strbuf_finish(&b, len);
	free(s);
	return *out ? 0 : -ENOMEM;
}

void wgm_conf_free(char *conf, size_t len)
{
	(void)len;
	if (conf != NULL)
		sodium_free(conf);
}
