/*
 * The control command table (node/ctl/ctlcmd.c): its rows are consistent,
 * commands are found by their words, options and arguments are read the
 * same way on both ends, and a request's words read back as they were
 * written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "node/ctl/ctlcmd.h"

/* Splits s at spaces into w (s is modified); returns the word count. */
static int split(char *s, char **w, int max)
{
	int n = 0;

	for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
		w[n++] = t;
	return n;
}

static void test_rows(void **state)
{
	size_t i, j, n = ctlcmd_count();

	(void)state;
	assert_true(n >= 15);
	assert_null(ctlcmd_at(n));
	for (i = 0; i < n; i++) {
		const struct ctlcmd *c = ctlcmd_at(i);
		char a[64], *wa[8];
		int k, na;

		assert_non_null(c->name);
		assert_non_null(c->help);
		assert_true(c->help[0] != '\0');
		assert_true(c->min_args >= 0 && c->min_args <= c->max_args);
		assert_true(c->max_args <= CTL_MAX_ARGS);
		/* arguments are named in the usage when there are any (a
		 * command ntpctl runs in steps takes none from the
		 * operator) */
		assert_true(c->max_args == 0 || (c->flags & CTLCMD_STEPS) ||
			    (c->args && c->args[0]));
		assert_ptr_equal(ctlcmd_find(c->name), c);
		for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name; k++) {
			assert_true(strncmp(c->opts[k].name, "--", 2) == 0);
			assert_null(strchr(c->opts[k].name, '='));
			assert_non_null(c->opts[k].help);
			/* a local option only makes sense when ntpctl does
			 * part of the work itself */
			assert_true(!c->opts[k].local ||
				    (c->flags & (CTLCMD_LOCAL_ARGS |
						 CTLCMD_STEPS)));
		}
		/* No name is the first words of another: a command is known
		 * as soon as its words are (ntpctl relies on it). */
		snprintf(a, sizeof(a), "%s", c->name);
		na = split(a, wa, 8);
		assert_ptr_equal(ctlcmd_find_words(wa, na), c);
		for (j = 0; j < n; j++) {
			const struct ctlcmd *d = ctlcmd_at(j);
			size_t l = strlen(c->name);

			if (i != j)
				assert_false(strncmp(d->name, c->name, l) == 0 &&
					     (d->name[l] == ' ' ||
					      d->name[l] == '\0'));
		}
	}
}

static void test_find(void **state)
{
	char *cs[] = { "cluster", "status", "extra" };
	char *tok[] = { "token" };

	(void)state;
	assert_string_equal(ctlcmd_find_words(cs, 2)->name, "cluster status");
	assert_null(ctlcmd_find_words(cs, 1));
	assert_null(ctlcmd_find_words(cs, 3));
	assert_null(ctlcmd_find_words(tok, 1));
	assert_null(ctlcmd_find_words(cs, 0));
	assert_null(ctlcmd_find("cluster"));
	assert_null(ctlcmd_find("backup index"));   /* member-to-member */
	assert_true(ctlcmd_find("loglevel")->flags & CTLCMD_MUTATING);
	assert_false(ctlcmd_find("serverstats")->flags & CTLCMD_MUTATING);
	assert_true(ctlcmd_find("node drain")->flags & CTLCMD_LEADER);
	assert_false(ctlcmd_find("token list")->flags & CTLCMD_LEADER);
	assert_true(ctlcmd_find("cluster status")->flags & CTLCMD_LEADER);
	assert_false(ctlcmd_find("backup")->flags & CTLCMD_LEADER);
	assert_true(ctlcmd_find("backup")->flags & CTLCMD_MUTATING);
}

static void test_usage(void **state)
{
	char u[128], tiny[8];

	(void)state;
	ctlcmd_usage(ctlcmd_find("token create"), u, sizeof(u));
	assert_string_equal(u, "token create [--ttl DURATION] [--uses N]");
	ctlcmd_usage(ctlcmd_find("backup"), u, sizeof(u));
	assert_string_equal(u, "backup [--force] [--local] FILE");
	ctlcmd_usage(ctlcmd_find("emergency-shutdown"), u, sizeof(u));
	assert_string_equal(u, "emergency-shutdown [--destroy] [--dry-run] "
			    "[--backup FILE] [--confirm PHRASE]");
	ctlcmd_usage(ctlcmd_find("config set"), u, sizeof(u));
	assert_string_equal(u, "config set KEY VALUE");
	ctlcmd_usage(ctlcmd_find("serverstats"), u, sizeof(u));
	assert_string_equal(u, "serverstats");
	ctlcmd_usage(ctlcmd_find("token create"), tiny, sizeof(tiny));
	assert_string_equal(tiny, "token c");
}

/* Parses a request's words (space-separated in s): 0 or -1, err. */
static int parse(const char *cmd, const char *s, struct ctlcmd_args *a,
		 char *buf, char *err)
{
	char *w[CTL_MAX_ARGS + 1];
	int n;

	strcpy(buf, s);
	n = split(buf, w, CTL_MAX_ARGS + 1);
	err[0] = 0;
	return ctlcmd_parse(ctlcmd_find(cmd), n, w, a, err, 128);
}

