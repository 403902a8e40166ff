/* wgjoin: pure pieces of the cluster's WireGuard wiring (see wgjoin.h). */
#include "node/cluster/wg/wgjoin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/base/hostport.h"
#include "raft/fsm.h"

/* "host:port" with a port: host and port. */
static int split(const char *hp, char host[WGJ_HOSTPORT_MAX], unsigned *port)
{
	if (hostport_split(hp, host, WGJ_HOSTPORT_MAX, port) < 0 || !*port)
		return -EINVAL;
	return 0;
}

int wgj_endpoint(const char *conf_ep, const char *advertise, unsigned wg_port,
		 char out[WGM_ENDPOINT_MAX])
{
	char host[WGJ_HOSTPORT_MAX];
	unsigned char tmp[16];
	unsigned port;

	if (wg_port == 0 || wg_port > 65535)
		wg_port = WGM_DEFAULT_PORT;
	if (conf_ep && conf_ep[0]) {
		if (inet_pton(AF_INET, conf_ep, tmp) == 1 ||
		    inet_pton(AF_INET6, conf_ep, tmp) == 1) {
			if (hostport_join(conf_ep, wg_port, out,
					  WGM_ENDPOINT_MAX) < 0)
				return -EINVAL;
		} else if (strlen(conf_ep) < WGM_ENDPOINT_MAX) {
			strcpy(out, conf_ep);
		} else {
			return -EINVAL;
		}
		return wgm_endpoint_check(out);
	}
	if (!advertise || split(advertise, host, &port) < 0)
		return -EINVAL;
	/* cluster-advertise may be a DNS name; an endpoint never is */
	if (inet_pton(AF_INET, host, tmp) != 1 &&
	    inet_pton(AF_INET6, host, tmp) != 1)
		return -EINVAL;
	if (hostport_join(host, wg_port, out, WGM_ENDPOINT_MAX) < 0)
		return -EINVAL;
	return wgm_endpoint_check(out);
}

int wgj_dial_address(const struct fsm_member *m, char out[WGJ_HOSTPORT_MAX])
{
	char eh[WGJ_HOSTPORT_MAX], ah[WGJ_HOSTPORT_MAX];
	unsigned ep, ap;

	if (!m->overlay[0] || split(m->endpoint, eh, &ep) < 0 ||
	    split(m->address, ah, &ap) < 0)
		return -ENOENT;
	return hostport_join(eh, ap, out, WGJ_HOSTPORT_MAX);
}

