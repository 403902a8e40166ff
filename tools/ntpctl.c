/* ntpctl: the operator's command-line client of ntpnode. */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argv;
	fprintf(stderr, "usage: ntpctl [-s SOCKET] [-o json] COMMAND\n");
	return argc < 2 ? 2 : 2;
}
