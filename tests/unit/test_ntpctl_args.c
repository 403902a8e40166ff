/*
 * ntpctl's command line (tools/ntpctl_args.c): its own options anywhere,
 * each command's options from the table, '-' words refused unless they are
 * values or come after --, -h/-V winning over everything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tools/ntpctl_args.h"

static char line[512];
static char err[256];

/* Parses "ntpctl " + s (words split at spaces). */
static int parse(struct ntpctl_args *a, const char *s)
{
	static char *argv[NTPCTL_MAX_WORDS + 8];
	int argc = 0;

	snprintf(line, sizeof(line), "%s", s);
	argv[argc++] = "ntpctl";
	for (char *t = strtok(line, " "); t; t = strtok(NULL, " "))
		argv[argc++] = t;
	return ntpctl_args_parse(a, argc, argv, err, sizeof(err));
}

static const char *cmd_of(const struct ntpctl_args *a)
{
	return a->cmd ? a->cmd->name : "(none)";
}

static void test_global_options_anywhere(void **state)
{
	static const char *lines[] = {
		"cluster status -o json",
		"-o json cluster status",
		"cluster -o json status",
		"cluster status --output=json",
		"cluster status --output json",
		"-ojson cluster status",
	};
	struct ntpctl_args a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(&a, lines[i]), NTPCTL_ARGS_OK);
		assert_string_equal(cmd_of(&a), "cluster status");
		assert_true(a.json);
		assert_int_equal(a.args.argc, 0);
	}
	assert_int_equal(parse(&a, "serverstats -o json -o text"), 0);
	assert_false(a.json);
	assert_int_equal(parse(&a, "serverstats -s /x.sock"), 0);
	assert_string_equal(a.socket, "/x.sock");
	assert_int_equal(parse(&a, "-s/y.sock serverstats"), 0);
	assert_string_equal(a.socket, "/y.sock");
	assert_int_equal(parse(&a, "serverstats --socket=/z.sock"), 0);
	assert_string_equal(a.socket, "/z.sock");
	assert_int_equal(parse(&a, "serverstats"), 0);
	assert_null(a.socket);
	assert_false(a.json || a.help || a.version);
}

static void test_global_errors(void **state)
{
	struct ntpctl_args a;

	(void)state;
	assert_int_equal(parse(&a, "serverstats -o"), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "-o needs a value");
	assert_int_equal(parse(&a, "-o yaml serverstats"), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "-o takes text or json, not 'yaml'");
	assert_int_equal(parse(&a, "serverstats --socket="),
			 NTPCTL_ARGS_EUSAGE);
	assert_int_equal(parse(&a, ""), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "no command given");
	assert_int_equal(parse(&a, "frobnicate"), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "unknown command 'frobnicate'");
	assert_int_equal(parse(&a, "token frob"), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "unknown command 'token frob'");
	assert_int_equal(parse(&a, "token"), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "unknown command 'token'");
	assert_int_equal(parse(&a, "--bogus serverstats"), NTPCTL_ARGS_EUSAGE);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	/* a command's option before the command is not known yet */
	assert_int_equal(parse(&a, "--force backup f"), NTPCTL_ARGS_EUSAGE);
}

