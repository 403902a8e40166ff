/* Config parser: every directive, every error with its FILE:LINE text. */
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

#include "tests/unit/conf_fixture.h"

static void test_defaults(void **state)
{
	struct conf c;

	ok(&c, "");
	assert_int_equal(c.serve.n_listen, 0);
	assert_int_equal(c.serve.wildcard_port, 123);
	assert_int_equal(c.time.local_stratum, 0);
	assert_int_equal(c.serve.threads, 0);
	assert_int_equal(c.serve.ratelimit.enabled, 1);
	assert_int_equal(c.serve.ratelimit.interval, 3);
	assert_int_equal(c.serve.ratelimit.burst, 8);
	assert_int_equal(c.serve.ratelimit.leak, 2);
	assert_int_equal(c.serve.ratelimit.entries, RL_DEFAULT_ENTRIES);
	assert_int_equal(c.serve.n_acl, 0);
	assert_string_equal(c.control, "/run/ntpnode/ctl.sock");
	assert_string_equal(c.datadir, "/var/lib/ntpnode");
	assert_int_equal(c.time.discipline, DISC_VIRTUAL);
	assert_string_equal(c.path, "t.conf");
}

static void test_comments_blank(void **state)
{
	struct conf c;

	ok(&c, "# a comment\n\n   \t\n  # indented\r\nlocal stratum 3 # tail\r\n");
	assert_int_equal(c.time.local_stratum, 3);
	/* Directive names are case-insensitive, as chrony's. */
	ok(&c, "LOCAL Stratum 4");
	assert_int_equal(c.time.local_stratum, 4);
}

static void test_listen(void **state)
{
	struct conf c;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char buf[64];

	ok(&c, "listen 127.0.0.1\nlisten ::1 port 1123\n"
	       "listen 192.0.2.1 port 5000\n");
	assert_int_equal(c.serve.n_listen, 3);
	sin = (struct sockaddr_in *)&c.serve.listen[0].addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 123);
	assert_int_equal(sin->sin_addr.s_addr, htonl(0x7f000001));
	assert_int_equal(c.serve.listen[0].len, sizeof(*sin));
	sin6 = (struct sockaddr_in6 *)&c.serve.listen[1].addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 1123);
	inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
	assert_int_equal(c.serve.listen[1].len, sizeof(*sin6));
	sin = (struct sockaddr_in *)&c.serve.listen[2].addr;
	assert_int_equal(ntohs(sin->sin_port), 5000);

	/* `port` sets the port of lines without one, wherever it appears. */
	ok(&c, "listen 127.0.0.1\nlisten ::1 port 9\nport 4123\n");
	sin = (struct sockaddr_in *)&c.serve.listen[0].addr;
	assert_int_equal(ntohs(sin->sin_port), 4123);
	sin6 = (struct sockaddr_in6 *)&c.serve.listen[1].addr;
	assert_int_equal(ntohs(sin6->sin6_port), 9);
	ok(&c, "port 5123");
	assert_int_equal(c.serve.n_listen, 0);
	assert_int_equal(c.serve.wildcard_port, 5123);
	/* Port 0: an ephemeral port (tests). */
	ok(&c, "listen 127.0.0.1 port 0");
	sin = (struct sockaddr_in *)&c.serve.listen[0].addr;
	assert_int_equal(sin->sin_port, 0);
	/* The same address on two ports is fine. */
	ok(&c, "listen 127.0.0.1 port 1\nlisten 127.0.0.1 port 2\n");
}

static void test_listen_errors(void **state)
{
	bad("listen localhost", "t.conf:1: listen: 'localhost' is not a "
	    "numeric IPv4 or IPv6 address (names are not resolved)");
	bad("\nlisten [::1]", "t.conf:2: listen: '[::1]' is not a numeric");
	bad("listen 1.2.3.4 port -1", "t.conf:1: listen port must be between "
	    "0 and 65535, got '-1'");
	bad("listen 1.2.3.4 port 65536", "must be between 0 and 65535");
	bad("listen 1.2.3.4 port x1", "t.conf:1: listen port must be a whole "
	    "number, got 'x1'");
	bad("listen 1.2.3.4 prt 5", "t.conf:1: usage: listen ADDRESS [port N]");
	bad("listen", "t.conf:1: usage: listen ADDRESS [port N]");
	bad("listen 1.2.3.4 port", "t.conf:1: usage: listen ADDRESS [port N]");
	bad("listen 127.0.0.1\nport 7\nlisten 127.0.0.1 port 7\n",
	    "t.conf:3: listen: same address and port as line 1");
	bad("port 0", "t.conf:1: port must be between 1 and 65535, got '0'");
	bad("port", "t.conf:1: usage: port N");
	bad("port 1\nport 2", "t.conf:2: 'port' already set at line 1");

	char text[2048] = "";
	for (int i = 0; i <= SERVE_MAX_LISTEN; i++)
		sprintf(text + strlen(text), "listen 10.0.0.%d\n", i + 1);
	bad(text, "t.conf:17: listen: at most 16 listen lines");
}

