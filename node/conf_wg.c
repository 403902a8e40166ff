/* wireguard-interface NAME [port N] (see conf_wg.h). */
#include "node/conf_wg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/conf.h"
#include "node/conf_parse.h"

/* What the kernel takes as an interface name, minus a leading '-' (it
 * would read as an option to ip(8) and wg(8)). */
static int ifname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CONF_WG_IFNAME_MAX || s[0] == '-' ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

int conf_parse_wireguard_interface(struct conf_ctx *x, int argc, char **argv)
{
	long port = CONF_WG_PORT;

	if (!ifname_ok(argv[1])) {
		conf_error(x, "%s: '%s' is not an interface name (1-%d of "
			   "A-Z a-z 0-9 - _ ., not starting with '-')",
			   argv[0], argv[1], CONF_WG_IFNAME_MAX);
		return -1;
	}
	if (argc == 3 || (argc == 4 && !conf_word_is(argv[2], "port"))) {
		conf_error(x, "%s: expected 'port N' after the name", argv[0]);
		return -1;
	}
	if (argc == 4 &&
	    conf_parse_int(x, "port", argv[3], 1, 65535, &port) < 0)
		return -1;
	strcpy(x->c->wg_interface, argv[1]);
	x->c->wg_port = (unsigned)port;
	return 0;
}

/* IP, IP:PORT or [IPv6]:PORT, numeric only: an endpoint that needs DNS
 * would make the mesh depend on a resolver (see conf_wg.h). */
int conf_parse_wireguard_endpoint(struct conf_ctx *x, int argc, char **argv)
{
	const char *v = argv[1];
	unsigned char tmp[16];
	char ep[80];

	(void)argc;
	if (strlen(v) >= sizeof(x->c->wg_endpoint))
		goto bad;
	if (inet_pton(AF_INET, v, tmp) == 1 || inet_pton(AF_INET6, v, tmp) == 1) {
		strcpy(x->c->wg_endpoint, v);  /* the port comes later */
		return 0;
	}
	/* with a port (ntpnode_core cannot use node/wgmesh.h: it sits
	 * above it), so the split is done here */
	snprintf(ep, sizeof(ep), "%s", v);
	{
		char *colon = strrchr(ep, ':'), *end;
		const char *host = ep;
		long port;
		int fam = AF_INET;

		if (colon == NULL || colon[1] < '0' || colon[1] > '9')
			goto bad;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			goto bad;
		*colon = 0;
		if (ep[0] == '[') {
			if (colon[-1] != ']')
				goto bad;
			colon[-1] = 0;
			host = ep + 1;
			fam = AF_INET6;
		}
		if (inet_pton(fam, host, tmp) != 1)
			goto bad;
	}
	strcpy(x->c->wg_endpoint, v);
	return 0;
bad:
	conf_error(x, "%s: '%s' is not IP, IP:PORT or [IPv6]:PORT (numeric, "
		   "no host names)", argv[0], v);
	return -1;
}
