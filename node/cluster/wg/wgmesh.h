/*
 * wgmesh: the WireGuard mesh of the cluster, derived from the membership.
 *
 * Every member has an overlay address (allocated by the leader from the
 * overlay subnet before the member is added), a WireGuard public key and a
 * public endpoint ("IP:PORT", re-announced after boot); all three are
 * replicated in the member's FSM record (raft/fsm.h). From that list:
 *
 *  - wgm_canonical() renders the peer list of the WHOLE membership in one
 *    canonical text (sorted by raft id). It is byte-identical on every
 *    member that applied the same log, so wgm_hash() (BLAKE2b-256 of it)
 *    compares meshes across members;
 *  - wgm_render() renders the file `wg syncconf` reads for one member: its
 *    [Interface] (private key, listen port) and a [Peer] per other member
 *    whose key and overlay address are known. Allowed IPs are the peer's
 *    overlay /32 only, so the mesh never routes anything else;
 *  - wgapply.h hands that file to `wg syncconf` through a memfd (the
 *    private key never touches a disk or a log) and sets the overlay
 *    address and the link up with `ip`.
 *
 * Everything here is pure (no I/O). Errors are negative errno values.
 * IPv4 overlays only (the fleet's design: 192.168.10.0/24).
 */
#ifndef NTPMC_WGMESH_H
#define NTPMC_WGMESH_H

#include <stddef.h>
#include <stdint.h>

#define WGM_DEFAULT_SUBNET "192.168.10.0/24"
#define WGM_DEFAULT_PORT 51820
#define WGM_KEY_LEN 32
#define WGM_ADDR_MAX 46		/* INET6_ADDRSTRLEN */
#define WGM_ENDPOINT_MAX 64
#define WGM_IFNAME_MAX 15	/* IFNAMSIZ - 1 */
#define WGM_HASH_LEN 32
#define WGM_KEEPALIVE 25	/* s; keeps NAT mappings and roaming alive */

struct wgm_subnet {
	uint32_t net;		/* host order, host bits zero */
	unsigned prefix;	/* 16..30 */
};

struct wgm_peer {
	uint64_t id;			/* raft id */
	unsigned char pub[WGM_KEY_LEN];	/* all zero: unknown */
	char overlay[WGM_ADDR_MAX];	/* "" : not allocated */
	char endpoint[WGM_ENDPOINT_MAX];	/* "IP:PORT", "" : unknown */
};

struct fsm;

/* "A.B.C.D/N", N in 16..30, host bits must be zero. */
int wgm_subnet_parse(const char *text, struct wgm_subnet *out);
void wgm_subnet_format(const struct wgm_subnet *sn, char out[WGM_ADDR_MAX]);
/* 1 if addr (dotted quad) is a host address of sn. */
int wgm_subnet_contains(const struct wgm_subnet *sn, const char *addr);

/* The lowest host address of sn (network and broadcast excluded) that is
 * not in used[] (dotted quads of the current members; entries outside sn
 * or unparsable are ignored). -ENOSPC when the subnet is full. */
int wgm_alloc(const struct wgm_subnet *sn, const char *const *used,
	      size_t n_used, char out[WGM_ADDR_MAX]);

/* "IP:PORT" or "[IPv6]:PORT" with a numeric address (no DNS ever). */
int wgm_endpoint_check(const char *ep);
/* Interface name as the kernel accepts it, no leading '-'. */
int wgm_ifname_check(const char *name);

/* The members' mesh data from the FSM, sorted by id (malloc()ed). */
int wgm_peers_from_fsm(const struct fsm *f, struct wgm_peer **out,
		       size_t *n);
/* The overlay address the leader gives a joiner: wgm_alloc() over the
 * overlay addresses of the FSM's current members. */
int wgm_alloc_from_fsm(const struct fsm *f, const struct wgm_subnet *sn,
		       char out[WGM_ADDR_MAX]);

/* Canonical text of the whole membership's mesh (malloc()ed, NUL-ended;
 * *len excludes the NUL). peers[] need not be sorted. No private key. */
int wgm_canonical(const struct wgm_peer *peers, size_t n, char **out,
		  size_t *len);
/* BLAKE2b-256 of wgm_canonical(). */
int wgm_hash(const struct wgm_peer *peers, size_t n,
	     unsigned char out[WGM_HASH_LEN]);

/* The `wg syncconf` file for member self_id (sodium_malloc()ed: free it
 * with wgm_conf_free(), which zeroes it). priv_b64 is this node's private
 * key as wg prints it; listen_port 0 means WGM_DEFAULT_PORT. */
int wgm_render(const struct wgm_peer *peers, size_t n, uint64_t self_id,
	       const char *priv_b64, unsigned listen_port, char **out,
	       size_t *len);
void wgm_conf_free(char *conf, size_t len);

#endif
