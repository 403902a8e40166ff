/*
 * rcal: the UTC calendar the rotation counts in (months of the hours
 * ledger and of the allowances). Pure: unix ms in, no time zone.
 */
#ifndef NTPMC_RCAL_H
#define NTPMC_RCAL_H

#include <stdint.h>

#define RCAL_HOUR_MS 3600000LL

/* YYYYMM of the UTC month holding t. */
uint32_t rcal_month(int64_t t);
/* Unix ms of the first instant of t's month, and of the next month. */
int64_t rcal_month_start(int64_t t);
int64_t rcal_month_end(int64_t t);
/* "2025-01-09 14:00" (UTC, minutes) */
void rcal_fmt(int64_t t, char *out, unsigned len);

#endif