static void test_parse(void **state)
{
	const struct ctlcmd *tc = ctlcmd_find("token create");
	struct ctlcmd_args a;
	char buf[256], err[128];

	(void)state;
	assert_int_equal(parse("token create", "--uses 3 --ttl=1h", &a, buf,
			       err), 0);
	assert_string_equal(a.opt[0], "1h");
	assert_string_equal(a.opt[1], "3");
	assert_int_equal(a.argc, 0);
	/* a value is the next word, whatever it looks like */
	assert_int_equal(parse("token create", "--ttl -1h", &a, buf, err), 0);
	assert_string_equal(a.opt[0], "-1h");
	assert_int_equal(parse("token create", "--ttl=", &a, buf, err), 0);
	assert_string_equal(a.opt[0], "");
	assert_int_equal(parse("token create", "--ttl", &a, buf, err), -1);
	assert_string_equal(err, "--ttl needs a value (DURATION)");
	assert_int_equal(parse("token create", "--ttl 1 --ttl 2", &a, buf,
			       err), -1);
	assert_string_equal(err, "--ttl given twice");
	assert_int_equal(parse("token create", "--tt 1", &a, buf, err), -1);
	assert_string_equal(err, "unknown option '--tt'");
	assert_int_equal(parse("token create", "-t", &a, buf, err), -1);
	assert_int_equal(parse("token create", "x", &a, buf, err), -1);
	assert_string_equal(err, "token create takes no arguments");
	assert_null(tc->opts[2].name);

	/* arguments, counted */
	assert_int_equal(parse("node drain", "n1", &a, buf, err), 0);
	assert_int_equal(a.argc, 1);
	assert_string_equal(a.argv[0], "n1");
	assert_int_equal(parse("node drain", "", &a, buf, err), -1);
	assert_string_equal(err, "node drain takes 1 argument");
	assert_int_equal(parse("config set", "a", &a, buf, err), -1);
	assert_string_equal(err, "config set takes 2 arguments");
	assert_int_equal(parse("leader transfer", "a b", &a, buf, err), -1);
	assert_string_equal(err, "leader transfer takes 0 to 1 arguments");
	assert_int_equal(parse("node drain", "-", &a, buf, err), 0);

	/* '-' words: refused, unless after -- or the command takes them */
	assert_int_equal(parse("node drain", "-n1", &a, buf, err), -1);
	assert_string_equal(err, "unknown option '-n1'");
	assert_int_equal(parse("node drain", "-- -n1", &a, buf, err), 0);
	assert_string_equal(a.argv[0], "-n1");
	assert_int_equal(parse("node drain", "-- --", &a, buf, err), 0);
	assert_string_equal(a.argv[0], "--");
	assert_int_equal(parse("config set", "k -5", &a, buf, err), 0);
	assert_string_equal(a.argv[1], "-5");

	/* backup: FILE and --force are ntpctl's, a request has neither */
	assert_int_equal(parse("backup", "", &a, buf, err), 0);
	assert_int_equal(parse("backup", "f", &a, buf, err), -1);
	assert_int_equal(parse("backup", "--force", &a, buf, err), -1);
	assert_string_equal(err, "unknown option '--force'");
}

/* What ntpctl does with a command line's words (local options allowed),
 * then what it sends, then what the daemon reads from that. */
static void test_words_round_trip(void **state)
{
	static const struct {
		const char *cmd, *line, *wire, *handler;
	} cases[] = {
		{ "token create", "--uses=3 --ttl 2h", "--ttl 2h --uses 3",
		  "--ttl 2h --uses 3" },
		{ "config set", "k -5", "-- k -5", "k -5" },
		{ "config set", "k 5", "k 5", "k 5" },
		{ "backup", "--force f", "", "" },
		{ "backup", "f", "", "" },
		{ "node drain", "n1", "n1", "n1" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ctlcmd *c = ctlcmd_find(cases[i].cmd);
		struct ctlcmd_args a, b;
		char buf[128], err[128], *w[16], *out[16], got[128] = "";
		int n, k, m;

		snprintf(buf, sizeof(buf), "%s", cases[i].line);
		n = split(buf, w, 16);
		ctlcmd_args_init(&a);
		for (k = 0; k < n;)
			assert_int_equal(ctlcmd_take(c, &a, n, w, &k, 0, err,
						     sizeof(err)), 0);
		assert_int_equal(ctlcmd_check(c, &a, 0, err, sizeof(err)), 0);
		m = ctlcmd_words(c, &a, 1, out, 16);
		assert_true(m >= 0);
		for (k = 0; k < m; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
				 "%s%s", k ? " " : "", out[k]);
		assert_string_equal(got, cases[i].wire);
		/* the daemon's side */
		assert_int_equal(ctlcmd_parse(c, m, out, &b, err,
					      sizeof(err)), 0);
		m = ctlcmd_words(c, &b, 0, out, 16);
		got[0] = 0;
		for (k = 0; k < m; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
				 "%s%s", k ? " " : "", out[k]);
		assert_string_equal(got, cases[i].handler);
	}
}

static void test_words_bounds(void **state)
{
	const struct ctlcmd *c = ctlcmd_find("config set");
	struct ctlcmd_args a;
	char *out[4], k[] = "k", v[] = "-v";

	(void)state;
	ctlcmd_args_init(&a);
	a.argv[a.argc++] = k;
	a.argv[a.argc++] = v;
	assert_int_equal(ctlcmd_words(c, &a, 1, out, 2), -1);
	assert_int_equal(ctlcmd_words(c, &a, 0, out, 2), 2);
	assert_int_equal(ctlcmd_words(c, &a, 1, out, 3), 3);
	assert_string_equal(out[0], "--");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_words_round_trip),
		cmocka_unit_test(test_words_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
