/* conf: the wireguard-interface directive (conf_wg.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/conf.h"
#include "node/conf_wg.h"

static char *errs;
static size_t errs_len;
static FILE *errf;

static int setup(void **state)
{
	errf = open_memstream(&errs, &errs_len);
	conf_set_error_stream(errf);
	return errf ? 0 : -1;
}

static int teardown(void **state)
{
	conf_set_error_stream(NULL);
	fclose(errf);
	free(errs);
	errs = NULL;
	return 0;
}

/* Loads text as "t.conf"; returns the error output (empty when fine). */
static const char *load(struct conf *c, const char *text, int *rc)
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

static void ok(struct conf *c, const char *text)
{
	int rc;
	const char *e = load(c, text, &rc);

	if (rc != 0)
		fail_msg("unexpected errors for [%s]: %s", text, e);
	assert_string_equal(e, "");
}

/* The load fails and the output contains want (a whole error line). */
static void bad(const char *text, const char *want)
{
	struct conf c;
	int rc;
	const char *e = load(&c, text, &rc);

	assert_int_equal(rc, -1);
	if (!strstr(e, want))
		fail_msg("for [%s] wanted '%s', got '%s'", text, want, e);
}

static void test_wg(void **state)
{
	struct conf c;

	(void)state;
	ok(&c, "datadir /tmp\n");
	assert_string_equal(c.wg_interface, "");
	assert_int_equal(c.wg_port, 0);
	ok(&c, "wireguard-interface wg-ntp\n");
	assert_string_equal(c.wg_interface, "wg-ntp");
	assert_int_equal(c.wg_port, CONF_WG_PORT);
	ok(&c, "wireguard-interface ntpmc0 port 51999\n");
	assert_string_equal(c.wg_interface, "ntpmc0");
	assert_int_equal(c.wg_port, 51999);
	bad("wireguard-interface", "t.conf:1: usage: wireguard-interface NAME "
	    "[port N]");
	bad("wireguard-interface -wg", "t.conf:1: wireguard-interface: '-wg' "
	    "is not an interface name");
	bad("wireguard-interface 0123456789abcdef", "is not an interface name");
	bad("wireguard-interface wg/0", "is not an interface name");
	bad("wireguard-interface wg0 51820", "expected 'port N'");
	bad("wireguard-interface wg0 udp 51820", "expected 'port N'");
	bad("wireguard-interface wg0 port 0", "port must be between 1 and "
	    "65535");
	bad("wireguard-interface wg0\nwireguard-interface wg1\n",
	    "t.conf:2:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
