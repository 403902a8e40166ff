/*
 * Node configuration: the file named by -c, one directive per line, '#'
 * comments, chrony-like. conf_load() never exits; it returns -1 and has
 * printed "FILE:LINE: problem" for every error it found.
 */
#ifndef NTPMC_CONF_H
#define NTPMC_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "node/conftime.h"

#define CONF_MAX_LISTEN 16
#define CONF_MAX_ACL 256
#define CONF_DEFAULT_NTP_PORT 123
#define CONF_DEFAULT_CONTROL "/run/ntpnode/ctl.sock"
#define CONF_DEFAULT_DATADIR "/var/lib/ntpnode"
#define CONF_MAX_SERVE_THREADS 256
/* Rate limiting is on by default: a public server meets abusive clients. */
#define CONF_DEFAULT_RL_INTERVAL 3      /* chrony's defaults */
#define CONF_DEFAULT_RL_BURST 8
#define CONF_DEFAULT_RL_LEAK 2
#define CONF_DEFAULT_RL_ENTRIES 65536

enum conf_discipline { CONF_DISCIPLINE_VIRTUAL, CONF_DISCIPLINE_KERNEL };

struct conf_listen {
	struct sockaddr_storage addr; /* port filled in */
	socklen_t len;
};

/*
 * Access control (node/acl.c): the longest matching prefix decides; among
 * equal prefixes the later line wins. An address no line matches is served
 * if the file has no allow line at all (a public server with a few deny
 * lines), and refused as soon as there is one (allow lists, as chrony).
 * "all" is stored as two entries, 0.0.0.0/0 and ::/0.
 */
struct conf_subnet {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order, masked to prefix */
	int prefix;
	int allow;         /* 1 allow, 0 deny */
};

struct conf_ratelimit {
	int enabled;
	int interval;      /* log2 seconds between requests, chrony's meaning */
	int burst;         /* requests allowed in a burst */
	int leak;          /* log2 of 1/share of over-limit requests answered */
	uint32_t entries;  /* fixed size of the client table */
};

struct conf {
	char path[PATH_MAX];
	struct conf_listen listen[CONF_MAX_LISTEN];
	int n_listen;               /* 0: wildcard 0.0.0.0 and :: */
	uint16_t wildcard_port;     /* `port N`: the wildcard default and listen
				       lines without their own port */
	int local_stratum;          /* 0: not set */
	int serve_threads;          /* 0: one per CPU */
	/* `wireguard-interface NAME [port N]` (conf_wg.h): "" = none */
	char wg_interface[16];
	unsigned wg_port;           /* 0: CONF_WG_PORT */
	/* `wireguard-endpoint IP[:PORT]`: "" = cluster-advertise's host and
	 * the WireGuard port (node/wgjoin.h resolves it) */
	char wg_endpoint[64];
	struct conf_ratelimit ratelimit;
	struct conf_subnet acl[CONF_MAX_ACL];
	int n_acl;
	char control[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char datadir[PATH_MAX];
	enum conf_discipline discipline;
	struct conf_time time;      /* time engine (conftime.h) */

	/* Cluster (node/conf_cluster.c); zero values mean the defaults. */
	char node_name[65];             /* "" until loaded: the host name */
	int cluster_listen_set;         /* 0: standalone */
	struct conf_listen cluster_listen; /* port filled in */
	char cluster_advertise[262];    /* "host:port", "" = cluster-listen */
	char provider[16];              /* aws | gcp | other */
	char region[65];
	unsigned election_timeout_ms;   /* 0: 500 */
	unsigned heartbeat_timeout_ms;  /* 0: 50 */
	size_t mapsize;                 /* bytes; 0: the store's default */
};

void conf_defaults(struct conf *c);
/* Where conf_load* print their errors; NULL = stderr (tests capture them). */
void conf_set_error_stream(FILE *f);
/* Returns 0, or -1 after printing every error as FILE:LINE: message. */
int conf_load(struct conf *c, const char *path);
/* Same on an in-memory text; name is used in messages. */
int conf_load_text(struct conf *c, const char *name, const char *text);

#endif
