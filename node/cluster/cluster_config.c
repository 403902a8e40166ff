/*
 * cluster_config: the replicated keys (node/cluster/ckey.h). `config get`
 * answers from this member's FSM (a key's source: replicated, file or
 * default); `config set` is checked here (on a follower too, before it
 * travels) and committed by the leader. Every member applies the keys
 * that take effect at runtime after each applied entry.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/cluster/ckey.h"

#define MSG_MAX 512

#define FILE_KEYS 8

/* What was last applied, so each change takes effect once; the values the
 * node's file gave keys that layers above the cluster own. */
struct cl_config {
	unsigned election_ms, heartbeat_ms;
	char log_level[8];
	struct {
		char key[FSM_KEY_MAX + 1];
		char value[CKEY_VALUE_MAX];
	} file[FILE_KEYS];
	unsigned n_file;
};

static const char *config_value(struct cluster *cl, const struct ckey_info *k,
				enum ckey_source *src, char *tmp, size_t n)
{
	const char *v = fsm_config_get(cl->fsm, k->name);

	if (v) {
		*src = CKEY_REPLICATED;
		return v;
	}
	if (strcmp(k->name, "election-timeout") == 0 &&
	    cl->conf->election_timeout_ms) {
		snprintf(tmp, n, "%u", cl->conf->election_timeout_ms);
		*src = CKEY_FILE;
		return tmp;
	}
	if (strcmp(k->name, "heartbeat-timeout") == 0 &&
	    cl->conf->heartbeat_timeout_ms) {
		snprintf(tmp, n, "%u", cl->conf->heartbeat_timeout_ms);
		*src = CKEY_FILE;
		return tmp;
	}
	for (unsigned i = 0; i < cl->config->n_file; i++)
		if (strcmp(cl->config->file[i].key, k->name) == 0) {
			*src = CKEY_FILE;
			return cl->config->file[i].value;
		}
	*src = CKEY_DEFAULT;
	return k->def;
}

const char *cluster_key_value(struct cluster *cl, const char *key)
{
	static char tmp[32];
	const struct ckey_info *k = ckey_find(key);
	enum ckey_source src;

	return k ? config_value(cl, k, &src, tmp, sizeof(tmp)) : NULL;
}

int cluster_key_file(struct cluster *cl, const char *key, const char *value)
{
	struct cl_config *a = cl->config;
	const struct ckey_info *k = ckey_find(key);

	if (!k || !k->file_directive || a->n_file == FILE_KEYS ||
	    strlen(value) >= sizeof(a->file[0].value))
		return -EINVAL;
	cl_copy(a->file[a->n_file].key, sizeof(a->file[0].key), key);
	cl_copy(a->file[a->n_file].value, sizeof(a->file[0].value), value);
	a->n_file++;
	return 0;
}

void cl_cmd_config_get(struct cluster *cl, struct cl_req *r, int argc,
			   char **argv)
{
	char text[4096], json[4096], tmp[32];
	size_t tl = 0, jl = 0, i;
	enum ckey_source src;
	const char *v;

	if (argc > 1) {
		cl_fail(r, CTL_EUSAGE, "usage: config get [KEY]");
		return;
	}
	if (argc == 1) {
		const struct ckey_info *k = ckey_find(argv[0]);

		if (!k) {
			snprintf(text, sizeof(text), "unknown key '%s' "
				 "(ntpctl config get lists the keys)", argv[0]);
			cl_fail(r, CTL_EUSAGE, "%s", text);
			return;
		}
		v = config_value(cl, k, &src, tmp, sizeof(tmp));
		snprintf(text, sizeof(text), "%s %s (%s)\n", k->name, v,
			 ckey_source_name(src));
		snprintf(json, sizeof(json), "{\"key\":\"%s\",\"value\":\"%s\","
			 "\"source\":\"%s\"}\n", k->name, v,
			 ckey_source_name(src));
		cl_ok(r, text, json);
		return;
	}
	tl += (size_t)snprintf(text, sizeof(text), "%-19s %-10s %-10s %s\n",
			       "KEY", "VALUE", "SOURCE", "MEANING");
	jl += (size_t)snprintf(json, sizeof(json), "[");
	for (i = 0; i < ckey_count(); i++) {
		const struct ckey_info *k = ckey_at(i);

		v = config_value(cl, k, &src, tmp, sizeof(tmp));
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl,
				       "%-19s %-10s %-10s %s\n", k->name, v,
				       ckey_source_name(src), k->help);
		jl += (size_t)snprintf(json + jl, sizeof(json) - jl,
				       "%s{\"key\":\"%s\",\"value\":\"%s\","
				       "\"source\":\"%s\"}", i ? "," : "",
				       k->name, v, ckey_source_name(src));
	}
	snprintf(json + jl, sizeof(json) - jl, "]\n");
	cl_ok(r, text, json);
}

