/*
 * The ntpctl commands of the cluster. Commands
 * that change replicated state run on the leader: a follower forwards them
 * (cluster.c, cl_forward) and relays the answer; `cluster status` falls
 * back to this member's own view after 300 ms.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "node/cluster/ckey.h"
#include "node/cluster/cstat.h"
#include "node/ctl/ctl.h"
#include "node/ctl/ctlcmd.h"
#include "node/base/log.h"
#include "node/ntp/tstate.h"

#define MSG_MAX 512

typedef cl_cmd_fn cmd_fn;

/* Who may run it and whether the leader answers it (a follower forwards
 * it): its row in node/ctl/ctlcmd.c. */
struct cmd {
	const char *name;
	cmd_fn fn;
};

/* ---------------------------------------------------------------- */
/* lookups */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* NODE is a node-name or a raft id; 0 when no member matches. */
uint64_t cl_resolve_node(struct cluster *cl, const char *node)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	uint64_t id;
	unsigned i;

	for (i = 0; c && i < c->n; i++) {
		const struct fsm_member *m = fsm_member_find(cl->fsm,
							     c->servers[i].id);

		if (m && strcmp(m->name, node) == 0)
			return m->id;
	}
	if (parse_u64(node, &id) == 0)
		for (i = 0; c && i < c->n; i++)
			if (c->servers[i].id == id)
				return id;
	return 0;
}

int cl_conf_role(struct cluster *cl, uint64_t id)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	unsigned i;

	for (i = 0; c && i < c->n; i++)
		if (c->servers[i].id == id)
			return c->servers[i].role;
	return -1;
}

const char *cl_member_name(struct cluster *cl, uint64_t id)
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);

	return m ? m->name : "?";
}

/* ---------------------------------------------------------------- */
/* cluster status */

void cl_status_local(struct cluster *cl, struct cl_req *r, int local)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct raft *raft = drv_raft(cl->drv);
	const struct fsm_member *self;
	struct cstat_member *m;
	struct cstat s;
	struct tstate ts;
	char *json, *text;
	unsigned i, n = c && c->n ? c->n : 1;
	uint64_t now = cl_now(cl);
	int leader = cl_is_leader(cl), has_check;
	const char *v;

	m = calloc(n, sizeof(*m));
	if (!m) {
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	memset(&s, 0, sizeof(s));
	snprintf(s.cluster_id, sizeof(s.cluster_id), "%s", cl->cluster_id_hex);
	s.term = raft_current_term(raft);
	s.leader_id = cl_leader_id(cl);
	s.local = local ? CSTAT_LOCAL_NO_LEADER : 0;
	self = fsm_member_find(cl->fsm, cl->self);
	if (local && self && self->drained)
		s.local = CSTAT_LOCAL_DRAINED;
	s.n = n;
	s.m = m;
	tstate_read(&ts);
	for (i = 0; i < n; i++) {
		struct cstat_member *x = &m[i];
		uint64_t id = c && c->n ? c->servers[i].id : cl->self;
		const struct fsm_member *fm = fsm_member_find(cl->fsm, id);
		struct cl_peer *p = cl_peer(cl, id, 0);
		raft_index mi;

		x->id = id;
		x->role = c && c->n ? c->servers[i].role : RAFT_SPARE;
		cl_copy(x->name, sizeof(x->name), fm ? fm->name :
			id == cl->self ? cl->conf->node_name : "");
		cl_copy(x->provider, sizeof(x->provider),
			fm ? fm->provider : "");
		cl_copy(x->region, sizeof(x->region), fm ? fm->region : "");
		cl_copy(x->address, sizeof(x->address),
			c && c->n ? c->servers[i].address : cl->address);
		cl_wg_mesh_of(cl, id, x->mesh, sizeof(x->mesh));
		x->is_leader = id == s.leader_id;
		x->reachable = cl_reachable(cl, id);
		x->drained = fm && fm->drained;
		x->last_contact_ms = id == cl->self ? 0 :
				     p && p->last_ms ?
				     (int64_t)(now - p->last_ms) : -1;
		x->log_lag = -1;
		if (leader && id == cl->self)
			x->log_lag = 0;
		else if (leader && raft_match_index(raft, id, &mi) == 0 &&
			 x->role != RAFT_SPARE)
			x->log_lag = (int64_t)(raft_last_index(raft) -
					       (mi < raft_last_index(raft) ?
						mi : raft_last_index(raft)));
		x->sync = CSTAT_SYNC_UNKNOWN;
		x->stratum = -1;
		x->offset = NAN;
		if (id == cl->self) {
			x->sync = ts.leap != 3 && ts.stratum != 0;
			x->stratum = ts.stratum;
			x->offset = ts.corr_offset;
		} else if (p && p->has_status) {
			x->sync = p->sync;
			x->stratum = p->stratum;
			if (p->has_offset)
				x->offset = p->offset;
		}
		x->check = cl_check_of(cl, id, &x->check_peers, &has_check,
				       &x->check_offset);
		if (!has_check)
			x->check_offset = NAN;
		x->serving = cl_serving(cl, id, x->sync == CSTAT_SYNC);
	}
	v = cluster_key_value(cl, "min-serving");
	s.min_serving = v ? atoi(v) : 0;
	json = cstat_json(&s);
	text = cstat_text(&s);
	if (json && text)
		cl_ok(r, text, json);
	else
		cl_fail(r, CTL_ERR, "out of memory");
	free(json);
	free(text);
	free(m);
}

