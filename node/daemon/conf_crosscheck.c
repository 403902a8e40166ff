/*
 * The cross-check's directives (docs/cross-check.md): crosscheck-interval,
 * and the test-only crosscheck-port. They fill struct crosscheck_conf.
 */
#include "node/daemon/conf_parse.h"

static int parse_interval(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_int(x, "crosscheck-interval (seconds)", argv[1],
			   CROSSCHECK_MIN_INTERVAL, CROSSCHECK_MAX_INTERVAL,
			   &v) < 0)
		return -1;
	x->c->crosscheck.interval_s = (unsigned)v;
	return 0;
}

/* The port members are told to send this member's requests to: a delay
 * relay in front of its serving port (tools/ntpsim --relay, the soak). */
static int parse_port(struct conf_ctx *x, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_int(x, "crosscheck-port", argv[1], 1, 65535, &v) < 0)
		return -1;
	x->c->crosscheck.port = (uint16_t)v;
	return 0;
}

const struct conf_directive conf_crosscheck_directives[] = {
	{ "crosscheck-interval", "crosscheck-interval SECONDS", parse_interval,
	  1, 1, 1, 0 },
	{ "crosscheck-port", "crosscheck-port PORT", parse_port, 1, 1, 1, 1 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};
