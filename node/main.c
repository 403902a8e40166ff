/* ntpnode: the NTP-MC daemon. */
#include <stdio.h>
#include <string.h>

#include "node/log.h"

int main(int argc, char **argv)
{
	log_init("ntpnode", LOG_LVL_INFO);
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: ntpnode run|check -c FILE\n");
		return 2;
	}
	fprintf(stderr, "ntpnode: unknown command '%s'\n", argv[1]);
	return 2;
}
