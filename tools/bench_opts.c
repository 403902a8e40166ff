/* ntpbench options: getopt_long, every value range-checked. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ntpbench.h"

void bench_usage(FILE *f)
{
	fprintf(f,
"usage: ntpbench [options]\n"
"  -a, --addr ADDR       target address (numeric, default 127.0.0.1)\n"
"  -p, --port N          target port (default 123)\n"
"  -d, --duration S      seconds to send (default 3)\n"
"  -n, --count N         stop after N requests instead\n"
"  -r, --rate N          open loop at N requests/s (0 = closed loop, default)\n"
"  -s, --sockets N       UDP sockets (default 4)\n"
"  -i, --inflight N      requests in flight per socket (default 32)\n"
"  -c, --clients N       spread sources over N addresses in 127.0.0.0/8\n"
"  -t, --timeout MS      a request unanswered this long is lost (default 250)\n"
"  -V, --ntp-version N   NTP version of the requests (1-4, default 4)\n"
"  -o json               machine-readable output\n"
"Exit status: 0 if replies were valid and none invalid, 1 otherwise, 2 usage.\n");
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int bench_parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "addr", required_argument, 0, 'a' },
		{ "port", required_argument, 0, 'p' },
		{ "duration", required_argument, 0, 'd' },
		{ "count", required_argument, 0, 'n' },
		{ "rate", required_argument, 0, 'r' },
		{ "sockets", required_argument, 0, 's' },
		{ "inflight", required_argument, 0, 'i' },
		{ "clients", required_argument, 0, 'c' },
		{ "timeout", required_argument, 0, 't' },
		{ "ntp-version", required_argument, 0, 'V' },
		{ "output", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	double v;
	int c;

	*o = (struct opts){ .addr = "127.0.0.1", .port = "123", .duration = 3,
			    .sockets = 4, .inflight = 32, .timeout_ms = 250,
			    .version = 4 };
	while ((c = getopt_long(argc, argv, "a:p:d:n:r:s:i:c:t:V:o:h", lo,
				NULL)) != -1) {
		v = 0;
		switch (c) {
		case 'a': o->addr = optarg; continue;
		case 'p': o->port = optarg;
			if (parse_num(optarg, 1, 65535, &v))
				goto bad;
			continue;
		case 'd': if (parse_num(optarg, 0.001, 86400, &o->duration))
				goto bad;
			continue;
		case 'n': if (parse_num(optarg, 1, 1e12, &v))
				goto bad;
			o->count = (uint64_t)v;
			continue;
		case 'r': if (parse_num(optarg, 0, 1e8, &o->rate))
				goto bad;
			continue;
		case 's': if (parse_num(optarg, 1, 1024, &v))
				goto bad;
			o->sockets = (int)v;
			continue;
		case 'i': if (parse_num(optarg, 1, MAX_SLOTS, &v))
				goto bad;
			o->inflight = (int)v;
			continue;
		case 'c': if (parse_num(optarg, 1, MAX_CLIENTS, &v))
				goto bad;
			o->clients = (uint32_t)v;
			continue;
		case 't': if (parse_num(optarg, 1, 60000, &v))
				goto bad;
			o->timeout_ms = (int)v;
			continue;
		case 'V': if (parse_num(optarg, 1, 4, &v))
				goto bad;
			o->version = (int)v;
			continue;
		case 'o': if (strcmp(optarg, "json") != 0 &&
			      strcmp(optarg, "text") != 0)
				goto bad;
			o->json = strcmp(optarg, "json") == 0;
			continue;
		case 'h': bench_usage(stdout); exit(0);
		default: bench_usage(stderr); return -1;
		}
bad:
		fprintf(stderr, "ntpbench: bad value '%s' for -%c\n", optarg, c);
		return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "ntpbench: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}