static void test_local(void **state)
{
	struct conf c;

	ok(&c, "local stratum 1");
	assert_int_equal(c.time.local_stratum, 1);
	ok(&c, "local stratum 15");
	assert_int_equal(c.time.local_stratum, 15);
	ok(&c, "local");
	assert_int_equal(c.time.local_stratum, 10);
	bad("local stratum 0", "t.conf:1: local stratum must be between 1 and "
	    "15, got '0'");
	bad("local stratum 16", "between 1 and 15, got '16'");
	bad("local stratum", "t.conf:1: usage: local stratum N");
	bad("local orphan 3", "t.conf:1: usage: local stratum N");
	bad("local stratum 2\nlocal stratum 3",
	    "t.conf:2: 'local' already set at line 1");
}

static void test_serve_threads(void **state)
{
	struct conf c;

	ok(&c, "serve-threads 4");
	assert_int_equal(c.serve.threads, 4);
	bad("serve-threads 0", "t.conf:1: serve-threads must be between 1 and "
	    "256, got '0'");
	bad("serve-threads 257", "between 1 and 256");
	bad("serve-threads four", "serve-threads must be a whole number, got "
	    "'four'");
	bad("serve-threads", "t.conf:1: usage: serve-threads N");
	bad("serve-threads 1 2", "t.conf:1: usage: serve-threads N");
	bad("serve-threads 99999999999999999999", "between 1 and 256");
}

static void test_ratelimit(void **state)
{
	struct conf c;

	ok(&c, "ratelimit off");
	assert_int_equal(c.serve.ratelimit.enabled, 0);
	ok(&c, "ratelimit interval -2 burst 16 leak 3 entries 4096");
	assert_int_equal(c.serve.ratelimit.enabled, 1);
	assert_int_equal(c.serve.ratelimit.interval, -2);
	assert_int_equal(c.serve.ratelimit.burst, 16);
	assert_int_equal(c.serve.ratelimit.leak, 3);
	assert_int_equal(c.serve.ratelimit.entries, 4096);
	ok(&c, "ratelimit burst 4");
	assert_int_equal(c.serve.ratelimit.interval, 3);
	assert_int_equal(c.serve.ratelimit.burst, 4);
	assert_int_equal(c.serve.ratelimit.leak, 2);
	ok(&c, "ratelimit");
	assert_int_equal(c.serve.ratelimit.enabled, 1);

	bad("ratelimit interval 13", "t.conf:1: interval must be between -19 "
	    "and 12, got '13'");
	bad("ratelimit burst 0", "burst must be between 1 and 255, got '0'");
	bad("ratelimit leak 5", "leak must be between 1 and 4, got '5'");
	bad("ratelimit entries 10", "entries must be between 1024 and "
	    "16777216, got '10'");
	bad("ratelimit burst", "t.conf:1: usage: ratelimit off | ratelimit "
	    "[interval N] [burst N] [leak N] [entries N]");
	bad("ratelimit on", "t.conf:1: usage: ratelimit off");
	bad("ratelimit speed 3", "t.conf:1: ratelimit: unknown option 'speed' "
	    "(interval, burst, leak, entries)");
	bad("ratelimit burst 3 burst 4", "t.conf:1: ratelimit: 'burst' given "
	    "twice");
	/* Both problems on one line are reported. */
	bad("ratelimit burst 0 leak 9", "leak must be between 1 and 4");
	bad("ratelimit burst 0 leak 9", "burst must be between 1 and 255");
	bad("ratelimit off\nratelimit",
	    "t.conf:2: 'ratelimit' already set at line 1");
}