static void test_command_options(void **state)
{
	struct ntpctl_args a;

	(void)state;
	assert_int_equal(parse(&a, "token create --ttl 1h --uses=3 -o json"),
			 0);
	assert_string_equal(ctlcmd_get(a.cmd, &a.args, "--ttl"), "1h");
	assert_string_equal(ctlcmd_get(a.cmd, &a.args, "--uses"), "3");
	assert_true(a.json);
	/* a value is the next word, even one that looks like an option */
	assert_int_equal(parse(&a, "token create --ttl -o"), 0);
	assert_string_equal(ctlcmd_get(a.cmd, &a.args, "--ttl"), "-o");
	assert_false(a.json);
	assert_int_equal(parse(&a, "token create --ttl"), NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "--ttl needs a value (DURATION)");
	assert_int_equal(parse(&a, "token create --bogus"), NTPCTL_ARGS_ECMD);
	assert_string_equal(cmd_of(&a), "token create");
	assert_string_equal(err, "unknown option '--bogus'");
	assert_int_equal(parse(&a, "token list --ttl 1h"), NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "unknown option '--ttl'");

	/* backup: --force before or after FILE */
	assert_int_equal(parse(&a, "backup --force /b"), 0);
	assert_non_null(ctlcmd_get(a.cmd, &a.args, "--force"));
	assert_string_equal(a.args.argv[0], "/b");
	assert_int_equal(parse(&a, "backup /b --force -o json"), 0);
	assert_non_null(ctlcmd_get(a.cmd, &a.args, "--force"));
	assert_true(a.json);
	assert_int_equal(parse(&a, "backup /b"), 0);
	assert_null(ctlcmd_get(a.cmd, &a.args, "--force"));
	assert_int_equal(parse(&a, "backup --force=yes /b"), NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "--force takes no value");
	assert_int_equal(parse(&a, "backup"), NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "backup takes 1 argument");
	assert_int_equal(parse(&a, "backup a b"), NTPCTL_ARGS_ECMD);

	/* emergency-shutdown: its options only, never an argument (the
	 * steps' words are ntpctl's own) */
	assert_int_equal(parse(&a, "emergency-shutdown --dry-run --backup /b "
			       "--destroy"), 0);
	assert_non_null(ctlcmd_get(a.cmd, &a.args, "--dry-run"));
	assert_non_null(ctlcmd_get(a.cmd, &a.args, "--destroy"));
	assert_string_equal(ctlcmd_get(a.cmd, &a.args, "--backup"), "/b");
	assert_null(ctlcmd_get(a.cmd, &a.args, "--confirm"));
	assert_int_equal(parse(&a, "emergency-shutdown --backup"),
			 NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "--backup needs a value (FILE)");
	assert_int_equal(parse(&a, "emergency-shutdown stop n1"),
			 NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "emergency-shutdown takes no arguments");
	assert_int_equal(parse(&a, "emergency-shutdown --now"),
			 NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "unknown option '--now'");
}

static void test_dash_words(void **state)
{
	struct ntpctl_args a;
	char *w[8];

	(void)state;
	assert_int_equal(parse(&a, "node drain -n1"), NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "unknown option '-n1'");
	assert_int_equal(parse(&a, "node drain -- -n1"), 0);
	assert_string_equal(a.args.argv[0], "-n1");
	/* after --, ntpctl's own options are words like any other */
	assert_int_equal(parse(&a, "node drain -- -o"), 0);
	assert_string_equal(a.args.argv[0], "-o");
	assert_false(a.json);
	assert_int_equal(parse(&a, "-- node drain n1"), 0);
	assert_string_equal(cmd_of(&a), "node drain");
	assert_int_equal(parse(&a, "node drain -"), 0);
	assert_string_equal(a.args.argv[0], "-");
	/* config set takes values that start with '-'; they travel after
	 * a -- so the daemon reads them the same way */
	assert_int_equal(parse(&a, "config set budget-usd -5"), 0);
	assert_int_equal(a.args.argc, 2);
	assert_int_equal(ctlcmd_words(a.cmd, &a.args, 1, w, 8), 3);
	assert_string_equal(w[0], "--");
	assert_string_equal(w[2], "-5");
	assert_int_equal(parse(&a, "serverstats extra"), NTPCTL_ARGS_ECMD);
	assert_string_equal(err, "serverstats takes no arguments");
}

static void test_help_and_version(void **state)
{
	struct ntpctl_args a;
	char many[NTPCTL_MAX_WORDS * 3 + 16] = "serverstats";

	(void)state;
	assert_int_equal(parse(&a, "--help"), 0);
	assert_true(a.help);
	assert_null(a.cmd);
	assert_int_equal(parse(&a, "token create -h"), 0);
	assert_true(a.help);
	assert_string_equal(cmd_of(&a), "token create");
	/* whatever else is wrong */
	assert_int_equal(parse(&a, "frobnicate --help"), 0);
	assert_true(a.help);
	assert_int_equal(parse(&a, "token create --bogus --help"), 0);
	assert_true(a.help);
	assert_int_equal(parse(&a, "serverstats -o yaml -V"), 0);
	assert_true(a.version);
	assert_false(a.help);
	assert_int_equal(parse(&a, "--version"), 0);
	assert_true(a.version);
	/* the first one wins */
	assert_int_equal(parse(&a, "-V -h"), 0);
	assert_true(a.version && !a.help);
	/* after --, a word */
	assert_int_equal(parse(&a, "node drain -- --help"), 0);
	assert_false(a.help);
	assert_string_equal(a.args.argv[0], "--help");
	/* too many words */
	for (int i = 0; i < NTPCTL_MAX_WORDS; i++)
		strcat(many, " x");
	assert_int_equal(parse(&a, many), NTPCTL_ARGS_EUSAGE);
	assert_string_equal(err, "too many arguments");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_options_anywhere),
		cmocka_unit_test(test_global_errors),
		cmocka_unit_test(test_command_options),
		cmocka_unit_test(test_dash_words),
		cmocka_unit_test(test_help_and_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
