/* offline: shared by the offline datadir commands (see offline.h). */
#include "node/cluster/offline/offline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int off_lock(const char *cmd, const char *datadir)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t r;
	int fd;

	if (snprintf(path, sizeof(path), "%s/lock", datadir) >=
	    (int)sizeof(path))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "ntpnode %s: cannot open %s: %s\n", cmd, path,
			strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK) {
		r = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "ntpnode %s: ntpnode (pid %s) is running on "
			"%s (it holds %s): stop it first (systemctl stop "
			"ntpnode); %s works on a stopped node only\n", cmd,
			pid[0] ? pid : "unknown", datadir, path, cmd);
	} else {
		fprintf(stderr, "ntpnode %s: flock %s: %s\n", cmd, path,
			strerror(errno));
	}
	close(fd);
	return -1;
}

int off_read_file(const char *path, size_t max, void **out, size_t *len)
{
	struct stat sb;
	size_t off = 0;
	char *buf;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)sb.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;      /* shrank while read: take what is there */
		}
		off += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = off;
	return 0;
}

int off_get_u64(struct st *st, const char *key, uint64_t *v)
{
	void *buf = NULL;
	size_t len = 0, i;
	int rc = st_local_get(st, key, &buf, &len);

	if (rc == 0 && len != 8)
		rc = -EINVAL;
	if (rc == 0)
		for (*v = 0, i = 0; i < 8; i++)
			*v = *v << 8 | ((unsigned char *)buf)[i];
	free(buf);
	return rc;
}

int off_put_u64(struct st *st, const char *key, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
	return st_local_put(st, key, b, sizeof(b));
}
