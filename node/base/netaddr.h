/*
 * netaddr: a socket address with its length, as the config parser fills
 * it and the serving and cluster layers bind it.
 */
#ifndef NTPMC_NETADDR_H
#define NTPMC_NETADDR_H

#include <sys/socket.h>

struct netaddr {
	struct sockaddr_storage addr;   /* port filled in */
	socklen_t len;
};

#endif
