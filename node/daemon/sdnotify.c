#include "node/daemon/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct sdn {
	int fd;
	struct sockaddr_un sun;
	socklen_t len;
	uint64_t watchdog_usec;
};

/* A decimal number of at most 19 digits, > 0. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!s[0] || strlen(s) > 19)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* sd_notify(3): the watchdog is ours unless WATCHDOG_PID names another
 * process (a wrapper that exec()s us keeps the PID, so it matches). */
static int watchdog_of(uint64_t *usec)
{
	const char *us = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t p;

	*usec = 0;
	if (!us)
		return 0;
	if (pid && (parse_u64(pid, &p) < 0 || p != (uint64_t)getpid()))
		return 0;
	return parse_u64(us, usec);
}

int sdn_open(struct sdn **out)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sdn *s = NULL;
	size_t n;
	int rc = -EINVAL;

	*out = NULL;
	if (!path)
		goto out;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(s->sun.sun_path))
		goto out;
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	if (watchdog_of(&s->watchdog_usec) < 0)
		goto out_free;
	s->sun.sun_family = AF_UNIX;
	memcpy(s->sun.sun_path, path, n);
	if (path[0] == '@')
		s->sun.sun_path[0] = '\0'; /* abstract: no NUL at the end */
	s->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			     (path[0] == '/'));
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	*out = s;
	rc = 0;
	goto out;
out_free:
	free(s);
out:
	/* Read once: what we start must not talk to our service manager. */
	if (path) {
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
	return path ? rc : 0;
}

void sdn_close(struct sdn *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int sdn_send(struct sdn *s, const char *msg)
{
	ssize_t n;

	if (!s)
		return 0;
	/* Never blocks the loop: a full queue loses this message, the next
	 * ping or status replaces it. */
	do {
		n = sendto(s->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
			   (const struct sockaddr *)&s->sun, s->len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

uint64_t sdn_watchdog_usec(const struct sdn *s)
{
	return s ? s->watchdog_usec : 0;
}
