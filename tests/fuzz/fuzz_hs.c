/*
 * The handshake (raft/transport/hs.c), the one parser a stranger reaches: the input
 * is split into messages fed to a server (hello, then proof) and to a
 * client (reply, then done), with a member and a live token known.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "raft/transport/hs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ident *me, *peer;
static uint8_t token_pk[TOKEN_PK_LEN] = { 7 };

static int member_key(void *ctx, uint64_t id, uint8_t pk[IDENT_PK_LEN])
{
	(void)ctx;
	if (id != 1)
		return -ENOENT;
	memcpy(pk, ident_public(peer), IDENT_PK_LEN);
	return 0;
}

static enum hs_token_state token_cb(void *ctx, const uint8_t id[TOKEN_ID_LEN],
				    const uint8_t joiner[IDENT_PK_LEN],
				    uint8_t pk[TOKEN_PK_LEN])
{
	uint8_t want[TOKEN_ID_LEN];

	(void)ctx;
	(void)joiner;
	token_id_of(token_pk, want);
	if (memcmp(id, want, TOKEN_ID_LEN) != 0)
		return HS_TOKEN_UNKNOWN;
	memcpy(pk, token_pk, TOKEN_PK_LEN);
	return HS_TOKEN_LIVE;
}

/* Two-byte length, then that many bytes (or what is left). */
static const uint8_t *next(const uint8_t **d, size_t *n, size_t *len)
{
	const uint8_t *p;

	if (*n < 2)
		return NULL;
	*len = (size_t)(*d)[0] << 8 | (*d)[1];
	*d += 2;
	*n -= 2;
	if (*len > *n)
		*len = *n;
	p = *d;
	*d += *len;
	*n -= *len;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_config c;
	uint8_t out[HS_MSG_MAX];
	const uint8_t *m;
	struct hs *h;
	size_t len, n;

	if (me == NULL && (ident_generate(&me) != 0 ||
			   ident_generate(&peer) != 0))
		return 0;
	memset(&c, 0, sizeof(c));
	c.self_id = 2;
	c.ident = me;
	c.trust.member_key = member_key;
	c.trust.token = token_cb;
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (hs_server_new(&c, &h) != 0)
			return 0;
	} else {
		if (hs_client_new(&c, 1, &h) != 0)
			return 0;
		if (hs_start(h, out, sizeof(out), &n) != 0) {
			hs_free(h);
			return 0;
		}
	}
	data++;
	size--;
	while ((m = next(&data, &size, &len)) != NULL) {
		if (hs_recv(h, m, len, out, sizeof(out), &n) != 0)
			break;
	}
	hs_free(h);
	return 0;
}
