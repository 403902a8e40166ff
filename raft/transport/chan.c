#include "raft/transport/chan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "raft/transport/frame.h"

_Static_assert(CHAN_OVERHEAD == crypto_secretstream_xchacha20poly1305_ABYTES,
	       "secretstream overhead");
_Static_assert(CHAN_HEADER_LEN ==
		       crypto_secretstream_xchacha20poly1305_HEADERBYTES,
	       "secretstream header");
_Static_assert(CHAN_KEY_LEN == crypto_secretstream_xchacha20poly1305_KEYBYTES,
	       "secretstream key");

struct chan_secret {
	crypto_secretstream_xchacha20poly1305_state tx;
	crypto_secretstream_xchacha20poly1305_state rx;
	uint8_t rx_key[CHAN_KEY_LEN]; /* until the peer's header arrives */
};

struct chan {
	struct chan_secret *s; /* sodium_malloc()ed, zeroed on free */
	bool rx_ready;
	bool rx_failed; /* a failed stream stays failed */
	uint32_t rekey_msgs;
	uint32_t tx_since;   /* records since the last rekey */
	uint64_t tx_bytes;   /* plaintext bytes since the last rekey */
	uint64_t rekeys_tx, rekeys_rx;
};

int chan_new(const uint8_t tx_key[CHAN_KEY_LEN],
	     const uint8_t rx_key[CHAN_KEY_LEN],
	     uint8_t tx_header[CHAN_HEADER_LEN], struct chan **out)
{
	struct chan *c;

	if (sodium_init() < 0)
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->s = sodium_malloc(sizeof(*c->s));
	if (c->s == NULL) {
		free(c);
		return -ENOMEM;
	}
	crypto_secretstream_xchacha20poly1305_init_push(&c->s->tx, tx_header,
							tx_key);
	memcpy(c->s->rx_key, rx_key, CHAN_KEY_LEN);
	c->rekey_msgs = CHAN_REKEY_MSGS;
	*out = c;
	return 0;
}

int chan_set_rx_header(struct chan *c, const uint8_t hdr[CHAN_HEADER_LEN])
{
	int rc;

	if (c->rx_ready)
		return -EALREADY;
	rc = crypto_secretstream_xchacha20poly1305_init_pull(&c->s->rx, hdr,
							     c->s->rx_key);
	sodium_memzero(c->s->rx_key, sizeof(c->s->rx_key));
	if (rc != 0)
		return -EINVAL;
	c->rx_ready = true;
	return 0;
}

void chan_free(struct chan *c)
{
	if (c == NULL)
		return;
	sodium_free(c->s);
	free(c);
}

void chan_set_rekey_interval(struct chan *c, uint32_t msgs)
{
	c->rekey_msgs = msgs ? msgs : CHAN_REKEY_MSGS;
}

size_t chan_sealed_len(size_t len)
{
	return CHAN_LEN_PREFIX + len + CHAN_OVERHEAD;
}

int chan_seal(struct chan *c, const uint8_t *pt, size_t len, uint8_t *out,
	      size_t cap)
{
	unsigned char tag = 0;
	unsigned long long clen = 0;

	if (len > CHAN_PLAIN_MAX)
		return -E2BIG;
	if (cap < chan_sealed_len(len))
		return -ENOBUFS;
	c->tx_since++;
	c->tx_bytes += len;
	if (c->tx_since >= c->rekey_msgs || c->tx_bytes >= CHAN_REKEY_BYTES)
		tag = crypto_secretstream_xchacha20poly1305_TAG_REKEY;
	if (crypto_secretstream_xchacha20poly1305_push(
		    &c->s->tx, out + CHAN_LEN_PREFIX, &clen, pt, len, NULL, 0,
		    tag) != 0)
		return -EINVAL;
	/* push() with TAG_REKEY has already moved the state to the new key. */
	if (tag != 0) {
		c->tx_since = 0;
		c->tx_bytes = 0;
		c->rekeys_tx++;
	}
	frame_put_len(out, (uint32_t)clen);
	return 0;
}

int chan_open(struct chan *c, const uint8_t *rec, size_t len, uint8_t *pt,
	      size_t *pt_len)
{
	unsigned long long mlen = 0;
	unsigned char tag = 0;

	if (!c->rx_ready || c->rx_failed)
		return -EBADMSG;
	if (len < CHAN_OVERHEAD || len > CHAN_RECORD_MAX) {
		c->rx_failed = true;
		return -EBADMSG;
	}
	if (crypto_secretstream_xchacha20poly1305_pull(&c->s->rx, pt, &mlen,
						       &tag, rec, len, NULL,
						       0) != 0) {
		c->rx_failed = true;
		return -EBADMSG;
	}
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_REKEY)
		c->rekeys_rx++;
	else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
		/* We never send PUSH or FINAL: refuse what we never sent. */
		c->rx_failed = true;
		return -EBADMSG;
	}
	*pt_len = (size_t)mlen;
	return 0;
}

uint64_t chan_rekeys_tx(const struct chan *c)
{
	return c->rekeys_tx;
}

uint64_t chan_rekeys_rx(const struct chan *c)
{
	return c->rekeys_rx;
}
