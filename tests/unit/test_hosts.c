/* Private hosts file (test-only resolver): lookups never touch DNS. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/time/hosts.h"

static void test_lookup(void **st)
{
	char path[] = "/tmp/hoststestXXXXXX";
	static const char text[] =
		"# comment\n"
		"127.0.42.11 pool.test a.test\n"
		"127.0.42.12   pool.test # trailing comment\n"
		"::1 pool.test v6.test\n"
		"not-an-address pool.test\n"
		"\n"
		"127.0.42.13 other.test\n";
	struct sockaddr_storage a[8];
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a[0];
	int fd = mkstemp(path);

	(void)st;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
			 (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(hosts_lookup(path, "pool.test", 1234, a, 8), 3);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 1234);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f002a0b);
	assert_int_equal(a[2].ss_family, AF_INET6);
	assert_int_equal(hosts_lookup(path, "POOL.test", 1, a, 2), 2);
	assert_int_equal(hosts_lookup(path, "a.test", 1, a, 8), 1);
	assert_int_equal(hosts_lookup(path, "missing.test", 1, a, 8), 0);
	unlink(path);
	assert_int_equal(hosts_lookup(path, "a.test", 1, a, 8), -1);
}

static void test_numeric(void **st)
{
	struct sockaddr_storage a;

	(void)st;
	assert_int_equal(hosts_numeric("192.0.2.1", 123, &a), 0);
	assert_int_equal(a.ss_family, AF_INET);
	assert_int_equal(hosts_numeric("2001:db8::1", 123, &a), 0);
	assert_int_equal(a.ss_family, AF_INET6);
	assert_int_equal(hosts_numeric("pool.ntp.org", 123, &a), -1);
	assert_int_equal(hosts_numeric("", 123, &a), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_numeric),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
