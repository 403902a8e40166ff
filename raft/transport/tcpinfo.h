/*
 * tcpinfo: what the kernel sent on a TCP socket, from TCP_INFO (Linux):
 * every segment (data, pure ACKs, SYN, FIN, retransmissions;
 * tcpi_segs_out, RFC 4898 tcpEStatsPerfSegsOut, Linux 4.2) and the payload
 * bytes it sent again (tcpi_bytes_retrans, Linux 4.19). The egress count
 * (node/cluster) takes these instead of guessing the ACKs.
 */
#ifndef NTPMC_TCPINFO_H
#define NTPMC_TCPINFO_H

#include <stdint.h>

/* 0, or -errno (not a TCP socket, an old kernel without the fields:
 * -ENOTSUP). */
int tcpinfo_sent(int fd, uint32_t *segs_out, uint64_t *bytes_retrans);

#endif
