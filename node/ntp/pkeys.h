/*
 * pkeys: the published table of pair keys for authenticated member
 * exchanges (pmac.h): one writer (the cross-check, on the loop), many
 * lock-free readers (serving threads answering members' requests). A
 * seqlock over atomic words, as tstate.c: readers never block.
 *
 * Entry i holds the key this node shares with the member whose key id
 * (pmac_key_id) is key_id; self_id is our own key id, which replies carry.
 * The keys live in static memory, zeroed by pkeys_clear().
 */
#ifndef NTPMC_PKEYS_H
#define NTPMC_PKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "node/ntp/pmac.h"

#define PKEYS_MAX 64

struct pkeys_entry {
	uint32_t key_id;
	uint8_t key[PMAC_KEY_LEN];
};

/* Replaces the table. -1 (table unchanged) when n > PKEYS_MAX. */
int pkeys_set(uint32_t self_id, const struct pkeys_entry *e, size_t n);
/* Empties the table and zeroes the keys. */
void pkeys_clear(void);
/* Any thread: 0, the key shared with key_id and our own key id; -1 when
 * key_id is 0, ours, or not in the table. */
int pkeys_find(uint32_t key_id, uint8_t key[PMAC_KEY_LEN],
	       uint32_t *self_id);

#endif
