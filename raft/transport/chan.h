/*
 * chan: the encrypted, authenticated record layer of one cluster
 * connection, after the handshake (raft/transport/hs.h) has produced one key per
 * direction.
 *
 * Each direction is one crypto_secretstream_xchacha20poly1305 stream: the
 * sender's 24-byte header travels in the handshake, then every record on
 * the wire is a 4-byte big-endian length followed by one secretstream
 * message (17 bytes of overhead). The stream's implicit counter makes a
 * replayed, reordered, dropped or forged record fail authentication, and
 * the connection must then be closed: the stream cannot resynchronise.
 *
 * Rekey: every CHAN_REKEY_MSGS records or CHAN_REKEY_BYTES plaintext bytes
 * the sender tags a record TAG_REKEY; both sides then move to a new key
 * derived from the old one (libsodium's in-stream rekey), so a key never
 * protects more than that much data and old keys cannot be recovered from
 * the current state.
 *
 * Errors are negative errno values; -EBADMSG means authentication failed.
 */
#ifndef NTPMC_CHAN_H
#define NTPMC_CHAN_H

#include <stddef.h>
#include <stdint.h>

#define CHAN_KEY_LEN 32
#define CHAN_HEADER_LEN 24
#define CHAN_OVERHEAD 17 /* crypto_secretstream_xchacha20poly1305_ABYTES */
#define CHAN_LEN_PREFIX 4
/* Largest plaintext record: bounds AppendEntries batches and snapshots. */
#define CHAN_PLAIN_MAX ((size_t)8 << 20)
#define CHAN_RECORD_MAX (CHAN_PLAIN_MAX + CHAN_OVERHEAD)
#define CHAN_REKEY_MSGS 4096
#define CHAN_REKEY_BYTES ((uint64_t)256 << 20)

struct chan;

/* tx_header receives this side's stream header, to send to the peer. */
int chan_new(const uint8_t tx_key[CHAN_KEY_LEN],
	     const uint8_t rx_key[CHAN_KEY_LEN],
	     uint8_t tx_header[CHAN_HEADER_LEN], struct chan **out);
/* The peer's stream header; records can be opened only after this. */
int chan_set_rx_header(struct chan *c, const uint8_t hdr[CHAN_HEADER_LEN]);
void chan_free(struct chan *c);
/* Tests: rekey after this many records (0 keeps the default). */
void chan_set_rekey_interval(struct chan *c, uint32_t msgs);

/* Bytes a sealed record of len plaintext bytes takes on the wire. */
size_t chan_sealed_len(size_t len);
/*
 * Encrypts pt into out (cap >= chan_sealed_len(len)): length prefix and
 * secretstream message. -E2BIG if len > CHAN_PLAIN_MAX.
 */
int chan_seal(struct chan *c, const uint8_t *pt, size_t len, uint8_t *out,
	      size_t cap);
/*
 * Decrypts one record body (without its length prefix) into pt (cap >=
 * len - CHAN_OVERHEAD). -EBADMSG on any authentication failure, after
 * which every later record fails too.
 */
int chan_open(struct chan *c, const uint8_t *rec, size_t len, uint8_t *pt,
	      size_t *pt_len);

/* Counters (for tests and metrics). */
uint64_t chan_rekeys_tx(const struct chan *c);
uint64_t chan_rekeys_rx(const struct chan *c);

#endif
