/* Serving threads in-process on loopback: replies, drop counters, rate
 * limiting with KoD, acl, pktinfo source address, probe-bind refusal,
 * unanswerable sources (raw sockets: skipped without CAP_NET_RAW). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/ntp/clk.h"
#include "node/base/log.h"
#include "node/ntp/ntp.h"
#include "node/ntp/pkeys.h"
#include "node/ntp/pmac.h"
#include "node/daemon/conf.h"
#include "node/serve/serve.h"
#include "node/ntp/tstate.h"

static struct serve_conf cf;

static void conf_for(const char *addr, uint16_t port, int threads)
{
	memset(&cf, 0, sizeof(cf));
	cf.threads = threads;
	cf.ratelimit.interval = 3;
	cf.ratelimit.burst = 8;
	cf.ratelimit.leak = 2;
	if (!addr)
		return;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)&cf.listen[0].addr;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		cf.listen[0].len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&cf.listen[0].addr;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		cf.listen[0].len = sizeof(*s4);
	}
	cf.n_listen = 1;
}

static uint16_t port_of(struct serve *s, int i)
{
	struct sockaddr_storage ss;

	assert_int_equal(serve_addr(s, i, &ss), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A client socket "connected" nowhere; sends to addr:port. */
static int client(int fam)
{
	int fd = socket(fam, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	return fd;
}

static void send_to(int fd, const char *addr, uint16_t port,
		    const uint8_t *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)len);
}

/* Returns the reply length, or -1 after timeout_ms without one. */
static ssize_t recv_reply(int fd, uint8_t *buf, size_t len, int timeout_ms,
			  struct sockaddr_storage *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t fl = sizeof(*from);

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &fl);
}

static void make_req(uint8_t *b, int version, int mode, uint64_t xmt)
{
	int i;

	memset(b, 0, 128);
	b[0] = (uint8_t)(version << 3 | mode);
	b[2] = 7;
	for (i = 0; i < 8; i++)
		b[40 + i] = (uint8_t)(xmt >> (56 - 8 * i));
}

/* Waits until the served counters reach `received` datagrams. */
static void wait_received(struct serve *s, uint64_t received,
			  struct serve_stats *st)
{
	int i;

	for (i = 0; i < 200; i++) {
		serve_get_stats(s, st);
		if (st->received >= received)
			return;
		usleep(10000);
	}
	fail_msg("server saw %llu of %llu datagrams",
		 (unsigned long long)st->received,
		 (unsigned long long)received);
}

