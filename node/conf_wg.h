/*
 * The WireGuard directive of the config file (issue 5):
 *   wireguard-interface NAME [port N]
 *   wireguard-endpoint IP[:PORT]
 * NAME is the interface ntpnode manages (created with the kernel module
 * when absent, or made beforehand, e.g. by wireguard-go); the port is the
 * UDP port WireGuard listens on (default CONF_WG_PORT). Without the
 * directive no interface is managed: raft uses cluster-advertise.
 * wireguard-endpoint is the public address other members send WireGuard
 * packets to (numeric, never resolved; the port defaults to the
 * WireGuard port); without it, cluster-advertise's host is used.
 */
#ifndef NTPMC_CONF_WG_H
#define NTPMC_CONF_WG_H

#define CONF_WG_PORT 51820
#define CONF_WG_IFNAME_MAX 15	/* IFNAMSIZ - 1 */

struct conf_ctx;

int conf_parse_wireguard_interface(struct conf_ctx *x, int argc,
				   char **argv);
int conf_parse_wireguard_endpoint(struct conf_ctx *x, int argc, char **argv);

#endif
