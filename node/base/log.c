#include "node/base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_tag = "ntpnode";
static enum log_level log_min = LOG_LVL_INFO;

void log_init(const char *tag, enum log_level min)
{
	log_tag = tag;
	log_min = min;
}

void log_set_level(enum log_level min)
{
	log_min = min;
}

__attribute__((format(printf, 3, 0)))
static void vlog(enum log_level lvl, int with_errno, const char *fmt,
		 va_list ap)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char msg[1024];
	int saved = errno;
	struct timespec ts;
	struct tm tm;

	if (lvl < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* One fprintf per line so that lines from threads do not interleave. */
	if (with_errno)
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s: %s\n",
			tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			log_tag, names[lvl], msg, strerror(saved));
	else
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n", tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_tag,
			names[lvl], msg);
	errno = saved;
}

#define LOG_FN(name, lvl, en)                 \
	void name(const char *fmt, ...)       \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		vlog(lvl, en, fmt, ap);       \
		va_end(ap);                   \
	}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_err, LOG_LVL_ERR, 0)

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
