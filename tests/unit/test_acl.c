/* allow/deny: longest prefix, later wins a tie, default by presence of
 * any allow; which source addresses can be answered at all. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/serve/acl.h"

static struct acl_rule sub(const char *addr, int prefix, int allow)
{
	struct acl_rule s;

	memset(&s, 0, sizeof(s));
	s.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(s.family, addr, s.addr), 1);
	s.prefix = prefix;
	s.allow = allow;
	return s;
}

static int ok(const struct acl *a, const char *addr)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return acl_allowed(a, (struct sockaddr *)&ss);
}

static void test_empty(void **state)
{
	struct acl *a = acl_new(NULL, 0);

	assert_non_null(a);
	assert_true(ok(a, "192.0.2.1"));
	assert_true(ok(a, "2001:db8::1"));
	acl_free(a);
}

static void test_deny_only(void **state)
{
	struct acl_rule r[] = { sub("192.0.2.0", 24, 0),
				   sub("2001:db8::", 32, 0) };
	struct acl *a = acl_new(r, 2);

	assert_non_null(a);
	assert_false(ok(a, "192.0.2.200"));
	assert_true(ok(a, "192.0.3.1"));
	assert_false(ok(a, "2001:db8:ffff::1"));
	assert_true(ok(a, "2001:db9::1"));
	assert_false(ok(a, "::ffff:192.0.2.9")); /* mapped = IPv4 */
	acl_free(a);
}

static void test_longest_and_ties(void **state)
{
	struct acl_rule r[] = {
		sub("10.0.0.0", 8, 1),
		sub("10.1.0.0", 16, 0),
		sub("10.1.2.0", 23, 1),   /* odd prefix: 10.1.2.0 - 10.1.3.255 */
		sub("10.1.2.3", 32, 0),
		sub("172.16.0.0", 12, 0),
		sub("172.16.0.0", 12, 1), /* same prefix: the later wins */
		sub("2001:db8::", 32, 1),
		sub("2001:db8:bad::", 48, 0),
	};
	struct acl *a = acl_new(r, (int)(sizeof(r) / sizeof(r[0])));

	assert_non_null(a);
	assert_true(ok(a, "10.9.9.9"));
	assert_false(ok(a, "10.1.9.9"));
	assert_true(ok(a, "10.1.3.250"));
	assert_false(ok(a, "10.1.4.1"));
	assert_false(ok(a, "10.1.2.3"));
	assert_true(ok(a, "10.1.2.4"));
	assert_true(ok(a, "172.31.255.255"));
	assert_false(ok(a, "172.32.0.0"));
	/* An allow exists: unmatched addresses are denied. */
	assert_false(ok(a, "192.0.2.1"));
	assert_true(ok(a, "2001:db8:1::1"));
	assert_false(ok(a, "2001:db8:bad::1"));
	assert_false(ok(a, "2001:db9::1"));
	acl_free(a);
}

static void test_all_and_bad(void **state)
{
	struct acl_rule r[] = { sub("0.0.0.0", 0, 1), sub("::", 0, 0) };
	struct acl_rule bad = sub("10.0.0.0", 33, 1);
	struct acl *a = acl_new(r, 2);

	assert_non_null(a);
	assert_true(ok(a, "203.0.113.5"));
	assert_false(ok(a, "2001:db8::5"));
	acl_free(a);
	assert_null(acl_new(&bad, 1));
	bad.family = AF_UNIX;
	bad.prefix = 8;
	assert_null(acl_new(&bad, 1));
}

static int answerable(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return acl_answerable((struct sockaddr *)&ss);
}

/* Sources no reply can reach: port 0, unspecified, 0/8, multicast,
 * limited broadcast; IPv4-mapped counts as IPv4. */
static void test_answerable(void **state)
{
	struct sockaddr_storage unix_ss = { .ss_family = AF_UNIX };

	assert_true(answerable("192.0.2.1", 123));
	assert_true(answerable("127.0.0.1", 40000));
	assert_true(answerable("223.255.255.255", 1));
	assert_true(answerable("240.0.0.1", 123));   /* class E: unicast */
	assert_true(answerable("255.255.255.254", 123));
	assert_true(answerable("2001:db8::1", 123));
	assert_true(answerable("::1", 123));
	assert_true(answerable("fe80::1", 123));
	assert_true(answerable("::ffff:192.0.2.1", 123));
	assert_false(answerable("192.0.2.1", 0));
	assert_false(answerable("2001:db8::1", 0));
	assert_false(answerable("::ffff:192.0.2.1", 0));
	assert_false(answerable("0.0.0.0", 123));
	assert_false(answerable("0.1.2.3", 123));
	assert_false(answerable("224.0.0.1", 123));
	assert_false(answerable("239.255.255.250", 123));
	assert_false(answerable("255.255.255.255", 123));
	assert_false(answerable("::", 123));
	assert_false(answerable("ff02::1", 123));
	assert_false(answerable("ff05::101", 123));
	assert_false(answerable("::ffff:224.0.1.1", 123));
	assert_false(answerable("::ffff:255.255.255.255", 123));
	assert_false(answerable("::ffff:0.0.0.0", 123));
	assert_false(acl_answerable((struct sockaddr *)&unix_ss));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_deny_only),
		cmocka_unit_test(test_longest_and_ties),
		cmocka_unit_test(test_all_and_bad),
		cmocka_unit_test(test_answerable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
