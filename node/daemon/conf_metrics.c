/* The metrics directive: metrics-listen ADDRESS [port N]
 * (docs/configuration.md, docs/monitoring.md). It fills struct
 * metrics_conf. */
#include "node/daemon/conf_parse.h"

static int parse_metrics_listen(struct conf_ctx *x, int argc, char **argv)
{
	struct metrics_conf *m = &x->c->metrics;
	uint8_t a[16];
	long port = METRICS_DEFAULT_PORT;
	int fam;

	if (argc != 2 && !(argc == 4 && conf_word_is(argv[2], "port"))) {
		conf_error(x, "usage: metrics-listen ADDRESS [port N]");
		return -1;
	}
	if (conf_parse_ip(argv[1], &fam, a) < 0) {
		conf_error(x, "metrics-listen: '%s' is not a numeric IPv4 or "
			   "IPv6 address (bind loopback or the overlay, never "
			   "the public address)", argv[1]);
		return -1;
	}
	/* Port 0: the kernel picks one (tests); the start-up log shows it. */
	if (argc == 4 &&
	    conf_parse_int(x, "metrics-listen port", argv[3], 0, 65535,
			   &port) < 0)
		return -1;
	conf_sockaddr(fam, a, (uint16_t)port, &m->listen);
	m->listen_set = 1;
	return 0;
}

const struct conf_directive conf_metrics_directives[] = {
	{ "metrics-listen", "metrics-listen ADDRESS [port N]",
	  parse_metrics_listen, 1, 3, 1, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};
