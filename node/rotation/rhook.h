/*
 * rhook: a provider hook, run from the loop through node/base/child.h:
 * `PATH ACTION INSTANCE-ID` with NTPMC_PROVIDER and NTPMC_REGION added to
 * the environment, no capabilities, killed (its whole session) after the
 * timeout. Exit 0 is success; `status` prints one word on stdout:
 * running, stopped, pending or unknown; anything else (garbage, nothing,
 * two words) counts as unknown, never as stopped. Credentials stay with
 * the hook (instance role, service account): nothing of its environment
 * or output is replicated; a failure's first line of stderr is logged.
 */
#ifndef NTPMC_RHOOK_H
#define NTPMC_RHOOK_H

#include <stddef.h>
#include <uv.h>

#define RHOOK_TIMEOUT_MS 120000        /* provider-hook-timeout's default */
#define RHOOK_DETAIL_MAX 160

enum rhook_action { RHOOK_START, RHOOK_STOP, RHOOK_STATUS, RHOOK_TERMINATE,
		    RHOOK_RELEASE, RHOOK_N_ACTIONS };
enum rhook_state { RHOOK_UNKNOWN, RHOOK_RUNNING, RHOOK_STOPPED,
		   RHOOK_PENDING };

struct rhook_result {
	int ok;                        /* exited 0 */
	int state;                     /* status: enum rhook_state */
	char detail[RHOOK_DETAIL_MAX]; /* why not ok ("exit 3: ...") */
};

typedef void (*rhook_done_fn)(void *arg, const struct rhook_result *r);

struct rhook_call {
	const char *path;
	unsigned timeout_ms;           /* 0: RHOOK_TIMEOUT_MS */
	int action;                    /* enum rhook_action */
	const char *provider, *region, *instance;
};

struct rhook;

/* Starts the hook: 0 and done runs once, later (from the loop); or a
 * negative errno and it never runs (-EINVAL: an action or instance id
 * that cannot be passed, such as one starting with '-'). */
int rhook_run(uv_loop_t *loop, const struct rhook_call *c, rhook_done_fn done,
	      void *arg, struct rhook **out);
/* Kills it; done never runs. */
void rhook_cancel(struct rhook *h);

/* What `status` printed, as a state. */
int rhook_parse_state(const char *out, size_t len);
const char *rhook_action_name(int action);
const char *rhook_state_name(int state);
/* An action named by its word, or -1. */
int rhook_action_of(const char *word);
/* For the config check: PATH exists, is a regular file and executable by
 * us. 0, or -1 with the reason in err. */
int rhook_check_path(const char *path, char *err, size_t errlen);

#endif
