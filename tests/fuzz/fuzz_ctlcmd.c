/*
 * libFuzzer: the two ends of the command table. The input is words split
 * at NUL bytes. As ntpctl's command line: whatever ntpctl accepts, the
 * request it would send is accepted by the daemon and reads back as the
 * same options and arguments. As a request's words (after a command named
 * by the first two words): whatever the daemon accepts reads back the same
 * once written again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/ctl/ctlcmd.h"
#include "tools/ntpctl_args.h"

#define MAX_WORDS (NTPCTL_MAX_WORDS + 1)
#define OUT_MAX (CTL_MAX_ARGS + 2 * CTLCMD_MAX_OPTS + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a and b: the same non-local options and, unless the arguments are
 * ntpctl's own, the same arguments. */
static void same(const struct ctlcmd *c, const struct ctlcmd_args *a,
		 const struct ctlcmd_args *b)
{
	int k;

	for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name; k++) {
		if (c->opts[k].local)
			continue;
		if (!a->opt[k] != !b->opt[k] ||
		    (a->opt[k] && strcmp(a->opt[k], b->opt[k]) != 0))
			abort();
	}
	if (c->flags & CTLCMD_LOCAL_ARGS)
		return;
	if (a->argc != b->argc)
		abort();
	for (k = 0; k < a->argc; k++)
		if (strcmp(a->argv[k], b->argv[k]) != 0)
			abort();
}

/* The daemon reads what out[0..n) says about c: it must be b. */
static void read_back(const struct ctlcmd *c, char **out, int n,
		      const struct ctlcmd_args *want)
{
	struct ctlcmd_args got;
	char err[256];

	if (ctlcmd_parse(c, n, out, &got, err, sizeof(err)) != 0)
		abort();
	same(c, want, &got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_WORDS + 1], *out[OUT_MAX], err[256];
	struct ntpctl_args a;
	const struct ctlcmd *c;
	struct ctlcmd_args r;
	int argc = 1, n;
	size_t i, start = 0;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "ntpctl";
	for (i = 0; i <= size && argc < MAX_WORDS; i++)
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;

	/* ntpctl's side, then the daemon's */
	if (ntpctl_args_parse(&a, argc, argv, err, sizeof(err)) ==
	    NTPCTL_ARGS_OK && a.cmd && !a.help && !a.version) {
		n = ctlcmd_words(a.cmd, &a.args, 1, out, OUT_MAX);
		if (n < 0)
			abort();
		read_back(a.cmd, out, n, &a.args);
	}

	/* a request: the command from the first word or two */
	c = argc > 1 ? ctlcmd_find_words(argv + 1, 1) : NULL;
	n = 2;
	if (!c && argc > 2) {
		c = ctlcmd_find_words(argv + 1, 2);
		n = 3;
	}
	if (c && ctlcmd_parse(c, argc - n, argv + n, &r, err,
			      sizeof(err)) == 0) {
		int m = ctlcmd_words(c, &r, 1, out, OUT_MAX);

		if (m < 0)
			abort();
		read_back(c, out, m, &r);
	}
	free(buf);
	return 0;
}
