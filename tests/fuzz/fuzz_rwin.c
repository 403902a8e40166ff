/*
 * The schedule windows parser (node/rotation/rwin.c): any text, refused
 * with a reason or accepted; an accepted one's canonical text parses again
 * to the same week and the same text, and the next change / since / on
 * time agree with the minutes of the week.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/rotation/rwin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rwin a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[2048], c1[RWIN_TEXT_MAX + 1], c2[RWIN_TEXT_MAX + 1];
	char err[256];
	int64_t t, n, s;
	int i;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (rwin_parse(text, &a, c1, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();          /* a refusal always says why */
		return 0;
	}
	if (strlen(c1) > RWIN_TEXT_MAX ||
	    rwin_parse(c1, &b, c2, err, sizeof(err)) < 0 ||
	    strcmp(c1, c2) != 0 || memcmp(a.on, b.on, sizeof(a.on)) != 0)
		abort();
	/* 2025-01-06 00:00 UTC plus a few steps through the week */
	for (i = 0, t = 1736121600000LL; i < 16; i++, t += 37 * 60000LL + 11) {
		n = rwin_next(&a, t);
		s = rwin_since(&a, t);
		if (n == INT64_MAX) {
			if (a.n_edge || s != INT64_MIN)
				abort();
			continue;
		}
		if (n <= t || s > t || rwin_on(&a, n) == rwin_on(&a, t) ||
		    rwin_on(&a, s) != rwin_on(&a, t) ||
		    rwin_on(&a, s - 1) == rwin_on(&a, t) ||
		    rwin_on_ms(&a, t, n) != (rwin_on(&a, t) ? n - t : 0))
			abort();
	}
	return 0;
}
