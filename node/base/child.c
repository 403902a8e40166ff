/* child: a program run from the loop (see child.h). */
#include "node/base/child.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "node/base/strbuf.h"

extern char **environ;

struct child {
	uv_process_t proc;
	uv_pipe_t pipe[2];		/* the program's stdout, stderr */
	uv_timer_t timer;
	struct strbuf buf[2];
	char scratch[4096];		/* one read at a time on one loop */
	child_done_fn done;
	void *arg;
	int handles;			/* initialised and not yet closed */
	int pipe_open[2];
	int spawned, exited, finished, cancelled, timed_out;
	int exit_status, term_signal;
};

static void on_closed(uv_handle_t *h)
{
	struct child *c = h->data;

	if (--c->handles > 0)
		return;
	strbuf_release(&c->buf[0]);
	strbuf_release(&c->buf[1]);
	free(c);
}

static void close_handle(struct child *c, uv_handle_t *h)
{
	(void)c;
	if (!uv_is_closing(h))
		uv_close(h, on_closed);
}

static void close_pipe(struct child *c, int i)
{
	if (!c->pipe_open[i])
		return;
	c->pipe_open[i] = 0;
	uv_read_stop((uv_stream_t *)&c->pipe[i]);
	close_handle(c, (uv_handle_t *)&c->pipe[i]);
}

/* The whole session: the program and whatever it started. */
static void kill_session(struct child *c)
{
	if (c->spawned && c->proc.pid > 0)
		kill(-c->proc.pid, SIGKILL);
}

/* Once the program has exited and both pipes are drained: report, then
 * let the handles go. */
static void maybe_finish(struct child *c)
{
	struct child_result r;

	if (c->finished || c->cancelled || !c->exited || c->pipe_open[0] ||
	    c->pipe_open[1])
		return;
	c->finished = 1;
	memset(&r, 0, sizeof(r));
	r.exit_status = c->exit_status;
	r.term_signal = c->term_signal;
	r.timed_out = c->timed_out;
	r.out = strbuf_str(&c->buf[0]);
	r.out_len = strbuf_len(&c->buf[0]);
	r.out_truncated = strbuf_truncated(&c->buf[0]);
	r.err = strbuf_str(&c->buf[1]);
	r.err_len = strbuf_len(&c->buf[1]);
	r.err_truncated = strbuf_truncated(&c->buf[1]);
	c->done(c->arg, &r);
	close_handle(c, (uv_handle_t *)&c->timer);
	close_handle(c, (uv_handle_t *)&c->proc);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct child *c = h->data;

	(void)hint;
	b->base = c->scratch;
	b->len = sizeof(c->scratch);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct child *c = s->data;
	int i = s == (uv_stream_t *)&c->pipe[1];

	if (n > 0) {
		/* past the cap the bytes are read and dropped: the program
		 * must never block on a full pipe */
		strbuf_add(&c->buf[i], b->base, (size_t)n);
		return;
	}
	if (n < 0) {		/* UV_EOF, or a read error: no more */
		close_pipe(c, i);
		maybe_finish(c);
	}
}

static void on_proc_exit(uv_process_t *p, int64_t status, int sig)
{
	struct child *c = p->data;

	c->exited = 1;
	c->exit_status = sig ? -1 : (int)status;
	c->term_signal = sig;
	maybe_finish(c);
}

static void on_timeout(uv_timer_t *t)
{
	struct child *c = t->data;

	/* Killed, or exited while something it started still holds the
	 * pipes: either way no more output is wanted. */
	if (!c->exited)
		c->timed_out = 1;
	kill_session(c);
	close_pipe(c, 0);
	close_pipe(c, 1);
	maybe_finish(c);
}