static void test_replies_and_drops(void **state)
{
	struct serve *s;
	struct serve_stats st;
	struct sockaddr_storage from;
	struct ntp_hdr h;
	uint8_t req[128], rep[256];
	uint16_t port;
	int fd = client(AF_INET), v;
	int64_t before;

	tstate_set_local(3);
	conf_for("127.0.0.1", 0, 2);
	s = serve_start(&cf);
	assert_non_null(s);
	assert_int_equal(serve_nthreads(s), 2);
	port = port_of(s, 0);
	assert_true(port != 0);

	/* Every version 1-4 gets a 48-byte mode 4 reply echoing it. */
	for (v = 1; v <= 4; v++) {
		make_req(req, v, v == 1 ? 0 : 3, 0x1122334455667788ull + v);
		before = clk_raw_ns();
		send_to(fd, "127.0.0.1", port, req, 48);
		assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from),
				 48);
		ntp_decode(rep, &h);
		assert_int_equal(h.mode, 4);
		assert_int_equal(h.version, v);
		assert_int_equal(h.poll, 7);
		assert_int_equal(h.stratum, 3);
		assert_int_equal(h.leap, 0);
		assert_true(h.refid == TSTATE_REFID_LOCAL);
		assert_true(h.org == 0x1122334455667788ull + (uint64_t)v);
		/* Kernel receive time, then transmit, both now-ish. */
		assert_true(ntp_ts_to_ns(h.rec, before) >= before - 1000000);
		assert_true(h.xmt >= h.rec);
		assert_true(ntp_ts_to_ns(h.xmt, before) < before + 2000000000LL);
	}
	/* Extension field: bare 48-byte reply to a 76-byte request. */
	make_req(req, 4, 3, 42);
	req[48] = 0x01; req[49] = 0x04; req[50] = 0; req[51] = 28;
	send_to(fd, "127.0.0.1", port, req, 76);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from), 48);

	/* None of these is answered. */
	make_req(req, 2, 6, 1);
	send_to(fd, "127.0.0.1", port, req, 48);       /* control */
	make_req(req, 2, 7, 1);
	send_to(fd, "127.0.0.1", port, req, 48);       /* private */
	make_req(req, 4, 4, 1);
	send_to(fd, "127.0.0.1", port, req, 48);       /* server mode */
	make_req(req, 5, 3, 1);
	send_to(fd, "127.0.0.1", port, req, 48);       /* version 5 */
	make_req(req, 4, 3, 1);
	send_to(fd, "127.0.0.1", port, req, 47);       /* short */
	send_to(fd, "127.0.0.1", port, req, 68);       /* MAC */
	wait_received(s, 11, &st);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 200, &from), -1);
	serve_get_stats(s, &st);
	assert_int_equal(st.received, 11);
	assert_int_equal(st.replied, 5);
	/* IP-level egress: 20 (IPv4) + 8 (UDP) + 48 per reply */
	assert_int_equal(st.tx_bytes, 5 * 76);
	assert_int_equal(st.peer_tx_bytes, 0);
	assert_int_equal(st.drop_control, 2);
	assert_int_equal(st.drop_mode, 1);
	assert_int_equal(st.drop_version, 1);
	assert_int_equal(st.drop_short, 1);
	assert_int_equal(st.drop_auth, 1);
	assert_int_equal(st.kod_sent + st.rate_limited + st.drop_denied, 0);
	assert_true(serve_hist_quantile_ns(&st, 0.5) > 0);

	/* A second instance on the same address must not start. */
	conf_for("127.0.0.1", port, 1);
	assert_null(serve_start(&cf));
	serve_stop(s);
	close(fd);
}

/* One IPv4/UDP datagram to 127.0.0.1:dport from any source address and
 * port, which only a raw socket can forge (the kernel fills in the IP
 * checksum, length and id; UDP checksum 0 means none over IPv4). */
static void raw_send(int raw, const char *src, uint16_t sport, uint16_t dport,
		     const uint8_t *payload, size_t len)
{
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct udphdr) + 48];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip));
	struct sockaddr_in to = { .sin_family = AF_INET };

	assert_true(len == 48);
	memset(pkt, 0, sizeof(pkt));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	assert_int_equal(inet_pton(AF_INET, src, &ip->saddr), 1);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &ip->daddr), 1);
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons((uint16_t)(sizeof(*udp) + len));
	memcpy(pkt + sizeof(*ip) + sizeof(*udp), payload, len);
	to.sin_addr.s_addr = ip->daddr;
	assert_int_equal(sendto(raw, pkt, sizeof(pkt), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)sizeof(pkt));
}

/* Source port 0, a multicast or a broadcast source: dropped at receive
 * with their own counter, never a send error; a normal client still gets
 * its reply. */
static void test_unanswerable_sources(void **state)
{
	struct serve *s;
	struct serve_stats st;
	struct sockaddr_storage from;
	uint8_t req[128], rep[256];
	uint16_t port;
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW), fd, one = 1;

	(void)state;
	if (raw < 0 && (errno == EPERM || errno == EACCES)) {
		print_message("no CAP_NET_RAW: cannot forge sources, skipped\n");
		skip();
	}
	assert_true(raw >= 0);
	assert_int_equal(setsockopt(raw, IPPROTO_IP, IP_HDRINCL, &one,
				    sizeof(one)), 0);
	tstate_set_local(3);
	conf_for("127.0.0.1", 0, 1);
	s = serve_start(&cf);
	assert_non_null(s);
	port = port_of(s, 0);
	make_req(req, 4, 3, 77);
	raw_send(raw, "127.0.0.1", 0, port, req, 48);
	raw_send(raw, "224.0.1.1", 123, port, req, 48);
	raw_send(raw, "255.255.255.255", 123, port, req, 48);
	wait_received(s, 3, &st);
	fd = client(AF_INET);
	send_to(fd, "127.0.0.1", port, req, 48);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from), 48);
	/* The counters are flushed after the batch's send. */
	wait_received(s, 4, &st);
	assert_int_equal(st.received, 4);
	assert_int_equal(st.drop_unanswerable, 3);
	assert_int_equal(st.replied, 1);
	assert_int_equal(st.send_errors, 0);
	serve_stop(s);
	close(fd);
	close(raw);
}

