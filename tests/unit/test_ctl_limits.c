/*
 * The control socket's limits, with small values: ctl.c is included here
 * with its limits redefined (chrony's unit-test style), so the real code
 * runs against a 600 ms idle limit (long enough that a loaded machine does
 * not stall past it), 3 connections for root and the daemon's user, 2 per
 * other user and 3 for all other users together. The per-uid test runs
 * real clients as other users (root only; skipped otherwise).
 */
#define CTL_IDLE_MS 600
#define CTL_MAX_CONNS 3
#define CTL_MAX_PER_UID 2
#define CTL_MAX_PRIV 3
#include "node/ctl/ctl.c"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <time.h>

static void on_echo(void *arg, struct ctl_call *call, int argc, char **argv)
{
	ctl_reply(call, CTL_OK, NULL, "echo", NULL);
}

struct fx {
	uv_loop_t loop;
	char dir[64];
	char path[128];
	struct ctl *ctl;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ntpmc-ctll-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	uv_loop_init(&f->loop);
	f->ctl = ctl_open(&f->loop, f->path);
	if (!f->ctl)
		return -1;
	if (ctl_register(f->ctl, "serverstats", on_echo, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_close(f->ctl);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&f->loop) != 0)
		return -1;
	rmdir(f->dir);
	free(f);
	return 0;
}

static int dial(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sun.sun_path, path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Runs the loop for up to ms: 1 when the daemon closed fd (EOF), 2 when a
 * reply frame arrived, 0 when neither happened.
 */
static int watch(struct fx *f, int fd, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	uint8_t buf[256];

	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&p, 1, 5) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n > 0)
			return 2;
	}
	return 0;
}

static int ask(struct fx *f, int fd)
{
	size_t len;
	uint8_t *buf = ctlframe_pack_request("serverstats", 0, NULL, &len);

	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
	free(buf);
	return watch(f, fd, 2000);
}

static void test_idle(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = now_ms();
	int quiet = dial(f->path), partial = dial(f->path), busy = dial(f->path);

	/* Half a frame does not count as activity. */
	assert_int_equal(send(partial, "\0\0\0\x20\x08", 5, 0), 5);
	/* A client asking every 100 ms (under the limit) stays: each reply
	 * restarts its clock, while twice the limit passes in all. */
	while (now_ms() - t0 < 2 * CTL_IDLE_MS) {
		assert_int_equal(watch(f, busy, 100), 0);
		assert_int_equal(ask(f, busy), 2);
	}
	/* The silent one and the half-frame one were closed meanwhile. */
	assert_int_equal(watch(f, quiet, 100), 1);
	assert_int_equal(watch(f, partial, 100), 1);
	close(quiet);
	close(partial);
	close(busy);
}

/* The reply frame on fd (after a request, or unasked), "" on EOF. */
static void reply_of(struct fx *f, int fd, char *out, size_t len)
{
	uint64_t end = now_ms() + 2000;
	size_t got = 0;

	out[0] = 0;
	while (now_ms() < end && got < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&p, 1, 5) <= 0)
			continue;
		n = recv(fd, out + got, len - 1 - got, MSG_DONTWAIT);
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = 0;
	}
	/* the protobuf's strings are plain bytes: make it searchable */
	for (size_t i = 0; i < got; i++)
		if (!out[i])
			out[i] = ' ';
}

/* Root (this test) has its own pool; one more is refused, saying why. */
static void test_max_conns(void **state)
{
	struct fx *f = *state;
	int fd[CTL_MAX_PRIV + 1];
	char r[256];

	for (int i = 0; i < CTL_MAX_PRIV; i++) {
		fd[i] = dial(f->path);
		assert_int_equal(ask(f, fd[i]), 2);
	}
	fd[CTL_MAX_PRIV] = dial(f->path);
	reply_of(f, fd[CTL_MAX_PRIV], r, sizeof(r));
	assert_non_null(strstr(r, "already hold 3 control connections"));
	assert_int_equal(watch(f, fd[CTL_MAX_PRIV], 1000), 1);
	for (int i = 0; i < CTL_MAX_PRIV; i++)
		assert_int_equal(ask(f, fd[i]), 2);
	/* Once one leaves, a new client gets in. */
	close(fd[0]);
	for (int i = 0; i < 10; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	fd[0] = dial(f->path);
	assert_int_equal(ask(f, fd[0]), 2);
	for (int i = 0; i <= CTL_MAX_PRIV; i++)
		close(fd[i]);
}

/*
 * A child running as uid opens n connections one after the other, asks on
 * each and reports how many were answered and how many refused with the
 * per-user or the all-users limit; it holds them until its pipe closes.
 */
struct holder {
	pid_t pid;
	int res, hold;
};

static void holder_main(const char *path, uid_t uid, int n, int res,
			int hold)
{
	int answered = 0, per_uid = 0, all = 0, i;
	char out[64];

	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
		_exit(2);
	for (i = 0; i < n; i++) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		size_t len;
		uint8_t *q = ctlframe_pack_request("serverstats", 0, NULL, &len);
		char buf[512];
		ssize_t got = 0, m;
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		strcpy(sun.sun_path, path);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun,
				      sizeof(sun)) < 0)
			_exit(3);
		(void)send(fd, q, len, MSG_NOSIGNAL);
		free(q);
		while (got < (ssize_t)sizeof(buf) - 1) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 3000) <= 0)
				break;
			m = recv(fd, buf + got, sizeof(buf) - 1 - (size_t)got,
				 0);
			if (m <= 0)
				break;
			got += m;
			if (got > 4)    /* one small frame is all we need */
				break;
		}
		buf[got > 0 ? got : 0] = 0;
		for (ssize_t k = 0; k < got; k++)
			if (!buf[k])
				buf[k] = ' ';
		if (strstr(buf, "the limit per user"))
			per_uid++;
		else if (strstr(buf, "the limit for all of them"))
			all++;
		else if (got > 0)
			answered++;
	}
	snprintf(out, sizeof(out), "%d %d %d\n", answered, per_uid, all);
	if (write(res, out, strlen(out)) < 0)
		_exit(4);
	/* hold every connection until the parent is done */
	(void)read(hold, out, 1);
	_exit(0);
}

