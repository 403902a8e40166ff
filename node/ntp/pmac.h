/*
 * pmac: the authenticated NTP exchange between cluster members (the
 * cross-check, node/crosscheck). Pure functions over the packet bytes.
 *
 * A packet is a 48-byte NTP header (mode 3 request, mode 4 reply)
 * followed by the trailer of an RFC 5905 7.3 symmetric-key MAC:
 *
 *   48  key id, 4 bytes big-endian: the SENDER's (pmac_key_id of its
 *       raft id), so the receiver knows which pair key to use
 *   52  tag, 16 bytes: BLAKE2b-128 keyed with the pair key, over a label
 *       and bytes 0..51 (header and key id)
 *
 * 68 bytes in all: to a public server it is an MD5-authenticated request
 * it holds no key for (ours drops it as NTP_DROP_AUTH), so nothing but a
 * member holding the pair key gets an answer. The mode is inside the tag:
 * a request cannot be passed off as a reply. The pair key is the two
 * members' own (node/cluster's cluster_pair_key), never on the wire.
 */
#ifndef NTPMC_PMAC_H
#define NTPMC_PMAC_H

#include <stddef.h>
#include <stdint.h>

#include "node/ntp/ntp.h"

#define PMAC_KEY_LEN 32
#define PMAC_TAG_LEN 16
#define PMAC_LEN (NTP_HDR_LEN + 4 + PMAC_TAG_LEN)   /* 68 */

/* The key id of a member: its raft id folded to 32 bits, never 0. */
uint32_t pmac_key_id(uint64_t raft_id);
/* The sender's key id of a packet of PMAC_LEN bytes; 0 when len is not. */
uint32_t pmac_peek_id(const uint8_t *pkt, size_t len);
/* Writes key id and tag after the 48-byte header in pkt (PMAC_LEN). */
void pmac_sign(uint8_t *pkt, uint32_t key_id,
	       const uint8_t key[PMAC_KEY_LEN]);
/* 0 when pkt is PMAC_LEN bytes and its tag is key's; -1 otherwise. */
int pmac_verify(const uint8_t *pkt, size_t len,
		const uint8_t key[PMAC_KEY_LEN]);

#endif
