/* The cost guard's directives: alert-hook PATH [timeout SECONDS], and the
 * test-only test-egress-limit B/S
 * (docs/configuration.md, docs/cost.md). It fills struct cost_conf. */
#include "node/daemon/conf_parse.h"

static int parse_alert_hook(struct conf_ctx *x, int argc, char **argv)
{
	struct cost_conf *k = &x->c->cost;
	long secs = 10;

	if (argc != 2 && !(argc == 4 && conf_word_is(argv[2], "timeout"))) {
		conf_error(x, "usage: alert-hook PATH [timeout SECONDS]");
		return -1;
	}
	/* The daemon's working directory is no place to look a program up. */
	if (argv[1][0] != '/') {
		conf_error(x, "alert-hook: '%s' is not an absolute path",
			   argv[1]);
		return -1;
	}
	if (argc == 4 &&
	    conf_parse_int(x, "alert-hook timeout", argv[3], 1, 300, &secs) < 0)
		return -1;
	if (conf_copy_path(x, "alert-hook", k->alert_hook,
			   sizeof(k->alert_hook), argv[1]) < 0)
		return -1;
	k->alert_timeout_ms = (unsigned)secs * 1000;
	return 0;
}

/* Test-only: the serving path's governor check at a fixed rate, for
 * tests/bench/cost-bench.sh (a standalone node has no governor). */
static int parse_test_limit(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_int(x, "test-egress-limit", argv[1], 1, 2000000000L,
			   &v) < 0)
		return -1;
	x->c->cost.test_limit = (uint64_t)v;
	return 0;
}

const struct conf_directive conf_cost_directives[] = {
	{ "alert-hook", "alert-hook PATH [timeout SECONDS]", parse_alert_hook,
	  1, 3, 1, 0 },
	{ "test-egress-limit", "test-egress-limit BYTES_PER_SECOND",
	  parse_test_limit, 1, 1, 1, 1 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};
