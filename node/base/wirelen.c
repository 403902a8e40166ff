/* wirelen: IP-level packet sizes; see wirelen.h. */
#include "node/base/wirelen.h"

uint32_t wirelen_wg(int outer_v6, size_t inner)
{
	/* WireGuard pads the plaintext to a multiple of 16 (paper 5.4.6). */
	size_t padded = (inner + 15) & ~(size_t)15;

	return (uint32_t)((outer_v6 ? WIRELEN_IP6 : WIRELEN_IP4) + WIRELEN_UDP +
			  WIRELEN_WG_HDR + padded + WIRELEN_WG_TAG);
}

uint64_t wirelen_tcp_stream(int wg, uint64_t bytes,
			    const uint64_t seg_len16[16], uint64_t packets)
{
	const uint64_t hdr = WIRELEN_IP4 + WIRELEN_TCP;
	uint64_t sum = bytes, data = 0;
	int k;

	if (!wg)
		return bytes + packets * hdr;
	/* A segment of payload 16q + k is wirelen_wg(hdr + k) + 16q on the
	 * wire: its payload plus wirelen_wg(hdr + k) - k. */
	for (k = 0; k < 16; k++) {
		sum += seg_len16[k] *
		       (wirelen_wg(0, hdr + (size_t)k) - (uint64_t)k);
		data += seg_len16[k];
	}
	/* Fewer packets than segments written: the kernel merged writes
	 * (each merged one saves a whole outer packet; its padding is an
	 * average guess, 8 B). */
	if (packets < data)
		return sum - (data - packets) * (hdr + wirelen_wg(0, 0) + 8);
	return sum + (packets - data) * wirelen_wg(0, hdr);
}

uint64_t wirelen_tcp(int v6, size_t payload, size_t mss, uint64_t *segments)
{
	uint64_t n;

	if (mss == 0)
		mss = WIRELEN_TCP_MSS4;
	n = payload == 0 ? 1 : (payload + mss - 1) / mss;
	if (segments != NULL)
		*segments = n;
	return (uint64_t)payload +
	       n * (uint64_t)((v6 ? WIRELEN_IP6 : WIRELEN_IP4) + WIRELEN_TCP);
}
