/*
 * Prints every directive the config parser knows, one per line:
 * "NAME<TAB>USAGE<TAB>test-only|-". For tests/docs/check-docs.py, which
 * compares them with docs/ and the man page.
 */
#include <stdio.h>

#include "node/daemon/conf.h"

static void print_one(void *arg, const char *name, const char *usage,
		      int test_only)
{
	(void)arg;
	printf("%s\t%s\t%s\n", name, usage, test_only ? "test-only" : "-");
}

int main(void)
{
	conf_each_directive(print_one, NULL);
	return 0;
}
