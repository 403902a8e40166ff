/* bkfile: write a backup to disk (bkfile.h). */
#include "tools/bkfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const unsigned char *b, size_t len)
{
	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int bkfile_write(const char *path, const void *buf, size_t len, int force)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	int fd, dfd, rc;

	if (!force && lstat(path, &sb) == 0)
		return -EEXIST;
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1),
			 path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (snprintf(tmp, sizeof(tmp), "%s.ntpctl-backup.XXXXXX",
		     slash ? dir : "") >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);      /* 0600 already */
	if (fd < 0)
		return -errno;
	rc = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (rc == 0)
		rc = write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	/* link() refuses a file that appeared meanwhile; rename replaces. */
	if (rc == 0 && (force ? rename(tmp, path) : link(tmp, path)) < 0)
		rc = -errno;
	if (rc != 0 || !force)
		unlink(tmp);
	if (rc != 0)
		return rc;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			rc = -errno;
		close(dfd);
	}
	return rc;
}
