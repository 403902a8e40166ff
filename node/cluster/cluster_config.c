/*
 * cluster_config: the replicated keys (node/cluster/ckey.h). `config get`
 * answers from this member's FSM (a key's source: replicated, file,
 * profile or default); `config set` is checked here (on a follower too,
 * before it travels) and committed by the leader. Every member applies the
 * keys that take effect at runtime after each applied entry (the timing
 * ones: cluster_timing.c).
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

/* What was last applied, so each change takes effect once (the timing
 * keys: cluster_timing.c); the values the node's file gave keys that
 * layers above the cluster own. */
struct cl_config {
	char log_level[8];
	struct {
		char key[FSM_KEY_MAX + 1];
		char value[CKEY_VALUE_MAX];
	} file[FILE_KEYS];
	unsigned n_file;
};

/* The file's value of KEY (election and heartbeat only), or NULL. */
static const char *file_value(struct cluster *cl, const char *key, char *tmp,
			      size_t n)
{
	if (strcmp(key, "election-timeout") == 0 &&
	    cl->conf->election_timeout_ms) {
		snprintf(tmp, n, "%u", cl->conf->election_timeout_ms);
		return tmp;
	}
	if (strcmp(key, "heartbeat-timeout") == 0 &&
	    cl->conf->heartbeat_timeout_ms) {
		snprintf(tmp, n, "%u", cl->conf->heartbeat_timeout_ms);
		return tmp;
	}
	return NULL;
}

/*
 * KEY's value in force, as if set_key were set to set_value (NULL: as
 * things are): replicated, else the file's, else the cluster profile's
 * (shown as "profile" once cluster-profile is replicated; the default
 * profile's values are the defaults), else the default.
 */
static const char *value_with(struct cluster *cl, const struct ckey_info *k,
			      const char *set_key, const char *set_value,
			      enum ckey_source *src, char *tmp, size_t n)
{
	const char *v, *prof;

	if (set_key && strcmp(k->name, set_key) == 0) {
		*src = CKEY_REPLICATED;
		return set_value;
	}
	v = cl->fsm ? fsm_config_get(cl->fsm, k->name) : NULL;
	if (v) {
		*src = CKEY_REPLICATED;
		return v;
	}
	v = file_value(cl, k->name, tmp, n);
	if (v) {
		*src = CKEY_FILE;
		return v;
	}
	for (unsigned i = 0; cl->config && i < cl->config->n_file; i++)
		if (strcmp(cl->config->file[i].key, k->name) == 0) {
			*src = CKEY_FILE;
			return cl->config->file[i].value;
		}
	if (set_key && strcmp(set_key, CKEY_CLUSTER_PROFILE) == 0)
		prof = set_value;
	else
		prof = cl->fsm ? fsm_config_get(cl->fsm, CKEY_CLUSTER_PROFILE) : NULL;
	v = ckey_profile_value(prof, k->name);
	if (v) {
		*src = CKEY_PROFILE;
		return v;
	}
	*src = CKEY_DEFAULT;
	return k->def;
}

const char *cl_config_value(struct cluster *cl, const struct ckey_info *k,
			    enum ckey_source *src, char *tmp, size_t n)
{
	return value_with(cl, k, NULL, NULL, src, tmp, n);
}

