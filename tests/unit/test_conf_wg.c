/* conf: the wireguard-interface directive (node/daemon/conf_cluster.c). */
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

#include "node/daemon/conf.h"
#include "node/cluster/cluster.h"

#include "tests/unit/conf_fixture.h"

static void test_wg(void **state)
{
	struct conf c;

	(void)state;
	ok(&c, "datadir /tmp\n");
	assert_string_equal(c.cluster.wg_interface, "");
	assert_int_equal(c.cluster.wg_port, 0);
	ok(&c, "wireguard-interface wg-ntp\n");
	assert_string_equal(c.cluster.wg_interface, "wg-ntp");
	assert_int_equal(c.cluster.wg_port, CLUSTER_WG_PORT);
	ok(&c, "wireguard-interface ntpmc0 port 51999\n");
	assert_string_equal(c.cluster.wg_interface, "ntpmc0");
	assert_int_equal(c.cluster.wg_port, 51999);
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

static void test_endpoint(void **state)
{
	struct conf c;

	(void)state;
	ok(&c, "datadir /tmp\n");
	assert_string_equal(c.cluster.wg_endpoint, "");
	ok(&c, "wireguard-endpoint 203.0.113.7\n");
	assert_string_equal(c.cluster.wg_endpoint, "203.0.113.7");
	ok(&c, "wireguard-endpoint 203.0.113.7:51999\n");
	assert_string_equal(c.cluster.wg_endpoint, "203.0.113.7:51999");
	ok(&c, "wireguard-endpoint [2001:db8::7]:51820\n");
	assert_string_equal(c.cluster.wg_endpoint, "[2001:db8::7]:51820");
	ok(&c, "wireguard-endpoint 2001:db8::7\n");
	bad("wireguard-endpoint vm1.example.net", "is not IP, IP:PORT");
	bad("wireguard-endpoint vm1.example.net:51820", "no host names");
	bad("wireguard-endpoint 1.2.3.4:0", "is not IP, IP:PORT");
	bad("wireguard-endpoint 1.2.3.4:65536", "is not IP, IP:PORT");
	bad("wireguard-endpoint 1.2.3.4:", "is not IP, IP:PORT");
	bad("wireguard-endpoint 2001:db8::7]:5", "is not IP, IP:PORT");
	bad("wireguard-endpoint [1.2.3.4]:5", "is not IP, IP:PORT");
	bad("wireguard-endpoint", "usage: wireguard-endpoint IP[:PORT]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
