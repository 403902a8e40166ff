/*
 * svc: what the service manager hears from the daemon (sdnotify.h), on the
 * control-plane loop:
 *   READY=1    once the serving sockets are bound and the control socket
 *              is open (svc_ready), so units ordered after ours start when
 *              the node answers NTP and ntpctl;
 *   STATUS=    sync state and cluster role, when they change
 *              ("synchronized to 192.0.2.1, stratum 2; cluster leader");
 *   WATCHDOG=1 every half watchdog interval, but only while this loop runs
 *              (the ping is a loop timer) and every serving thread has
 *              woken within SVC_STALL_MS (serve_stalled): a hung loop or a
 *              stuck thread stops the pings and systemd restarts the unit;
 *   STOPPING=1 when a shutdown begins.
 * Not under a service manager, it does nothing but the test-only hang.
 */
#ifndef NTPMC_SVC_H
#define NTPMC_SVC_H

#include <uv.h>

struct cluster;
struct serve;
struct sync;

/* A serving thread silent this long is stuck (it wakes every second). */
#define SVC_STALL_MS 3000

struct svc;

/*
 * test_hang_loop_s: test-only (`test-hang loop S`): S seconds after the
 * start the loop blocks for good (signals cannot stop it; systemd's
 * watchdog does). 0: never. Returns NULL after logging why.
 */
struct svc *svc_start(uv_loop_t *loop, int test_hang_loop_s);
/* The serving threads the pings depend on, once they run. */
void svc_watch(struct svc *v, struct serve *serve);
/* READY=1 and the first status; sync and cl may be NULL (none). */
void svc_ready(struct svc *v, struct sync *sync, struct cluster *cl);
void svc_stopping(struct svc *v);
/* Closes the timer (freed once the loop has run its close callback). */
void svc_stop(struct svc *v);

#endif
