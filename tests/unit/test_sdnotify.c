/*
 * The service manager's notification protocol (node/daemon/sdnotify.h)
 * against a socket of our own: path and abstract addresses, the watchdog
 * interval and whose it is, the variables taken out of the environment,
 * malformed variables refused, and no service manager at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/daemon/sdnotify.h"

/* A datagram socket at name ("@..." abstract); returns its fd. */
static int listener(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	unlink(name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void expect_msg(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_path_socket_and_watchdog(void **state)
{
	char path[64], pid[32];
	struct sdn *s;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/ntpmc-sdn-%ld", (long)getpid());
	fd = listener(path);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdn_open(&s), 0);
	assert_non_null(s);
	assert_int_equal(sdn_watchdog_usec(s), 2000000);
	/* what ntpnode starts (ip, wg) must not inherit them */
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_null(getenv("WATCHDOG_USEC"));
	assert_null(getenv("WATCHDOG_PID"));
	assert_int_equal(sdn_send(s, "READY=1\nSTATUS=up"), 0);
	expect_msg(fd, "READY=1\nSTATUS=up");
	assert_int_equal(sdn_send(s, "WATCHDOG=1"), 0);
	expect_msg(fd, "WATCHDOG=1");
	sdn_close(s);
	/* the manager went away: an error, not a crash */
	close(fd);
	unlink(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdn_open(&s), 0);
	assert_true(sdn_send(s, "WATCHDOG=1") < 0);
	sdn_close(s);
}

static void test_abstract_and_foreign_watchdog(void **state)
{
	char name[64];
	struct sdn *s;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@ntpmc-sdn-%ld", (long)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "5000000", 1);
	setenv("WATCHDOG_PID", "1", 1);  /* someone else's watchdog */
	assert_int_equal(sdn_open(&s), 0);
	assert_int_equal(sdn_watchdog_usec(s), 0);
	assert_int_equal(sdn_send(s, "STOPPING=1"), 0);
	expect_msg(fd, "STOPPING=1");
	sdn_close(s);
	close(fd);
}

static void test_none_and_malformed(void **state)
{
	static const char *bad_socket[] = { "relative/path", "@", "", "/" };
	static const char *bad_usec[] = { "", "12x", "0", "-5",
					  "99999999999999999999" };
	char longpath[200];
	struct sdn *s = (struct sdn *)&s;
	size_t i;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdn_open(&s), 0);
	assert_null(s);
	assert_int_equal(sdn_send(NULL, "READY=1"), 0);
	assert_int_equal(sdn_watchdog_usec(NULL), 0);
	for (i = 0; i < sizeof(bad_socket) / sizeof(bad_socket[0]); i++) {
		setenv("NOTIFY_SOCKET", bad_socket[i], 1);
		assert_int_equal(sdn_open(&s), -EINVAL);
		assert_null(s);
		assert_null(getenv("NOTIFY_SOCKET"));
	}
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	assert_int_equal(sdn_open(&s), -EINVAL);
	for (i = 0; i < sizeof(bad_usec) / sizeof(bad_usec[0]); i++) {
		setenv("NOTIFY_SOCKET", "/tmp/x", 1);
		setenv("WATCHDOG_USEC", bad_usec[i], 1);
		assert_int_equal(sdn_open(&s), -EINVAL);
		assert_null(s);
		assert_null(getenv("WATCHDOG_USEC"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket_and_watchdog),
		cmocka_unit_test(test_abstract_and_foreign_watchdog),
		cmocka_unit_test(test_none_and_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