static void test_probe_refusal(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct serve *s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	conf_for("127.0.0.1", ntohs(a.sin_port), 1);
	assert_null(serve_start(&cf));
	/* Also when the taken address is covered by a wildcard. */
	conf_for("0.0.0.0", ntohs(a.sin_port), 1);
	assert_null(serve_start(&cf));
	close(fd);
	/* Free again: starts. */
	conf_for("127.0.0.1", ntohs(a.sin_port), 1);
	s = serve_start(&cf);
	if (!s) /* someone else grabbed the ephemeral port meanwhile */
		skip();
	serve_stop(s);
}

static void test_ratelimit_kod(void **state)
{
	struct serve *s;
	struct serve_stats st;
	struct sockaddr_storage from;
	struct ntp_hdr h;
	uint8_t req[128], rep[256];
	int fds[10], i, normal = 0, kod = 0;
	uint16_t port;
	ssize_t n;

	tstate_set_local(5);
	conf_for("127.0.0.1", 0, 3);
	cf.ratelimit.enabled = 1;
	cf.ratelimit.interval = 10; /* 1024 s: no refill during the test */
	cf.ratelimit.burst = 2;
	cf.ratelimit.leak = 2;
	cf.ratelimit.entries = 1024;
	s = serve_start(&cf);
	assert_non_null(s);
	port = port_of(s, 0);
	/* Ten source ports (spread over the threads), one client. Over the
	 * limit: 1 in 4 answered, 1 in 4 KoD, the rest dropped. */
	for (i = 0; i < 10; i++) {
		fds[i] = client(AF_INET);
		make_req(req, 4, 3, (uint64_t)i + 1);
		send_to(fds[i], "127.0.0.1", port, req, 48);
		wait_received(s, (uint64_t)i + 1, &st);
	}
	for (i = 0; i < 10; i++) {
		n = recv_reply(fds[i], rep, sizeof(rep), 300, &from);
		if (n < 0)
			continue;
		assert_int_equal(n, 48);
		ntp_decode(rep, &h);
		assert_true(h.org == (uint64_t)i + 1);
		if (h.stratum == 0) {
			assert_true(h.refid == NTP_KOD_RATE);
			assert_int_equal(h.leap, 3);
			kod++;
		} else {
			assert_int_equal(h.stratum, 5);
			normal++;
		}
	}
	assert_int_equal(normal, 4);  /* 2 within the burst + 2 leaked */
	assert_int_equal(kod, 2);
	serve_get_stats(s, &st);
	assert_int_equal(st.replied, 6);
	assert_int_equal(st.tx_bytes, 6 * 76); /* a KoD costs an answer */
	assert_int_equal(st.kod_sent, 2);
	assert_int_equal(st.rl_leaked, 2);
	assert_int_equal(st.rate_limited, 6);
	assert_int_equal(st.drop_ratelimit, 4);
	for (i = 0; i < 10; i++)
		close(fds[i]);
	serve_stop(s);
}

