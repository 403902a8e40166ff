/*
 * One upstream server: polling state (poll exponent, iburst, RATE
 * back-off), the 8-bit reach register, the random transmit-timestamp
 * cookie the reply must echo, kiss-o'-death handling, and its sample
 * filter. No sockets here: the engine sends what source_request() builds
 * and hands every datagram to source_reply().
 */
#ifndef NTPMC_SOURCE_H
#define NTPMC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "node/time/filter.h"

struct disc;

/* What happened to a reply; every one but SOURCE_OK is counted. */
enum source_verdict {
	SOURCE_OK,
	SOURCE_KOD_RATE,       /* valid RATE kiss: poll backed off */
	SOURCE_KOD_DENY,       /* valid DENY/RSTR kiss: source given up */
	SOURCE_BAD_LENGTH,     /* shorter than a header */
	SOURCE_BAD_VERSION,
	SOURCE_BAD_MODE,       /* not a server reply (mode 4) */
	SOURCE_UNEXPECTED,     /* nothing outstanding: late or duplicate */
	SOURCE_BAD_ORIGIN,     /* origin is not our cookie: spoofed */
	SOURCE_BAD_KOD,        /* stratum 0 with an unknown kiss code */
	SOURCE_BAD_STRATUM,    /* 16 or more */
	SOURCE_UNSYNC,         /* LI 3 from a server claiming a stratum */
	SOURCE_ZERO_TS,        /* receive or transmit timestamp zero */
	SOURCE_BAD_TIMES,      /* transmit before receive, absurd delay */
	SOURCE_BAD_DISTANCE,   /* root distance beyond any use (> 16 s) */
	SOURCE_LEAP,           /* exchange too close to a leap second */
	SOURCE_N_VERDICTS
};

struct source_params {
	int minpoll, maxpoll;  /* log2 s, -6..17 */
	int iburst;
	int prefer;
};

struct source_info {
	int poll;              /* current poll exponent */
	uint8_t reach;
	int kod;               /* 0, or the kiss code that stopped/slowed us */
	int denied;            /* DENY/RSTR: never used again */
	int stratum;           /* of the last good reply */
	int leap;
	uint32_t refid;        /* the server's refid */
	uint64_t sent, good;
	uint64_t bad[SOURCE_N_VERDICTS];
	int64_t last_rx;       /* oscillator ns of the last good reply, 0 */
};

struct source;

struct source *source_new(const struct source_params *p);
void source_free(struct source *s);
/* Forget samples and state (pool member replaced, address changed). */
void source_reset(struct source *s);

/*
 * A poll is due: shifts the reach register, draws a new cookie and fills
 * req (48 bytes). t1 is the oscillator time just before sending.
 * Returns the delay until the next poll, ns (jittered, iburst, KoD).
 */
int64_t source_request(struct source *s, uint8_t req[48], int64_t t1);
/* The kernel's transmit timestamp of the outstanding request (a clock
 * reading): replaces t1 from source_request(), which was taken before the
 * send syscall. Ignored when nothing is outstanding. */
void source_tx_time(struct source *s, int64_t t1);
/*
 * A datagram from the source's address. t4: oscillator time of the kernel
 * receive timestamp; d: the discipline (readings include its kernel part)
 * or NULL. On SOURCE_OK a sample went into the filter.
 */
enum source_verdict source_reply(struct source *s, const uint8_t *buf,
				 size_t len, int64_t t4,
				 const struct disc *d);

/*
 * Leap seconds: replies whose exchange [t1, t4] (oscillator ns) touches
 * [from, to] are discarded (SOURCE_LEAP; 0, 0 = none); a sample measured
 * across the step would be off by up to 1 s. source_leap_shift() moves
 * every stored sample by step_s when the served time scale itself steps
 * (virtual discipline), so the filter sees no jump.
 */
void source_set_guard(struct source *s, int64_t from, int64_t to);
void source_leap_shift(struct source *s, double step_s);

const struct filter *source_filter(const struct source *s);
void source_get_info(const struct source *s, struct source_info *out);

#endif
