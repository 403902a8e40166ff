/*
 * Logging: one line on stderr per call, with a tag and a level,
 * err(3)-style variants.
 *   2025-06-01T11:43:27.592Z ntpnode info: message      (UTC, ISO 8601)
 *   <6>ntpnode info: message                            (to the journal)
 * The second when stderr is the journal (systemd's JOURNAL_STREAM names
 * it, checked at log_init): "<N>" is the line's syslog priority (7 debug,
 * 6 info, 4 warn, 3 error; sd-daemon(3)) and the journal adds the time.
 */
#ifndef NTPMC_LOG_H
#define NTPMC_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

void log_init(const char *tag, enum log_level min);
void log_set_level(enum log_level min);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For bugs and start-up only, never for packet input. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
