/* libFuzzer: request bytes + a time state taken from the input. Whatever
 * the classifier accepts gets a reply no longer than the request, mode 4,
 * the request's version and poll, origin = the request's transmit time. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/ntp/ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ST_BYTES 48

static void check(const uint8_t *req, size_t len, const uint8_t *rep,
		  size_t rlen, int kod)
{
	struct ntp_hdr h;

	if (rlen != NTP_HDR_LEN || rlen > len)
		abort();
	ntp_decode(rep, &h);
	if (h.mode != NTP_MODE_SERVER || h.version != ((req[0] >> 3) & 7) ||
	    (uint8_t)h.poll != req[2] || memcmp(rep + 24, req + 40, 8) != 0)
		abort();
	if (kod && (h.stratum != 0 || h.refid != NTP_KOD_RATE || h.leap != 3))
		abort();
	if (!kod && (h.leap == 3 || h.stratum == 0) &&
	    (h.stratum != 0 || h.refid != 0 || h.leap != 3))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tstate st;
	uint8_t rep[NTP_HDR_LEN];
	const uint8_t *req;
	int64_t rx;
	size_t len, rlen;

	if (size < ST_BYTES)
		return 0;
	/* First bytes: the time state (any bits, even NaN doubles). */
	memcpy(&st, data, sizeof(st) < ST_BYTES ? sizeof(st) : ST_BYTES);
	st.leap &= 3;
	memcpy(&rx, data + ST_BYTES - 8, 8);
	req = data + ST_BYTES;
	len = size - ST_BYTES;
	if (ntp_classify(req, len) != NTP_CLIENT)
		return 0;
	rlen = ntp_build_reply(req, &st, rx, rep);
	ntp_set_xmt(rep, rx);
	check(req, len, rep, rlen, 0);
	rlen = ntp_build_kod(req, &st, rx, rep);
	check(req, len, rep, rlen, 1);
	return 0;
}
