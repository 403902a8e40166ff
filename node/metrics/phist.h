/*
 * phist: the member's own history, one sample a minute, kept in the
 * node-local table (storage/st.h) for `ntpctl pool-check`. One record per
 * hour (key "metrics/hist/NN", NN = Unix hour mod PHIST_HOURS) holding its
 * 60 minutes, so the history is bounded: PHIST_HOURS records of
 * PHIST_BLOCK_LEN bytes, the oldest hour overwritten by the newest.
 *
 * The record format (little-endian): "NPH1", the Unix hour (int64), then
 * 60 minutes of PHIST_REC_LEN bytes: flags (bit 0 sampled, bit 1 synced),
 * stratum, sources configured, sources reachable, then four float32:
 * offset to the sources, jitter (s), frequency (ppm), largest offset to
 * a peer (s, NaN until the cross-check measures one).
 */
#ifndef NTPMC_PHIST_H
#define NTPMC_PHIST_H

#include <stddef.h>
#include <stdint.h>

#define PHIST_HOURS 72          /* 3 days: more than the pool's 48 h */
#define PHIST_REC_LEN 20
#define PHIST_BLOCK_LEN (4 + 8 + 60 * PHIST_REC_LEN)

struct st;

struct phist_sample {
	int64_t minute;         /* Unix minute */
	int synced;             /* the replies carried LI 0..2 */
	int stratum;
	int sources, reachable;
	double offset;          /* s: combined sources minus served time at
				   the last clock update; NaN unknown */
	double jitter;          /* s */
	double freq_ppm;
	double peer_offset;     /* s: largest |offset| to a peer; NaN */
};

struct phist_block {
	int64_t hour;           /* Unix hour */
	uint64_t present;       /* bit m: minute m was sampled */
	struct phist_sample s[60];
};

/* Pure codec: out holds PHIST_BLOCK_LEN bytes. decode: 0, or -EINVAL for
 * a record of the wrong size, magic or contents. */
void phist_encode(const struct phist_block *b, uint8_t *out);
int phist_decode(const uint8_t *buf, size_t len, struct phist_block *b);

/* Records s in its hour's record (read, changed, written: one short
 * write transaction). 0 or a negative errno from the store. */
int phist_record(struct st *st, const struct phist_sample *s);

/*
 * The samples of [from, to) (Unix minutes), oldest first, in a malloc()ed
 * array (caller frees) and the oldest minute held at all (*first, 0 when
 * none); *bad counts records that could not be read (skipped).
 * 0 or -ENOMEM.
 */
int phist_load(struct st *st, int64_t from, int64_t to,
	       struct phist_sample **out, size_t *n, int64_t *first,
	       unsigned *bad);

#endif
