/*
 * Control socket on a real libuv loop in this process: commands, errors,
 * the command table's checks (names, options, arguments), bad frames,
 * asynchronous replies (also after the client or the socket went away),
 * the socket's mode, stale and live sockets, SO_PEERCRED.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/ctl/ctl.h"
#include "node/ctl/ctlframe.h"
#include "node/base/log.h"

struct fx {
	uv_loop_t loop;
	char dir[64];
	char path[128];
	struct ctl *ctl;
	struct ctl_call *held;          /* the async handler's call */
	int async_calls;
};

static void on_echo(void *arg, struct ctl_call *call, int argc, char **argv)
{
	char text[256] = "echo";

	for (int i = 0; i < argc; i++) {
		strncat(text, " ", sizeof(text) - strlen(text) - 1);
		strncat(text, argv[i], sizeof(text) - strlen(text) - 1);
	}
	ctl_reply(call, CTL_OK, NULL, text, NULL);
}

static void on_later(void *arg, struct ctl_call *call, int argc, char **argv)
{
	struct fx *f = arg;

	f->held = call;
	f->async_calls++;
}

static void on_mutate(void *arg, struct ctl_call *call, int argc, char **argv)
{
	ctl_reply(call, CTL_OK, NULL, "done", "{\"done\":true}");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ntpmc-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* A parent directory that does not exist yet. */
	snprintf(f->path, sizeof(f->path), "%s/run/ntpnode/ctl.sock", f->dir);
	uv_loop_init(&f->loop);
	f->ctl = ctl_open(&f->loop, f->path);
	if (!f->ctl)
		return -1;
	/* Names from the table (node/ctl/ctlcmd.c), which says what each
	 * takes and who may run it; "sources" stays unanswered. */
	if (ctl_register(f->ctl, "config get", on_echo, f) < 0 ||
	    ctl_register(f->ctl, "config set", on_echo, f) < 0 ||
	    ctl_register(f->ctl, "token create", on_echo, f) < 0 ||
	    ctl_register(f->ctl, "backup", on_echo, f) < 0 ||
	    ctl_register(f->ctl, "tracking", on_later, f) < 0 ||
	    ctl_register(f->ctl, "cluster status", on_echo, f) < 0 ||
	    ctl_register(f->ctl, "loglevel", on_mutate, f) < 0)
		return -1;
	*state = f;
	return 0;
}

static void rm_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_close(f->ctl);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&f->loop) != 0)
		return -1;
	if (f->held)
		ctl_reply(f->held, CTL_OK, NULL, "late", NULL);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sun.sun_path, path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_request(int fd, const char *cmd, int argc, char **argv)
{
	size_t len;
	uint8_t *buf = ctlframe_pack_request(cmd, argc, argv, &len);

	assert_non_null(buf);
	send_all(fd, buf, len);
	free(buf);
}

/*
 * Runs the loop until a reply arrives on fd (or ms pass): the response,
 * or NULL. *eof is set if the daemon closed the connection.
 */
static Ntpmc__CtlResponse *wait_reply(struct fx *f, int fd, int ms, int *eof)
{
	struct ctlframe_rd rd;
	Ntpmc__CtlResponse *rsp = NULL;
	uint8_t buf[4096];
	int r = CTLFRAME_MORE;

	*eof = 0;
	ctlframe_rd_init(&rd, CTL_MAX_RESPONSE);
	for (int waited = 0; waited < ms && r == CTLFRAME_MORE; waited += 5) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		size_t used;
		ssize_t n;

		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&p, 1, 5) <= 0)
			continue;
		/* Peek, then take only what one frame used: a second reply
		 * that came in the same read stays for the next call. */
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);
		if (n == 0) {
			*eof = 1;
			break;
		}
		if (n < 0)
			continue;
		r = ctlframe_rd_feed(&rd, buf, (size_t)n, &used);
		assert_int_equal(recv(fd, buf, used, MSG_DONTWAIT),
				 (ssize_t)used);
	}
	if (r == CTLFRAME_DONE)
		rsp = ctlframe_unpack_response(rd.body, rd.len);
	ctlframe_rd_free(&rd);
	return rsp;
}

