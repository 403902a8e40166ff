/*
 * Join token parsing (raft/transport/token.c): anything that parses must encode to a
 * token that parses to the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/transport/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token *t, *u;
	char *text, *again = NULL;

	if (size > TOKEN_TEXT_MAX + 16)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (token_parse(text, &t) == 0) {
		if (token_encode(t, &again) != 0)
			abort();
		if (token_parse(again, &u) != 0)
			abort();
		if (memcmp(t, u, sizeof(*t)) != 0)
			abort();
		token_text_free(again);
		token_free(t);
		token_free(u);
	}
	free(text);
	return 0;
}
