/* Time-engine directives: good lines, every error with FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/daemon/conf.h"

static char errbuf[8192];

static int load(struct conf *c, const char *text)
{
	FILE *f = fmemopen(errbuf, sizeof(errbuf), "w");
	int rc;

	memset(errbuf, 0, sizeof(errbuf));
	conf_set_error_stream(f);
	rc = conf_load_text(c, "t.conf", text);
	fflush(f);
	conf_set_error_stream(NULL);
	fclose(f);
	return rc;
}

static void test_defaults(void **st)
{
	struct conf c;

	(void)st;
	assert_int_equal(load(&c, ""), 0);
	assert_int_equal(c.time.n_up, 0);
	assert_int_equal(c.time.minsources, 1);
	assert_true(c.time.maxdistance == 3.0);
	assert_true(c.time.maxslewrate == 500.0);
	assert_true(c.time.makestep == 1.0);
	assert_int_equal(c.time.makestep_limit, 3);
	assert_true(c.time.holdover == 3600.0);
	assert_int_equal(c.time.clock_error_set, 0);
}

static void test_good(void **st)
{
	struct conf c;

	(void)st;
	assert_int_equal(load(&c,
		"upstream 192.0.2.1 port 1123 minpoll -6 maxpoll -2 iburst prefer\n"
		"upstream time.example.org smearing\n"
		"pool pool.example.org maxsources 6 iburst SMEARING\n"
		"upstream 2001:db8::1 minpoll 12\n"
		"minsources 2\nmaxdistance 1.5\nmaxslewrate 800\n"
		"makestep 0.1 -1\nholdover 600\n"
		"test-mode yes\nhostsfile /tmp/h\n"
		"clock-error offset -0.25 drift 12.5\n"), 0);
	assert_int_equal(c.time.n_up, 4);
	assert_string_equal(c.time.up[0].host, "192.0.2.1");
	assert_int_equal(c.time.up[0].port, 1123);
	assert_int_equal(c.time.up[0].minpoll, -6);
	assert_int_equal(c.time.up[0].maxpoll, -2);
	assert_int_equal(c.time.up[0].iburst, 1);
	assert_int_equal(c.time.up[0].prefer, 1);
	assert_int_equal(c.time.up[0].smearing, 0);
	assert_int_equal(c.time.up[1].smearing, 1);
	assert_int_equal(c.time.up[2].smearing, 1);
	assert_int_equal(c.time.up[1].port, 123);
	assert_int_equal(c.time.up[1].minpoll, 6);
	assert_int_equal(c.time.up[1].maxpoll, 10);
	assert_int_equal(c.time.up[2].pool, 1);
	assert_int_equal(c.time.up[2].maxsources, 6);
	/* a lone minpoll above the default maxpoll raises maxpoll */
	assert_int_equal(c.time.up[3].minpoll, 12);
	assert_int_equal(c.time.up[3].maxpoll, 12);
	assert_int_equal(c.time.minsources, 2);
	assert_true(c.time.maxdistance == 1.5);
	assert_true(c.time.maxslewrate == 800);
	assert_int_equal(c.time.makestep_limit, -1);
	assert_true(c.time.holdover == 600);
	assert_string_equal(c.time.hostsfile, "/tmp/h");
	assert_int_equal(c.time.clock_error_set, 1);
	assert_true(c.time.clock_error_offset == -0.25);
	assert_true(c.time.clock_error_drift == 12.5);
}

static void test_errors(void **st)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "upstream\n", "t.conf:1:" },
		{ "upstream 192.0.2.1 minpoll -7\n", "minpoll" },
		{ "upstream 192.0.2.1 maxpoll 18\n", "maxpoll" },
		{ "upstream 192.0.2.1 minpoll 8 maxpoll 4\n", "above maxpoll" },
		{ "upstream 192.0.2.1 port 0\n", "port" },
		{ "upstream 192.0.2.1 bogus\n", "bogus" },
		{ "upstream 192.0.2.1 maxsources 3\n", "maxsources" },
		{ "upstream a/b\n", "not a host" },
		{ "upstream 192.0.2.1\nupstream 192.0.2.1\n", "t.conf:2: " },
		{ "pool p.example maxsources 0\n", "maxsources" },
		{ "minsources 0\n", "minsources" },
		{ "maxdistance -1\n", "maxdistance" },
		{ "maxslewrate abc\n", "maxslewrate" },
		{ "makestep 1\n", "usage" },
		{ "makestep 1 -2\n", "limit" },
		{ "holdover nan\n", "holdover" },
		{ "leapfile relative/path\n", "absolute" },
		{ "leapfile /nonexistent/leap-seconds.list\n", "leapfile" },
		{ "hostsfile x\n", "absolute" },
		{ "clock-error offset 1 speed 2\n", "usage" },
		{ "clock-error offset x drift 2\n", "offset" },
		{ "local stratum 10\nupstream 192.0.2.1\n", "t.conf:2: upstream/pool: not allowed with 'local stratum'" },
		{ "upstream 192.0.2.1\nlocal stratum 10\n", "t.conf:1: upstream" },
	};
	struct conf c;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(&c, bad[i].text), -1);
		if (!strstr(errbuf, bad[i].msg)) {
			print_error("case %zu: '%s' not in '%s'\n", i, bad[i].msg,
				    errbuf);
			fail();
		}
	}
}

static void test_leapfile(void **st)
{
	char path[] = "/tmp/leapconfXXXXXX", text[256];
	struct conf c;
	int fd = mkstemp(path);
	static const char good[] = "#@ 4275763200\n2272060800 10\n";

	(void)st;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, sizeof(good) - 1),
			 (ssize_t)sizeof(good) - 1);
	close(fd);
	snprintf(text, sizeof(text), "leapfile %s\n", path);
	assert_int_equal(load(&c, text), 0);
	assert_string_equal(c.time.leapfile, path);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	close(fd);
	assert_int_equal(load(&c, text), -1);
	assert_non_null(strstr(errbuf, "t.conf:1: leapfile"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_leapfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
