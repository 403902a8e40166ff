/* rcal: UTC months (rcal.h), through libc's gmtime_r and timegm (UTC
 * both ways: no time zone is consulted). */
#include "node/rotation/rcal.h"

#include <stdio.h>
#include <time.h>

static int64_t fdiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void utc(int64_t t, struct tm *tm)
{
	time_t s = (time_t)fdiv(t, 1000);

	gmtime_r(&s, tm);
}

uint32_t rcal_month(int64_t t)
{
	struct tm tm;

	utc(t, &tm);
	return (uint32_t)((tm.tm_year + 1900) * 100 + tm.tm_mon + 1);
}

/* The first instant of the month `add` months after t's. */
static int64_t month_from(int64_t t, int add)
{
	struct tm tm;

	utc(t, &tm);
	tm.tm_mon += add;         /* timegm normalises month 12 */
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = 0;
	return (int64_t)timegm(&tm) * 1000;
}

int64_t rcal_month_start(int64_t t)
{
	return month_from(t, 0);
}

int64_t rcal_month_end(int64_t t)
{
	return month_from(t, 1);
}

void rcal_fmt(int64_t t, char *out, unsigned len)
{
	struct tm tm;

	utc(t, &tm);
	snprintf(out, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}
