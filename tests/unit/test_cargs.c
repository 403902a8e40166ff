/*
 * ntpnode's command lines (node/daemon/cargs.c): options before or after
 * the command, per-command options, token sources, argv scrubbed, -h/-V
 * anywhere.
 */
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

/* ntpnode + av (whose words stay the caller's: wiping shows in them). */
static int parse(struct cargs *a, int ac, char **av, char *err)
{
	char *argv[32];
	int i;

	assert_true(ac < 31);
	argv[0] = "ntpnode";
	for (i = 0; i < ac; i++)
		argv[i + 1] = av[i];
	return cargs_parse(a, ac + 1, argv, err, 256);
}

/* Parses "ntpnode " + s, split at spaces (s is copied). */
static int parse_line(struct cargs *a, const char *s, char *err)
{
	static char buf[512];
	char *av[31];
	int ac = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
		av[ac++] = t;
	return parse(a, ac, av, err);
}

static void commands_and_config(void **state)
{
	struct cargs a;
	char err[256];
	static const struct {
		const char *line;
		enum cargs_cmd cmd;
	} ok[] = {
		{ "run -c F", CARGS_RUN },
		{ "-c F run", CARGS_RUN },
		{ "--config=F check", CARGS_CHECK },
		{ "check --config F", CARGS_CHECK },
		{ "-cF check", CARGS_CHECK },
		{ "restore --from B -c F", CARGS_RESTORE },
		{ "-c F recover --check", CARGS_RECOVER },
		{ "recover -c F --dry-run", CARGS_RECOVER },
		{ "recover --voters n1,n2 --at 7:2 -c F", CARGS_RECOVER },
		{ "-c F -- run", CARGS_RUN },
		{ "--conf F run", CARGS_RUN },      /* getopt's abbreviations */
	};
	size_t i;

	(void)state;
	unsetenv("NTPNODE_TOKEN");
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse_line(&a, ok[i].line, err) != 0)
			fail_msg("'%s': %s", ok[i].line, err);
		assert_int_equal(a.cmd, ok[i].cmd);
		assert_string_equal(a.conf, "F");
		assert_false(a.help || a.version);
	}
	assert_int_equal(parse_line(&a, "restore -c F --from /b.bak", err), 0);
	assert_string_equal(a.from, "/b.bak");
	assert_int_equal(parse_line(&a, "recover -c F --voters n1 --at=7:2",
				    err), 0);
	assert_string_equal(a.voters, "n1");
	assert_string_equal(a.at, "7:2");
	assert_false(a.check);
	assert_int_equal(parse_line(&a, "recover -c F --check", err), 0);
	assert_true(a.check);
	assert_null(a.voters);
}

static void usage_errors(void **state)
{
	struct cargs a;
	char err[256];
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "", "no command given" },
		{ "-c F", "no command given" },
		{ "frobnicate -c F", "unknown command 'frobnicate'" },
		{ "run", "run needs -c FILE" },
		{ "check -c", "-c needs a value" },
		{ "check -c a b", "unexpected argument 'b'" },
		{ "--no-such-option run -c x", "unknown option "
		  "'--no-such-option'" },
		{ "run -c F -x", "unknown option '-x'" },
		{ "run -c F --from B", "--from is not an option of run" },
		{ "check -c F --check", "--check is not an option of check" },
		{ "restore -c F", "restore needs --from BACKUP" },
		{ "restore -c F --from", "--from needs a value" },
		{ "recover -c F", "recover needs --check or --voters" },
		{ "recover -c F --at 1:1", "recover needs --check or --voters" },
		{ "init -c F --voters n1", "--voters is not an option of init" },
		{ "run run -c F", "unexpected argument 'run'" },
		{ "-c F -- run -x", "unexpected argument '-x'" },
	};
	size_t i;

	(void)state;
	unsetenv("NTPNODE_TOKEN");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_line(&a, bad[i].line, err) != -1 ||
		    !strstr(err, bad[i].why))
			fail_msg("'%s': '%s', wanted '%s'", bad[i].line, err,
				 bad[i].why);
	}
}

static void help_and_version_anywhere(void **state)
{
	struct cargs a;
	char err[256];

	(void)state;
	assert_int_equal(parse_line(&a, "--help", err), 0);
	assert_true(a.help);
	assert_int_equal(a.cmd, CARGS_NONE);
	assert_int_equal(parse_line(&a, "-V", err), 0);
	assert_true(a.version);
	assert_int_equal(parse_line(&a, "run -c F --version", err), 0);
	assert_true(a.version);
	assert_false(a.help);
	/* whatever else is wrong on the line; the first of the two wins */
	assert_int_equal(parse_line(&a, "frobnicate --bogus -h -V", err), 0);
	assert_true(a.help);
	assert_false(a.version);
	assert_int_equal(parse_line(&a, "join -h", err), 0);
	assert_true(a.help);
	/* after --, a word like any other */
	assert_int_equal(parse_line(&a, "-c F run -- --help", err), -1);
	assert_non_null(strstr(err, "unexpected argument '--help'"));
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
	{
		/* the token goes from argv even when the line is refused */
		char s2[] = "S2", x[] = "--bogus";
		ARGV(j, x, tok, s2, c, f);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_int_equal(s2[0], 0);
		assert_int_equal(a.token[0], 0);
	}
	{
		char s3[] = "S3", r[] = "run";
		ARGV(r, c, f, tok, s3);    /* run takes no token */
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_non_null(strstr(err, "--token is not an option of run"));
		assert_int_equal(s3[0], 0);
	}
	{
		/* an ambiguous abbreviation getopt refuses is wiped too */
		char ab[] = "--tok=S4", ab2[] = "--toke", s5[] = "S5";
		ARGV(j, c, f, ab, ab2, s5);
		assert_int_equal(parse(&a, ac, av, err), -1);
		assert_string_equal(ab, "--tok=");
		assert_int_equal(s5[0], 0);
		assert_string_equal(f, "/x.conf");
	}
	{
		/* the command word may come after the token */
		char s6[] = "S6";
		ARGV(tok, s6, c, f, j);
		assert_int_equal(parse(&a, ac, av, err), 0);
		assert_string_equal(a.token, "S6");
		assert_int_equal(s6[0], 0);
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
		cmocka_unit_test(commands_and_config),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(help_and_version_anywhere),
		cmocka_unit_test(init_any_order),
		cmocka_unit_test(init_overlay_subnet),
		cmocka_unit_test(join_token_scrubbed),
		cmocka_unit_test(join_token_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
