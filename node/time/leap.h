/*
 * IERS leap-seconds.list (the file NIST and IERS publish): parsed with
 * every line checked, and its expiry date honoured: an expired list gives
 * no leap information at all.
 */
#ifndef NTPMC_LEAP_H
#define NTPMC_LEAP_H

#include <stddef.h>
#include <stdint.h>

struct leap_list;

/* 0, or -1 with err filled ("line N: problem"). */
int leap_parse(const char *text, size_t len, struct leap_list **out,
	       char *err, size_t errlen);
int leap_load(const char *path, struct leap_list **out, char *err,
	      size_t errlen);
void leap_free(struct leap_list *l);

/* Unix seconds after which the list must not be used. */
int64_t leap_expiry(const struct leap_list *l);
/*
 * RFC 5905 LI for Unix time now: 1 (insert) or 2 (delete) when a leap
 * second ends the current UTC day, otherwise 0; -1 if the list expired.
 */
int leap_indicator(const struct leap_list *l, int64_t now);
/* 1 if a leap second of the list (not expired at now) happens within
 * `within` seconds of now, before or after; else 0. */
int leap_near(const struct leap_list *l, int64_t now, int64_t within);
/* TAI - UTC at now, or -1 if expired or before the first entry. */
int leap_tai_offset(const struct leap_list *l, int64_t now);

#endif
