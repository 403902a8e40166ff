/*
 * The WireGuard mesh a joiner receives (node/cluster/wg/wgjoin.c): any bytes as a
 * JoinReply, decoded and checked (refused, never trusted half-way); and any
 * bytes as the node-local mesh record, which when accepted re-packs to the
 * very same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/cluster/wg/wgjoin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ntpmc__JoinReply *jr;
	struct wgm_subnet sn;
	struct wgm_peer *p = NULL;
	char ov[WGM_ADDR_MAX];
	size_t n = 0, len = 0, i;
	void *again = NULL;

	jr = ntpmc__join_reply__unpack(NULL, size, data);
	if (jr) {
		uint64_t self = jr->n_member_ids ? jr->member_ids[0] : 1;

		if (wgj_reply_decode(jr, self, &sn, &p, &n, ov) == 0) {
			if (!n || n > WGJ_MAX_PEERS ||
			    !wgm_subnet_contains(&sn, ov))
				abort();
			for (i = 0; i < n; i++)
				if (p[i].overlay[0] &&
				    !wgm_subnet_contains(&sn, p[i].overlay))
					abort();
			free(p);
		}
		ntpmc__join_reply__free_unpacked(jr, NULL);
	}
	if (wgj_mesh_unpack(data, size, &sn, &p, &n) == 0) {
		if (wgj_mesh_pack(&sn, p, n, &again, &len) != 0 ||
		    len != size || memcmp(again, data, size) != 0)
			abort();
		free(again);
		free(p);
	}
	return 0;
}
