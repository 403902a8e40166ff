/* metrics-listen (node/daemon/conf_metrics.c) through conf_load_text. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/daemon/conf.h"
#include "tests/unit/conf_fixture.h"

static void test_metrics_listen(void **state)
{
	static struct conf c;
	const struct sockaddr_in *a4;
	const struct sockaddr_in6 *a6;

	ok(&c, "listen 127.0.0.1\n");
	assert_false(c.metrics.listen_set);
	ok(&c, "metrics-listen 192.168.10.1\n");
	assert_true(c.metrics.listen_set);
	a4 = (const struct sockaddr_in *)&c.metrics.listen.addr;
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), METRICS_DEFAULT_PORT);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0xc0a80a01);
	ok(&c, "METRICS-LISTEN ::1 PORT 0\n");
	a6 = (const struct sockaddr_in6 *)&c.metrics.listen.addr;
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 0);
	assert_int_equal(c.metrics.listen.len, sizeof(*a6));
}

static void test_metrics_listen_errors(void **state)
{
	bad("metrics-listen\n", "t.conf:1: usage: metrics-listen ADDRESS [port N]");
	bad("metrics-listen localhost\n", "t.conf:1: metrics-listen: 'localhost' "
	    "is not a numeric IPv4 or IPv6 address");
	bad("metrics-listen 127.0.0.1 port 65536\n", "t.conf:1:");
	bad("metrics-listen 127.0.0.1 prt 1\n",
	    "t.conf:1: usage: metrics-listen ADDRESS [port N]");
	bad("metrics-listen 127.0.0.1\nmetrics-listen 127.0.0.2\n",
	    "t.conf:2: 'metrics-listen' already set at line 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_listen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metrics_listen_errors,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
