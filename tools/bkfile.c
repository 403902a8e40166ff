/* bkfile: take a backup out of a reply, write it to disk (bkfile.h). */
#include "tools/bkfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

int bkfile_extract(const char *json, void **out, size_t *len)
{
	static const char key[] = "\"backup\":\"";
	const char *p = json ? strstr(json, key) : NULL, *end;
	size_t n, cap;
	void *buf;

	*out = NULL;
	*len = 0;
	if (!p)
		return -EINVAL;
	p += sizeof(key) - 1;
	end = strchr(p, '"');
	if (!end)
		return -EINVAL;
	n = (size_t)(end - p);
	cap = n / 4 * 3 + 3;
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return -ENOMEM;
	if (sodium_init() < 0 ||
	    sodium_base642bin(buf, cap, p, n, NULL, len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

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
