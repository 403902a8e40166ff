/*
 * wire: the established-connection data path of the cluster transport,
 * without I/O: raft_message -> record (encode, seal) and byte stream ->
 * raft_message (split, open, decode, check the sender), with a counter for
 * every reason a frame is dropped. raft/transport/tcp.c drives it over libuv.
 */
#ifndef NTPMC_WIRE_H
#define NTPMC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "raft/transport/chan.h"
#include "raft/transport/frame.h"
#include "raft/transport/hs.h"

enum wire_drop {
	WIRE_DROP_OVERSIZED, /* record longer than the cap: connection closed */
	WIRE_DROP_TRUNCATED, /* stream ended inside a record */
	WIRE_DROP_FORGED,    /* authentication failed: connection closed */
	WIRE_DROP_MALFORMED, /* authentic, but not a RaftMsg we can decode */
	WIRE_DROP_WRONG_ID,  /* sender id is not the authenticated peer's */
	WIRE_DROP_QUEUE_FULL, /* send queue to a peer full */
	WIRE_DROP_UNENCODABLE, /* outgoing message over the size cap */
	WIRE_DROP_NO_ROUTE,  /* outgoing message to an unusable address */
	WIRE_DROP_NOT_MEMBER, /* raft message from a joiner's connection */
	WIRE_DROP_NO_APP,    /* app message with nobody to take it */
	WIRE_DROP_COUNT
};
const char *wire_drop_name(enum wire_drop d);

/* Connections refused before their handshake could start, or cut short
 * (raft/transport/tcp.h, admission). */
enum wire_refuse {
	WIRE_REFUSE_SOURCE,  /* too many pending from that address */
	WIRE_REFUSE_EVICTED, /* a pending slot given to a newer connection */
	WIRE_REFUSE_HELLO_TIMEOUT, /* no hello within TCP_HELLO_TIMEOUT_MS */
	WIRE_REFUSE_HS_TIMEOUT,    /* handshake not done within
				    * TCP_HS_TIMEOUT_MS */
	WIRE_REFUSE_ACCEPT,  /* accept() failed (descriptors, memory) */
	WIRE_REFUSE_COUNT
};
const char *wire_refuse_name(enum wire_refuse r);

#define WIRE_TX_SEGMENT 1448

struct wire_stats {
	uint64_t drops[WIRE_DROP_COUNT];
	uint64_t refused[WIRE_REFUSE_COUNT];
	uint64_t hs_failed[HS_ERR_COUNT];  /* by -hs_err: we refused */
	uint64_t hs_refused[HS_ERR_COUNT]; /* by -hs_err: the peer refused */
	uint64_t frames_rx, frames_tx;
	/* Egress, for the cost ledger: TCP payload bytes handed to the
	 * kernel (handshakes, records, keepalives) and an estimate of the
	 * segments they leave in: ceil(bytes / WIRE_TX_SEGMENT) per write
	 * (full-size segments on a 1500-byte path; pure ACKs not counted),
	 * and those segments by payload length mod 16 (a tunnel that pads
	 * to 16 bytes, as WireGuard does, adds what the lengths say). */
	uint64_t tx_bytes, tx_segments;
	uint64_t tx_seg_len16[16];
	/* What the kernel sent (TCP_INFO, raft/transport/tcpinfo.h): every
	 * segment, pure ACKs, SYN, FIN and retransmissions included, and the
	 * payload bytes sent again; 0 where the kernel does not say. */
	uint64_t tx_packets, tx_retrans_bytes;
	/* Reads that returned data: the ACKs we send for them (pure ones
	 * when we have nothing to say back in time) are egress too. */
	uint64_t rx_reads;
	uint64_t conns_in, conns_out, conns_closed;
};

/* Where decoded frames go. raft takes ownership of msg's dynamic parts
 * (raft/transport.h); app's buf is only valid during the call. */
struct wire_sink {
	void (*raft)(void *ctx, struct raft_message *msg);
	void (*app)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
};

struct wire_rx {
	struct frame_reader fr;
	struct chan *chan; /* borrowed */
	uint64_t peer_id;
	bool joiner; /* authenticated by a token: app messages only */
	struct wire_stats *stats;
};

/* A joiner's records are capped at WIRE_JOINER_RECORD_MAX: it may send
 * nothing but a join request (well under 1 KiB) and keepalives. */
#define WIRE_JOINER_PLAIN_MAX 2048
#define WIRE_JOINER_RECORD_MAX (WIRE_JOINER_PLAIN_MAX + CHAN_OVERHEAD)

void wire_rx_init(struct wire_rx *rx, struct chan *chan, uint64_t peer_id,
		  bool joiner, struct wire_stats *stats);
void wire_rx_free(struct wire_rx *rx);
/*
 * Feeds bytes received from the peer; every authentic, well-formed frame
 * from the peer is passed to deliver (which takes ownership of its dynamic
 * parts, raft/transport.h). Returns 0, or a negative errno when the
 * connection must be closed (oversized or forged record; already counted).
 */
int wire_rx_feed(struct wire_rx *rx, const uint8_t *data, size_t n,
		 const struct wire_sink *sink);
/* The peer closed: counts a truncated record if one was pending. */
void wire_rx_eof(struct wire_rx *rx);

/*
 * Encodes msg as sent by self and seals it: *out (malloc()ed) holds the
 * whole record, length prefix included. -E2BIG (counted as unencodable)
 * when over CHAN_PLAIN_MAX.
 */
int wire_tx_seal(struct chan *chan, const struct raft_message *msg,
		 uint64_t self, struct wire_stats *stats, uint8_t **out,
		 size_t *len);

/* Same for an application message. */
int wire_tx_seal_app(struct chan *chan, const void *buf, size_t len,
		     uint64_t self, struct wire_stats *stats, uint8_t **out,
		     size_t *out_len);
/* A keepalive: an empty record. */
int wire_tx_seal_ping(struct chan *chan, uint8_t **out, size_t *out_len);

/* Frees a plaintext buffer (an encoded or opened RaftMsg, an app
 * message) after wiping its len bytes: what a record carried does not
 * stay in freed heap memory. NULL is fine. */
void wire_plain_free(void *p, size_t len);

#endif