/* Checks KEY VALUE (also on the follower, before forwarding). */
int cl_config_check(struct cluster *cl, int argc, char **argv,
			char *canon, char *err, size_t errlen)
{
	char tmp[32];
	enum ckey_source src;
	long e, h;

	if (argc != 2) {
		snprintf(err, errlen, "usage: config set KEY VALUE");
		return -1;
	}
	if (ckey_check(argv[0], argv[1], canon, CKEY_VALUE_MAX, err,
		       errlen) < 0)
		return -1;
	if (ckey_read_only(argv[0])) {
		snprintf(err, errlen, "%s is fixed when the cluster is made "
			 "(ntpnode init --overlay-subnet): members' overlay "
			 "addresses come from it", argv[0]);
		return -1;
	}
	/* Raft needs heartbeats well inside the election timeout. */
	e = atol(strcmp(argv[0], "election-timeout") == 0 ? canon :
		 config_value(cl, ckey_find("election-timeout"), &src, tmp,
			      sizeof(tmp)));
	h = atol(strcmp(argv[0], "heartbeat-timeout") == 0 ? canon :
		 config_value(cl, ckey_find("heartbeat-timeout"), &src, tmp,
			      sizeof(tmp)));
	if (h * 2 > e) {
		snprintf(err, errlen, "heartbeat-timeout (%ld) must be at "
			 "most half of election-timeout (%ld)", h, e);
		return -1;
	}
	return 0;
}

void cl_cmd_config_set(struct cluster *cl, struct cl_req *r, int argc,
			   char **argv)
{
	char canon[CKEY_VALUE_MAX], err[MSG_MAX], ok[MSG_MAX];
	void *buf;
	size_t len;

	if (cl_config_check(cl, argc, argv, canon, err, sizeof(err)) < 0) {
		cl_fail(r, CTL_EUSAGE, "%s", err);
		return;
	}
	if (fsm_cmd_config_set(argv[0], canon, cl_wall_ms(), &buf, &len) < 0) {
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	snprintf(ok, sizeof(ok), "%s %s (replicated)\n", argv[0], canon);
	cl_propose_simple(cl, r, buf, len, ok);
}

/* ---------------------------------------------------------------- */
/* runtime effect of replicated keys: an observer of applied entries */

static void config_apply(struct cluster *cl)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} lv[] = { { "debug", LOG_LVL_DEBUG }, { "info", LOG_LVL_INFO },
		   { "warn", LOG_LVL_WARN }, { "error", LOG_LVL_ERR } };
	struct cl_config *a = cl->config;
	const char *v;
	unsigned i;

	v = fsm_config_get(cl->fsm, "log-level");
	if (v && strcmp(v, a->log_level) != 0) {
		for (i = 0; i < 4; i++)
			if (strcmp(v, lv[i].name) == 0)
				log_set_level(lv[i].lvl);
		snprintf(a->log_level, sizeof(a->log_level), "%s", v);
	}
	v = fsm_config_get(cl->fsm, "election-timeout");
	if (v && (unsigned)atoi(v) != a->election_ms) {
		a->election_ms = (unsigned)atoi(v);
		raft_set_election_timeout(drv_raft(cl->drv), a->election_ms);
	}
	v = fsm_config_get(cl->fsm, "heartbeat-timeout");
	if (v && (unsigned)atoi(v) != a->heartbeat_ms) {
		a->heartbeat_ms = (unsigned)atoi(v);
		raft_set_heartbeat_timeout(drv_raft(cl->drv), a->heartbeat_ms);
	}
}

/* ---------------------------------------------------------------- */
/* the module */

static int config_init(struct cluster *cl)
{
	cl->config = calloc(1, sizeof(*cl->config));
	if (!cl->config)
		return -1;
	cl_observe(cl, config_apply);
	return 0;
}

static void config_stop(struct cluster *cl)
{
	free(cl->config);
	cl->config = NULL;
}

const struct cl_module cl_config_module = {
	config_init, NULL, config_stop,
};