static Ntpmc__CtlResponse *call(struct fx *f, int fd, const char *cmd,
				int argc, char **argv)
{
	int eof;

	send_request(fd, cmd, argc, argv);
	return wait_reply(f, fd, 3000, &eof);
}

static void test_commands(void **state)
{
	struct fx *f = *state;
	char *args[] = { "a" }, *lvl[] = { "debug" };
	Ntpmc__CtlResponse *r;
	int fd = connect_to(f->path);

	r = call(f, fd, "config get", 1, args);
	assert_non_null(r);
	assert_int_equal(r->version, CTL_VERSION);
	assert_int_equal(r->status, CTL_OK);
	assert_string_equal(r->text, "echo a");
	/* A handler without JSON still gives -o json something valid. */
	assert_string_equal(r->json, "{\"text\":\"echo a\"}");
	ntpmc__ctl_response__free_unpacked(r, NULL);

	/* Several requests on one connection, multi-word names. */
	r = call(f, fd, "cluster status", 0, NULL);
	assert_non_null(r);
	assert_string_equal(r->text, "echo");
	ntpmc__ctl_response__free_unpacked(r, NULL);

	r = call(f, fd, "nosuch", 0, NULL);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_EUNKNOWN);
	assert_string_equal(r->error, "unknown command 'nosuch'");
	ntpmc__ctl_response__free_unpacked(r, NULL);

	/* In the table, but nothing here registered it. */
	r = call(f, fd, "sources", 0, NULL);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_EUNKNOWN);
	assert_non_null(strstr(r->error, "'sources' is not available"));
	ntpmc__ctl_response__free_unpacked(r, NULL);

	/* Our own uid may run a mutating command. */
	r = call(f, fd, "loglevel", 1, lvl);
	assert_non_null(r);
	assert_int_equal(r->status, geteuid() == getuid() ? CTL_OK : CTL_EPERM);
	assert_string_equal(r->json, "{\"done\":true}");
	ntpmc__ctl_response__free_unpacked(r, NULL);
	close(fd);
}

