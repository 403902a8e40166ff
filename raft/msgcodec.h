/*
 * msgcodec: struct raft_message <-> RaftMsg (proto/raftmsg.proto), the
 * plaintext of one transport record.
 *
 * Decoding follows raft/transport.h's ownership contract: the dynamic
 * parts are allocated on the raft heap (raft_malloc) and handed to the
 * driver. Decoding is bounded: the input is at most CHAN_PLAIN_MAX bytes and
 * protobuf-c's allocations are capped at a small multiple of the input, so a
 * malicious frame cannot make the decoder allocate much more than it sent.
 *
 * Errors are negative errno values: -EINVAL malformed, -E2BIG over a cap,
 * -ENOMEM.
 */
#ifndef NTPMC_MSGCODEC_H
#define NTPMC_MSGCODEC_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#define MSGCODEC_VERSION 1
#define MSGCODEC_MAX_SERVERS 256 /* in an InstallSnapshot configuration */

/*
 * Encodes msg as sent by sender (msg->server_id, the destination, is not
 * encoded) into a malloc()ed *out of *len bytes. -E2BIG when the encoding
 * would exceed max bytes.
 */
int msgcodec_encode(const struct raft_message *msg, raft_id sender,
		    size_t max, uint8_t **out, size_t *len);
/*
 * Decodes buf into msg. msg->server_id is the id the sender claims (the
 * transport checks it against the authenticated peer); server_address is
 * left NULL. On error nothing is left allocated.
 */
int msgcodec_decode(const uint8_t *buf, size_t len, struct raft_message *msg);
/*
 * Application messages (raft/transport.h send_app) share the frame:
 * encode_app wraps buf; decode_frame decodes either kind: for an app
 * message it returns 0 with msg->type == 0, msg->server_id the claimed
 * sender, and *app / *app_len a malloc()ed copy (NULL, 0 for raft).
 */
int msgcodec_encode_app(raft_id sender, const void *buf, size_t len,
			size_t max, uint8_t **out, size_t *out_len);
int msgcodec_decode_frame(const uint8_t *buf, size_t len,
			  struct raft_message *msg, uint8_t **app,
			  size_t *app_len);
/* Frees the dynamic parts of a decoded message the driver did not take. */
void msgcodec_release(struct raft_message *msg);

#endif
