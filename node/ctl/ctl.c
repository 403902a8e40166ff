/*
 * The control socket on the libuv loop. One request at a time per
 * connection: while a handler has not answered, the connection is not read
 * (bytes already read wait in a stash), so replies come back in order and a
 * slow command holds back only its own client. A connection that has not
 * sent a whole request within CTL_IDLE_MS is closed.
 */
#include "node/ctl/ctl.h"
#include "node/ctl/ctlcmd.h"
#include "node/ctl/ctlframe.h"
#include "node/base/json.h"
#include "node/base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Overridable so that a unit test can include this file with small ones. */
#ifndef CTL_MAX_CONNS
#define CTL_MAX_CONNS 64
#endif
#ifndef CTL_IDLE_MS
#define CTL_IDLE_MS 30000
#endif
#define CTL_BACKLOG 64

struct cmd {
	const struct ctlcmd *def;  /* its row in the table */
	ctl_handler fn;
	void *arg;
};

struct conn;

struct ctl {
	uv_loop_t *loop;
	uv_pipe_t server;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;              /* of the socket we created: unlink only it */
	ino_t ino;
	struct cmd *cmds;
	int n_cmds;
	struct conn *conns;
	int n_conns;
	int server_open;
	int closing;
	uid_t self;
};

struct conn {
	uv_pipe_t pipe;
	uv_timer_t idle;
	struct ctl *ctl;
	struct conn *next, **pprev;
	struct ctlframe_rd rd;
	struct ctl_call *pending;
	uint8_t *stash;         /* read while a call was pending */
	size_t stash_len;
	uid_t uid;
	int cred_ok;
	int reading;
	int closing;
	int close_after_write;
	int handles;            /* open libuv handles (pipe, timer) */
	char buf[4096];
};

struct ctl_call {
	struct conn *conn;      /* NULL once the client has gone */
};

struct wreq {
	uv_write_t req;
	uint8_t *buf;
};

int ctl_peer_may_mutate(uid_t peer, uid_t self)
{
	return peer == 0 || peer == self;
}

static void ctl_maybe_free(struct ctl *c)
{
	if (!c->closing || c->server_open || c->n_conns)
		return;
	free(c->cmds);
	free(c);
}

/* ------------------------------------------------------------------ */

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *k = h->data;
	struct ctl *c = k->ctl;

	if (--k->handles)
		return;
	ctlframe_rd_free(&k->rd);
	free(k->stash);
	free(k);
	c->n_conns--;
	ctl_maybe_free(c);
}

static void conn_close(struct conn *k)
{
	if (k->closing)
		return;
	k->closing = 1;
	if (k->pending) {
		/* The handler still owns the call; it answers into the void. */
		k->pending->conn = NULL;
		k->pending = NULL;
	}
	*k->pprev = k->next;
	if (k->next)
		k->next->pprev = k->pprev;
	uv_close((uv_handle_t *)&k->idle, conn_handle_closed);
	uv_close((uv_handle_t *)&k->pipe, conn_handle_closed);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *k = req->handle->data;

	free(w->buf);
	free(w);
	if (status < 0 || k->close_after_write)
		conn_close(k);
}

/* Takes ownership of buf. */
static void send_frame(struct conn *k, uint8_t *buf, size_t len)
{
	struct wreq *w = malloc(sizeof(*w));
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned int)len);

	if (!w) {
		free(buf);
		conn_close(k);
		return;
	}
	w->buf = buf;
	if (uv_write(&w->req, (uv_stream_t *)&k->pipe, &b, 1, on_write) < 0) {
		free(buf);
		free(w);
		conn_close(k);
	}
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *k = h->data;

	*b = uv_buf_init(k->buf, sizeof(k->buf));
}

static void conn_input(struct conn *k, const uint8_t *p, size_t n);

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *k = s->data;

	if (n < 0) {
		conn_close(k);
		return;
	}
	conn_input(k, (const uint8_t *)b->base, (size_t)n);
}

static void set_reading(struct conn *k, int on)
{
	if (k->closing || on == k->reading)
		return;
	if (on && uv_read_start((uv_stream_t *)&k->pipe, on_alloc, on_read) < 0) {
		conn_close(k);
		return;
	}
	if (!on)
		uv_read_stop((uv_stream_t *)&k->pipe);
	k->reading = on;
}

/* An error reply produced by ctl itself; close: the stream is unusable. */
static void reply_error(struct conn *k, int status, const char *msg,
			int close)
{
	uint8_t *buf;
	size_t len;

	buf = ctlframe_pack_response(status, msg, NULL, NULL, NULL, 0, &len);
	if (close)
		k->close_after_write = 1;
	if (!buf) {
		conn_close(k);
		return;
	}
	send_frame(k, buf, len);
}

static struct cmd *find_cmd(struct ctl *c, const struct ctlcmd *def)
{
	int i;

	for (i = 0; i < c->n_cmds; i++)
		if (c->cmds[i].def == def)
			return &c->cmds[i];
	return NULL;
}

