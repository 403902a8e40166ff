/*
 * The control socket: a unix stream socket speaking length-prefixed
 * protobuf frames (proto/ctl.proto). Modules register the commands they
 * answer; a handler may answer at once or later (forwarding to the leader),
 * by calling ctl_reply() exactly once on the call it was given.
 */
#ifndef NTPMC_CTL_H
#define NTPMC_CTL_H

#include <uv.h>

struct ctl;
struct ctl_call;

typedef void (*ctl_handler)(void *arg, struct ctl_call *call, int argc,
			    char **argv);

/* Opens PATH (0660; a stale socket left by a crash is removed). */
struct ctl *ctl_open(uv_loop_t *loop, const char *path);
/* mutating: the peer must be root or the daemon's uid (SO_PEERCRED). */
int ctl_register(struct ctl *c, const char *command, int mutating,
		 ctl_handler fn, void *arg);
/* status 0 = ok; text for humans, json for -o json (either may be NULL). */
void ctl_reply(struct ctl_call *call, int status, const char *error,
	       const char *text, const char *json);
void ctl_close(struct ctl *c);

#endif
