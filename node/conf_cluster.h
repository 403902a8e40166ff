/*
 * The cluster directives of the config file (issue 4 item 3):
 *   node-name NAME                 default: the host name
 *   cluster-listen ADDRESS [port N]   default port CONF_CLUSTER_PORT;
 *                                  absent: the node serves standalone
 *   cluster-advertise HOST [port N]   what members and joiners dial;
 *                                  required when cluster-listen is a
 *                                  wildcard; port defaults to the listen one
 *   provider aws|gcp|other         region NAME
 *   election-timeout MS (500)      heartbeat-timeout MS (50)
 *   mapsize BYTES[k|m|g]           LMDB map size (the store's default: 64m)
 * The parsers are rows of conf.c's table; conf_cluster_finish() runs the
 * checks that involve several directives once the file is read.
 */
#ifndef NTPMC_CONF_CLUSTER_H
#define NTPMC_CONF_CLUSTER_H

#include <stddef.h>

#include "node/conf.h"

#define CONF_CLUSTER_PORT 4460

struct conf_ctx;

int conf_parse_node_name(struct conf_ctx *x, int argc, char **argv);
int conf_parse_cluster_listen(struct conf_ctx *x, int argc, char **argv);
int conf_parse_cluster_advertise(struct conf_ctx *x, int argc, char **argv);
int conf_parse_provider(struct conf_ctx *x, int argc, char **argv);
int conf_parse_region(struct conf_ctx *x, int argc, char **argv);
int conf_parse_election_timeout(struct conf_ctx *x, int argc, char **argv);
int conf_parse_heartbeat_timeout(struct conf_ctx *x, int argc, char **argv);
int conf_parse_mapsize(struct conf_ctx *x, int argc, char **argv);

/* After the file: defaults (node-name from the host name) and the checks
 * that involve several directives, reported through conf_error(). */
void conf_cluster_finish(struct conf_ctx *x);

#endif
