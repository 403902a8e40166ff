#include "node/metrics/phist.h"
#include "storage/st.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "NPH1"
/* Unix hours: anything past year 2^32 s is a damaged record. */
#define HOUR_MAX (((int64_t)1 << 32) / 3600)

static void put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_f32(uint8_t *p, double d)
{
	float f = (float)d;
	uint32_t u;
	int i;

	memcpy(&u, &f, sizeof(u));
	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

static double get_f32(const uint8_t *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint8_t clamp8(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

void phist_encode(const struct phist_block *b, uint8_t *out)
{
	int m;

	memset(out, 0, PHIST_BLOCK_LEN);
	memcpy(out, MAGIC, 4);
	put_u64(out + 4, (uint64_t)b->hour);
	for (m = 0; m < 60; m++) {
		const struct phist_sample *s = &b->s[m];
		uint8_t *r = out + 12 + m * PHIST_REC_LEN;

		if (!(b->present >> m & 1))
			continue;
		r[0] = 1 | (s->synced ? 2 : 0);
		r[1] = clamp8(s->stratum);
		r[2] = clamp8(s->sources);
		r[3] = clamp8(s->reachable);
		put_f32(r + 4, s->offset);
		put_f32(r + 8, s->jitter);
		put_f32(r + 12, s->freq_ppm);
		put_f32(r + 16, s->peer_offset);
	}
}

int phist_decode(const uint8_t *buf, size_t len, struct phist_block *b)
{
	int64_t hour;
	int m;

	memset(b, 0, sizeof(*b));
	if (len != PHIST_BLOCK_LEN || memcmp(buf, MAGIC, 4) != 0)
		return -EINVAL;
	hour = (int64_t)get_u64(buf + 4);
	if (hour <= 0 || hour > HOUR_MAX)
		return -EINVAL;
	b->hour = hour;
	for (m = 0; m < 60; m++) {
		const uint8_t *r = buf + 12 + m * PHIST_REC_LEN;
		struct phist_sample *s = &b->s[m];
		int k;

		if (r[0] == 0)
			continue;
		if ((r[0] & ~3) || !(r[0] & 1) || r[1] > 16 || r[3] > r[2])
			return -EINVAL;
		s->minute = hour * 60 + m;
		s->synced = (r[0] & 2) != 0;
		s->stratum = r[1];
		s->sources = r[2];
		s->reachable = r[3];
		s->offset = get_f32(r + 4);
		s->jitter = get_f32(r + 8);
		s->freq_ppm = get_f32(r + 12);
		s->peer_offset = get_f32(r + 16);
		/* NaN means unknown; an infinity was never written */
		for (k = 0; k < 4; k++)
			if (isinf(get_f32(r + 4 + 4 * k)))
				return -EINVAL;
		b->present |= (uint64_t)1 << m;
	}
	return 0;
}

static void key_of(int64_t hour, char *key, size_t len)
{
	snprintf(key, len, "metrics/hist/%02d", (int)(hour % PHIST_HOURS));
}

int phist_record(struct st *st, const struct phist_sample *s)
{
	uint8_t out[PHIST_BLOCK_LEN];
	struct phist_block *b;
	int64_t hour = s->minute / 60;
	void *buf = NULL;
	size_t len = 0;
	char key[32];
	int rc, m = (int)(s->minute % 60);

	if (s->minute <= 0)
		return -EINVAL;
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	key_of(hour, key, sizeof(key));
	rc = st_local_get(st, key, &buf, &len);
	/* A record of another hour (the slot's previous round), or one
	 * that cannot be read, is started afresh. */
	if (rc < 0 || phist_decode(buf, len, b) < 0 || b->hour != hour) {
		memset(b, 0, sizeof(*b));
		b->hour = hour;
	}
	free(buf);
	b->s[m] = *s;
	b->present |= (uint64_t)1 << m;
	phist_encode(b, out);
	free(b);
	return st_local_put(st, key, out, sizeof(out));
}

static int by_minute(const void *a, const void *b)
{
	int64_t x = ((const struct phist_sample *)a)->minute;
	int64_t y = ((const struct phist_sample *)b)->minute;

	return (x > y) - (x < y);
}

int phist_load(struct st *st, int64_t from, int64_t to,
	       struct phist_sample **out, size_t *n, int64_t *first,
	       unsigned *bad)
{
	struct phist_sample *all;
	struct phist_block *b;
	size_t k = 0;
	int slot, m;

	*out = NULL;
	*n = 0;
	*first = 0;
	*bad = 0;
	all = malloc(sizeof(*all) * PHIST_HOURS * 60);
	b = malloc(sizeof(*b));
	if (!all || !b) {
		free(all);
		free(b);
		return -ENOMEM;
	}
	for (slot = 0; slot < PHIST_HOURS; slot++) {
		void *buf = NULL;
		size_t len = 0;
		char key[32];
		int rc;

		snprintf(key, sizeof(key), "metrics/hist/%02d", slot);
		rc = st_local_get(st, key, &buf, &len);
		if (rc == -ENOENT)
			continue;
		if (rc < 0 || phist_decode(buf, len, b) < 0 ||
		    b->hour % PHIST_HOURS != slot) {
			free(buf);
			(*bad)++;
			continue;
		}
		free(buf);
		for (m = 0; m < 60; m++) {
			const struct phist_sample *s = &b->s[m];

			if (!(b->present >> m & 1))
				continue;
			if (!*first || s->minute < *first)
				*first = s->minute;
			if (s->minute >= from && s->minute < to)
				all[k++] = *s;
		}
	}
	free(b);
	qsort(all, k, sizeof(*all), by_minute);
	*out = all;
	*n = k;
	return 0;
}
