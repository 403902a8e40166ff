/*
 * child: runs a program without blocking the event loop (libuv's
 * uv_spawn), for the tools and hooks the daemon calls (`wg`, `ip`, and the
 * provider and alert hooks).
 *
 *  - the program runs in a session of its own; after timeout_ms the whole
 *    session is killed (SIGKILL), so a shell's background children go too;
 *  - stdout and stderr are captured, each capped at output_max bytes (the
 *    rest is read and dropped, so the program never blocks on a full pipe);
 *  - stdin is /dev/null, or the given bytes through an anonymous memory
 *    file (memfd: nothing on disk, nothing in argv; wg reads its private
 *    key this way);
 *  - the environment is the daemon's, with the given NAME=VALUE strings
 *    added (each replaces an inherited variable of the same name: the
 *    provider hooks' NTPMC_PROVIDER and NTPMC_REGION);
 *  - capabilities: the program gets as ambient capabilities exactly those
 *    in caps (CHILD_CAP(CAP_NET_ADMIN) for `wg`/`ip`; none for hooks).
 *    uv_spawn runs no code of ours between fork and exec, so the calling
 *    thread's own ambient set is set just before the spawn and left empty
 *    after it (a thread only needs ambient capabilities to hand them to a
 *    program it runs; capabilities are per thread, the serving threads are
 *    untouched). A capability the daemon does not hold (permitted and
 *    inheritable) cannot be passed on: the program then fails on its own
 *    terms. A daemon running as root passes everything to what it runs
 *    (exec as uid 0 fills the sets): run it as its own user (infra/systemd).
 *
 * done(arg, result) runs exactly once, from the loop, never from inside
 * child_run(); the result (and its output) is valid during the call only,
 * and the struct child is gone once done returns.
 */
#ifndef NTPMC_CHILD_H
#define NTPMC_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include <linux/capability.h>
#include <uv.h>

#define CHILD_TIMEOUT_MS 10000		/* default timeout */
#define CHILD_OUTPUT_MAX 4096		/* default cap per stream */
#define CHILD_CAP(c) (UINT64_C(1) << (c))

struct child_opts {
	const char *const *argv;	/* argv[0] is looked up in PATH */
	const void *input;		/* stdin; NULL: /dev/null */
	size_t input_len;
	unsigned timeout_ms;		/* 0: CHILD_TIMEOUT_MS */
	size_t output_max;		/* per stream; 0: CHILD_OUTPUT_MAX */
	uint64_t caps;			/* CHILD_CAP() bits; 0: none */
	const char *const *env;		/* NAME=VALUE added; NULL: none */
};

struct child_result {
	int exit_status;		/* the exit code, -1 when signalled */
	int term_signal;		/* the signal that ended it, or 0 */
	int timed_out;			/* killed after timeout_ms */
	const char *out, *err;		/* captured, NUL-terminated */
	size_t out_len, err_len;
	int out_truncated, err_truncated;
};

typedef void (*child_done_fn)(void *arg, const struct child_result *r);

struct child;

/*
 * Starts argv. 0: done will run (and *out, when out is not NULL, names the
 * child until then). Negative errno otherwise, done never runs: -ENOENT
 * (no such program in PATH), -EACCES, -ENOMEM, -EINVAL (no argv).
 */
int child_run(uv_loop_t *loop, const struct child_opts *o,
	      child_done_fn done, void *arg, struct child **out);
/*
 * Kills the child's session and forgets it: done never runs. Its memory
 * goes once the loop has closed its handles. A program that has not
 * exited yet is killed and not waited for (it stays a zombie of the
 * daemon until the daemon exits): for shutdown.
 */
void child_cancel(struct child *c);

#endif
