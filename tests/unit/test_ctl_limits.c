/*
 * The control socket's limits, with small values: ctl.c is included here
 * with CTL_IDLE_MS and CTL_MAX_CONNS redefined (chrony's unit-test style),
 * so the real code runs against a 600 ms idle limit and 3 connections
 * (long enough that a loaded machine does not stall past it).
 */
#define CTL_IDLE_MS 600
#define CTL_MAX_CONNS 3
#include "node/ctl/ctl.c"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
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

static void test_max_conns(void **state)
{
	struct fx *f = *state;
	int fd[CTL_MAX_CONNS + 1];

	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		fd[i] = dial(f->path);
		assert_int_equal(ask(f, fd[i]), 2);
	}
	/* One more is accepted and closed at once; the others still work. */
	fd[CTL_MAX_CONNS] = dial(f->path);
	assert_int_equal(watch(f, fd[CTL_MAX_CONNS], 1000), 1);
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		assert_int_equal(ask(f, fd[i]), 2);
	/* Once one leaves, a new client gets in. */
	close(fd[0]);
	for (int i = 0; i < 10; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	fd[0] = dial(f->path);
	assert_int_equal(ask(f, fd[0]), 2);
	for (int i = 0; i <= CTL_MAX_CONNS; i++)
		close(fd[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_conns, setup, teardown),
	};

	log_init("test_ctl_limits", LOG_LVL_ERR);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
