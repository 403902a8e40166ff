/* child: exit codes, captured and capped output, stdin from memory, the
 * timeout that kills a whole session, cancel, spawn errors, and the
 * ambient capabilities a program gets. Runs /bin/sh and friends. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/base/child.h"

struct got {
	int calls;
	int exit_status, term_signal, timed_out;
	char *out, *err;
	size_t out_len, err_len;
	int out_truncated, err_truncated;
};

static void on_done(void *arg, const struct child_result *r)
{
	struct got *g = arg;

	g->calls++;
	g->exit_status = r->exit_status;
	g->term_signal = r->term_signal;
	g->timed_out = r->timed_out;
	g->out = malloc(r->out_len + 1);
	g->err = malloc(r->err_len + 1);
	assert_non_null(g->out);
	assert_non_null(g->err);
	memcpy(g->out, r->out, r->out_len + 1);
	memcpy(g->err, r->err, r->err_len + 1);
	g->out_len = r->out_len;
	g->err_len = r->err_len;
	g->out_truncated = r->out_truncated;
	g->err_truncated = r->err_truncated;
}

static void got_free(struct got *g)
{
	free(g->out);
	free(g->err);
	memset(g, 0, sizeof(*g));
}

/* Runs o to completion on a loop of its own; the loop must end with every
 * handle closed. Returns child_run's code. */
static int run(const struct child_opts *o, struct got *g)
{
	uv_loop_t loop;
	int rc;

	memset(g, 0, sizeof(*g));
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = child_run(&loop, o, on_done, g, NULL);
	assert_int_equal(g->calls, 0);	/* never from inside child_run */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(g->calls, rc == 0 ? 1 : 0);
	return rc;
}

static void exit_and_output(void **state)
{
	const char *sh[] = { "/bin/sh", "-c",
			     "printf out; printf 'e\\nrr' >&2; exit 3", NULL };
	const char *tru[] = { "true", NULL };
	struct child_opts o = { .argv = sh };
	struct got g;

	(void)state;
	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(g.exit_status, 3);
	assert_int_equal(g.term_signal, 0);
	assert_false(g.timed_out);
	assert_string_equal(g.out, "out");
	assert_int_equal(g.out_len, 3);
	assert_string_equal(g.err, "e\nrr");
	assert_false(g.out_truncated);
	got_free(&g);

	o.argv = tru;	/* found in PATH */
	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(g.exit_status, 0);
	assert_int_equal(g.out_len, 0);
	assert_string_equal(g.out, "");
	got_free(&g);
}

/* More output than the cap: the first bytes are kept, the program is
 * never blocked on a full pipe and exits normally. */
static void output_capped(void **state)
{
	const char *sh[] = { "/bin/sh", "-c",
			     "head -c 300000 /dev/zero | tr '\\000' x; "
			     "echo done >&2", NULL };
	struct child_opts o = { .argv = sh, .output_max = 1000 };
	struct got g;

	(void)state;
	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(g.exit_status, 0);
	assert_false(g.timed_out);
	assert_int_equal(g.out_len, 1000);
	assert_true(g.out_truncated);
	assert_int_equal(strspn(g.out, "x"), 1000);
	assert_string_equal(g.err, "done\n");
	assert_false(g.err_truncated);
	got_free(&g);
}

/* stdin from memory, larger than a pipe holds. */
static void input(void **state)
{
	const char *cat[] = { "cat", NULL };
	const char *sh[] = { "/bin/sh", "-c", "wc -c", NULL };
	struct child_opts o = { .argv = cat, .output_max = 400000 };
	char *data = malloc(300000);
	struct got g;
	size_t i;

	(void)state;
	assert_non_null(data);
	for (i = 0; i < 300000; i++)
		data[i] = (char)('a' + i % 26);
	o.input = data;
	o.input_len = 300000;
	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(g.exit_status, 0);
	assert_int_equal(g.out_len, 300000);
	assert_memory_equal(g.out, data, 300000);
	got_free(&g);
	/* no input: /dev/null, an immediate end of file */
	o.argv = sh;
	o.input = NULL;
	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(atoi(g.out), 0);
	got_free(&g);
	free(data);
}

/* The session's state in /proc: 0 when gone or a zombie. */
static int alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* After the timeout the whole session is killed: the shell and the child
 * it left in the background (which holds the output pipe open). */
static void timeout_kills_session(void **state)
{
	const char *sh[] = { "/bin/sh", "-c", "sleep 30 & echo $!; wait",
			     NULL };
	struct child_opts o = { .argv = sh, .timeout_ms = 300 };
	uint64_t t0 = uv_hrtime(), ms;
	struct got g;
	long bg;
	int i;

	(void)state;
	assert_int_equal(run(&o, &g), 0);
	ms = (uv_hrtime() - t0) / 1000000;
	assert_true(g.timed_out);
	assert_int_equal(g.term_signal, SIGKILL);
	assert_int_equal(g.exit_status, -1);
	assert_true(ms >= 300);
	assert_true(ms < 5000);
	bg = atol(g.out);
	assert_true(bg > 1);
	for (i = 0; i < 200 && alive(bg); i++)
		usleep(10000);
	assert_false(alive(bg));
	got_free(&g);
}

