/* The log sink of raft/ and raft/transport/ (rlog.h). */
#include "raft/rlog.h"

#include <stdarg.h>
#include <stdio.h>

void rlog(const struct rlog *s, enum rlog_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s == NULL || s->fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->fn(s->arg, level, msg);
}
