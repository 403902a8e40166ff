/* wirelen: IP-level packet sizes; see wirelen.h. */
#include "node/base/wirelen.h"

uint32_t wirelen_wg(int outer_v6, size_t inner)
{
	/* WireGuard pads the plaintext to a multiple of 16 (paper 5.4.6). */
	size_t padded = (inner + 15) & ~(size_t)15;

	return (uint32_t)((outer_v6 ? WIRELEN_IP6 : WIRELEN_IP4) + WIRELEN_UDP +
			  WIRELEN_WG_HDR + padded + WIRELEN_WG_TAG);
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
