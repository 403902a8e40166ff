/*
 * rwin: a rotation schedule's windows, the times of the week (UTC) a
 * member is planned on. Pure: no clock, no allocation.
 *
 *   always | never | WINDOW[, WINDOW ...]
 *   WINDOW = DAYS [HH:MM-HH:MM] | HH:MM-HH:MM
 *   DAYS   = DAY | DAY-DAY        DAY = mon tue wed thu fri sat sun
 *
 * `fri-mon` wraps over the weekend; a time range whose end is not after
 * its start crosses midnight into the next day (`22:00-06:00`); `24:00`
 * only ends a range; a range without days is every day; days without a
 * range are whole days. Case-folded; blanks around commas and dashes are
 * allowed. The canonical text (what is stored and shown) is lower case,
 * windows joined by ", " in the order given: `mon-fri 06:00-22:00, sat`.
 * Resolution: one minute.
 */
#ifndef NTPMC_RWIN_H
#define NTPMC_RWIN_H

#include <stddef.h>
#include <stdint.h>

#define RWIN_MINUTES (7 * 1440)
#define RWIN_TEXT_MAX 256            /* canonical text, without the NUL */
#define RWIN_EDGES_MAX 1024

struct rwin {
	uint8_t on[RWIN_MINUTES / 8];    /* minute of the week, monday 00:00 = 0 */
	uint16_t edge[RWIN_EDGES_MAX];   /* minutes where on/off changes */
	unsigned n_edge;
	int always_on;                   /* no edge: on (1) or off (0) */
};

/*
 * Parses text into w and its canonical form into canon (at least
 * RWIN_TEXT_MAX + 1 bytes). 0, or -1 with the reason in err ("'mon-xyz':
 * unknown day 'xyz' (mon tue wed thu fri sat sun)").
 */
int rwin_parse(const char *text, struct rwin *w, char *canon, char *err,
	       size_t errlen);

/* Planned on at unix ms t. */
int rwin_on(const struct rwin *w, int64_t t);
/* The first time after t at which on/off changes; INT64_MAX: never. */
int64_t rwin_next(const struct rwin *w, int64_t t);
/* When the state at t began (the last change at or before t);
 * INT64_MIN: it never changes. */
int64_t rwin_since(const struct rwin *w, int64_t t);
/* Planned-on ms in [a, b). */
int64_t rwin_on_ms(const struct rwin *w, int64_t a, int64_t b);

/* Minute of the week (monday 00:00 UTC = 0) of unix ms t. */
int rwin_minute(int64_t t);
/* "thu 00:00" */
void rwin_fmt(int64_t t, char *out, size_t len);

#endif
