#include "raft/transport/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void frame_put_len(uint8_t out[4], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

uint32_t frame_get_len(const uint8_t in[4])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
	       (uint32_t)in[2] << 8 | in[3];
}

void frame_reader_init(struct frame_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->hdr_got = r->len = r->got = 0;
}

size_t frame_reader_pending(const struct frame_reader *r)
{
	if (r->buf != NULL && r->got == r->len)
		return 0; /* a complete record, already handed out */
	return r->hdr_got + r->got;
}

int frame_reader_feed(struct frame_reader *r, const uint8_t *data, size_t n,
		      size_t *used, const uint8_t **rec, size_t *len)
{
	size_t off = 0, take;

	*used = 0;
	/* The previous record was handed out: start a new one. */
	if (r->buf != NULL && r->got == r->len) {
		free(r->buf);
		r->buf = NULL;
		r->hdr_got = r->len = r->got = 0;
	}
	if (r->hdr_got < 4) {
		take = 4 - r->hdr_got;
		if (take > n)
			take = n;
		memcpy(r->hdr + r->hdr_got, data, take);
		r->hdr_got += take;
		off += take;
		if (r->hdr_got < 4) {
			*used = off;
			return 0;
		}
		r->len = frame_get_len(r->hdr);
		if (r->len == 0)
			return -EINVAL;
		if (r->len > r->max)
			return -E2BIG;
		r->buf = malloc(r->len);
		if (r->buf == NULL)
			return -ENOMEM;
		r->got = 0;
	}
	take = r->len - r->got;
	if (take > n - off)
		take = n - off;
	memcpy(r->buf + r->got, data + off, take);
	r->got += take;
	off += take;
	*used = off;
	if (r->got < r->len)
		return 0;
	*rec = r->buf;
	*len = r->len;
	return 1;
}