int wgj_join_member(const Ntpmc__JoinRequest *jr, const struct fsm *f,
		    const struct wgm_subnet *sn, const char *const *reserved,
		    size_t n_reserved, struct fsm_member *m, char *err,
		    size_t errlen)
{
	unsigned char pub[WGM_KEY_LEN];
	char host[WGJ_HOSTPORT_MAX], ov[WGM_ADDR_MAX];
	const char **used = NULL;
	size_t raw = 0, n, i;
	unsigned port;
	int rc;

	if (!jr->wg_endpoint || !jr->wg_endpoint[0])
		return 0;
	if (!jr->wg_public ||
	    sodium_base642bin(pub, sizeof(pub), jr->wg_public,
			      strlen(jr->wg_public), NULL, &raw, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    raw != WGM_KEY_LEN) {
		snprintf(err, errlen, "the WireGuard public key is not 32 "
			 "bytes of base64");
		return -1;
	}
	if (wgm_endpoint_check(jr->wg_endpoint) != 0 ||
	    strlen(jr->wg_endpoint) > FSM_VALUE_MAX) {
		snprintf(err, errlen, "the WireGuard endpoint is not a "
			 "numeric IP:PORT");
		return -1;
	}
	if (!jr->address || split(jr->address, host, &port) < 0) {
		snprintf(err, errlen, "the cluster address has no port");
		return -1;
	}
	n = fsm_member_count(f);
	used = calloc(n + n_reserved + 1, sizeof(*used));
	if (!used) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		used[i] = fsm_member_at(f, (unsigned)i)->overlay;
	for (i = 0; i < n_reserved; i++)
		used[n + i] = reserved[i];
	rc = wgm_alloc(sn, used, n + n_reserved, ov);
	free(used);
	if (rc == -ENOSPC) {
		char s[WGM_ADDR_MAX];

		wgm_subnet_format(sn, s);
		snprintf(err, errlen, "the overlay subnet %s is full: no "
			 "address left for a new member", s);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot allocate an overlay address");
		return -1;
	}
	memcpy(m->wg_public, pub, WGM_KEY_LEN);
	snprintf(m->overlay, sizeof(m->overlay), "%s", ov);
	snprintf(m->endpoint, sizeof(m->endpoint), "%s", jr->wg_endpoint);
	hostport_join(ov, port, m->address, sizeof(m->address));
	return 1;
}

void wgj_reply_fill(const struct fsm *f, const struct wgm_subnet *sn,
		    Ntpmc__JoinReply *jr, struct wgj_reply_buf *b)
{
	size_t i, any = 0;

	for (i = 0; i < jr->n_member_ids && i < WGJ_MAX_PEERS; i++) {
		const struct fsm_member *m =
			fsm_member_find(f, jr->member_ids[i]);
		static char empty[1];
		static const unsigned char zero[WGM_KEY_LEN];

		b->pub[i].data = NULL;
		b->pub[i].len = 0;
		b->overlay[i] = b->endpoint[i] = empty;
		if (!m)
			continue;
		if (memcmp(m->wg_public, zero, WGM_KEY_LEN) != 0) {
			b->pub[i].data = (uint8_t *)m->wg_public;
			b->pub[i].len = WGM_KEY_LEN;
		}
		b->overlay[i] = (char *)m->overlay;
		b->endpoint[i] = (char *)m->endpoint;
		any += m->overlay[0] != 0;
	}
	if (!any)
		return;
	wgm_subnet_format(sn, b->subnet);
	jr->overlay_subnet = b->subnet;
	jr->n_member_wg_public = jr->n_member_overlays = i;
	jr->n_member_endpoints = i;
	jr->member_wg_public = b->pub;
	jr->member_overlays = b->overlay;
	jr->member_endpoints = b->endpoint;
}

int wgj_reply_decode(const Ntpmc__JoinReply *jr, uint64_t self,
		     struct wgm_subnet *sn, struct wgm_peer **peers, size_t *n,
		     char overlay[WGM_ADDR_MAX])
{
	size_t i, k, cnt = jr->n_member_ids;
	struct wgm_peer *p;
	int found = 0;

	if (!jr->overlay_subnet || !jr->overlay_subnet[0])
		return -ENOENT;
	if (wgm_subnet_parse(jr->overlay_subnet, sn) != 0 ||
	    cnt == 0 || cnt > WGJ_MAX_PEERS ||
	    jr->n_member_wg_public != cnt || jr->n_member_overlays != cnt ||
	    jr->n_member_endpoints != cnt)
		return -EINVAL;
	p = calloc(cnt, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const char *ov = jr->member_overlays[i];
		const char *ep = jr->member_endpoints[i];

		p[i].id = jr->member_ids[i];
		for (k = 0; k < i; k++)
			if (p[k].id == p[i].id)
				goto bad;  /* one record per member */
		if ((jr->member_wg_public[i].len != 0 &&
		     jr->member_wg_public[i].len != WGM_KEY_LEN) ||
		    !ov || strlen(ov) >= WGM_ADDR_MAX ||
		    (ov[0] && !wgm_subnet_contains(sn, ov)) ||
		    !ep || strlen(ep) >= WGM_ENDPOINT_MAX ||
		    (ep[0] && wgm_endpoint_check(ep) != 0))
			goto bad;
		if (jr->member_wg_public[i].len)
			memcpy(p[i].pub, jr->member_wg_public[i].data,
			       WGM_KEY_LEN);
		strcpy(p[i].overlay, ov);
		strcpy(p[i].endpoint, ep);
		if (p[i].id == self && ov[0]) {
			strcpy(overlay, ov);
			found = 1;
		}
	}
	if (!found) {
		free(p);
		return -EAGAIN;
	}
	*peers = p;
	*n = cnt;
	return 0;
bad:
	free(p);
	return -EINVAL;
}

int wgj_announce_needed(const struct fsm_member *me, const char *want)
{
	if (!me || !me->overlay[0] || !want || wgm_endpoint_check(want) != 0)
		return 0;
	return strcmp(me->endpoint, want) != 0;
}

/* Node-local mesh record: "WGM1", net (4, big endian), prefix (1), count
 * (2), then per peer: id (8), key (32), overlay length (1) and bytes,
 * endpoint length (1) and bytes. */
#define PACK_MAGIC "WGM1"

int wgj_mesh_pack(const struct wgm_subnet *sn, const struct wgm_peer *p,
		  size_t n, void **buf, size_t *len)
{
	size_t cap = 11 + n * (8 + WGM_KEY_LEN + 2 + WGM_ADDR_MAX +
			       WGM_ENDPOINT_MAX), o = 0, i, l;
	unsigned char *b;
	int k;

	if (n > WGJ_MAX_PEERS)
		return -EINVAL;
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	memcpy(b, PACK_MAGIC, 4);
	for (k = 0; k < 4; k++)
		b[4 + k] = (unsigned char)(sn->net >> (24 - 8 * k));
	b[8] = (unsigned char)sn->prefix;
	b[9] = (unsigned char)(n >> 8);
	b[10] = (unsigned char)n;
	o = 11;
	for (i = 0; i < n; i++) {
		for (k = 0; k < 8; k++)
			b[o++] = (unsigned char)(p[i].id >> (56 - 8 * k));
		memcpy(b + o, p[i].pub, WGM_KEY_LEN);
		o += WGM_KEY_LEN;
		l = strnlen(p[i].overlay, WGM_ADDR_MAX - 1);
		b[o++] = (unsigned char)l;
		memcpy(b + o, p[i].overlay, l);
		o += l;
		l = strnlen(p[i].endpoint, WGM_ENDPOINT_MAX - 1);
		b[o++] = (unsigned char)l;
		memcpy(b + o, p[i].endpoint, l);
		o += l;
	}
	*buf = b;
	*len = o;
	return 0;
}

static int take_str(const unsigned char *b, size_t len, size_t *o, char *out,
		    size_t max)
{
	size_t l;

	if (*o >= len)
		return -EINVAL;
	l = b[(*o)++];
	if (l >= max || len - *o < l || memchr(b + *o, 0, l) != NULL)
		return -EINVAL;
	memcpy(out, b + *o, l);
	out[l] = 0;
	*o += l;
	return 0;
}

int wgj_mesh_unpack(const void *buf, size_t len, struct wgm_subnet *sn,
		    struct wgm_peer **out, size_t *n)
{
	const unsigned char *b = buf;
	struct wgm_peer *p;
	char text[WGM_ADDR_MAX + 4], net[WGM_ADDR_MAX];
	size_t cnt, i, o = 11;
	uint32_t v = 0;
	int k;

	if (!b || len < 11 || memcmp(b, PACK_MAGIC, 4) != 0)
		return -EINVAL;
	for (k = 0; k < 4; k++)
		v = v << 8 | b[4 + k];
	/* through the parser: the same rules as everywhere else */
	{
		struct in_addr a = { .s_addr = htonl(v) };

		inet_ntop(AF_INET, &a, net, sizeof(net));
	}
	snprintf(text, sizeof(text), "%s/%u", net, b[8]);
	if (wgm_subnet_parse(text, sn) != 0)
		return -EINVAL;
	cnt = (size_t)b[9] << 8 | b[10];
	if (cnt == 0 || cnt > WGJ_MAX_PEERS)
		return -EINVAL;
	p = calloc(cnt, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		if (len - o < 8 + WGM_KEY_LEN)
			goto bad;
		for (k = 0; k < 8; k++)
			p[i].id = p[i].id << 8 | b[o++];
		memcpy(p[i].pub, b + o, WGM_KEY_LEN);
		o += WGM_KEY_LEN;
		/* what is applied must be what was saved: the same checks
		 * as a JoinReply's (which also refuse embedded NULs) */
		if (take_str(b, len, &o, p[i].overlay, WGM_ADDR_MAX) < 0 ||
		    take_str(b, len, &o, p[i].endpoint,
			     WGM_ENDPOINT_MAX) < 0 ||
		    (p[i].overlay[0] && !wgm_subnet_contains(sn, p[i].overlay)) ||
		    (p[i].endpoint[0] && wgm_endpoint_check(p[i].endpoint)))
			goto bad;
	}
	if (o != len)
		goto bad;
	*out = p;
	*n = cnt;
	return 0;
bad:
	free(p);
	return -EINVAL;
}
