/* hostport: splitting, joining, numeric parsing and formatting of
 * "host:port", bracketed IPv6 literals first of all. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/base/hostport.h"

static void split(void **state)
{
	char host[64];
	unsigned port = 99;

	(void)state;
	assert_int_equal(hostport_split("[::1]:80", host, sizeof(host), &port),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(hostport_split("[2001:db8::1]", host, sizeof(host),
					&port), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 0);
	assert_int_equal(hostport_split("192.0.2.1:65535", host, sizeof(host),
					&port), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 65535);
	assert_int_equal(hostport_split("ntp1.example.net:4461", host,
					sizeof(host), &port), 0);
	assert_string_equal(host, "ntp1.example.net");
	assert_int_equal(port, 4461);
	assert_int_equal(hostport_split("name", host, sizeof(host), &port), 0);
	assert_string_equal(host, "name");
	assert_int_equal(port, 0);

	/* ports: 1..65535, decimal digits only */
	assert_int_equal(hostport_split("a:99999", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a:65536", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a:0", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a:", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a:-1", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a:+1", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a: 1", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a:1x", host, sizeof(host), &port),
			 -EINVAL);
	/* hosts: never empty; IPv6 only in brackets, brackets only IPv6 */
	assert_int_equal(hostport_split(":5", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("[]:5", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("::1:7400", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("[1.2.3.4]:5", host, sizeof(host),
					&port), -EINVAL);
	assert_int_equal(hostport_split("[::1", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("[::1]x", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("[::1]:", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split("a]:5", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(hostport_split(NULL, host, sizeof(host), &port),
			 -EINVAL);
	/* the host must fit, NUL included */
	assert_int_equal(hostport_split("abcd:1", host, 5, &port), 0);
	assert_int_equal(hostport_split("abcde:1", host, 5, &port), -EINVAL);
}

static void join(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(hostport_join("::1", 80, out, sizeof(out)), 0);
	assert_string_equal(out, "[::1]:80");
	assert_int_equal(hostport_join("192.0.2.1", 123, out, sizeof(out)), 0);
	assert_string_equal(out, "192.0.2.1:123");
	assert_int_equal(hostport_join("2001:db8::1", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "[2001:db8::1]");
	assert_int_equal(hostport_join("name", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "name");
	assert_int_equal(hostport_join("name", 65536, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(hostport_join("::1", 80, out, 9), 0);
	assert_int_equal(hostport_join("::1", 80, out, 8), -ENOSPC);
}

static void to_sa(void **state)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const void *)&ss;
	const struct sockaddr_in6 *s6 = (const void *)&ss;
	struct in6_addr want;

	(void)state;
	assert_int_equal(hostport_to_sa("127.0.0.1:7400", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 7400);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(hostport_to_sa("[2001:db8::1]:123", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 123);
	inet_pton(AF_INET6, "2001:db8::1", &want);
	assert_memory_equal(&s6->sin6_addr, &want, sizeof(want));
	assert_int_equal(s6->sin6_scope_id, 0);
	/* no zones: "%eth0" means something else on each machine */
	assert_int_not_equal(hostport_to_sa("[fe80::1%7]:1", &ss), 0);
	assert_int_not_equal(hostport_to_sa("[fe80::1%lo]:1", &ss), 0);
	/* numeric only, a port always */
	assert_int_not_equal(hostport_to_sa("::1:7400", &ss), 0);
	assert_int_not_equal(hostport_to_sa("host.example:7400", &ss), 0);
	assert_int_not_equal(hostport_to_sa("127.0.0.1:", &ss), 0);
	assert_int_not_equal(hostport_to_sa("127.0.0.1:70000", &ss), 0);
	assert_int_not_equal(hostport_to_sa("127.0.0.1:0", &ss), 0);
	assert_int_not_equal(hostport_to_sa("127.0.0.1", &ss), 0);
	assert_int_not_equal(hostport_to_sa("[::1]", &ss), 0);
	assert_int_not_equal(hostport_to_sa("127.1:80", &ss), 0);
	assert_int_not_equal(hostport_to_sa("[::ffff:1.2.3.4.5]:80", &ss), 0);
	assert_int_not_equal(hostport_to_sa(NULL, &ss), 0);
}

static void from_sa(void **state)
{
	struct sockaddr_storage ss;
	char out[HOSTPORT_SA_LEN], back[HOSTPORT_SA_LEN];
	static const char *const cases[] = {
		"192.0.2.1:123", "[2001:db8::1]:4460", "[fe80::1]:51820",
		"[::]:1", "0.0.0.0:65535",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(hostport_to_sa(cases[i], &ss), 0);
		hostport_from_sa((const struct sockaddr *)&ss, out,
				 sizeof(out));
		assert_string_equal(out, cases[i]);
		/* and back */
		assert_int_equal(hostport_to_sa(out, &ss), 0);
		hostport_from_sa((const struct sockaddr *)&ss, back,
				 sizeof(back));
		assert_string_equal(back, out);
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_string_equal(hostport_from_sa((const struct sockaddr *)&ss, out,
					     sizeof(out)), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split),
		cmocka_unit_test(join),
		cmocka_unit_test(to_sa),
		cmocka_unit_test(from_sa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
