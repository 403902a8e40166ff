#include "node/time/hosts.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int hosts_numeric(const char *s, uint16_t port, struct sockaddr_storage *out)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

int hosts_lookup(const char *path, const char *name, uint16_t port,
		 struct sockaddr_storage *out, int max)
{
	char line[1024];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *save = NULL, *addr, *w;
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		addr = strtok_r(line, " \t\r\n", &save);
		if (!addr)
			continue;
		while ((w = strtok_r(NULL, " \t\r\n", &save))) {
			if (strcasecmp(w, name) != 0)
				continue;
			if (hosts_numeric(addr, port, &out[n]) == 0)
				n++;
			break;
		}
	}
	fclose(f);
	return n;
}
