/* libFuzzer: a member's cross-check reply (node/crosscheck/xcpeer.c) and
 * the packet check the serving threads make (node/ntp/pmac.c) must take
 * any bytes. Input: one flag byte (bit 0: sign the rest with the pair
 * key, as a member would; bit 1: expect the packet's own origin, so the
 * exchange itself gets parsed), 8 bytes of t4 offset, then the datagram.
 * A sample that comes out has a finite offset and a delay no less than
 * its dispersion, and the filter and the rule take it. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/crosscheck/xcdecide.h"
#include "node/crosscheck/xcpeer.h"
#include "node/ntp/ntp.h"
#include "node/ntp/pmac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[PMAC_KEY_LEN] = { 1, 2, 3 };
	uint8_t pkt[PMAC_LEN + 16];
	struct xcp_request rq = { 0, 1700000000000000000LL, 1, 1 };
	struct xcp_sample s;
	struct xcp_peer p = { 0 };
	struct xcd_peer in[2];
	struct xcd_decision d;
	double off, half, delay;
	int64_t dt;
	size_t len;
	int rc;

	if (size < 9)
		return 0;
	memcpy(&dt, data + 1, 8);
	len = size - 9 < sizeof(pkt) ? size - 9 : sizeof(pkt);
	memcpy(pkt, data + 9, len);
	if ((data[0] & 1) && len >= PMAC_LEN) {
		pmac_sign(pkt, 77, key);
		if (len == PMAC_LEN && pmac_verify(pkt, len, key) != 0)
			abort();
	}
	(void)pmac_verify(pkt, len, key);
	(void)pmac_peek_id(pkt, len);
	if ((data[0] & 2) && len >= NTP_HDR_LEN) {
		struct ntp_hdr h;

		ntp_decode(pkt, &h);
		rq.cookie = h.org;
	}
	rc = xcp_parse_reply(pkt, len, key, 77, &rq,
			     rq.t1_ns + (dt % 4000000000000LL), 0.001, -20,
			     &s);
	if (rc != XCP_OK)
		return 0;
	if (!isfinite(s.offset) || !(s.delay >= s.disp) || rq.pending)
		abort();
	xcp_add(&p, &s);
	if (xcp_best(&p, 1, s.t_ns, 0.001, &off, &half, &delay) != 0)
		abort();
	in[0] = (struct xcd_peer){ 1, off, half };
	in[1] = (struct xcd_peer){ 2, 0, 0.001 };
	xcd_decide(0.001, in, 2, &d);
	if (d.n < 1 || d.n > 3 || d.best > d.n)
		abort();
	return 0;
}