/* stdin: the bytes in an anonymous memory file, at offset 0. */
static int input_fd(const void *data, size_t len)
{
	const char *p = data;
	size_t off = 0;
	int fd, err;

	fd = memfd_create("ntpmc-child", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* The length of the NAME= part of a NAME=VALUE string (0: none). */
static size_t env_name_len(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq ? (size_t)(eq - s) + 1 : 0;
}

/* environ with o->env added (pointers into both; free() the array only).
 * NULL with *err set when out of memory or a string is not NAME=VALUE. */
static char **env_merge(const char *const *add, int *err)
{
	size_t n = 0, k = 0, i, j;
	char **e;

	*err = 0;
	for (i = 0; environ && environ[i]; i++)
		n++;
	for (j = 0; add[j]; j++) {
		if (env_name_len(add[j]) < 2) {
			*err = -EINVAL;
			return NULL;
		}
		n++;
	}
	e = calloc(n + 1, sizeof(*e));
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; environ && environ[i]; i++) {
		size_t l = env_name_len(environ[i]);
		int replaced = 0;

		for (j = 0; l && add[j]; j++)
			replaced |= env_name_len(add[j]) == l &&
				    strncmp(add[j], environ[i], l) == 0;
		if (!replaced)
			e[k++] = environ[i];
	}
	for (j = 0; add[j]; j++)
		e[k++] = (char *)add[j];
	return e;
}

/*
 * The calling thread's ambient set becomes exactly caps (those it can
 * raise: permitted and inheritable), for the fork uv_spawn is about to
 * make. Ambient capabilities only matter across execve (capabilities(7)),
 * so the thread loses nothing by keeping the set empty otherwise.
 */
static void ambient_set(uint64_t caps)
{
	unsigned long cap;

	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL);
	for (cap = 0; cap < 64; cap++)
		if (caps & CHILD_CAP(cap))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0UL,
			      0UL);
}

int child_run(uv_loop_t *loop, const struct child_opts *o,
	      child_done_fn done, void *arg, struct child **out)
{
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	char **env = NULL;
	struct child *c;
	int fd = -1, rc, i;

	if (!o->argv || !o->argv[0] || !done)
		return -EINVAL;
	if (o->env) {
		env = env_merge(o->env, &rc);
		if (!env)
			return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		free(env);
		return -ENOMEM;
	}
	c->done = done;
	c->arg = arg;
	for (i = 0; i < 2; i++) {
		strbuf_init(&c->buf[i]);
		strbuf_set_max(&c->buf[i], o->output_max ? o->output_max :
					   CHILD_OUTPUT_MAX);
	}
	if (o->input) {
		fd = input_fd(o->input, o->input_len);
		if (fd < 0) {
			free(env);
			free(c);
			return fd;
		}
	}
	memset(&po, 0, sizeof(po));
	memset(stdio, 0, sizeof(stdio));
	if (fd >= 0) {
		stdio[0].flags = UV_INHERIT_FD;
		stdio[0].data.fd = fd;
	} else {
		stdio[0].flags = UV_IGNORE;	/* /dev/null */
	}
	for (i = 0; i < 2; i++) {
		uv_pipe_init(loop, &c->pipe[i], 0);
		c->pipe[i].data = c;
		c->handles++;
		c->pipe_open[i] = 1;
		stdio[1 + i].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[1 + i].data.stream = (uv_stream_t *)&c->pipe[i];
	}
	po.file = o->argv[0];
	po.args = (char **)o->argv;
	po.env = env;		/* NULL: the daemon's own */
	po.stdio = stdio;
	po.stdio_count = 3;
	po.exit_cb = on_proc_exit;
	/* A session of its own, so that a timeout kills all of it. */
	po.flags = UV_PROCESS_DETACHED;
	c->proc.data = c;
	ambient_set(o->caps);
	rc = uv_spawn(loop, &c->proc, &po);
	ambient_set(0);
	free(env);	/* uv_spawn has exec'd or failed: the array is done */
	c->handles++;	/* initialised by uv_spawn even when it fails */
	if (fd >= 0)
		close(fd);	/* the program holds its own reference */
	if (rc != 0) {
		c->cancelled = 1;
		close_pipe(c, 0);
		close_pipe(c, 1);
		close_handle(c, (uv_handle_t *)&c->proc);
		return rc;
	}
	c->spawned = 1;
	for (i = 0; i < 2; i++)
		uv_read_start((uv_stream_t *)&c->pipe[i], on_alloc, on_read);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->handles++;
	/* The loop's cached time may be old (a callback that ran long, a
	 * loop not run since init): count the limit from the spawn. */
	uv_update_time(loop);
	uv_timer_start(&c->timer, on_timeout,
		       o->timeout_ms ? o->timeout_ms : CHILD_TIMEOUT_MS, 0);
	if (out)
		*out = c;
	return 0;
}

void child_cancel(struct child *c)
{
	if (!c || c->cancelled || c->finished)
		return;
	c->cancelled = 1;
	if (!c->exited)
		kill_session(c);
	close_pipe(c, 0);
	close_pipe(c, 1);
	close_handle(c, (uv_handle_t *)&c->timer);
	close_handle(c, (uv_handle_t *)&c->proc);
}
