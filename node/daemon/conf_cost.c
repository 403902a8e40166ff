/* The cost guard's directive: alert-hook PATH [timeout SECONDS]
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

const struct conf_directive conf_cost_directives[] = {
	{ "alert-hook", "alert-hook PATH [timeout SECONDS]", parse_alert_hook,
	  1, 3, 1, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};
