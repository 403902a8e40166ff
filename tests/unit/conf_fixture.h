/*
 * Shared by the config tests: load a text as "t.conf" and capture what the
 * parser printed, so each test asserts on the exact FILE:LINE messages.
 * Include after <cmocka.h> and node/daemon/conf.h.
 */
#ifndef NTPMC_TEST_CONF_FIXTURE_H
#define NTPMC_TEST_CONF_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *errs;
static size_t errs_len;
static FILE *errf;

static inline int setup(void **state)
{
	errf = open_memstream(&errs, &errs_len);
	conf_set_error_stream(errf);
	return errf ? 0 : -1;
}

static inline int teardown(void **state)
{
	conf_set_error_stream(NULL);
	fclose(errf);
	free(errs);
	errs = NULL;
	return 0;
}

/* Loads text as "t.conf"; returns the error output (empty when fine). */
static inline const char *load(struct conf *c, const char *text, int *rc)
{
	rewind(errf);
	fflush(errf);
	if (errs)
		errs[0] = '\0';
	*rc = conf_load_text(c, "t.conf", text);
	fputc('\0', errf);
	fflush(errf);
	return errs;
}

static inline void ok(struct conf *c, const char *text)
{
	int rc;
	const char *e = load(c, text, &rc);

	if (rc != 0)
		fail_msg("unexpected errors for [%s]: %s", text, e);
	assert_string_equal(e, "");
}

/* The load fails and the output contains want (a whole error line). */
static inline void bad(const char *text, const char *want)
{
	struct conf c;
	int rc;
	const char *e = load(&c, text, &rc);

	assert_int_equal(rc, -1);
	if (!strstr(e, want))
		fail_msg("for [%s] wanted '%s', got '%s'", text, want, e);
}

#endif
