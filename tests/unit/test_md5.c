/* MD5 against the RFC 1321 appendix A.5 test suite; refid per RFC 5905. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "node/ntp/md5.h"
#include "node/ntp/refid.h"

static void hex(const uint8_t d[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_rfc1321_vectors(void **st)
{
	static const char *v[][2] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz",
		  "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890123456789012345678901234"
		  "5678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	uint8_t d[16];
	char h[33];

	(void)st;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		md5_sum(v[i][0], strlen(v[i][0]), d);
		hex(d, h);
		assert_string_equal(h, v[i][1]);
	}
}

/* Lengths around the 56/64-byte padding edges must not corrupt. */
static void test_padding_edges(void **st)
{
	char buf[130];
	uint8_t a[16], b[16];

	(void)st;
	memset(buf, 'x', sizeof(buf));
	for (size_t n = 50; n < 130; n++) {
		md5_sum(buf, n, a);
		md5_sum(buf, n, b);
		assert_memory_equal(a, b, 16);
		if (n > 50) {
			uint8_t c[16];

			md5_sum(buf, n - 1, c);
			assert_memory_not_equal(a, c, 16);
		}
	}
}

static void test_refid(void **st)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	uint8_t d[16];
	uint32_t want;

	(void)st;
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	assert_int_equal(refid_of_addr((struct sockaddr *)&s4), 0xc0000207u);
	inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
	md5_sum(s6.sin6_addr.s6_addr, 16, d);
	want = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
	       d[3];
	assert_int_equal(refid_of_addr((struct sockaddr *)&s6), want);
	/* an IPv4-mapped IPv6 peer is an IPv4 peer */
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	assert_int_equal(refid_of_addr((struct sockaddr *)&s6), 0xc0000207u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1321_vectors),
		cmocka_unit_test(test_padding_edges),
		cmocka_unit_test(test_refid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
