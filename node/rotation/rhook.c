/* rhook: provider hooks (rhook.h). */
#include "node/rotation/rhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/base/child.h"

#define HOOK_OUTPUT_MAX 1024

static const char *const actions[RHOOK_N_ACTIONS] = {
	"start", "stop", "status", "terminate", "release",
};

static const char *const states[] = {
	"unknown", "running", "stopped", "pending",
};

struct rhook {
	struct child *child;
	int action;
	unsigned timeout_ms;
	rhook_done_fn done;
	void *arg;
};

const char *rhook_action_name(int action)
{
	return action >= 0 && action < RHOOK_N_ACTIONS ? actions[action] : "?";
}

const char *rhook_state_name(int state)
{
	return state >= 0 && state <= RHOOK_PENDING ? states[state] : "?";
}

int rhook_action_of(const char *word)
{
	int i;

	for (i = 0; i < RHOOK_N_ACTIONS; i++)
		if (strcmp(word, actions[i]) == 0)
			return i;
	return -1;
}

int rhook_parse_state(const char *out, size_t len)
{
	size_t a = 0, b = len;
	int i;

	while (a < b && (out[a] == ' ' || out[a] == '\t' || out[a] == '\n' ||
			 out[a] == '\r'))
		a++;
	while (b > a && (out[b - 1] == ' ' || out[b - 1] == '\t' ||
			 out[b - 1] == '\n' || out[b - 1] == '\r'))
		b--;
	for (i = RHOOK_RUNNING; i <= RHOOK_PENDING; i++)
		if (b - a == strlen(states[i]) &&
		    memcmp(out + a, states[i], b - a) == 0)
			return i;
	return RHOOK_UNKNOWN;
}

/* The first line of s, printable ASCII only, at most n characters. */
static void first_line(const char *s, char *out, size_t n)
{
	size_t i, k = 0;

	for (i = 0; s[i] && s[i] != '\n' && k + 1 < n; i++)
		out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[k] = 0;
}

static void on_child(void *arg, const struct child_result *cr)
{
	struct rhook *h = arg;
	struct rhook_result r;
	char line[100];

	memset(&r, 0, sizeof(r));
	first_line(cr->err, line, sizeof(line));
	if (cr->timed_out)
		snprintf(r.detail, sizeof(r.detail), "timed out after %u s "
			 "(killed)", h->timeout_ms / 1000);
	else if (cr->term_signal)
		snprintf(r.detail, sizeof(r.detail), "killed by signal %d",
			 cr->term_signal);
	else if (cr->exit_status != 0)
		snprintf(r.detail, sizeof(r.detail), "exit %d%s%s",
			 cr->exit_status, line[0] ? ": " : "", line);
	else
		r.ok = 1;
	if (r.ok && h->action == RHOOK_STATUS)
		r.state = rhook_parse_state(cr->out, cr->out_len);
	h->done(h->arg, &r);
	free(h);
}

int rhook_run(uv_loop_t *loop, const struct rhook_call *c, rhook_done_fn done,
	      void *arg, struct rhook **out)
{
	char provider[64], region[128];
	const char *argv[4], *env[3];
	struct child_opts o;
	struct rhook *h;
	int rc;

	if (c->action < 0 || c->action >= RHOOK_N_ACTIONS || !c->instance ||
	    !c->instance[0] || c->instance[0] == '-' || !c->path)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->action = c->action;
	h->timeout_ms = c->timeout_ms ? c->timeout_ms : RHOOK_TIMEOUT_MS;
	h->done = done;
	h->arg = arg;
	snprintf(provider, sizeof(provider), "NTPMC_PROVIDER=%s",
		 c->provider ? c->provider : "");
	snprintf(region, sizeof(region), "NTPMC_REGION=%s",
		 c->region ? c->region : "");
	argv[0] = c->path;
	argv[1] = actions[c->action];
	argv[2] = c->instance;
	argv[3] = NULL;
	env[0] = provider;
	env[1] = region;
	env[2] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.env = env;
	o.timeout_ms = h->timeout_ms;
	o.output_max = HOOK_OUTPUT_MAX;
	o.caps = 0;                   /* a hook gets no capability */
	rc = child_run(loop, &o, on_child, h, &h->child);
	if (rc < 0) {
		free(h);
		return rc;
	}
	if (out)
		*out = h;
	return 0;
}

void rhook_cancel(struct rhook *h)
{
	if (!h)
		return;
	child_cancel(h->child);
	free(h);
}

int rhook_check_path(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path", path);
		return -1;
	}
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "'%s': %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "'%s' is not a regular file", path);
		return -1;
	}
	if (access(path, X_OK) < 0) {
		snprintf(err, errlen, "'%s' is not executable (%s)", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}
