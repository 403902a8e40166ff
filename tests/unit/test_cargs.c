/* init/join command lines: any order, token sources, argv scrubbed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/daemon/cargs.h"

#define ARGV(...) char *av[] = { __VA_ARGS__ }; \
	int ac = (int)(sizeof(av) / sizeof(av[0]))

static int parse(struct cargs *a, int ac, char **av, char *err)
{
	return cargs_parse(a, ac, av, err, 256);
}

static void init_any_order(void **state)
{
	struct cargs a;
	char err[256], c1[] = "-c", f[] = "/x.conf", i[] = "init";
	char ceq[] = "-c=/y.conf";

	(void)state;
	unsetenv("NTPNODE_TOKEN");
	{
		ARGV(i, c1, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_int_equal(a.cmd, CARGS_INIT);
		assert_string_equal(a.conf, "/x.conf");
	}
	{
		ARGV(i, ceq);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.conf, "/y.conf");
	}
	{
		ARGV(i);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "-c FILE"));
	}
	{
		char tok[] = "--token", v[] = "T";
		ARGV(i, c1, f, tok, v);   /* init takes no token */
		assert_int_equal(parse(&a, ac, av, err), -1);
	}
	{
		char nr[] = "--no-run";
		ARGV(i, nr, c1, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_int_equal(a.no_run, 1);
	}
	{
		ARGV(i, c1, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_int_equal(a.no_run, 0);
	}
	{
		char nr[] = "--no-run=yes";
		ARGV(i, c1, f, nr);       /* a flag, no value */
		assert_int_equal(parse(&a, ac, av, err), -1);
	}
}

static void join_token_scrubbed(void **state)
{
	struct cargs a;
	char err[256], j[] = "join", c[] = "-c", f[] = "/x.conf";
	char tok[] = "--token", secret[] = "SECRETTOKEN";
	char teq[] = "--token=OTHERSECRET";

	(void)state;
	unsetenv("NTPNODE_TOKEN");
	{
		ARGV(j, tok, secret, c, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_int_equal(a.cmd, CARGS_JOIN);
		assert_string_equal(a.token, "SECRETTOKEN");
		assert_string_equal(a.conf, "/x.conf");
		assert_int_equal(secret[0], 0);   /* wiped in argv */
		cargs_wipe(&a);
		assert_int_equal(a.token[0], 0);
	}
	{
		ARGV(j, c, f, teq);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.token, "OTHERSECRET");
		assert_string_equal(teq, "--token=");
	}
}

static void join_token_sources(void **state)
{
	struct cargs a;
	char err[256], j[] = "join", c[] = "-c", f[] = "/x.conf";
	char tf[] = "--token-file", path[] = "/tmp/test_cargs.XXXXXX";
	char tok[] = "--token", v[] = "A";
	int fd;

	(void)state;
	unsetenv("NTPNODE_TOKEN");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "  FILETOKEN\n", 12), 12);
	close(fd);
	{
		ARGV(j, tf, path, c, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.token, "FILETOKEN");
	}
	{
		ARGV(j, tf, path, c, f, tok, v);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "once"));
	}
	unlink(path);
	{
		ARGV(j, tf, path, c, f);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, path));
	}
	setenv("NTPNODE_TOKEN", "ENVTOKEN", 1);
	{
		ARGV(j, c, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.token, "ENVTOKEN");
		assert_null(getenv("NTPNODE_TOKEN"));
	}
	{
		ARGV(j, c, f);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "required"));
	}
	{
		char t2[] = "--token";
		ARGV(j, c, f, t2);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "needs a value"));
	}
	{
		char x[] = "--bogus";
		ARGV(j, c, f, x);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "--bogus"));
	}
}

static void init_overlay_subnet(void **state)
{
	struct cargs a;
	char err[256], c1[] = "-c", f[] = "/x.conf", i[] = "init";
	char o[] = "--overlay-subnet", v[] = "10.99.0.0/16";
	char oeq[] = "--overlay-subnet=192.168.10.0/24";
	static const char *bad[] = { "192.168.10.1/24", "10.0.0.0/8",
				     "10.0.0.0/31", "10.0.0.0", "x/24",
				     "10.0.0.0/24 ", "" };
	size_t k;

	(void)state;
	{
		ARGV(i, c1, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.overlay_subnet, "");  /* default */
	}
	{
		ARGV(i, o, v, c1, f);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.overlay_subnet, "10.99.0.0/16");
	}
	{
		ARGV(i, c1, f, oeq);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.overlay_subnet, "192.168.10.0/24");
	}
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char b[32];

		snprintf(b, sizeof(b), "%s", bad[k]);
		{
			ARGV(i, c1, f, o, b);
			assert_int_equal(parse(&a, ac, av, err), -1);
			assert_non_null(strstr(err, "--overlay-subnet"));
		}
	}
	{
		ARGV(i, c1, f, o);     /* no value */
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "needs a value"));
	}
	{
		char j[] = "join", t[] = "--token", tv[] = "T";
		ARGV(j, c1, f, t, tv, o, v);  /* join takes no subnet */
		assert_int_equal(parse(&a, ac, av, err), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_any_order),
		cmocka_unit_test(init_overlay_subnet),
		cmocka_unit_test(join_token_scrubbed),
		cmocka_unit_test(join_token_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
