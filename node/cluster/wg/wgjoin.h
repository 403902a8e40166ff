/*
 * wgjoin: the pure pieces of the WireGuard wiring of the cluster
 * (node/cluster/cluster_wg.c does the I/O): a member's public WireGuard endpoint,
 * the leader's part of a join (overlay allocation, member record), the
 * mesh in a JoinReply (encoded by a member, decoded and checked by the
 * joiner), the endpoint re-announce decision, and the node-local copy of
 * the mesh a restarted member applies before its log catches up.
 *
 * Everything here is pure (no I/O, no clock). Errors are negative errno
 * values; decoders refuse any field of the wrong size.
 */
#ifndef NTPMC_WGJOIN_H
#define NTPMC_WGJOIN_H

#include <stddef.h>
#include <stdint.h>

#include "node/cluster/wg/wgmesh.h"
#include "proto/cluster_app.pb-c.h"

#define WGJ_MAX_PEERS 64
#define WGJ_HOSTPORT_MAX 262	/* TOKEN_ENDPOINT_MAX */

struct fsm;
struct fsm_member;

/*
 * This member's public WireGuard endpoint: conf_ep (wireguard-endpoint:
 * "IP", "IP:PORT" or "[IPv6]:PORT") or, when "", the host of advertise
 * (cluster-advertise "host:port"; it must then be a numeric address, no
 * DNS ever). A missing port is wg_port. -EINVAL: not numeric / malformed.
 */
int wgj_endpoint(const char *conf_ep, const char *advertise, unsigned wg_port,
		 char out[WGM_ENDPOINT_MAX]);

/* The address a joiner dials for member m (the join token's endpoint):
 * its WireGuard endpoint's host with its raft address's port, since its
 * raft address is an overlay address a joiner cannot reach yet. -ENOENT
 * when m has no mesh record (use its raft address). */
int wgj_dial_address(const struct fsm_member *m, char out[WGJ_HOSTPORT_MAX]);

/*
 * The leader's part of a join. A joiner that manages WireGuard sends its
 * endpoint (JoinRequest.wg_endpoint); then m (already holding id, name,
 * address = cluster-advertise, ...) gets its WireGuard public key, its
 * endpoint, the lowest free overlay address of sn (neither a member's nor
 * one of reserved[], the joins still in flight) and address =
 * OVERLAY:PORT (the port of its cluster-advertise).
 * Returns 1 done, 0 not a WireGuard joiner (m unchanged), -1 refused with
 * the reason in err (bad key or endpoint, subnet full).
 */
int wgj_join_member(const Ntpmc__JoinRequest *jr, const struct fsm *f,
		    const struct wgm_subnet *sn, const char *const *reserved,
		    size_t n_reserved, struct fsm_member *m, char *err,
		    size_t errlen);

/* Storage for the mesh fields of a JoinReply (pointers into the FSM). */
struct wgj_reply_buf {
	ProtobufCBinaryData pub[WGJ_MAX_PEERS];
	char *overlay[WGJ_MAX_PEERS];
	char *endpoint[WGJ_MAX_PEERS];
	char subnet[WGM_ADDR_MAX];
};

/* Fills jr's mesh fields from the FSM, in the order of jr->member_ids
 * (already filled). subnet: the cluster's overlay subnet. Nothing is set
 * when no member has an overlay address (not a WireGuard cluster). */
void wgj_reply_fill(const struct fsm *f, const struct wgm_subnet *sn,
		    Ntpmc__JoinReply *jr, struct wgj_reply_buf *b);

/*
 * The joiner's side: the mesh of a JoinReply, checked. *peers is
 * malloc()ed, n entries, self's own entry included (its overlay in
 * overlay). -ENOENT: the reply has no mesh (not a WireGuard cluster);
 * -EINVAL: malformed (lengths, keys, addresses outside the subnet);
 * -EAGAIN: self is not listed with an overlay yet (ask again).
 */
int wgj_reply_decode(const Ntpmc__JoinReply *jr, uint64_t self,
		     struct wgm_subnet *sn, struct wgm_peer **peers, size_t *n,
		     char overlay[WGM_ADDR_MAX]);

/* 1 when the committed record me must be re-announced with endpoint
 * want (it differs and want is valid), else 0. */
int wgj_announce_needed(const struct fsm_member *me, const char *want);

/* The node-local copy of the applied mesh: a versioned binary record.
 * unpack refuses any truncation, bad length or count. */
int wgj_mesh_pack(const struct wgm_subnet *sn, const struct wgm_peer *p,
		  size_t n, void **buf, size_t *len);
int wgj_mesh_unpack(const void *buf, size_t len, struct wgm_subnet *sn,
		    struct wgm_peer **p, size_t *n);

#endif