static void cmd_status(struct cluster *cl, struct cl_req *r, int argc,
		       char **argv)
{
	if (argc > 0) {
		cl_fail(r, CTL_EUSAGE, "usage: cluster status");
		return;
	}
	cl_status_local(cl, r, !cl_is_leader(cl));
}

/* ---------------------------------------------------------------- */
/* tokens */

struct tok_ctx {
	char *text;
	char id[TOKEN_ID_HEX_LEN];
	uint64_t expires_at;
	unsigned uses;
	int for_init;
};

static void token_added(struct cluster *cl, struct cl_pend *p, int err,
			int result)
{
	struct tok_ctx *t = p->arg;
	char json[TOKEN_TEXT_MAX + 256], text[TOKEN_TEXT_MAX + 2];

	if (t->for_init) {
		cl_init_token_ready(cl, err || result != FSM_OK ? NULL :
				    t->text);
	} else if (err) {
		cl_fail(p->req, CTL_ERR, "%s", cl_raft_err(err));
	} else if (result != FSM_OK) {
		cl_fail(p->req, CTL_ERR,
			"the token was not stored: the cluster keeps at most "
			"256 tokens (live, used, and expired ones for a day "
			"after their expiry): revoke some (ntpctl token "
			"list)");
	} else {
		snprintf(text, sizeof(text), "%s\n", t->text);
		snprintf(json, sizeof(json),
			 "{\"token\":\"%s\",\"id\":\"%s\",\"expires_at\":%"
			 PRIu64 ",\"uses_left\":%u}\n",
			 t->text, t->id, t->expires_at, t->uses);
		cl_ok(p->req, text, json);
	}
	sodium_memzero(t->text, strlen(t->text));
	token_text_free(t->text);
	t->text = NULL;
}

