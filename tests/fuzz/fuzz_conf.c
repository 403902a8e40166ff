/* libFuzzer: the config parser on arbitrary text (never crash, never hang). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/daemon/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	static FILE *null;
	char *text;

	if (!null) {
		null = fopen("/dev/null", "w");
		conf_set_error_stream(null);
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_load_text(&c, "fuzz.conf", text);
	if (c.serve.n_listen < 0 || c.serve.n_listen > SERVE_MAX_LISTEN ||
	    c.serve.n_acl < 0 || c.serve.n_acl > SERVE_MAX_ACL)
		abort();
	free(text);
	return 0;
}
