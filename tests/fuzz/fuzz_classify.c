/* libFuzzer: the request classifier and the header codec must accept any
 * bytes; a header decoded then encoded gives the same 48 bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/ntp/ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ntp_class c = ntp_classify(data, size);
	struct ntp_hdr h;
	uint8_t out[NTP_HDR_LEN];

	if (c > NTP_DROP_AUTH)
		abort();
	if (size < NTP_HDR_LEN) {
		if (c != NTP_DROP_SHORT)
			abort();
		return 0;
	}
	ntp_decode(data, &h);
	ntp_encode(&h, out);
	if (memcmp(out, data, NTP_HDR_LEN) != 0)
		abort();
	if (c == NTP_CLIENT && h.mode != NTP_MODE_CLIENT &&
	    !(h.version == 1 && h.mode == 0))
		abort();
	return 0;
}
