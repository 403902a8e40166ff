/*
 * ntpctl's parts shared between its files: one exchange over the control
 * socket (ntpctl.c), the backup, and emergency-shutdown (ntpctl_es.c),
 * which runs as several requests.
 */
#ifndef NTPMC_NTPCTL_H
#define NTPMC_NTPCTL_H

#include "node/ctl/ctlframe.h"
#include "tools/ntpctl_args.h"

#define NTPCTL_TIMEOUT_MS 10000

/* Sends one request, returns the reply or NULL after printing why.
 * closed (may be NULL): set to 1, without a message, when the daemon
 * closed the connection without a reply. */
Ntpmc__CtlResponse *ntpctl_exchange(const char *path, const char *command,
				    int argc, char **argv, long timeout_ms,
				    int *closed);
/* 1 for a successful reply; else says why on stderr. */
int ntpctl_reply_ok(const Ntpmc__CtlResponse *rsp, const char *command);
/* s on stdout with a final newline. */
void ntpctl_print_body(const char *s);
/* backup [--force] [--local] FILE: 0, or 1 after saying why. */
int ntpctl_backup(const char *path, const char *file, int force, int local,
		  int json);
/* emergency-shutdown (ntpctl_es.c): the exit code. */
int ntpctl_emergency(const char *path, const struct ntpctl_args *a);

#endif