static void dispatch(struct conn *k)
{
	char *words[CTL_MAX_ARGS + 2 * CTLCMD_MAX_OPTS];
	char msg[320], why[128], usage[128];
	struct ctl *c = k->ctl;
	const struct ctlcmd *def;
	Ntpmc__CtlRequest *req;
	struct ctlcmd_args a;
	struct ctl_call *call;
	struct cmd *cmd;
	int n;

	req = ctlframe_unpack_request(k->rd.body, k->rd.len);
	if (!req) {
		reply_error(k, CTL_EPROTO, "malformed request", 0);
		return;
	}
	if (req->version != CTL_VERSION) {
		snprintf(msg, sizeof(msg), "unsupported control protocol "
			 "version %u (this ntpnode speaks %d): use the ntpctl "
			 "of the same release", req->version, CTL_VERSION);
		reply_error(k, CTL_EPROTO, msg, 0);
		goto out;
	}
	def = ctlcmd_find(req->command);
	if (!def) {
		snprintf(msg, sizeof(msg), "unknown command '%.64s'",
			 req->command);
		reply_error(k, CTL_EUNKNOWN, msg, 0);
		goto out;
	}
	cmd = find_cmd(c, def);
	if (!cmd) {
		/* In the table, but nothing here answers it (no cluster, no
		 * upstream lines). */
		snprintf(msg, sizeof(msg), "'%s' is not available: this "
			 "ntpnode's configuration does not run what answers it",
			 def->name);
		reply_error(k, CTL_EUNKNOWN, msg, 0);
		goto out;
	}
	if ((def->flags & CTLCMD_MUTATING) &&
	    !(k->cred_ok && ctl_peer_may_mutate(k->uid, c->self))) {
		snprintf(msg, sizeof(msg), "permission denied: '%s' changes "
			 "the daemon; run it as root or as the daemon's user",
			 def->name);
		reply_error(k, CTL_EPERM, msg, 0);
		goto out;
	}
	if (ctlcmd_parse(def, (int)req->n_args, req->args, &a, why,
			 sizeof(why)) < 0) {
		ctlcmd_usage(def, usage, sizeof(usage));
		snprintf(msg, sizeof(msg), "%s (usage: %s)", why, usage);
		reply_error(k, CTL_EUSAGE, msg, 0);
		goto out;
	}
	n = ctlcmd_words(def, &a, 0, words, (int)(sizeof(words) /
						    sizeof(words[0])));
	if (n < 0) {
		reply_error(k, CTL_EUSAGE, "too many arguments", 0);
		goto out;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		reply_error(k, CTL_ERR, "out of memory", 0);
		goto out;
	}
	call->conn = k;
	k->pending = call;
	uv_timer_stop(&k->idle);
	cmd->fn(cmd->arg, call, n, words);
out:
	ntpmc__ctl_request__free_unpacked(req, NULL);
}

static void conn_input(struct conn *k, const uint8_t *p, size_t n)
{
	char msg[96];
	size_t used;
	int r;

	while (n > 0 && !k->closing) {
		if (k->pending) {
			uint8_t *s = realloc(k->stash, k->stash_len + n);

			if (!s) {
				conn_close(k);
				return;
			}
			memcpy(s + k->stash_len, p, n);
			k->stash = s;
			k->stash_len += n;
			set_reading(k, 0);
			return;
		}
		r = ctlframe_rd_feed(&k->rd, p, n, &used);
		p += used;
		n -= used;
		if (r == CTLFRAME_DONE) {
			dispatch(k);
		} else if (r < 0) {
			snprintf(msg, sizeof(msg), "request larger than %d "
				 "bytes", CTL_MAX_REQUEST);
			reply_error(k, CTL_EPROTO, r == CTLFRAME_TOOBIG ? msg :
				    "out of memory", 1);
			set_reading(k, 0);
			return;
		}
	}
	if (k->pending)
		set_reading(k, 0);
}

void ctl_reply(struct ctl_call *call, int status, const char *error,
	       const char *text, const char *json)
{
	ctl_reply_data(call, status, error, text, json, NULL, 0);
}

void ctl_reply_data(struct ctl_call *call, int status, const char *error,
		    const char *text, const char *json, const void *data,
		    size_t data_len)
{
	struct conn *k = call->conn;
	char *made = NULL;
	uint8_t *buf, *stash;
	size_t len, stash_len;

	free(call);
	if (!k)
		return;
	k->pending = NULL;
	if (status == CTL_OK && !json && text) {
		struct json *j = json_new();

		if (j) {
			json_obj_begin(j, NULL);
			json_str(j, "text", text);
			json_obj_end(j);
			made = json_finish(j);
			json_free(j);
		}
		json = made;
	}
	if (!text)
		text = json;
	buf = ctlframe_pack_response(status, error, text, json, data,
				     data_len, &len);
	free(made);
	if (!buf) {
		reply_error(k, CTL_ERR, "reply too large", 0);
	} else {
		send_frame(k, buf, len);
	}
	if (k->closing)
		return;
	uv_timer_start(&k->idle, on_idle, CTL_IDLE_MS, 0);
	stash = k->stash;
	stash_len = k->stash_len;
	k->stash = NULL;
	k->stash_len = 0;
	conn_input(k, stash, stash_len);
	free(stash);
	if (!k->pending)
		set_reading(k, 1);
}