static void test_acl(void **state)
{
	struct conf c;

	ok(&c, "deny all\nallow 192.0.2.0/24\nallow 2001:db8::/32\n"
	       "deny 192.0.2.7\nallow ::1\n");
	assert_int_equal(c.serve.n_acl, 6);
	assert_int_equal(c.serve.acl[0].family, AF_INET);
	assert_int_equal(c.serve.acl[0].prefix, 0);
	assert_int_equal(c.serve.acl[0].allow, 0);
	assert_int_equal(c.serve.acl[1].family, AF_INET6);
	assert_int_equal(c.serve.acl[1].prefix, 0);
	assert_int_equal(c.serve.acl[1].allow, 0);
	assert_int_equal(c.serve.acl[2].family, AF_INET);
	assert_int_equal(c.serve.acl[2].prefix, 24);
	assert_int_equal(c.serve.acl[2].allow, 1);
	assert_memory_equal(c.serve.acl[2].addr, "\xc0\x00\x02\x00", 4);
	assert_int_equal(c.serve.acl[3].family, AF_INET6);
	assert_int_equal(c.serve.acl[3].prefix, 32);
	assert_memory_equal(c.serve.acl[3].addr, "\x20\x01\x0d\xb8\0\0", 6);
	assert_int_equal(c.serve.acl[4].prefix, 32);
	assert_int_equal(c.serve.acl[4].allow, 0);
	assert_int_equal(c.serve.acl[5].prefix, 128);
	assert_int_equal(c.serve.acl[5].addr[15], 1);
	ok(&c, "allow ALL");
	assert_int_equal(c.serve.n_acl, 2);
	assert_int_equal(c.serve.acl[0].allow, 1);

	bad("allow 192.0.2.1/24", "t.conf:1: allow: 192.0.2.1/24 has bits set "
	    "past the /24 prefix");
	bad("deny 10.0.0.0/33", "t.conf:1: prefix length must be between 0 "
	    "and 32, got '33'");
	bad("deny ::/129", "prefix length must be between 0 and 128");
	bad("deny 10.0.0.0/", "prefix length must be a whole number, got ''");
	bad("allow example.org", "t.conf:1: allow: 'example.org' is not a "
	    "numeric address or ADDRESS/PREFIX (or 'all')");
	bad("allow", "t.conf:1: usage: allow SUBNET|all");
	bad("deny 1.2.3.4 5.6.7.8", "t.conf:1: usage: deny SUBNET|all");

	char *text = malloc(20 * (SERVE_MAX_ACL + 2));
	text[0] = '\0';
	for (int i = 0; i <= SERVE_MAX_ACL; i++)
		sprintf(text + strlen(text), "deny 10.%d.%d.0/24\n", i / 256,
			i % 256);
	bad(text, "t.conf:257: at most 256 allow/deny subnets");
	free(text);
}

static void test_paths(void **state)
{
	struct conf c;
	char text[512];

	ok(&c, "control /tmp/x/ctl.sock\ndatadir /tmp/x/data\n");
	assert_string_equal(c.control, "/tmp/x/ctl.sock");
	assert_string_equal(c.datadir, "/tmp/x/data");
	snprintf(text, sizeof(text), "control /%0120d", 0);
	bad(text, "t.conf:1: control: path is 121 bytes long, at most 107 fit");
	bad("control", "t.conf:1: usage: control PATH");
	bad("control /a /b", "t.conf:1: usage: control PATH");
	bad("datadir /a\ndatadir /b", "t.conf:2: 'datadir' already set at "
	    "line 1");
	bad("control /a\ncontrol /b", "t.conf:2: 'control' already set");
}

static void test_discipline(void **state)
{
	struct conf c;

	ok(&c, "discipline kernel");
	assert_int_equal(c.time.discipline, DISC_KERNEL);
	ok(&c, "discipline virtual");
	assert_int_equal(c.time.discipline, DISC_VIRTUAL);
	bad("discipline fast", "t.conf:1: discipline: 'fast' is neither "
	    "'virtual' nor 'kernel'");
	bad("discipline", "t.conf:1: usage: discipline virtual|kernel");
}

static void test_general_errors(void **state)
{
	char text[8192];

	bad("frobnicate 3", "t.conf:1: unknown directive 'frobnicate'");
	/* Every error is reported, each with its own line. */
	bad("bogus\nlocal stratum 99\nlisten x\n", "t.conf:1: unknown "
	    "directive 'bogus'\nt.conf:2: local stratum must be between 1 "
	    "and 15, got '99'\nt.conf:3: listen: 'x' is not a numeric");
	bad("a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7",
	    "t.conf:1: more than 32 words");
	memset(text, 'a', 5000);
	text[5000] = '\0';
	bad(text, "t.conf:1: line longer than 4096 bytes");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/ntpmc-conf-XXXXXX";
	struct conf c;
	int fd, rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "local stratum 5\n", 16), 16);
	rc = conf_load(&c, path);
	assert_int_equal(rc, 0);
	assert_int_equal(c.time.local_stratum, 5);
	assert_string_equal(c.path, path);
	/* A NUL byte is named with its line, not silently cut. */
	assert_int_equal(write(fd, "\nloc\0al", 7), 7);
	rewind(errf);
	assert_int_equal(conf_load(&c, path), -1);
	fputc('\0', errf);
	fflush(errf);
	char want[64];
	snprintf(want, sizeof(want), "%s:3: NUL byte in line", path);
	assert_non_null(strstr(errs, want));
	close(fd);
	unlink(path);

	rewind(errf);
	assert_int_equal(conf_load(&c, "/nonexistent/ntpnode.conf"), -1);
	fputc('\0', errf);
	fflush(errf);
	assert_non_null(strstr(errs, "/nonexistent/ntpnode.conf: cannot open: "
				     "No such file or directory"));
	rewind(errf);
	assert_int_equal(conf_load(&c, "/tmp"), -1);
	fputc('\0', errf);
	fflush(errf);
	assert_non_null(strstr(errs, "/tmp: is a directory"));
	/* Not a regular file, but a fine empty config. */
	assert_int_equal(conf_load(&c, "/dev/null"), 0);
	assert_int_equal(c.time.local_stratum, 0);

	/* The size cap. */
	{
		char big[] = "/tmp/ntpmc-conf-big-XXXXXX";
		char line[1025];
		int bfd = mkstemp(big);

		assert_true(bfd >= 0);
		memset(line, '#', 1023);
		line[1023] = '\n';
		for (int i = 0; i <= 1024; i++)
			assert_int_equal(write(bfd, line, 1024), 1024);
		rewind(errf);
		assert_int_equal(conf_load(&c, big), -1);
		fputc('\0', errf);
		fflush(errf);
		snprintf(want, sizeof(want), "%s: larger than 1048576 bytes",
			 big);
		assert_non_null(strstr(errs, want));
		close(bfd);
		unlink(big);
	}
}

