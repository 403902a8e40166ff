/* wirelen: IP-level sizes of NTP replies, WireGuard and TCP packets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/base/wirelen.h"

static void udp(void **state)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

	(void)state;
	assert_int_equal(wirelen_udp((struct sockaddr *)&s4, 48), 76);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr), 1);
	assert_int_equal(wirelen_udp((struct sockaddr *)&s6, 48), 96);
	/* A dual-stack socket's IPv4 client leaves as IPv4. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1",
				   &s6.sin6_addr), 1);
	assert_int_equal(wirelen_udp((struct sockaddr *)&s6, 48), 76);
	assert_int_equal(wirelen_udp((struct sockaddr *)&s6, 68), 96);
}

static void wg(void **state)
{
	(void)state;
	/* 76-byte inner reply: padded to 80, + 16 + 16 + UDP 8 + IPv4 20 */
	assert_int_equal(wirelen_wg(0, 76), 140);
	assert_int_equal(wirelen_wg(0, 80), 140);
	assert_int_equal(wirelen_wg(0, 81), 156);
	assert_int_equal(wirelen_wg(1, 76), 160);
}

static void tcp(void **state)
{
	uint64_t seg = 0;

	(void)state;
	assert_int_equal(wirelen_tcp(0, 100, 0, &seg), 152);
	assert_int_equal(seg, 1);
	assert_int_equal(wirelen_tcp(0, 1448, 0, &seg), 1500);
	assert_int_equal(seg, 1);
	assert_int_equal(wirelen_tcp(0, 1449, 0, &seg), 1449 + 2 * 52);
	assert_int_equal(seg, 2);
	assert_int_equal(wirelen_tcp(1, 10, 1000, &seg), 10 + 72);
	/* A bare ACK is one header. */
	assert_int_equal(wirelen_tcp(0, 0, 0, &seg), 52);
	assert_int_equal(seg, 1);
}

static void tcp_stream(void **state)
{
	uint64_t len16[16] = { 0 };

	(void)state;
	/* one segment of 100 B (100 mod 16 = 4) and 2 bare ACKs: 3 packets */
	len16[4] = 1;
	assert_int_equal(wirelen_tcp_stream(0, 100, len16, 3), 152 + 2 * 52);
	/* over WireGuard: 152 inside, padded to 160, + 60; a bare ACK is 52
	 * inside, padded to 64: 124 (not 52 + 60 + 8) */
	assert_int_equal(wirelen_tcp_stream(1, 100, len16, 3),
			 wirelen_wg(0, 152) + 2 * wirelen_wg(0, 52));
	assert_int_equal(wirelen_wg(0, 52), 124);
	/* a full segment and one byte: each padded on its own */
	memset(len16, 0, sizeof(len16));
	len16[1448 % 16] = 1;
	len16[1] = 1;
	assert_int_equal(wirelen_tcp_stream(1, 1449, len16, 2),
			 wirelen_wg(0, 1500) + wirelen_wg(0, 53));
	assert_int_equal(wirelen_tcp_stream(0, 1449, len16, 2), 1449 + 2 * 52);
	/* an inner packet of a multiple of 16 gets no padding */
	memset(len16, 0, sizeof(len16));
	len16[12] = 3;
	assert_int_equal(wirelen_tcp_stream(1, 3 * 12, len16, 3),
			 3 * wirelen_wg(0, 64));
	assert_int_equal(wirelen_wg(0, 64), 124);
	/* two writes of 100 B that the kernel sent as one segment: one
	 * packet's headers (the padding of the merged one is a guess) */
	memset(len16, 0, sizeof(len16));
	len16[4] = 2;
	assert_int_equal(wirelen_tcp_stream(0, 200, len16, 1), 252);
	assert_int_equal(wirelen_tcp_stream(1, 200, len16, 1),
			 2 * wirelen_wg(0, 152) - (52 + 60 + 8));
	/* nothing sent */
	memset(len16, 0, sizeof(len16));
	assert_int_equal(wirelen_tcp_stream(1, 0, len16, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp),
		cmocka_unit_test(wg),
		cmocka_unit_test(tcp),
		cmocka_unit_test(tcp_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