static void test_acl_and_pktinfo(void **state)
{
	struct serve *s;
	struct serve_stats st;
	struct sockaddr_storage from;
	uint8_t req[128], rep[256];
	int fd = client(AF_INET);
	uint16_t port;
	char a[INET_ADDRSTRLEN];

	tstate_set_local(4);
	conf_for("0.0.0.0", 0, 1);
	/* deny 127.0.0.0/8, allow 127.0.0.1/32: longest prefix wins. */
	cf.n_acl = 2;
	cf.acl[0].family = AF_INET;
	cf.acl[0].addr[0] = 127;
	cf.acl[0].prefix = 8;
	cf.acl[0].allow = 0;
	cf.acl[1].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", cf.acl[1].addr);
	cf.acl[1].prefix = 32;
	cf.acl[1].allow = 1;
	s = serve_start(&cf);
	assert_non_null(s);
	port = port_of(s, 0);
	/* To 127.0.0.2 on a wildcard socket: the reply must come from
	 * 127.0.0.2 (IP_PKTINFO), not from 127.0.0.1. */
	make_req(req, 4, 3, 9);
	send_to(fd, "127.0.0.2", port, req, 48);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from), 48);
	assert_int_equal(from.ss_family, AF_INET);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, a,
		  sizeof(a));
	assert_string_equal(a, "127.0.0.2");
	assert_int_equal(ntohs(((struct sockaddr_in *)&from)->sin_port), port);
	close(fd);
	/* From 127.0.0.3: denied. */
	fd = client(AF_INET);
	{
		struct sockaddr_in b = { .sin_family = AF_INET };

		inet_pton(AF_INET, "127.0.0.3", &b.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof(b)), 0);
	}
	send_to(fd, "127.0.0.1", port, req, 48);
	wait_received(s, 2, &st);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 200, &from), -1);
	serve_get_stats(s, &st);
	assert_int_equal(st.drop_denied, 1);
	assert_int_equal(st.replied, 1);
	close(fd);
	serve_stop(s);
}

static void test_ipv6_wildcard(void **state)
{
	struct serve *s;
	struct sockaddr_storage from;
	uint8_t req[128], rep[256];
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		skip();
	tstate_set_local(4);
	conf_for("::", 0, 1);
	s = serve_start(&cf);
	if (!s) { /* no IPv6 loopback here */
		close(fd);
		skip();
	}
	make_req(req, 4, 3, 77);
	send_to(fd, "::1", port_of(s, 0), req, 48);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from), 48);
	assert_int_equal(from.ss_family, AF_INET6);
	assert_true(IN6_IS_ADDR_LOOPBACK(
		&((struct sockaddr_in6 *)&from)->sin6_addr));
	{
		struct serve_stats st;

		/* the batch's counters are flushed after its send: `received`
		 * last (serve_get_stats), so wait for it */
		wait_received(s, 1, &st);
		/* 40 (IPv6) + 8 (UDP) + 48 */
		assert_int_equal(st.tx_bytes, 96);
	}
	close(fd);
	serve_stop(s);
}

/* The egress governor: at 760 B/s (10 IPv4 replies a second, a second's
 * burst) a quick run of 30 requests gets about 10 answers, the rest is
 * dropped and counted; off again, everything is answered. */
static void test_governor(void **state)
{
	struct serve *s;
	struct serve_stats st;
	struct sockaddr_storage from;
	uint8_t req[128], rep[256];
	int fd = client(AF_INET), i, got = 0;
	uint16_t port;

	(void)state;
	tstate_set_local(3);
	conf_for("127.0.0.1", 0, 1);
	s = serve_start(&cf);
	assert_non_null(s);
	port = port_of(s, 0);
	assert_int_equal(serve_egress_limit(s), 0);
	serve_set_egress_limit(s, 760);
	assert_int_equal(serve_egress_limit(s), 760);
	for (i = 0; i < 30; i++) {
		make_req(req, 4, 3, (uint64_t)i + 1);
		send_to(fd, "127.0.0.1", port, req, 48);
	}
	wait_received(s, 30, &st);
	while (recv_reply(fd, rep, sizeof(rep), 200, &from) == 48)
		got++;
	serve_get_stats(s, &st);
	/* 10 from the bucket, perhaps one refilled meanwhile */
	assert_true(got >= 10 && got <= 11);
	assert_int_equal(st.replied, (uint64_t)got);
	assert_int_equal(st.drop_governor, 30 - (uint64_t)got);
	assert_int_equal(st.tx_bytes, 76 * (uint64_t)got);
	serve_set_egress_limit(s, 0);
	for (i = 0; i < 5; i++) {
		make_req(req, 4, 3, 100 + (uint64_t)i);
		send_to(fd, "127.0.0.1", port, req, 48);
		assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from),
				 48);
	}
	close(fd);
	serve_stop(s);
}

