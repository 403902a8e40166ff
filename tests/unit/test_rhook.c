/* rhook: a provider hook run for real (/bin/sh scripts): its arguments
 * and environment, status words (garbage is unknown, never stopped),
 * failures with the first line of stderr, the timeout, refused
 * arguments, the config check of a hook's path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/rotation/rhook.h"

static char dir[64], hook[96], plain[96];

struct got {
	int calls;
	struct rhook_result r;
};

static void on_done(void *arg, const struct rhook_result *r)
{
	struct got *g = arg;

	g->calls++;
	g->r = *r;
}

/* Runs action with the script's behaviour in $MODE. */
static int run(const char *mode, int action, const char *instance,
	       unsigned timeout_ms, struct got *g)
{
	struct rhook_call c = { hook, timeout_ms, action, "aws", "eu-west-1",
				instance };
	uv_loop_t loop;
	int rc;

	memset(g, 0, sizeof(*g));
	setenv("MODE", mode, 1);
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = rhook_run(&loop, &c, on_done, g, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(g->calls, rc == 0 ? 1 : 0);
	return rc;
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_rhook.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(hook, sizeof(hook), "%s/hook", dir);
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	f = fopen(hook, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
		"echo \"$1 $2 $NTPMC_PROVIDER $NTPMC_REGION\" > %s/args\n"
		"case $MODE in\n"
		"word) echo \"$WORD\" ;;\n"
		"fail) echo 'AccessDenied: not allowed' >&2; "
		"echo second >&2; exit 3 ;;\n"
		"hang) sleep 30 ;;\n"
		"esac\n", dir);
	fclose(f);
	assert_int_equal(chmod(hook, 0755), 0);
	f = fopen(plain, "w");
	assert_non_null(f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void args_and_env(void **state)
{
	char path[128], line[128] = "";
	struct got g;
	FILE *f;

	(void)state;
	assert_int_equal(run("ok", RHOOK_STOP, "i-0abc", 0, &g), 0);
	assert_true(g.r.ok);
	snprintf(path, sizeof(path), "%s/args", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "stop i-0abc aws eu-west-1\n");
}

static void status_words(void **state)
{
	static const struct { const char *out; int state; } cases[] = {
		{ "running", RHOOK_RUNNING },
		{ "  stopped\n", RHOOK_STOPPED },
		{ "pending", RHOOK_PENDING },
		{ "unknown", RHOOK_UNKNOWN },
		{ "STOPPED", RHOOK_UNKNOWN },
		{ "stopped now", RHOOK_UNKNOWN },
		{ "", RHOOK_UNKNOWN },
		{ "{\"State\": \"stopped\"}", RHOOK_UNKNOWN },
	};
	struct got g;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("WORD", cases[i].out, 1);
		assert_int_equal(run("word", RHOOK_STATUS, "vm-1", 0, &g), 0);
		assert_true(g.r.ok);
		if (g.r.state != cases[i].state)
			fail_msg("'%s' read as %s", cases[i].out,
				 rhook_state_name(g.r.state));
	}
	assert_int_equal(rhook_parse_state("running\n", 8), RHOOK_RUNNING);
	assert_int_equal(rhook_parse_state("run", 3), RHOOK_UNKNOWN);
}

static void failures(void **state)
{
	struct got g;

	(void)state;
	assert_int_equal(run("fail", RHOOK_START, "vm-1", 0, &g), 0);
	assert_false(g.r.ok);
	assert_string_equal(g.r.detail, "exit 3: AccessDenied: not allowed");
	assert_int_equal(run("hang", RHOOK_START, "vm-1", 300, &g), 0);
	assert_false(g.r.ok);
	assert_non_null(strstr(g.r.detail, "timed out"));
	/* what cannot be passed is refused before anything runs */
	assert_int_equal(run("ok", RHOOK_START, "-rf", 0, &g), -EINVAL);
	assert_int_equal(run("ok", RHOOK_START, "", 0, &g), -EINVAL);
	assert_int_equal(run("ok", RHOOK_N_ACTIONS, "vm-1", 0, &g), -EINVAL);
	assert_int_equal(rhook_action_of("terminate"), RHOOK_TERMINATE);
	assert_int_equal(rhook_action_of("reboot"), -1);
}

static void check_path(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(rhook_check_path(hook, err, sizeof(err)), 0);
	assert_int_equal(rhook_check_path(plain, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not executable"));
	assert_int_equal(rhook_check_path("/nonexistent/hook", err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(rhook_check_path(dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rhook_check_path("hook", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(args_and_env),
		cmocka_unit_test(status_words),
		cmocka_unit_test(failures),
		cmocka_unit_test(check_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
