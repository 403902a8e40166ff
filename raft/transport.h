/*
 * rtr: the boundary between the raft driver (raft/driver*.c, owned by the
 * raftcore work) and a member-to-member transport.
 *
 * Two implementations: the real one (libuv TCP, authenticated and encrypted
 * frames, raft/wire*.c, owned by the wire work) and the in-memory simulated
 * network of tests/unit/test_raft_sim.c.
 *
 * Encoding a struct raft_message to and from protobuf (proto/cluster.proto)
 * belongs to the transport: raft/msgcodec.c, written by the wire work. The
 * driver only ever sees struct raft_message.
 *
 * Threading: everything happens on the one control-plane loop; no callback
 * is invoked from another thread, and send never calls recv re-entrantly.
 */
#ifndef NTPMC_RAFT_TRANSPORT_H
#define NTPMC_RAFT_TRANSPORT_H

#include <raft.h>

struct rtr;

/*
 * Delivered message, called by the transport when a frame from an
 * authenticated current member has been decoded.
 *
 * Ownership (mirrors libraft's RAFT_RECEIVE contract): the struct itself
 * belongs to the transport and is only valid during the call, but every
 * dynamic part is handed over to the driver, which frees it with the raft
 * heap (raft_free) whether or not the engine accepts the message:
 *  - RAFT_APPEND_ENTRIES: .entries is one raft_malloc()ed array of
 *    n_entries; all entry payloads live in ONE raft_malloc()ed block, and
 *    every entry's .batch points to that block (NULL entries when
 *    n_entries == 0).
 *  - RAFT_INSTALL_SNAPSHOT: .conf built with raft_configuration_add();
 *    .data.base raft_malloc()ed.
 * msg->server_id is the authenticated peer's raft id (a frame claiming
 * another id is dropped by the transport before this point) and
 * msg->server_address its address in the current configuration.
 */
typedef void (*rtr_recv_fn)(void *owner, struct raft_message *msg);

/*
 * Application messages (optional, added for node/cluster/cluster.c): opaque bytes
 * (proto/cluster_app.proto) carried over the same authenticated,
 * encrypted connections as raft messages, best effort, in order per peer,
 * at most RTR_APP_MAX bytes. They carry what raft does not: join requests
 * and their answers, control requests a follower forwards to the leader,
 * and members' NTP status for `ntpctl cluster status`.
 *
 * Joiners: a connection authenticated with a join token (raft/transport/hs.h,
 * hs_peer.join) belongs to a node that is not a member yet. Its raft
 * messages are dropped, but its app messages are delivered with
 * from->joiner set, and send_app to its id reaches it on that connection
 * while it is open. On the joining node, send_app with id 0 goes to the
 * member its transport reached with the token (dialing the token's
 * endpoints in turn, see the transport's own config), and replies come
 * back with from->id = that member's id.
 */
#define RTR_APP_MAX (64 * 1024)

struct rtr_from {
	raft_id id;               /* authenticated raft id of the sender */
	int joiner;               /* 1: authenticated by a join token */
	unsigned char key[32];    /* its Ed25519 identity public key */
	unsigned char token_id[8];/* joiner: the token it proved */
};

typedef void (*rtr_app_fn)(void *owner, const struct rtr_from *from,
			   const void *buf, size_t len);

struct rtr {
	/*
	 * Send msg to server id reachable at address. The transport must not
	 * keep any pointer into msg after returning (encode or copy now): the
	 * driver frees entry payloads right after. Delivery is best effort:
	 * raft tolerates loss, so an unreachable peer is not an error (return
	 * 0 and drop, or queue and reconnect). Returns a negative errno only
	 * for local failures (-ENOMEM, -EINVAL on an unencodable message).
	 */
	int (*send)(struct rtr *t, raft_id id, const char *address,
		    const struct raft_message *msg);
	/*
	 * Optional (may be NULL): the committed raft configuration changed;
	 * connections to servers not in conf must be closed ("connections
	 * close when a peer is removed"). conf is only valid
	 * during the call.
	 */
	void (*members)(struct rtr *t, const struct raft_configuration *conf);

	/* Set by the driver before the transport starts delivering. */
	rtr_recv_fn recv;
	void *owner;

	/*
	 * Optional (NULL: no app messages). Same error contract as send;
	 * -E2BIG over RTR_APP_MAX. buf is copied before returning.
	 */
	int (*send_app)(struct rtr *t, raft_id id, const char *address,
			const void *buf, size_t len);
	/* Set by node/cluster/cluster.c; NULL: app messages are dropped. */
	rtr_app_fn app_recv;
	void *app_owner;

	/*
	 * Joining node (all optional, may be NULL):
	 * join_done: the join committed; the transport stops using the
	 * token it was given (the caller frees it right after) and closes
	 * the connection it dialed with it.
	 * join_refused (set by node/cluster, called with app_owner): a
	 * member refused the token's handshake; reason is a negative
	 * raft/transport/hs.h error (-HS_ERR_TOKEN_USED, ...).
	 */
	void (*join_done)(struct rtr *t);
	void (*join_refused)(void *owner, int reason);

	/*
	 * Optional: from now on members are accepted only on a listener
	 * bound to address ("OVERLAY:PORT", the WireGuard overlay), and the
	 * first listener takes joins only. 0, or a negative errno (the
	 * first listener then keeps taking both).
	 */
	int (*member_listen)(struct rtr *t, const char *address);
};

#endif