static struct holder holder_start(const char *path, uid_t uid, int n)
{
	struct holder h;
	int r[2], k[2];

	assert_int_equal(pipe(r), 0);
	assert_int_equal(pipe(k), 0);
	h.pid = fork();
	assert_true(h.pid >= 0);
	if (h.pid == 0) {
		close(r[0]);
		close(k[1]);
		holder_main(path, uid, n, r[1], k[0]);
	}
	close(r[1]);
	close(k[0]);
	h.res = r[0];
	h.hold = k[1];
	return h;
}

/* Runs the loop until the holder reports. */
static void holder_report(struct fx *f, struct holder *h, int *answered,
			  int *per_uid, int *all)
{
	uint64_t end = now_ms() + 10000;
	char buf[64];
	ssize_t n = 0;

	while (now_ms() < end) {
		struct pollfd p = { .fd = h->res, .events = POLLIN };

		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&p, 1, 5) > 0) {
			n = read(h->res, buf, sizeof(buf) - 1);
			break;
		}
	}
	assert_true(n > 0);
	buf[n] = 0;
	assert_int_equal(sscanf(buf, "%d %d %d", answered, per_uid, all), 3);
}

static void holder_stop(struct fx *f, struct holder *h)
{
	int st;

	close(h->hold);
	close(h->res);
	while (waitpid(h->pid, &st, WNOHANG) == 0)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_uid_limits(void **state)
{
	struct fx *f = *state;
	struct holder a, b;
	int ok, per, all, fd, lines = 0, saved;
	char logf[] = "/tmp/ntpmc-ctll-log-XXXXXX", line[512];
	FILE *lf;

	if (geteuid() != 0)
		skip();
	/* Other users may reach the socket (the group's members would). */
	assert_int_equal(chmod(f->dir, 0711), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	fd = mkstemp(logf);
	assert_true(fd >= 0);
	saved = dup(2);
	assert_int_equal(dup2(fd, 2), 2);

	/* One user: CTL_MAX_PER_UID answered, the rest refused. */
	a = holder_start(f->path, 65534, CTL_MAX_PER_UID + 2);
	holder_report(f, &a, &ok, &per, &all);
	assert_int_equal(ok, CTL_MAX_PER_UID);
	assert_int_equal(per, 2);
	assert_int_equal(all, 0);
	/* A second user: the room left for all other users together. */
	b = holder_start(f->path, 65533, 2);
	holder_report(f, &b, &ok, &per, &all);
	assert_int_equal(ok, CTL_MAX_CONNS - CTL_MAX_PER_UID);
	assert_int_equal(all, 2 - ok);
	/* Root is still served, on connections of its own. */
	for (int i = 0; i < CTL_MAX_PRIV; i++) {
		int r = dial(f->path);

		assert_int_equal(ask(f, r), 2);
		close(r);
	}
	/* b's child inherited a's pipes: it goes first. */
	holder_stop(f, &b);
	holder_stop(f, &a);

	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	lf = fdopen(fd, "r");
	assert_non_null(lf);
	rewind(lf);
	/* Three refusals, one line: with the uid, inside one interval. */
	while (fgets(line, sizeof(line), lf))
		if (strstr(line, "control: refused a connection of uid")) {
			lines++;
			assert_non_null(strstr(line, "uid 65534"));
		}
	fclose(lf);
	unlink(logf);
	assert_int_equal(lines, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_conns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid_limits, setup,
						teardown),
	};

	log_init("test_ctl_limits", LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
