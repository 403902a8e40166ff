#include "node/daemon/svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/base/log.h"
#include "node/cluster/cluster.h"
#include "node/daemon/sdnotify.h"
#include "node/ntp/tstate.h"
#include "node/serve/serve.h"
#include "node/time/sync.h"

/* Without a watchdog the status is still refreshed this often. */
#define SVC_STATUS_MS 5000
#define SVC_STATUS_MAX 256

struct svc {
	uv_loop_t *loop;
	struct sdn *sdn;
	uv_timer_t tick, hang;
	int tick_on, hang_on, open;
	struct serve *serve;
	struct sync *sync;
	struct cluster *cl;
	int ready, stalled;
	char status[SVC_STATUS_MAX];
};

/* The time half of the status line. */
static void time_status(struct svc *v, char *buf, size_t len)
{
	struct sync_tracking_view tv;
	struct tstate ts;

	if (v->sync) {
		sync_tracking(v->sync, &tv);
		if (tv.synced && tv.reference[0])
			snprintf(buf, len, "%s to %s, stratum %d", tv.state,
				 tv.reference, tv.stratum);
		else if (tv.reason && tv.reason[0])
			snprintf(buf, len, "%s: %s", tv.state, tv.reason);
		else
			snprintf(buf, len, "%s", tv.state);
		return;
	}
	tstate_read(&ts);
	if (ts.local)
		snprintf(buf, len, "local clock, stratum %d", ts.stratum);
	else
		snprintf(buf, len, "unsynchronized: no time source configured");
}

static void make_status(struct svc *v, char *buf, size_t len)
{
	char t[160];

	time_status(v, t, sizeof(t));
	snprintf(buf, len, "%s%s; %s%s", v->stalled ?
		 "serving thread stuck, watchdog pings stopped; " : "", t,
		 v->cl ? "cluster " : "standalone", v->cl ?
		 cluster_role(v->cl) : "");
}

/* Sends STATUS= when it changed; prefix ("READY=1\n") goes with it. */
static void send_status(struct svc *v, const char *prefix)
{
	char now[SVC_STATUS_MAX], msg[SVC_STATUS_MAX + 32];

	make_status(v, now, sizeof(now));
	if (!prefix[0] && strcmp(now, v->status) == 0)
		return;
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", prefix, now);
	if (sdn_send(v->sdn, msg) < 0) {
		log_warn("service manager: notify");
		return;
	}
	memcpy(v->status, now, sizeof(now));
}

/* The ping is a timer on this loop: a hung loop sends none. */
static void tick_cb(uv_timer_t *t)
{
	struct svc *v = t->data;
	int n = v->serve ? serve_stalled(v->serve, SVC_STALL_MS * 1000000LL) :
			   0;

	if (n && !v->stalled)
		log_warnx("watchdog: %d serving thread%s silent for over "
			  "%d ms: no more pings (systemd restarts the "
			  "service)", n, n == 1 ? "" : "s", SVC_STALL_MS);
	else if (!n && v->stalled)
		log_info("watchdog: every serving thread wakes again");
	v->stalled = n > 0;
	if (!n && sdn_watchdog_usec(v->sdn) &&
	    sdn_send(v->sdn, "WATCHDOG=1") < 0)
		log_warn("service manager: watchdog ping");
	send_status(v, "");
}

/* Test-only: the loop stops here for good; only a signal's default action
 * (SIGKILL, or the SIGABRT systemd's watchdog sends) ends the process. */
static void hang_cb(uv_timer_t *t)
{
	log_warnx("TEST-ONLY test-hang: the event loop blocks now");
	for (;;)
		pause();
}

struct svc *svc_start(uv_loop_t *loop, int test_hang_loop_s)
{
	struct svc *v = calloc(1, sizeof(*v));
	uint64_t wd, ms;
	int rc;

	if (!v) {
		log_warnx("service manager: out of memory");
		return NULL;
	}
	v->loop = loop;
	rc = sdn_open(&v->sdn);
	if (rc == -ENOMEM) {
		log_warnx("service manager: out of memory");
		free(v);
		return NULL;
	}
	if (rc < 0)
		log_warnx("service manager: NOTIFY_SOCKET or WATCHDOG_USEC is "
			  "malformed: running without notifications");
	wd = sdn_watchdog_usec(v->sdn);
	if (v->sdn) {
		/* systemd.service(5): ping at half the interval */
		ms = wd ? wd / 2000 : SVC_STATUS_MS;
		uv_timer_init(loop, &v->tick);
		v->tick.data = v;
		v->tick_on = 1;
		uv_timer_start(&v->tick, tick_cb, ms ? ms : 1, ms ? ms : 1);
		if (wd)
			log_info("watchdog: pinging every %llu ms while the "
				 "loop runs and the serving threads wake",
				 (unsigned long long)(ms ? ms : 1));
	}
	if (test_hang_loop_s > 0) {
		log_warnx("TEST-ONLY test-hang: the event loop will block %d s "
			  "after the start", test_hang_loop_s);
		uv_timer_init(loop, &v->hang);
		v->hang.data = v;
		v->hang_on = 1;
		uv_timer_start(&v->hang, hang_cb,
			       (uint64_t)test_hang_loop_s * 1000, 0);
	}
	return v;
}

void svc_watch(struct svc *v, struct serve *serve)
{
	v->serve = serve;
}

void svc_ready(struct svc *v, struct sync *sync, struct cluster *cl)
{
	v->sync = sync;
	v->cl = cl;
	if (v->ready++)
		return;
	send_status(v, "READY=1\n");
}

void svc_stopping(struct svc *v)
{
	if (v && sdn_send(v->sdn, "STOPPING=1\nSTATUS=shutting down") < 0)
		log_warn("service manager: notify");
}

static void closed_cb(uv_handle_t *h)
{
	struct svc *v = h->data;

	if (--v->open == 0)
		free(v);
}

void svc_stop(struct svc *v)
{
	if (!v)
		return;
	sdn_close(v->sdn);
	v->sdn = NULL;
	v->open = v->tick_on + v->hang_on;
	if (!v->open) {
		free(v);
		return;
	}
	if (v->tick_on)
		uv_close((uv_handle_t *)&v->tick, closed_cb);
	if (v->hang_on)
		uv_close((uv_handle_t *)&v->hang, closed_cb);
}
