/*
 * The control socket: a unix stream socket speaking length-prefixed
 * protobuf frames (proto/ctl.proto, framing in ctlframe.h). Modules register
 * the commands they answer, by their names in the command table
 * (ctlcmd.h); a request reaches a handler only once the table allows it:
 * a known command, a peer allowed to run it, declared options, the right
 * number of arguments. A handler may answer at once or later (forwarding
 * to the leader), by calling ctl_reply() exactly once on the call it was
 * given. If the client has gone away meanwhile, ctl_reply() just frees the
 * call; it stays safe to call even after ctl_close().
 */
#ifndef NTPMC_CTL_H
#define NTPMC_CTL_H

#include <sys/types.h>
#include <uv.h>

struct ctl;
struct ctl_call;

/* Reply status: 0 ok; anything else makes ntpctl print error and exit 1. */
enum {
	CTL_OK = 0,
	CTL_ERR = 1,            /* the command failed */
	CTL_EUSAGE = 2,         /* bad arguments */
	CTL_EPERM = 3,          /* a mutating command from an unprivileged peer */
	CTL_EUNKNOWN = 4,       /* no such command in this daemon */
	CTL_EPROTO = 5,         /* bad frame or unsupported protocol version */
};

/* argv holds the command's options, in table order, each as its name
 * followed by its value if it takes one ("--ttl", "1h"), then its
 * arguments. It is freed when the handler returns, so a handler that
 * answers later copies what it needs. */
typedef void (*ctl_handler)(void *arg, struct ctl_call *call, int argc,
			    char **argv);

/*
 * Opens PATH, mode 0660, creating its parent directory (0750) if missing.
 * A socket left by a crash (connect refused) is removed and recreated; a
 * live one (another daemon answers) or a non-socket file at PATH is an
 * error. Returns NULL after logging why.
 */
struct ctl *ctl_open(uv_loop_t *loop, const char *path);
/* command: a name in the table (ctlcmd.h), which also says whether the
 * peer must be root or the daemon's uid (SO_PEERCRED). -1 (logged) for a
 * name not in the table or registered twice, or out of memory. */
int ctl_register(struct ctl *c, const char *command, ctl_handler fn,
		 void *arg);
/* status 0 = ok; text for humans, json for -o json (either may be NULL:
 * a missing json becomes {"text": ...}, a missing text the json). */
void ctl_reply(struct ctl_call *call, int status, const char *error,
	       const char *text, const char *json);
/* The same with a binary body (the reply's data field: a backup file),
 * copied; len 0 for none. */
void ctl_reply_data(struct ctl_call *call, int status, const char *error,
		    const char *text, const char *json, const void *data,
		    size_t len);
/* Closes every connection and the socket, unlinks PATH; the loop must run
 * afterwards so that libuv finishes closing the handles. */
void ctl_close(struct ctl *c);

/* The SO_PEERCRED rule for mutating commands. */
int ctl_peer_may_mutate(uid_t peer, uid_t self);

#endif