/* The daemon's path: conf_load_text over conf_defaults, then serve. */
static void test_from_config_text(void **state)
{
	static struct conf c;
	static const char text[] =
		"listen 127.0.0.1 port 0\n"
		"serve-threads 2\n"
		"ratelimit interval 10 burst 1 leak 1 entries 1024\n"
		"deny 10.0.0.0/8\n";
	struct serve *s;
	struct serve_stats st;
	struct sockaddr_storage from;
	struct ntp_hdr h;
	uint8_t req[128], rep[256];
	int fd = client(AF_INET), i, normal = 0, kod = 0;

	tstate_set_local(10);
	assert_int_equal(conf_load_text(&c, "test.conf", text), 0);
	s = serve_start(&c.serve);
	assert_non_null(s);
	/* Burst 1, leak 1: pass, then over-limit leak, KoD, leak, KoD. */
	for (i = 0; i < 5; i++) {
		make_req(req, 4, 3, (uint64_t)i);
		send_to(fd, "127.0.0.1", port_of(s, 0), req, 48);
		assert_int_equal(recv_reply(fd, rep, sizeof(rep), 2000, &from),
				 48);
		ntp_decode(rep, &h);
		if (h.stratum == 0 && h.refid == NTP_KOD_RATE)
			kod++;
		else if (h.stratum == 10)
			normal++;
	}
	assert_int_equal(normal, 3);
	assert_int_equal(kod, 2);
	/* Counters are flushed after the send: wait for the last batch. */
	wait_received(s, 5, &st);
	assert_int_equal(st.replied, 5);
	assert_int_equal(st.rl_leaked, 2);
	close(fd);
	serve_stop(s);
}

static void test_hist(void **state)
{
	struct serve_stats st;
	uint64_t v;
	int i;

	for (v = 0; v < 100000; v += 1 + v / 7) {
		i = serve_hist_bucket(v);
		assert_true(i >= 0 && i < SERVE_HIST_BUCKETS);
		assert_true(v < serve_hist_upper_ns(i));
		if (i > 0)
			assert_true(v >= serve_hist_upper_ns(i - 1));
	}
	memset(&st, 0, sizeof(st));
	assert_true(serve_hist_quantile_ns(&st, 0.99) == 0);
	st.reply_ns_hist[serve_hist_bucket(1000)] = 98;
	st.reply_ns_hist[serve_hist_bucket(50000)] = 2;
	assert_true(serve_hist_quantile_ns(&st, 0.5) ==
		    serve_hist_upper_ns(serve_hist_bucket(1000)));
	assert_true(serve_hist_quantile_ns(&st, 0.99) > 50000);
}

/*
 * The watchdog's evidence, with two idle threads of which the test-only
 * `test-hang serve` stalls one after 1 s: the other still wakes every
 * SERVE_WAKE_MS, on one socket (recvmmsg timeout) and on two (poll
 * timeout); the stalled one is counted; stop still joins it.
 */
static void wake_check(int two_sockets)
{
	struct serve *s;
	int64_t limit = 3LL * SERVE_WAKE_MS * 1000000;

	conf_for("127.0.0.1", 0, 2);
	if (two_sockets) {
		cf.listen[1] = cf.listen[0];
		((struct sockaddr_in *)&cf.listen[1].addr)->sin_addr.s_addr =
			htonl(0x7f000002);
		cf.n_listen = 2;
	}
	cf.test_stall_s = 1;
	s = serve_start(&cf);
	assert_non_null(s);
	assert_int_equal(serve_stalled(s, limit), 0);
	/* idle for longer than the limit */
	sleep(5);
	assert_int_equal(serve_stalled(s, limit), 1);
	serve_stop(s);
}

static void test_idle_wake_and_stall(void **state)
{
	(void)state;
	wake_check(0);
	wake_check(1);
}

/*
 * Members' authenticated requests (the cross-check): answered past a rate
 * limiter that drops everything else from the address, with the engine's
 * claim even while it is withdrawn (public clients then get LI 3), signed
 * with our key id, and out of the server counters. A bad tag, an unknown
 * key id or a reply-mode packet is public traffic: drop_auth.
 */
