/* tcpinfo: see tcpinfo.h. A file of its own: the kernel's <linux/tcp.h>
 * and glibc's <netinet/tcp.h> both define struct tcp_info (glibc's
 * without the fields used here) and cannot meet in one file. */
#include "raft/transport/tcpinfo.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>

int tcpinfo_sent(int fd, uint32_t *segs_out, uint64_t *bytes_retrans)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	if (len < offsetof(struct tcp_info, tcpi_bytes_retrans) +
			  sizeof(ti.tcpi_bytes_retrans))
		return -ENOTSUP;
	*segs_out = ti.tcpi_segs_out;
	*bytes_retrans = ti.tcpi_bytes_retrans;
	return 0;
}
