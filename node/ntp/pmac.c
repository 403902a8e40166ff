/* The authenticated member exchange: see pmac.h. */
#include "node/ntp/pmac.h"

#include <sodium.h>
#include <string.h>

/* Domain separation: this tag means nothing to any other use of a key. */
static const char label[] = "ntpmc crosscheck v1";

uint32_t pmac_key_id(uint64_t raft_id)
{
	uint32_t id = (uint32_t)(raft_id ^ (raft_id >> 32));

	return id ? id : 1;
}

uint32_t pmac_peek_id(const uint8_t *pkt, size_t len)
{
	const uint8_t *p = pkt + NTP_HDR_LEN;

	if (len != PMAC_LEN)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void tag(const uint8_t *pkt, const uint8_t key[PMAC_KEY_LEN],
		uint8_t out[PMAC_TAG_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, PMAC_KEY_LEN, PMAC_TAG_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, pkt, NTP_HDR_LEN + 4);
	crypto_generichash_final(&st, out, PMAC_TAG_LEN);
	sodium_memzero(&st, sizeof(st));
}

void pmac_sign(uint8_t *pkt, uint32_t key_id,
	       const uint8_t key[PMAC_KEY_LEN])
{
	uint8_t *p = pkt + NTP_HDR_LEN;

	p[0] = (uint8_t)(key_id >> 24);
	p[1] = (uint8_t)(key_id >> 16);
	p[2] = (uint8_t)(key_id >> 8);
	p[3] = (uint8_t)key_id;
	tag(pkt, key, p + 4);
}

int pmac_verify(const uint8_t *pkt, size_t len,
		const uint8_t key[PMAC_KEY_LEN])
{
	uint8_t want[PMAC_TAG_LEN];
	int rc;

	if (len != PMAC_LEN)
		return -1;
	tag(pkt, key, want);
	rc = crypto_verify_16(want, pkt + NTP_HDR_LEN + 4);
	sodium_memzero(want, sizeof(want));
	return rc == 0 ? 0 : -1;
}
