/*
 * rlog: raft/ and raft/transport/ never log themselves. What is worth a
 * line (a failed store, a message that could not be built, a refused
 * handshake) goes to the caller's sink, which decides where it goes; a
 * zeroed sink drops everything.
 */
#ifndef NTPMC_RLOG_H
#define NTPMC_RLOG_H

enum rlog_level { RLOG_DEBUG, RLOG_INFO, RLOG_WARN, RLOG_ERR };

struct rlog {
	void (*fn)(void *arg, enum rlog_level level, const char *msg);
	void *arg;
};

void rlog(const struct rlog *s, enum rlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
