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

#include "tests/unit/conf_fixture.h"

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