int cl_token_create(struct cluster *cl, struct cl_req *r, uint64_t ttl_s,
		    unsigned uses, int for_init)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct token_member tm[TOKEN_MAX_MEMBERS];
	struct token *tok = NULL;
	struct tok_ctx *t;
	const char *v;
	char *text;
	unsigned i, n = 0;
	void *buf;
	size_t len;
	int rc;

	/* Key-pair tokens are version-2 commands: every voter must apply
	 * them (a member of an older release would halt on them). */
	if (!fsm_version_ok(cl->fsm, 2))
		return -EPROTO;
	if (!ttl_s) {
		v = fsm_config_get(cl->fsm, "token-ttl");
		ttl_s = (uint64_t)ckey_parse_duration_ms(v ? v : "900s") / 1000;
	}
	if (!uses) {
		v = fsm_config_get(cl->fsm, "token-uses");
		uses = v ? (unsigned)atoi(v) : 1;
	}
	/* Voters first: they are the members most likely to be up. */
	memset(tm, 0, sizeof(tm));
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; c && i < c->n && n < TOKEN_MAX_MEMBERS; i++) {
			const struct fsm_member *m =
				fsm_member_find(cl->fsm, c->servers[i].id);

			if (!m || (c->servers[i].role == RAFT_VOTER) != !pass)
				continue;
			/* WireGuard: the public address, not the overlay */
			if (cl_wg_dial_address(cl, m->id, tm[n].endpoint,
					       sizeof(tm[n].endpoint)) != 0)
				snprintf(tm[n].endpoint,
					 sizeof(tm[n].endpoint), "%s",
					 c->servers[i].address);
			tm[n].id = m->id;
			ident_fingerprint(m->idkey, tm[n].fp);
			n++;
		}
	if (!n)
		return -ENOENT;
	rc = token_create(cl->cluster_id, tm, n, cl_wall_ms() / 1000, ttl_s,
			  &tok);
	if (rc < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t) {
		token_free(tok);
		return -ENOMEM;
	}
	rc = token_encode(tok, &t->text);
	if (rc < 0) {
		token_free(tok);
		free(t);
		return rc;
	}
	token_id_hex(tok->id, t->id);
	t->expires_at = tok->expires_at;
	t->uses = uses;
	t->for_init = for_init;
	/* The replicated state gets the public key only. */
	rc = fsm_cmd_token_add(token_id_u64(tok->id), tok->pk, uses,
			       tok->expires_at * 1000, cl_wall_ms(), &buf,
			       &len);
	token_free(tok);
	if (rc < 0) {
		token_text_free(t->text);
		free(t);
		return rc;
	}
	text = t->text;
	rc = cl_propose(cl, buf, len, token_added, r, t);
	if (rc != 0) {
		/* t itself was freed by cl_propose */
		sodium_memzero(text, strlen(text));
		token_text_free(text);
		return -EAGAIN;
	}
	return 0;
}

static void cmd_token_create(struct cluster *cl, struct cl_req *r, int argc,
			     char **argv)
{
	uint64_t ttl_s = 0, uses = 0;
	long long ms;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
			ms = ckey_parse_duration_ms(argv[++i]);
			if (ms < CKEY_TOKEN_TTL_MIN_MS ||
			    ms > CKEY_TOKEN_TTL_MAX_MS) {
				cl_fail(r, CTL_EUSAGE, "--ttl: a duration "
					"from " CKEY_TOKEN_TTL_RANGE ", like "
					"90s, 15m, 2h (the token-ttl key's "
					"range)");
				return;
			}
			ttl_s = (uint64_t)ms / 1000;
		} else if (strcmp(argv[i], "--uses") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], &uses) < 0 || !uses ||
			    uses > 1000) {
				cl_fail(r, CTL_EUSAGE,
					"--uses: a number from 1 to "
					"1000");
				return;
			}
		} else {
			cl_fail(r, CTL_EUSAGE,
				"usage: token create [--ttl DURATION] "
				"[--uses N]");
			return;
		}
	}
	rc = cl_token_create(cl, r, ttl_s, (unsigned)uses, 0);
	if (rc == -EPROTO)
		cl_fail(r, CTL_ERR, "every voter must run this release before "
			"a token can be created (key-pair tokens; "
			"docs/operations.md)");
	else if (rc < 0)
		cl_fail(r, CTL_ERR, "cannot create a token now (is a leader "
			 "elected? is the store full?)");
}