static void spawn_errors(void **state)
{
	const char *none[] = { "ntpmc-no-such-program", NULL };
	const char *abs[] = { "/nonexistent/ntpmc", NULL };
	const char *empty[] = { NULL };
	struct child_opts o = { .argv = none };
	struct got g;

	(void)state;
	assert_int_equal(run(&o, &g), -ENOENT);
	o.argv = abs;
	assert_int_equal(run(&o, &g), -ENOENT);
	o.argv = empty;
	assert_int_equal(run(&o, &g), -EINVAL);
}

static void cancel(void **state)
{
	const char *sh[] = { "/bin/sh", "-c", "sleep 30", NULL };
	struct child_opts o = { .argv = sh };
	struct child *c = NULL;
	uint64_t t0 = uv_hrtime();
	uv_loop_t loop;
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(child_run(&loop, &o, on_done, &g, &c), 0);
	assert_non_null(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	child_cancel(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(g.calls, 0);
	assert_true((uv_hrtime() - t0) / 1000000 < 5000);
}

/* capget/capset without libcap. */
static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, 2 * sizeof(*d));
	return (int)syscall(SYS_capget, &h, d);
}

static int caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capset, &h, d);
}

/* The daemon's environment with the given variables added; one of the
 * same name is replaced, not doubled; a string without NAME= is refused. */
static void environment(void **state)
{
	const char *sh[] = { "/bin/sh", "-c",
			     "echo \"$NTPMC_PROVIDER/$NTPMC_REGION/$CHILD_KEEP\";"
			     " env | grep -c '^NTPMC_REGION='", NULL };
	const char *env[] = { "NTPMC_PROVIDER=aws", "NTPMC_REGION=eu-west-1",
			      NULL };
	const char *bad[] = { "NOEQUALS", NULL };
	struct child_opts o = { .argv = sh, .env = env };
	struct got g;

	(void)state;
	assert_int_equal(setenv("CHILD_KEEP", "kept", 1), 0);
	assert_int_equal(setenv("NTPMC_REGION", "inherited", 1), 0);
	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(g.exit_status, 0);
	assert_string_equal(g.out, "aws/eu-west-1/kept\n1\n");
	got_free(&g);
	/* without env: the daemon's own, untouched */
	o.env = NULL;
	assert_int_equal(run(&o, &g), 0);
	assert_string_equal(g.out, "/inherited/kept\n1\n");
	got_free(&g);
	o.env = bad;
	assert_int_equal(run(&o, &g), -EINVAL);
	unsetenv("CHILD_KEEP");
	unsetenv("NTPMC_REGION");
}

/* CapAmb as the program sees it. */
static unsigned long long child_ambient(uint64_t caps)
{
	const char *sh[] = { "/bin/sh", "-c", "grep CapAmb /proc/self/status",
			     NULL };
	struct child_opts o = { .argv = sh, .caps = caps };
	unsigned long long amb = ~0ULL;
	struct got g;

	assert_int_equal(run(&o, &g), 0);
	assert_int_equal(g.exit_status, 0);
	assert_int_equal(sscanf(g.out, "CapAmb: %llx", &amb), 1);
	got_free(&g);
	return amb;
}

/* A daemon started with ambient capabilities (systemd's
 * AmbientCapabilities) passes none to a hook, and exactly CAP_NET_ADMIN
 * to wg/ip when asked; its own thread's ambient set is left empty. */
static void ambient_caps(void **state)
{
	struct __user_cap_data_struct d[2], saved[2];
	int bit = CAP_TO_INDEX(CAP_NET_ADMIN);

	(void)state;
	assert_int_equal(caps_get(saved), 0);
	memcpy(d, saved, sizeof(d));
	d[bit].inheritable |= CAP_TO_MASK(CAP_NET_ADMIN);
	if (!(d[bit].permitted & CAP_TO_MASK(CAP_NET_ADMIN)) ||
	    caps_set(d) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0UL,
		  0UL) != 0) {
		print_message("no CAP_NET_ADMIN to hand on: skipped\n");
		skip();
	}
	assert_int_equal(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
			       CAP_NET_ADMIN, 0UL, 0UL), 1);
	/* a hook: nothing, although this thread had it ambient */
	assert_int_equal(child_ambient(0), 0);
	assert_int_equal(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
			       CAP_NET_ADMIN, 0UL, 0UL), 0);
	/* wg/ip: CAP_NET_ADMIN and nothing else */
	assert_int_equal(child_ambient(CHILD_CAP(CAP_NET_ADMIN)),
			 1ULL << CAP_NET_ADMIN);
	assert_int_equal(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
			       CAP_NET_ADMIN, 0UL, 0UL), 0);
	/* one the thread cannot raise (not inheritable) is not passed */
	assert_int_equal(child_ambient(CHILD_CAP(CAP_SYS_TIME) |
				       CHILD_CAP(CAP_NET_ADMIN)),
			 (saved[CAP_TO_INDEX(CAP_SYS_TIME)].inheritable &
			  CAP_TO_MASK(CAP_SYS_TIME) ?
			  1ULL << CAP_SYS_TIME : 0) | 1ULL << CAP_NET_ADMIN);
	assert_int_equal(caps_set(saved), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_and_output),
		cmocka_unit_test(output_capped),
		cmocka_unit_test(input),
		cmocka_unit_test(timeout_kills_session),
		cmocka_unit_test(spawn_errors),
		cmocka_unit_test(cancel),
		cmocka_unit_test(environment),
		cmocka_unit_test(ambient_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
