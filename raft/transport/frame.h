/*
 * frame: splitting a TCP byte stream into length-prefixed records
 * (4-byte big-endian length, then that many bytes), with a size cap that
 * is checked before anything is allocated.
 */
#ifndef NTPMC_FRAME_H
#define NTPMC_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct frame_reader {
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *buf; /* malloc()ed once the length is known */
	size_t len, got;
	size_t max;
};

void frame_put_len(uint8_t out[4], uint32_t len);
uint32_t frame_get_len(const uint8_t in[4]);

void frame_reader_init(struct frame_reader *r, size_t max);
void frame_reader_free(struct frame_reader *r);
/*
 * Consumes up to n bytes of data (*used says how many). Returns 1 when a
 * whole record is ready in *rec / *len (valid until the next call), 0 when
 * every byte was consumed without completing one, -E2BIG when the
 * announced length exceeds the cap, -EINVAL for a zero length, -ENOMEM.
 * After an error the reader is unusable until frame_reader_free().
 */
int frame_reader_feed(struct frame_reader *r, const uint8_t *data, size_t n,
		      size_t *used, const uint8_t **rec, size_t *len);
/* Bytes of an unfinished record held (non-zero at EOF means truncated). */
size_t frame_reader_pending(const struct frame_reader *r);

#endif