/* Random lines built from directive words and junk: never a crash. */
static void test_random_lines(void **state)
{
	static const char *words[] = {
		"listen", "port", "local", "stratum", "serve-threads",
		"ratelimit", "interval", "burst", "leak", "entries", "off",
		"allow", "deny", "all", "control", "datadir", "discipline",
		"virtual", "kernel", "#", "127.0.0.1", "::1", "::", "1.2.3.4/8",
		"0", "-1", "1", "15", "65535", "99999999999999999999", "/",
		"/tmp/x", "\t", "\r", "1.2.3.4/", "::/0", "fe80::1%eth0", "",
	};
	size_t nw = sizeof(words) / sizeof(words[0]);
	char text[4096];
	struct conf c;
	int rc;

	srand(12345);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0;
		int lines = 1 + rand() % 4;

		for (int l = 0; l < lines; l++) {
			int n = rand() % 9;
			for (int i = 0; i < n; i++) {
				const char *w = words[(size_t)rand() % nw];
				len += (size_t)snprintf(text + len,
							sizeof(text) - len,
							"%s%s", w,
							rand() % 5 ? " " : "");
			}
			if (rand() % 7 == 0)
				text[len++] = (char)(1 + rand() % 255);
			text[len++] = '\n';
		}
		text[len] = '\0';
		load(&c, text, &rc);
		assert_true(rc == 0 || rc == -1);
		assert_true(c.serve.n_listen >= 0 && c.serve.n_listen <= SERVE_MAX_LISTEN);
		assert_true(c.serve.n_acl >= 0 && c.serve.n_acl <= SERVE_MAX_ACL);
	}
}

/* Test-only directives need `test-mode yes` somewhere in the same file. */
static void test_test_mode(void **state)
{
	struct conf c;

	bad("clock-error offset 0.02 drift 0\n",
	    "t.conf:1: clock-error is test-only: add 'test-mode yes'\n");
	bad("port 123\nhostsfile /tmp/h\ntest-mode no\n",
	    "t.conf:2: hostsfile is test-only: add 'test-mode yes'\n");
	bad("test-mode maybe\n",
	    "t.conf:1: test-mode: 'maybe' is neither 'yes' nor 'no'\n");
	/* before or after the directive */
	ok(&c, "clock-error offset 0.02 drift 0\ntest-mode yes\n");
	assert_int_equal(c.time.clock_error_set, 1);
	ok(&c, "test-mode yes\nhostsfile /tmp/h\n");
	assert_string_equal(c.time.hostsfile, "/tmp/h");
	ok(&c, "test-mode no\nport 123\n");
	/* the watchdog's injected hangs */
	bad("test-hang loop 5\n",
	    "t.conf:1: test-hang is test-only: add 'test-mode yes'\n");
	bad("test-mode yes\ntest-hang disk 5\n",
	    "t.conf:2: test-hang: 'disk' is neither 'loop' nor 'serve'\n");
	bad("test-mode yes\ntest-hang loop 0\n",
	    "t.conf:2: test-hang seconds must be between 1 and 86400, got '0'\n");
	ok(&c, "test-mode yes\ntest-hang loop 5\ntest-hang serve 7\n");
	assert_int_equal(c.test_hang_loop_s, 5);
	assert_int_equal(c.serve.test_stall_s, 7);
	ok(&c, "port 123\n");
	assert_int_equal(c.test_hang_loop_s, 0);
	assert_int_equal(c.serve.test_stall_s, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_comments_blank),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_serve_threads),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_discipline),
		cmocka_unit_test(test_general_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_random_lines),
		cmocka_unit_test(test_test_mode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