const char *cluster_key_value(struct cluster *cl, const char *key)
{
	static char tmp[32];
	const struct ckey_info *k = ckey_find(key);
	enum ckey_source src;

	return k ? cl_config_value(cl, k, &src, tmp, sizeof(tmp)) : NULL;
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
	char text[8192], json[8192], tmp[32];
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
		v = cl_config_value(cl, k, &src, tmp, sizeof(tmp));
		snprintf(text, sizeof(text), "%s %s (%s)\n", k->name, v,
			 ckey_source_name(src));
		snprintf(json, sizeof(json), "{\"key\":\"%s\",\"value\":\"%s\","
			 "\"source\":\"%s\"}\n", k->name, v,
			 ckey_source_name(src));
		cl_ok(r, text, json);
		return;
	}
	tl += (size_t)snprintf(text, sizeof(text), "%-22s %-10s %-10s %s\n",
			       "KEY", "VALUE", "SOURCE", "MEANING");
	jl += (size_t)snprintf(json, sizeof(json), "[");
	for (i = 0; i < ckey_count(); i++) {
		const struct ckey_info *k = ckey_at(i);

		v = cl_config_value(cl, k, &src, tmp, sizeof(tmp));
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl,
				       "%-22s %-10s %-10s %s\n", k->name, v,
				       ckey_source_name(src), k->help);
		jl += (size_t)snprintf(json + jl, sizeof(json) - jl,
				       "%s{\"key\":\"%s\",\"value\":\"%s\","
				       "\"source\":\"%s\"}", i ? "," : "",
				       k->name, v, ckey_source_name(src));
	}
	snprintf(json + jl, sizeof(json) - jl, "]\n");
	cl_ok(r, text, json);
}

/* KEY's value in force as ms once set_key is set_value ("0s": 0). */
static long long ms_with(struct cluster *cl, const char *key,
			 const char *set_key, const char *set_value)
{
	enum ckey_source src;
	char tmp[32];
	const char *v = value_with(cl, ckey_find(key), set_key, set_value,
				   &src, tmp, sizeof(tmp));
	char *end;
	long long ms = strtoll(v, &end, 10);

	if (*end)
		ms = strcmp(v, "0s") == 0 ? 0 : ckey_parse_duration_ms(v);
	return ms;
}

/* Checks KEY VALUE (also on the follower, before forwarding). */
int cl_config_check(struct cluster *cl, int argc, char **argv,
			char *canon, char *err, size_t errlen)
{
	long long e, h, ka, idle;

	if (argc != 2) {
		snprintf(err, errlen, "usage: config set KEY VALUE");
		return -1;
	}
	if (ckey_check(argv[0], argv[1], canon, CKEY_VALUE_MAX, err,
		       errlen) < 0)
		return -1;
	if (strcmp(argv[0], CKEY_RECOVERED_AT) == 0) {
		snprintf(err, errlen, "%s is written by the clean-up after "
			 "ntpnode restore or recover", argv[0]);
		return -1;
	}
	if (ckey_read_only(argv[0])) {
		snprintf(err, errlen, "%s is fixed when the cluster is made "
			 "(ntpnode init --overlay-subnet): members' overlay "
			 "addresses come from it", argv[0]);
		return -1;
	}
	/* The timing as it would be, whichever key (or the profile) moves:
	 * raft needs heartbeats well inside the election timeout, and a
	 * member connection must outlive the silence between heartbeats
	 * and between keepalives. */
	e = ms_with(cl, "election-timeout", argv[0], canon);
	h = ms_with(cl, "heartbeat-timeout", argv[0], canon);
	ka = ms_with(cl, "transport-keepalive", argv[0], canon);
	idle = ms_with(cl, "transport-idle-close", argv[0], canon);
	if (h * 2 > e) {
		snprintf(err, errlen, "heartbeat-timeout (%lld) must be at "
			 "most half of election-timeout (%lld)", h, e);
		return -1;
	}
	if (h * 2 > idle) {
		snprintf(err, errlen, "transport-idle-close (%lld ms) must be "
			 "at least twice heartbeat-timeout (%lld ms)", idle, h);
		return -1;
	}
	if (ka >= idle) {
		snprintf(err, errlen, "transport-keepalive (%lld ms) must be "
			 "under transport-idle-close (%lld ms)", ka, idle);
		return -1;
	}
	/* the subsystems above judge their keys too (min-serving: the
	 * rotation's schedule) */
	return cl_ext_config_check(cl, argv[0], canon, err, errlen);
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
