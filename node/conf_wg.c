/* wireguard-interface NAME [port N] (see conf_wg.h). */
#include "node/conf_wg.h"

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