/* The table stands between a request and its handler. */
static void test_table(void **state)
{
	struct fx *f = *state;
	Ntpmc__CtlResponse *r;
	int fd = connect_to(f->path);
	struct {
		const char *cmd;
		int argc;
		char *argv[4];
		int status;
		const char *want;   /* the text, or a piece of the error */
	} cases[] = {
		/* options in canonical form, in table order */
		{ "token create", 3, { "--uses", "3", "--ttl=1h" }, CTL_OK,
		  "echo --ttl 1h --uses 3" },
		{ "token create", 1, { "--ttl" }, CTL_EUSAGE,
		  "--ttl needs a value (DURATION) (usage: token create "
		  "[--ttl DURATION] [--uses N])" },
		{ "token create", 1, { "--now" }, CTL_EUSAGE,
		  "unknown option '--now'" },
		{ "token create", 1, { "extra" }, CTL_EUSAGE,
		  "token create takes no arguments" },
		{ "token create", 4, { "--ttl", "1h", "--ttl", "2h" },
		  CTL_EUSAGE, "--ttl given twice" },
		{ "config get", 2, { "a", "b" }, CTL_EUSAGE,
		  "config get takes 0 to 1 arguments (usage: config get "
		  "[KEY])" },
		{ "config get", 1, { "-a" }, CTL_EUSAGE,
		  "unknown option '-a'" },
		/* `--` ends the options; config set takes '-' values */
		{ "config get", 2, { "--", "-a" }, CTL_OK, "echo -a" },
		{ "config set", 2, { "k", "-5" }, CTL_OK, "echo k -5" },
		{ "config set", 3, { "--", "-k", "-5" }, CTL_OK,
		  "echo -k -5" },
		/* backup's FILE and --force never reach the daemon */
		{ "backup", 0, { NULL }, CTL_OK, "echo" },
		{ "backup", 1, { "f" }, CTL_EUSAGE,
		  "backup takes no arguments" },
		{ "backup", 1, { "--force" }, CTL_EUSAGE,
		  "unknown option '--force'" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = call(f, fd, cases[i].cmd, cases[i].argc, cases[i].argv);
		assert_non_null(r);
		if (r->status != cases[i].status ||
		    !strstr(r->status ? r->error : r->text, cases[i].want))
			fail_msg("%s #%zu: status %d '%s%s', wanted %d '%s'",
				 cases[i].cmd, i, r->status, r->error, r->text,
				 cases[i].status, cases[i].want);
		ntpmc__ctl_response__free_unpacked(r, NULL);
	}
	close(fd);

	/* Only names from the table, each once. */
	assert_int_equal(ctl_register(f->ctl, "echo", on_echo, f), -1);
	assert_int_equal(ctl_register(f->ctl, "config get", on_echo, f), -1);
}

static void test_bad_frames(void **state)
{
	struct fx *f = *state;
	Ntpmc__CtlRequest req = NTPMC__CTL_REQUEST__INIT;
	uint8_t buf[64];
	Ntpmc__CtlResponse *r;
	int fd = connect_to(f->path), eof;
	size_t n;

	/* A version this daemon does not speak. */
	req.version = 7;
	req.command = "config get";
	n = ntpmc__ctl_request__pack(&req, buf + 4);
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = (uint8_t)n;
	send_all(fd, buf, n + 4);
	r = wait_reply(f, fd, 3000, &eof);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_EPROTO);
	assert_string_equal(r->error, "unsupported control protocol version 7 "
			    "(this ntpnode speaks 2): use the ntpctl of the "
			    "same release");
	ntpmc__ctl_response__free_unpacked(r, NULL);

	/* Garbage inside a well-formed frame: an error, the stream goes on. */
	send_all(fd, "\0\0\0\3\xff\xff\xff", 7);
	r = wait_reply(f, fd, 3000, &eof);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_EPROTO);
	assert_string_equal(r->error, "malformed request");
	ntpmc__ctl_response__free_unpacked(r, NULL);
	r = call(f, fd, "config get", 0, NULL);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_OK);
	ntpmc__ctl_response__free_unpacked(r, NULL);

	/* Over the size cap: an error, then the daemon closes. */
	send_all(fd, "\x7f\xff\xff\xff", 4);
	r = wait_reply(f, fd, 3000, &eof);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_EPROTO);
	assert_string_equal(r->error, "request larger than 65536 bytes");
	ntpmc__ctl_response__free_unpacked(r, NULL);
	r = wait_reply(f, fd, 3000, &eof);
	assert_null(r);
	assert_true(eof);
	close(fd);

	/* Half a frame, then the client leaves: nothing to answer. */
	fd = connect_to(f->path);
	send_all(fd, "\0\0\0\x10\x08", 5);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	close(fd);
	for (int i = 0; i < 10; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void test_async(void **state)
{
	struct fx *f = *state;
	Ntpmc__CtlResponse *r;
	int fd = connect_to(f->path), eof;

	/* The handler keeps the call; a second request waits behind it. */
	send_request(fd, "tracking", 0, NULL);
	send_request(fd, "config get", 0, NULL);
	r = wait_reply(f, fd, 200, &eof);
	assert_null(r);
	assert_false(eof);
	assert_int_equal(f->async_calls, 1);
	assert_non_null(f->held);
	ctl_reply(f->held, CTL_ERR, "upstream gone", NULL, NULL);
	f->held = NULL;
	r = wait_reply(f, fd, 3000, &eof);
	assert_non_null(r);
	assert_int_equal(r->status, CTL_ERR);
	assert_string_equal(r->error, "upstream gone");
	ntpmc__ctl_response__free_unpacked(r, NULL);
	r = wait_reply(f, fd, 3000, &eof);
	assert_non_null(r);
	assert_string_equal(r->text, "echo");
	ntpmc__ctl_response__free_unpacked(r, NULL);

	/* The client leaves before the answer: answering is still safe. */
	send_request(fd, "tracking", 0, NULL);
	r = wait_reply(f, fd, 100, &eof);
	assert_null(r);
	assert_non_null(f->held);
	close(fd);
	for (int i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	ctl_reply(f->held, CTL_OK, NULL, "nobody listens", NULL);
	f->held = NULL;

	/* And after ctl_close too (teardown answers the held call). */
	fd = connect_to(f->path);
	send_request(fd, "tracking", 0, NULL);
	r = wait_reply(f, fd, 100, &eof);
	assert_null(r);
	assert_non_null(f->held);
	close(fd);
}

static void test_socket_file(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char stale[160], plain[160];
	struct ctl *c2;
	struct stat st;
	uv_loop_t loop2;
	int fd;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* A live socket: a second daemon must not steal it. */
	uv_loop_init(&loop2);
	assert_null(ctl_open(&loop2, f->path));
	assert_int_equal(lstat(f->path, &st), 0);

	/* A socket nobody listens on (as a crash leaves it) is replaced. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", f->dir);
	strcpy(sun.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	c2 = ctl_open(&loop2, stale);
	assert_non_null(c2);
	ctl_close(c2);
	uv_run(&loop2, UV_RUN_DEFAULT);
	/* Closing removes the socket it created. */
	assert_int_equal(lstat(stale, &st), -1);

	/* Something that is not a socket is left alone. */
	snprintf(plain, sizeof(plain), "%s/plain", f->dir);
	fd = open(plain, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_null(ctl_open(&loop2, plain));
	assert_int_equal(lstat(plain, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(uv_loop_close(&loop2), 0);

	/* Too long a path. */
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	uv_loop_init(&loop2);
	assert_null(ctl_open(&loop2, longp));
	assert_int_equal(uv_loop_close(&loop2), 0);
}

static void test_peercred_rule(void **state)
{
	assert_true(ctl_peer_may_mutate(0, 1000));
	assert_true(ctl_peer_may_mutate(1000, 1000));
	assert_false(ctl_peer_may_mutate(1001, 1000));
	assert_false(ctl_peer_may_mutate(65534, 0));
}

/* As root: a client running as nobody (in the socket's group, so it may
 * connect) reads but may not mutate. */
static void test_peercred_other_uid(void **state)
{
	struct fx *f = *state;
	int status = -1;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	/* The group may traverse to the socket. */
	chmod(f->dir, 0750);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		Ntpmc__CtlResponse *r;
		int fd, ok;

		if (setgroups(0, NULL) < 0 || setgid(0) < 0 ||
		    setuid(65534) < 0)
			_exit(10);
		fd = connect_to(f->path);
		send_request(fd, "loglevel", 1, (char *[]){ "debug" });
		/* The parent runs the loop; here we only wait. */
		{
			struct pollfd p = { .fd = fd, .events = POLLIN };
			struct ctlframe_rd rd;
			uint8_t buf[1024];
			size_t used;
			ssize_t n;

			if (poll(&p, 1, 5000) != 1)
				_exit(11);
			n = recv(fd, buf, sizeof(buf), 0);
			ctlframe_rd_init(&rd, CTL_MAX_RESPONSE);
			if (n <= 0 || ctlframe_rd_feed(&rd, buf, (size_t)n,
						       &used) != CTLFRAME_DONE)
				_exit(12);
			r = ctlframe_unpack_response(rd.body, rd.len);
			ok = r && r->status == CTL_EPERM &&
			     strstr(r->error, "permission denied: 'loglevel'");
			_exit(ok ? 0 : 13);
		}
	}
	for (int i = 0; i < 1000; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(5000);
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the unprivileged client did not finish");
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test(test_peercred_rule),
		cmocka_unit_test_setup_teardown(test_peercred_other_uid, setup,
						teardown),
	};

	log_init("test_ctl", LOG_LVL_WARN);
	/* As ntpnode does: a reply to a client that left must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
