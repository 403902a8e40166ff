/*
 * wgapply: puts a rendered mesh (wgmesh.h, wgm_render) on the WireGuard
 * interface without blocking the event loop. The tools run one after the
 * other through node/base/child.h, each with CAP_NET_ADMIN as its only
 * ambient capability:
 *
 *   ip link add dev IF type wireguard   only when IF does not exist (the
 *                                       kernel module; wireguard-go
 *                                       creates its own interface)
 *   wg syncconf IF /dev/stdin           the file, from a memfd: nothing
 *                                       on disk, in argv or in a log
 *   ip -4 address replace OVERLAY/PREFIX dev IF
 *   ip link set dev IF up
 *
 * Errors are negative errno values: -ENOENT a tool is not installed,
 * -ENODEV the interface cannot be created, -EIO a tool failed or timed
 * out (why says which and what it printed, never a key).
 */
#ifndef NTPMC_WGAPPLY_H
#define NTPMC_WGAPPLY_H

#include <stddef.h>

#include <uv.h>

#include "node/cluster/wg/wgmesh.h"

struct wga_req {
	const char *ifname;
	const char *conf;		/* copied (sodium memory) */
	size_t len;
	const char *overlay;		/* this member's overlay address */
	const struct wgm_subnet *sn;
};

/* rc 0, or the error; why: "" or a line for the log. */
typedef void (*wga_done_fn)(void *arg, int rc, const char *why);

struct wga;

/*
 * Starts applying req. 0: done runs once, from the loop, and *job names
 * the apply until then. A negative errno otherwise (done never runs):
 * -EINVAL a bad interface name or an overlay outside sn, -ENOENT no `ip`
 * or `wg`, -ENOMEM.
 */
int wga_start(uv_loop_t *loop, const struct wga_req *req, wga_done_fn done,
	      void *arg, struct wga **job);
/* Stops the tool running (killed) and forgets the apply: done never runs. */
void wga_cancel(struct wga *job);

#endif