static void cmd_token_list(struct cluster *cl, struct cl_req *r, int argc,
			   char **argv)
{
	char *text, *json, tx[256], js[256];
	size_t tl = 0, jl = 0, cap;
	unsigned i, n = fsm_token_count(cl->fsm);
	uint64_t now = cl_wall_ms();

	(void)argv;
	if (argc > 0) {
		cl_fail(r, CTL_EUSAGE, "usage: token list");
		return;
	}
	cap = 128 + (size_t)n * 256;
	text = malloc(cap);
	json = malloc(cap);
	if (!text || !json) {
		free(text);
		free(json);
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	tl = (size_t)snprintf(text, cap, "%-16s %-9s %-20s %s\n", "ID",
			      "USES LEFT", "EXPIRES (UTC)", "STATE");
	jl = (size_t)snprintf(json, cap, "[");
	for (i = 0; i < n; i++) {
		const struct fsm_token *t = fsm_token_at(cl->fsm, i);
		time_t exp = (time_t)(t->expires_ms / 1000);
		struct tm tm;
		char when[32];
		const char *state = !t->has_pubkey ? "old-format" :
				    t->revoked ? "revoked" :
				    t->expires_ms <= now ? "expired" :
				    !t->uses_left ? "used" : "live";

		gmtime_r(&exp, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(tx, sizeof(tx), "%016" PRIx64 " %-9u %-20s %s\n",
			 t->id, t->uses_left, when, state);
		snprintf(js, sizeof(js),
			 "%s{\"id\":\"%016" PRIx64 "\",\"uses_left\":%u,"
			 "\"expires_at\":%" PRIu64 ",\"state\":\"%s\","
			 "\"bound\":%u}",
			 i ? "," : "", t->id, t->uses_left,
			 t->expires_ms / 1000, state, t->n_bound);
		tl += (size_t)snprintf(text + tl, cap - tl, "%s", tx);
		jl += (size_t)snprintf(json + jl, cap - jl, "%s", js);
	}
	snprintf(json + jl, cap - jl, "]\n");
	cl_ok(r, text, json);
	free(text);
	free(json);
}

static void cmd_token_revoke(struct cluster *cl, struct cl_req *r, int argc,
			     char **argv)
{
	char *end, ok[64];
	uint64_t id;
	void *buf;
	size_t len;
	unsigned i;
	int found = 0;

	if (argc != 1 || strlen(argv[0]) != 16) {
		cl_fail(r, CTL_EUSAGE,
			"usage: token revoke ID (16 hex digits, from "
			"token list)");
		return;
	}
	errno = 0;
	id = strtoull(argv[0], &end, 16);
	if (errno || *end) {
		cl_fail(r, CTL_EUSAGE, "token revoke: ID is 16 hex digits");
		return;
	}
	for (i = 0; i < fsm_token_count(cl->fsm); i++) {
		const struct fsm_token *t = fsm_token_at(cl->fsm, i);

		found |= t->id == id && !t->revoked;
	}
	if (!found) {
		cl_fail(r, CTL_ERR, "no token with that ID");
		return;
	}
	/* Kept as revoked (so that its holder is told why) where every
	 * voter knows how; removed otherwise. */
	if ((fsm_version_ok(cl->fsm, 2)
		     ? fsm_cmd_token_revoke_keep(id, cl_wall_ms(), &buf, &len)
		     : fsm_cmd_token_revoke(id, cl_wall_ms(), &buf, &len)) < 0) {
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	snprintf(ok, sizeof(ok), "token %016" PRIx64 " revoked\n", id);
	cl_propose_simple(cl, r, buf, len, ok);
}

/* ---------------------------------------------------------------- */
/* audit [N]: the replicated audit trail, this member's copy */

#define AUDIT_DEFAULT 20

static void cmd_audit(struct cluster *cl, struct cl_req *r, int argc,
		      char **argv)
{
	unsigned i, n = fsm_audit_count(cl->fsm), want = AUDIT_DEFAULT;
	size_t tl = 0, jl = 0, cap;
	char *text, *json, when[32];
	uint64_t v = 0;

	if (argc > 1 || (argc == 1 && (parse_u64(argv[0], &v) < 0 || !v ||
				       v > FSM_AUDIT_MAX))) {
		cl_fail(r, CTL_EUSAGE, "usage: audit [N] (1..%d, default %d)",
			FSM_AUDIT_MAX, AUDIT_DEFAULT);
		return;
	}
	if (argc == 1)
		want = (unsigned)v;
	if (want > n)
		want = n;
	/* an event is at most 255 bytes; JSON escapes at most double it */
	cap = 64 + (size_t)want * 640;
	text = malloc(cap);
	json = malloc(cap);
	if (!text || !json) {
		free(text);
		free(json);
		cl_fail(r, CTL_ERR, "out of memory");
		return;
	}
	text[0] = 0;
	jl = (size_t)snprintf(json, cap, "[");
	for (i = n - want; i < n; i++) {
		uint64_t ms;
		const char *ev = fsm_audit_at(cl->fsm, i, &ms);
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		const char *p;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		tl += (size_t)snprintf(text + tl, cap - tl, "%s.%03uZ %s\n",
				       when, (unsigned)(ms % 1000), ev);
		jl += (size_t)snprintf(json + jl, cap - jl,
				       "%s{\"time_ms\":%" PRIu64 ",\"text\":\"",
				       i > n - want ? "," : "", ms);
		for (p = ev; *p && jl + 8 < cap; p++) {
			if (*p == '"' || *p == '\\')
				jl += (size_t)snprintf(json + jl, cap - jl,
						       "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				jl += (size_t)snprintf(json + jl, cap - jl,
						       "\\u%04x", *p);
			else
				json[jl++] = *p;
		}
		jl += (size_t)snprintf(json + jl, cap - jl, "\"}");
	}
	snprintf(json + jl, cap - jl, "]\n");
	cl_ok(r, text, json);
	free(text);
	free(json);
}

/* ---------------------------------------------------------------- */
/* dispatch */

static const struct cmd cmds[] = {
	{ "cluster status", cmd_status },
	{ "token create", cmd_token_create },
	{ "token list", cmd_token_list },
	{ "token revoke", cmd_token_revoke },
	{ "leader transfer", cl_cmd_transfer },
	{ "node remove", cl_cmd_remove },
	{ "node drain", cl_cmd_drain },
	{ "node undrain", cl_cmd_undrain },
	{ "config get", cl_cmd_config_get },
	{ "config set", cl_cmd_config_set },
	{ "audit", cmd_audit },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static int on_leader(const struct cmd *cmd)
{
	const struct ctlcmd *def = ctlcmd_find(cmd->name);

	return def && (def->flags & CTLCMD_LEADER);
}

/* ctl_register's argument for each command */
struct cl_binding {
	struct cluster *cl;
	const struct cmd *cmd;
};

struct cl_cmds {
	struct cl_binding bindings[N_CMDS];
};

void cl_cmd_run(struct cluster *cl, struct cl_req *r, const char *command,
		int argc, char **argv)
{
	size_t i;

	if (cl_wg_forwarded(cl, r, command, argc, argv) ||
	    cl_announce_forwarded(cl, r, command, argc, argv) ||
	    cl_ext_forwarded(cl, r, command, argc, argv))
		return;
	for (i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].name, command) == 0 &&
		    on_leader(&cmds[i])) {
			cmds[i].fn(cl, r, argc, argv);
			return;
		}
	if (cl_backup_forwarded(cl, r, command, argc, argv) == 0)
		return;
	cl_fail(r, CTL_EUNKNOWN, "unknown forwarded command");
}

static void on_ctl(void *arg, struct ctl_call *call, int argc, char **argv)
{
	struct cl_binding *b = arg;
	const struct cmd *cmd = b->cmd;
	struct cluster *cl = b->cl;
	char canon[CKEY_VALUE_MAX], err[MSG_MAX];
	struct cl_req *r = cl_req_local(cl, call);
	int rc, status = cmd->fn == cmd_status;

	if (!r)
		return;
	/* Reads of the replicated state answer from this member's own FSM,
	 * once it has applied every write it acknowledged. */
	if (!on_leader(cmd)) {
		cl_read(cl, r, cmd->fn, argc, argv);
		return;
	}
	if (cl_is_leader(cl)) {
		cmd->fn(cl, r, argc, argv);
		return;
	}
	/* Refused here, before anything travels. */
	if (cmd->fn == cl_cmd_config_set &&
	    cl_config_check(cl, argc, argv, canon, err, sizeof(err)) < 0) {
		cl_fail(r, CTL_EUSAGE, "%s", err);
		return;
	}
	rc = cl_forward(cl, r, cmd->name, argc, argv, status);
	if (rc == 0)
		return;
	if (status)
		cl_status_local(cl, r, 1);
	else
		cl_fail(r, CTL_ERR, "no leader is known right now: retry in a "
			 "moment");
}

int cl_cmd_register(struct cluster *cl, struct ctl *ctl)
{
	size_t i;

	for (i = 0; i < N_CMDS; i++) {
		cl->cmds->bindings[i].cl = cl;
		cl->cmds->bindings[i].cmd = &cmds[i];
		if (ctl_register(ctl, cmds[i].name, on_ctl,
				 &cl->cmds->bindings[i]) < 0)
			return -1;
	}
	return 0;
}

static int cmds_init(struct cluster *cl)
{
	cl->cmds = calloc(1, sizeof(*cl->cmds));
	return cl->cmds ? 0 : -1;
}

static void cmds_stop(struct cluster *cl)
{
	free(cl->cmds);
	cl->cmds = NULL;
}

const struct cl_module cl_cmds_module = {
	cmds_init, NULL, cmds_stop,
};
