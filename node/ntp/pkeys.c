/*
 * The pair-key table: see pkeys.h. Word layout: [0] self id and count,
 * then per entry one word for the key id and four for the key.
 */
#include "node/ntp/pkeys.h"

#include <stdatomic.h>
#include <string.h>

#define KEY_WORDS (PMAC_KEY_LEN / 8)
#define ENTRY_WORDS (1 + KEY_WORDS)
#define WORDS (1 + PKEYS_MAX * ENTRY_WORDS)

static _Atomic uint32_t pk_seq;     /* odd while writing */
static _Atomic uint64_t pk_words[WORDS];

static void write_words(const uint64_t *w)
{
	uint32_t seq = atomic_load_explicit(&pk_seq, memory_order_relaxed);
	size_t i;

	atomic_store_explicit(&pk_seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < WORDS; i++)
		atomic_store_explicit(&pk_words[i], w[i],
				      memory_order_relaxed);
	atomic_store_explicit(&pk_seq, seq + 2, memory_order_release);
}

int pkeys_set(uint32_t self_id, const struct pkeys_entry *e, size_t n)
{
	static uint64_t w[WORDS];   /* writer's scratch: off the stack */
	size_t i;

	if (n > PKEYS_MAX)
		return -1;
	memset(w, 0, sizeof(w));
	w[0] = (uint64_t)self_id << 32 | (uint32_t)n;
	for (i = 0; i < n; i++) {
		w[1 + i * ENTRY_WORDS] = e[i].key_id;
		memcpy(&w[2 + i * ENTRY_WORDS], e[i].key, PMAC_KEY_LEN);
	}
	write_words(w);
	memset(w, 0, sizeof(w));
	return 0;
}

void pkeys_clear(void)
{
	static const uint64_t zero[WORDS];

	write_words(zero);
}

int pkeys_find(uint32_t key_id, uint8_t key[PMAC_KEY_LEN],
	       uint32_t *self_id)
{
	uint64_t k[KEY_WORDS], head;
	uint32_t s1, s2, n;
	size_t i, j;
	int found;

	if (key_id == 0)
		return -1;
	for (;;) {
		s1 = atomic_load_explicit(&pk_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		head = atomic_load_explicit(&pk_words[0],
					    memory_order_relaxed);
		n = (uint32_t)head;
		found = 0;
		for (i = 0; i < n && i < PKEYS_MAX && !found; i++) {
			const _Atomic uint64_t *e =
				&pk_words[1 + i * ENTRY_WORDS];

			if (atomic_load_explicit(&e[0], memory_order_relaxed) !=
			    key_id)
				continue;
			for (j = 0; j < KEY_WORDS; j++)
				k[j] = atomic_load_explicit(
					&e[1 + j], memory_order_relaxed);
			found = 1;
		}
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&pk_seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	if (!found || key_id == (uint32_t)(head >> 32))
		found = 0;
	else
		memcpy(key, k, PMAC_KEY_LEN);
	if (self_id)
		*self_id = (uint32_t)(head >> 32);
	memset(k, 0, sizeof(k));
	return found ? 0 : -1;
}
