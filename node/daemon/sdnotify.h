/*
 * sdnotify: the service manager's notification protocol (systemd's
 * sd_notify(3)), written here: one datagram per message, "KEY=VALUE"
 * lines, to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@'
 * for the abstract namespace). $WATCHDOG_USEC is the watchdog interval,
 * meant for us unless $WATCHDOG_PID names another process.
 *
 * Without $NOTIFY_SOCKET every call is a no-op that returns 0, so the
 * daemon runs the same by hand, under systemd and under the tests' harness
 * (tests/integration/sdharness.py). libsystemd's sd_notify() does the same
 * sendmsg; a library for one datagram is not worth a dependency.
 */
#ifndef NTPMC_SDNOTIFY_H
#define NTPMC_SDNOTIFY_H

#include <stdint.h>

struct sdn;

/*
 * Reads the variables and unsets them, so that the processes the daemon
 * starts (ip, wg) do not inherit them. *out is NULL when not under a
 * service manager. Returns 0, or -EINVAL (a malformed variable, with
 * *out NULL: the daemon runs without notifications and says why) or
 * -ENOMEM.
 */
int sdn_open(struct sdn **out);
void sdn_close(struct sdn *s);
/* Sends msg ("READY=1", "STATUS=...", "WATCHDOG=1", several lines joined
 * by '\n'). Returns 0 (also for s NULL), or a negative errno. */
int sdn_send(struct sdn *s, const char *msg);
/* The watchdog interval in microseconds, 0 when there is none. */
uint64_t sdn_watchdog_usec(const struct sdn *s);

#endif