static void test_member_requests(void **state)
{
	struct pkeys_entry e = { .key_id = 0x11111111 };
	uint8_t req[128], rep[256], key[PMAC_KEY_LEN], bad[128];
	struct sockaddr_storage from;
	struct serve_stats st;
	struct serve *s;
	struct ntp_hdr h;
	uint16_t port;
	uint32_t self;
	ssize_t n;
	int fd, i;

	(void)state;
	memset(e.key, 0x5a, sizeof(e.key));
	assert_int_equal(pkeys_set(0x22222222, &e, 1), 0);
	assert_int_equal(pkeys_find(0x11111111, key, &self), 0);
	assert_int_equal(self, 0x22222222);
	assert_int_equal(pkeys_find(0x33333333, key, &self), -1);
	tstate_set_local(7);
	tstate_withdraw(1);
	conf_for("127.0.0.1", 0, 2);
	cf.ratelimit.enabled = 1;
	cf.ratelimit.interval = 10;
	cf.ratelimit.burst = 1;
	cf.ratelimit.leak = 4;
	cf.ratelimit.entries = 1024;
	s = serve_start(&cf);
	assert_non_null(s);
	port = port_of(s, 0);
	fd = client(AF_INET);
	/* a public request uses the address's one token: LI 3 (withdrawn) */
	make_req(req, 4, 3, 99);
	send_to(fd, "127.0.0.1", port, req, 48);
	n = recv_reply(fd, rep, sizeof(rep), 1000, &from);
	assert_int_equal(n, 48);
	ntp_decode(rep, &h);
	assert_int_equal(h.leap, 3);
	assert_int_equal(h.stratum, 0);
	/* members: every one answered, with the claim, signed */
	for (i = 0; i < 5; i++) {
		make_req(req, 4, 3, 1000 + (uint64_t)i);
		pmac_sign(req, e.key_id, e.key);
		send_to(fd, "127.0.0.1", port, req, PMAC_LEN);
		n = recv_reply(fd, rep, sizeof(rep), 1000, &from);
		assert_int_equal(n, PMAC_LEN);
		assert_int_equal(pmac_peek_id(rep, (size_t)n), 0x22222222);
		assert_int_equal(pmac_verify(rep, (size_t)n, e.key), 0);
		ntp_decode(rep, &h);
		assert_int_equal(h.mode, 4);
		assert_int_equal(h.leap, 0);
		assert_int_equal(h.stratum, 7);
		assert_true(h.org == 1000 + (uint64_t)i);
	}
	/* a flipped tag bit, an unknown key id, a signed reply-mode packet:
	 * public packets with an authenticator we cannot verify */
	make_req(req, 4, 3, 7);
	pmac_sign(req, e.key_id, e.key);
	memcpy(bad, req, PMAC_LEN);
	bad[PMAC_LEN - 1] ^= 1;
	send_to(fd, "127.0.0.1", port, bad, PMAC_LEN);
	pmac_sign(bad, 0x33333333, e.key);
	send_to(fd, "127.0.0.1", port, bad, PMAC_LEN);
	make_req(bad, 4, 4, 7);
	pmac_sign(bad, e.key_id, e.key);
	send_to(fd, "127.0.0.1", port, bad, PMAC_LEN);
	wait_received(s, 4, &st);
	assert_int_equal(recv_reply(fd, rep, sizeof(rep), 200, &from), -1);
	serve_get_stats(s, &st);
	assert_int_equal(st.received, 4);
	assert_int_equal(st.replied, 1);
	assert_int_equal(st.drop_auth, 2);
	assert_int_equal(st.drop_mode, 1);
	assert_int_equal(st.peer_replied, 5);
	assert_int_equal(st.tx_bytes, 76);
	assert_int_equal(st.peer_tx_bytes, 5 * (PMAC_LEN + 28));
	close(fd);
	serve_stop(s);
	tstate_withdraw(0);
	pkeys_clear();
	assert_int_equal(pkeys_find(0x11111111, key, &self), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_replies_and_drops),
		cmocka_unit_test(test_probe_refusal),
		cmocka_unit_test(test_ratelimit_kod),
		cmocka_unit_test(test_acl_and_pktinfo),
		cmocka_unit_test(test_ipv6_wildcard),
		cmocka_unit_test(test_governor),
		cmocka_unit_test(test_from_config_text),
		cmocka_unit_test(test_unanswerable_sources),
		cmocka_unit_test(test_idle_wake_and_stall),
		cmocka_unit_test(test_member_requests),
	};

	log_init("test_serve", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