/* ------------------------------------------------------------------ */

static void refuse_closed(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *c = server->data;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct conn *k;
	uv_os_fd_t fd;

	if (status < 0 || c->closing)
		return;
	if (c->n_conns >= CTL_MAX_CONNS) {
		uv_pipe_t *p = malloc(sizeof(*p));

		if (!p || uv_pipe_init(c->loop, p, 0) < 0) {
			free(p);
			return;
		}
		if (uv_accept(server, (uv_stream_t *)p) == 0)
			log_warnx("control: more than %d connections, "
				  "refusing one", CTL_MAX_CONNS);
		uv_close((uv_handle_t *)p, refuse_closed);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return;
	k->ctl = c;
	ctlframe_rd_init(&k->rd, CTL_MAX_REQUEST);
	uv_pipe_init(c->loop, &k->pipe, 0);
	uv_timer_init(c->loop, &k->idle);
	k->pipe.data = k;
	k->idle.data = k;
	k->handles = 2;
	k->next = c->conns;
	k->pprev = &c->conns;
	if (c->conns)
		c->conns->pprev = &k->next;
	c->conns = k;
	c->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&k->pipe) < 0) {
		conn_close(k);
		return;
	}
	if (uv_fileno((uv_handle_t *)&k->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
		k->uid = cred.uid;
		k->cred_ok = 1;
	}
	uv_timer_start(&k->idle, on_idle, CTL_IDLE_MS, 0);
	set_reading(k, 1);
}

/* mkdir -p of PATH's directory; existing directories are left as they are. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	log_warn("control: cannot create directory %s", dir);
	return -1;
}

/*
 * A socket file at PATH: if a daemon answers on it, refuse; if connecting
 * is refused, it was left by a crash: remove it.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("control: %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control: %s exists and is not a socket; not "
			  "removing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("control: socket");
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		log_warnx("control: another ntpnode is serving on %s", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		errno = e;
		log_warn("control: cannot check %s", path);
		return -1;
	}
	log_info("control: removing stale socket %s (left by a crash)", path);
	if (unlink(path) < 0 && errno != ENOENT) {
		log_warn("control: unlink %s", path);
		return -1;
	}
	return 0;
}

struct ctl *ctl_open(uv_loop_t *loop, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl *c = NULL;
	struct stat st;
	int fd = -1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if (make_parent(path) < 0 || clear_stale(path, &sun) < 0)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("control: socket");
		return NULL;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("control: bind %s", path);
		goto fail_fd;
	}
	/* Before listen(): nobody can connect while the mode is still the
	 * umask's. */
	if (chmod(path, 0660) < 0 || lstat(path, &st) < 0 ||
	    listen(fd, CTL_BACKLOG) < 0) {
		log_warn("control: %s", path);
		goto fail_unlink;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail_unlink;
	c->loop = loop;
	c->self = geteuid();
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	strcpy(c->path, path);
	uv_pipe_init(loop, &c->server, 0);
	c->server.data = c;
	c->server_open = 1;
	if (uv_pipe_open(&c->server, fd) < 0) {
		close(fd);
		log_warnx("control: cannot use %s", path);
		ctl_close(c);
		return NULL;
	}
	if (uv_listen((uv_stream_t *)&c->server, CTL_BACKLOG,
		      on_connection) < 0) {
		log_warnx("control: cannot listen on %s", path);
		ctl_close(c);
		return NULL;
	}
	return c;
fail_unlink:
	unlink(path);
fail_fd:
	close(fd);
	return NULL;
}

int ctl_register(struct ctl *c, const char *command, ctl_handler fn,
		 void *arg)
{
	const struct ctlcmd *def = ctlcmd_find(command);
	struct cmd *cmds;

	if (!def) {
		log_warnx("control: '%s' is not in the command table "
			  "(node/ctl/ctlcmd.c)", command);
		return -1;
	}
	if (find_cmd(c, def)) {
		log_warnx("control: '%s' registered twice", command);
		return -1;
	}
	cmds = realloc(c->cmds, sizeof(*cmds) * (size_t)(c->n_cmds + 1));
	if (!cmds)
		return -1;
	c->cmds = cmds;
	cmds[c->n_cmds].def = def;
	cmds[c->n_cmds].fn = fn;
	cmds[c->n_cmds].arg = arg;
	c->n_cmds++;
	return 0;
}

static void server_closed(uv_handle_t *h)
{
	struct ctl *c = h->data;

	c->server_open = 0;
	ctl_maybe_free(c);
}

void ctl_close(struct ctl *c)
{
	struct stat st;

	if (!c || c->closing)
		return;
	c->closing = 1;
	while (c->conns)
		conn_close(c->conns);
	/* Only our own socket: another daemon may have replaced it. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	uv_close((uv_handle_t *)&c->server, server_closed);
}
