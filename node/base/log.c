#include "node/base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_tag = "ntpnode";
static enum log_level log_min = LOG_LVL_INFO;
static int log_journal;

/*
 * systemd connects a service's stderr to the journal and says so in
 * JOURNAL_STREAM="DEVICE:INODE" (systemd.exec(5)); a child that inherited
 * the variable but not the stream must not believe it, hence the check
 * against stderr itself.
 */
static int stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!v || sscanf(v, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    v[n] != '\0' || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *tag, enum log_level min)
{
	log_tag = tag;
	log_min = min;
	log_journal = stderr_is_journal();
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
	/* syslog(3) priorities: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR */
	static const int prio[] = { 7, 6, 4, 3 };
	char msg[1024], when[40], ebuf[96], err[100] = "";
	int saved = errno;
	struct timespec ts;
	struct tm tm;

	if (lvl < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		/* strerror_r: the serving threads log too (the GNU variant
		 * returns the text, in ebuf or in static storage) */
		const char *e = strerror_r(saved, ebuf, sizeof(ebuf));

		snprintf(err, sizeof(err), ": %s", e);
	}
	/* One fprintf per line so that lines from threads do not interleave. */
	if (log_journal) {
		/* sd-daemon(3): "<N>" sets the line's priority; the journal
		 * stamps the time itself */
		fprintf(stderr, "<%d>%s %s: %s%s\n", prio[lvl], log_tag,
			names[lvl], msg, err);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s %s: %s%s\n", when,
			ts.tv_nsec / 1000000, log_tag, names[lvl], msg, err);
	}
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
