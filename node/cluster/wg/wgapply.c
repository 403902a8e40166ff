/* wgapply: the mesh onto the interface, one tool at a time (wgapply.h). */
#include "node/cluster/wg/wgapply.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/base/child.h"

enum step { STEP_ADD, STEP_SYNC, STEP_ADDR, STEP_UP, STEP_DONE };

struct wga {
	uv_loop_t *loop;
	enum step step;
	struct child *child;		/* the tool running */
	char ifname[WGM_IFNAME_MAX + 1];
	char cidr[WGM_ADDR_MAX + 4];
	char *conf;			/* sodium memory, until wg has it */
	size_t len;
	wga_done_fn done;
	void *arg;
};

static void wga_free(struct wga *a)
{
	if (a->conf)
		sodium_free(a->conf);	/* zeroes */
	free(a);
}

static int run_step(struct wga *a);

/* The first line of what the tool printed, fit for a log: a line that
 * mentions the private key (wg quotes a line it cannot parse) is not. */
static void why_line(char *out, size_t len, const char *tool,
		     const struct child_result *r)
{
	size_t n = strcspn(r->err, "\n");

	if (r->timed_out)
		snprintf(out, len, "%s: no answer in %d s", tool,
			 CHILD_TIMEOUT_MS / 1000);
	else if (memmem(r->err, n, "PrivateKey", 10))
		snprintf(out, len, "%s: exit %d (a configuration line)", tool,
			 r->exit_status);
	else if (n)
		snprintf(out, len, "%s: %.*s", tool, (int)(n > 200 ? 200 : n),
			 r->err);
	else
		snprintf(out, len, "%s: exit %d", tool, r->exit_status);
}

static void finish(struct wga *a, int rc, const char *why)
{
	wga_done_fn done = a->done;
	void *arg = a->arg;

	wga_free(a);
	done(arg, rc, why);
}

static void on_tool(void *arg, const struct child_result *r)
{
	static const char *const tools[] = { "ip link add", "wg syncconf",
					     "ip address replace",
					     "ip link set up" };
	struct wga *a = arg;
	char why[256];
	int rc;

	a->child = NULL;
	if (r->exit_status != 0) {
		why_line(why, sizeof(why), tools[a->step], r);
		finish(a, a->step == STEP_ADD ? -ENODEV : -EIO, why);
		return;
	}
	a->step++;
	if (a->step == STEP_DONE) {
		finish(a, 0, "");
		return;
	}
	rc = run_step(a);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s: %s", tools[a->step],
			 strerror(-rc));
		finish(a, rc, why);
	}
}

static int run_step(struct wga *a)
{
	const char *add[] = { "ip", "link", "add", "dev", a->ifname, "type",
			      "wireguard", NULL };
	const char *sync[] = { "wg", "syncconf", a->ifname, "/dev/stdin",
			       NULL };
	const char *addr[] = { "ip", "-4", "address", "replace", a->cidr,
			       "dev", a->ifname, NULL };
	const char *up[] = { "ip", "link", "set", "dev", a->ifname, "up",
			     NULL };
	const char *const *argv[] = { add, sync, addr, up };
	struct child_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.argv = argv[a->step];
	o.caps = CHILD_CAP(CAP_NET_ADMIN);
	if (a->step == STEP_SYNC) {
		o.input = a->conf;
		o.input_len = a->len;
	}
	rc = child_run(a->loop, &o, on_tool, a, &a->child);
	if (a->step == STEP_SYNC && a->conf) {
		/* in the memfd now, or never: either way not needed here */
		sodium_free(a->conf);
		a->conf = NULL;
	}
	return rc;
}

int wga_start(uv_loop_t *loop, const struct wga_req *req, wga_done_fn done,
	      void *arg, struct wga **job)
{
	struct wga *a;
	int rc;

	if (wgm_ifname_check(req->ifname) != 0 ||
	    !wgm_subnet_contains(req->sn, req->overlay))
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOMEM;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->done = done;
	a->arg = arg;
	strcpy(a->ifname, req->ifname);
	snprintf(a->cidr, sizeof(a->cidr), "%s/%u", req->overlay,
		 req->sn->prefix);
	a->conf = sodium_malloc(req->len ? req->len : 1);
	if (!a->conf) {
		free(a);
		return -ENOMEM;
	}
	memcpy(a->conf, req->conf, req->len);
	a->len = req->len;
	a->step = if_nametoindex(req->ifname) ? STEP_SYNC : STEP_ADD;
	rc = run_step(a);
	if (rc != 0) {
		wga_free(a);
		return rc;
	}
	*job = a;
	return 0;
}

void wga_cancel(struct wga *job)
{
	if (!job)
		return;
	child_cancel(job->child);
	wga_free(job);
}
