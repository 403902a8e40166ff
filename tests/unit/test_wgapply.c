/* wgapply: the tools it runs, in order, with the file on stdin; failures
 * and missing tools; cancel. `ip` and `wg` are stand-in scripts first in
 * PATH that log their arguments (nothing touches a real interface). */
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

#include "node/cluster/wg/wgapply.h"

static char dir[64], path_env[512], log_path[128], conf_path[128];

static void script(const char *name, const char *body)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(p, 0755), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_wgapply.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/conf", dir);
	setenv("WGA_LOG", log_path, 1);
	setenv("WGA_CONF", conf_path, 1);
	script("ip", "echo \"ip $*\" >> \"$WGA_LOG\"; exit \"${IP_EXIT:-0}\"");
	script("wg", "echo \"wg $*\" >> \"$WGA_LOG\"; cat \"$3\" > \"$WGA_CONF\"\n"
	       "[ -n \"$WG_SLEEP\" ] && sleep \"$WG_SLEEP\"\n"
	       "[ -n \"$WG_FAIL\" ] && { echo \"Line unrecognized: "
	       "\\`PrivateKey=c2VjcmV0'\" >&2; exit 1; }\nexit 0");
	snprintf(path_env, sizeof(path_env), "%s:/usr/sbin:/usr/bin:/sbin:/bin",
		 dir);
	setenv("PATH", path_env, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *p)
{
	static char buf[4096];
	FILE *f = fopen(p, "r");
	size_t n;

	if (!f)
		return strcpy(buf, "");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

struct got {
	int calls, rc;
	char why[256];
};

static void on_done(void *arg, int rc, const char *why)
{
	struct got *g = arg;

	g->calls++;
	g->rc = rc;
	snprintf(g->why, sizeof(g->why), "%s", why);
}

static const char conf[] = "[Interface]\nPrivateKey = c2VjcmV0\n"
			   "ListenPort = 51820\n\n";

/* Runs one apply to its end; returns wga_start's code. */
static int apply(const char *ifname, struct got *g)
{
	struct wgm_subnet sn;
	struct wga_req req = { ifname, conf, sizeof(conf) - 1, "10.77.0.2",
			       &sn };
	struct wga *job = NULL;
	uv_loop_t loop;
	int rc;

	assert_int_equal(wgm_subnet_parse("10.77.0.0/24", &sn), 0);
	memset(g, 0, sizeof(*g));
	unlink(log_path);
	unlink(conf_path);
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = wga_start(&loop, &req, on_done, g, &job);
	assert_int_equal(g->calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(g->calls, rc == 0 ? 1 : 0);
	return rc;
}

static void steps(void **state)
{
	struct got g;

	(void)state;
	/* no such interface: created first */
	assert_int_equal(apply("ntpmc-nonex9", &g), 0);
	assert_int_equal(g.rc, 0);
	assert_string_equal(slurp(log_path),
			    "ip link add dev ntpmc-nonex9 type wireguard\n"
			    "wg syncconf ntpmc-nonex9 /dev/stdin\n"
			    "ip -4 address replace 10.77.0.2/24 dev ntpmc-nonex9\n"
			    "ip link set dev ntpmc-nonex9 up\n");
	assert_string_equal(slurp(conf_path), conf);
	/* an interface that exists (wireguard-go made it): no add */
	assert_int_equal(apply("lo", &g), 0);
	assert_int_equal(g.rc, 0);
	assert_string_equal(slurp(log_path),
			    "wg syncconf lo /dev/stdin\n"
			    "ip -4 address replace 10.77.0.2/24 dev lo\n"
			    "ip link set dev lo up\n");
}

static void failures(void **state)
{
	struct wgm_subnet sn;
	struct wga_req req = { "lo", conf, sizeof(conf) - 1, "10.99.0.2", &sn };
	struct wga *job = NULL;
	struct got g;

	(void)state;
	/* wg fails quoting the key line: -EIO, and the key stays out */
	setenv("WG_FAIL", "1", 1);
	assert_int_equal(apply("lo", &g), 0);
	unsetenv("WG_FAIL");
	assert_int_equal(g.rc, -EIO);
	assert_non_null(strstr(g.why, "wg syncconf"));
	assert_null(strstr(g.why, "c2VjcmV0"));
	assert_null(strstr(slurp(log_path), "ip -4"));
	/* the interface cannot be made */
	setenv("IP_EXIT", "2", 1);
	assert_int_equal(apply("ntpmc-nonex9", &g), 0);
	unsetenv("IP_EXIT");
	assert_int_equal(g.rc, -ENODEV);
	assert_non_null(strstr(g.why, "ip link add: exit 2"));
	/* the tools are not installed */
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(apply("lo", &g), -ENOENT);
	setenv("PATH", path_env, 1);
	/* refused before anything runs */
	assert_int_equal(apply("-bad", &g), -EINVAL);
	assert_int_equal(wgm_subnet_parse("10.77.0.0/24", &sn), 0);
	assert_int_equal(wga_start(NULL, &req, on_done, &g, &job), -EINVAL);
}

/* Cancelled while wg runs: killed, no callback, the loop ends. */
static void cancel(void **state)
{
	struct wgm_subnet sn;
	struct wga_req req = { "lo", conf, sizeof(conf) - 1, "10.77.0.2", &sn };
	struct wga *job = NULL;
	uint64_t t0 = uv_hrtime();
	uv_loop_t loop;
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(wgm_subnet_parse("10.77.0.0/24", &sn), 0);
	setenv("WG_SLEEP", "30", 1);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(wga_start(&loop, &req, on_done, &g, &job), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	wga_cancel(job);
	uv_run(&loop, UV_RUN_DEFAULT);
	unsetenv("WG_SLEEP");
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(g.calls, 0);
	assert_true((uv_hrtime() - t0) / 1000000 < 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(steps),
		cmocka_unit_test(failures),
		cmocka_unit_test(cancel),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
