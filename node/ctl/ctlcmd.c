/* ctlcmd: the control commands, and how their words are read (ctlcmd.h). */
#include "node/ctl/ctlcmd.h"

#include <stdio.h>
#include <string.h>

#define M CTLCMD_MUTATING
#define L CTLCMD_LEADER

/*
 * Who answers: serverstats and loglevel node/daemon (srvstats.c, main.c),
 * sources and tracking node/daemon/syncctl.c, pool-check
 * node/metrics/metrics.c, backup node/cluster/cluster_backup.c, rotation
 * node/rotation/rcmd.c, emergency-shutdown and rotation freeze|resume
 * node/rotation/rstop.c, cost status node/cost/cost.c, the rest
 * node/cluster/cluster_cmd.c (docs/ntpctl.md, docs/cluster.md,
 * docs/rotation.md, docs/cost.md).
 */
static const struct ctlcmd table[] = {
	{ .name = "serverstats",
	  .help = "NTP server counters and request rate" },
	{ .name = "sources",
	  .help = "upstream sources: state, reach, offset, delay, jitter, "
		  "and why a source is not used" },
	{ .name = "tracking",
	  .help = "the time engine: reference, stratum, correction, "
		  "frequency, root delay/dispersion, sync state" },
	{ .name = "pool-check",
	  .opts = { { "--hours", "N", 0, "the hours of history to judge "
		      "(1..72, default 48)" } },
	  .help = "whether this member meets pool.ntp.org's entry "
		  "conditions and the fleet's thresholds, from its own "
		  "minute-sampled history" },
	{ .name = "loglevel", .min_args = 1, .max_args = 1,
	  .args = "debug|info|warn|error", .flags = M,
	  .help = "set the daemon's log level until it restarts" },
	{ .name = "cluster status", .flags = L,
	  .help = "members, roles, leader, reachability, log lag and NTP "
		  "state (this member's own view when no leader answers)" },
	{ .name = "token create", .flags = M | L,
	  .opts = { { "--ttl", "DURATION", 0, "lifetime from 1s to 30d, "
		      "like 90s, 15m, 2h (default: the token-ttl key)" },
		    { "--uses", "N", 0, "joins it allows, 1 to 1000 "
		      "(default: the token-uses key)" } },
	  .help = "a join token, alone on stdout" },
	{ .name = "token list",
	  .help = "join tokens: id, uses left, expiry" },
	{ .name = "token revoke", .min_args = 1, .max_args = 1, .args = "ID",
	  .flags = M | L, .help = "revoke a join token" },
	{ .name = "leader transfer", .max_args = 1, .args = "[NODE]",
	  .flags = M | L,
	  .help = "move leadership (to NODE: a node-name or raft id)" },
	{ .name = "node remove", .min_args = 1, .max_args = 1, .args = "NODE",
	  .flags = M | L, .help = "remove a member from the cluster" },
	{ .name = "node drain", .min_args = 1, .max_args = 1, .args = "NODE",
	  .flags = M | L,
	  .help = "move leadership and vote away from NODE; it stays spare "
		  "(never promoted) until undrained" },
	{ .name = "node undrain", .min_args = 1, .max_args = 1,
	  .args = "NODE", .flags = M | L,
	  .help = "let the role policy promote NODE again" },
	{ .name = "cost status", .flags = L,
	  .help = "the month's egress ledger by member and provider and the "
		  "providers' instance and IPv4 hours, projected and priced, "
		  "and the budget state (docs/cost.md)" },
	{ .name = "audit", .max_args = 1, .args = "[N]",
	  .help = "the last N events of the replicated audit trail (this "
		  "member's copy; default 20)" },
	{ .name = "config get", .max_args = 1, .args = "[KEY]",
	  .help = "replicated keys: value and where it comes from" },
	/* A value is the daemon's to judge, even one that starts with '-'. */
	{ .name = "config set", .min_args = 2, .max_args = 2,
	  .args = "KEY VALUE", .flags = M | L | CTLCMD_DASH_ARGS,
	  .help = "set a replicated key everywhere" },
	/* node/rotation/rcmd.c (docs/rotation.md) */
	{ .name = "rotation status", .flags = L,
	  .help = "per member: planned on or off, state, hours this month "
		  "and why; hours per provider" },
	{ .name = "rotation plan", .flags = L,
	  .opts = { { "--days", "N", 0, "how far ahead, 1 to 62 (default "
		      "7)" } },
	  .help = "the steps the leader would take and the hours projected "
		  "per provider against its allowance" },
	{ .name = "rotation set", .min_args = 2, .max_args = 32,
	  .args = "TARGET WINDOWS...", .flags = M | L,
	  .opts = { { "--force", NULL, 0, "store it although the next 7 days "
		      "fall below min-serving (marked conflict)" } },
	  .help = "schedule a member or provider: always, never, or windows "
		  "like mon-wed, fri-mon, mon-fri 06:00-22:00 (UTC)" },
	{ .name = "rotation freeze", .max_args = 16, .args = "[WHY...]",
	  .flags = M | L,
	  .help = "stop the rotation: no step and no hook (it starts no VM) "
		  "until rotation resume" },
	{ .name = "rotation resume", .flags = M | L,
	  .help = "lift the rotation's freeze (rotation freeze, "
		  "emergency-shutdown)" },
	{ .name = "rotation unset", .min_args = 1, .max_args = 1,
	  .args = "TARGET", .flags = M | L,
	  .opts = { { "--force", NULL, 0, "remove it although the next 7 "
		      "days fall below min-serving" } },
	  .help = "remove a schedule entry (a member's: its provider's "
		  "applies, else always)" },
	/* Mutating: the file holds member and token public keys. FILE and
	 * --force are ntpctl's: the daemon only sends the backup. */
	{ .name = "backup", .min_args = 1, .max_args = 1, .args = "FILE",
	  .flags = M | CTLCMD_LOCAL_ARGS,
	  .opts = { { "--force", NULL, 1, "replace FILE if it exists" },
		    { "--local", NULL, 0, "this member's own applied state, "
		      "without asking the leader (works without quorum; may "
		      "miss the latest commits)" } },
	  .help = "write a backup of the replicated state to FILE (mode "
		  "0600)" },
	/* node/rotation/rstop.c (docs/cost.md): ntpctl runs the steps
	 * (backup, rotation freeze, then one request per member); the
	 * options are ntpctl's own. */
	{ .name = "emergency-shutdown", .max_args = 2,
	  .flags = M | CTLCMD_STEPS,
	  .opts = { { "--destroy", NULL, 1, "terminate the VMs and release "
		      "their addresses instead of stopping them" },
		    { "--dry-run", NULL, 1, "print the steps, change nothing, "
		      "no phrase needed" },
		    { "--backup", "FILE", 1, "write the backup there (default "
		      "./ntpmc-backup-YYYYMMDDTHHMMSSZ in the current "
		      "directory)" },
		    { "--confirm", "PHRASE", 1, "the phrase I UNDERSTAND, "
		      "for scripts (else it is read from stdin)" } },
	  .help = "back up, freeze the rotation, then stop every member's "
		  "VM through the provider hooks, this member last; asks for "
		  "the typed phrase I UNDERSTAND" },
};

#undef M
#undef L

#define N_TABLE (sizeof(table) / sizeof(table[0]))

size_t ctlcmd_count(void)
{
	return N_TABLE;
}

const struct ctlcmd *ctlcmd_at(size_t i)
{
	return i < N_TABLE ? &table[i] : NULL;
}

const struct ctlcmd *ctlcmd_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < N_TABLE; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* 1 if name's first words are words[0..n-1] (exact: and no more). */
static int name_is(const char *name, char *const *words, int n, int exact)
{
	size_t len;
	int k;

	for (k = 0; k < n; k++) {
		len = strcspn(name, " ");
		if (len == 0 || strlen(words[k]) != len ||
		    strncmp(words[k], name, len) != 0)
			return 0;
		name += len;
		if (*name == ' ')
			name++;
	}
	return n > 0 && (!exact || *name == '\0');
}

const struct ctlcmd *ctlcmd_find_words(char *const *words, int n)
{
	size_t i;

	for (i = 0; i < N_TABLE; i++)
		if (name_is(table[i].name, words, n, 1))
			return &table[i];
	return NULL;
}

int ctlcmd_starts(char *const *words, int n)
{
	size_t i;

	for (i = 0; i < N_TABLE; i++)
		if (name_is(table[i].name, words, n, 0))
			return 1;
	return 0;
}

void ctlcmd_usage(const struct ctlcmd *c, char *buf, size_t len)
{
	size_t off;
	int k, w;

	w = snprintf(buf, len, "%s", c->name);
	off = w < 0 ? len : (size_t)w;
	for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name && off < len;
	     k++) {
		w = snprintf(buf + off, len - off, " [%s%s%s]",
			     c->opts[k].name, c->opts[k].value ? " " : "",
			     c->opts[k].value ? c->opts[k].value : "");
		off = w < 0 ? len : off + (size_t)w;
	}
	if (c->args && c->args[0] && off < len)
		snprintf(buf + off, len - off, " %s", c->args);
}

void ctlcmd_args_init(struct ctlcmd_args *a)
{
	memset(a, 0, sizeof(*a));
}

const char *ctlcmd_get(const struct ctlcmd *c, const struct ctlcmd_args *a,
		       const char *name)
{
	int k;

	for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name; k++)
		if (strcmp(c->opts[k].name, name) == 0)
			return a->opt[k];
	return NULL;
}

/* The declared option named by word's first len bytes, or -1. */
static int find_opt(const struct ctlcmd *c, const char *word, size_t len,
		    int request)
{
	int k;

	for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name; k++)
		if (strlen(c->opts[k].name) == len &&
		    strncmp(c->opts[k].name, word, len) == 0 &&
		    !(request && c->opts[k].local))
			return k;
	return -1;
}

int ctlcmd_take(const struct ctlcmd *c, struct ctlcmd_args *a, int n,
		char **words, int *i, int request, char *err, size_t errlen)
{
	const char *w = words[*i], *eq = NULL;
	const struct ctlcmd_opt *o;
	int k = -1;

	if (w[0] == '-' && w[1] == '-' && w[2]) {
		eq = strchr(w, '=');
		k = find_opt(c, w, eq ? (size_t)(eq - w) : strlen(w), request);
	}
	if (k < 0) {
		if (w[0] == '-' && w[1] && !(c->flags & CTLCMD_DASH_ARGS)) {
			snprintf(err, errlen, "unknown option '%.64s'", w);
			return -1;
		}
		if (a->argc >= CTL_MAX_ARGS) {
			snprintf(err, errlen, "too many arguments");
			return -1;
		}
		a->argv[a->argc++] = words[(*i)++];
		return 0;
	}
	o = &c->opts[k];
	if (a->opt[k]) {
		snprintf(err, errlen, "%s given twice", o->name);
		return -1;
	}
	if (!o->value) {
		if (eq) {
			snprintf(err, errlen, "%s takes no value", o->name);
			return -1;
		}
		a->opt[k] = o->name;
		(*i)++;
		return 0;
	}
	if (eq) {
		a->opt[k] = eq + 1;
		(*i)++;
		return 0;
	}
	if (*i + 1 >= n) {
		snprintf(err, errlen, "%s needs a value (%s)", o->name,
			 o->value);
		return -1;
	}
	/* The next word, whatever it looks like: it was asked for. */
	a->opt[k] = words[*i + 1];
	*i += 2;
	return 0;
}

int ctlcmd_check(const struct ctlcmd *c, const struct ctlcmd_args *a,
		 int request, char *err, size_t errlen)
{
	int none = (request && (c->flags & CTLCMD_LOCAL_ARGS)) ||
		   (!request && (c->flags & CTLCMD_STEPS));
	int min = none ? 0 : c->min_args, max = none ? 0 : c->max_args;

	if (a->argc >= min && a->argc <= max)
		return 0;
	if (max == 0)
		snprintf(err, errlen, "%s takes no arguments", c->name);
	else if (min == max)
		snprintf(err, errlen, "%s takes %d argument%s", c->name, min,
			 min == 1 ? "" : "s");
	else
		snprintf(err, errlen, "%s takes %d to %d arguments", c->name,
			 min, max);
	return -1;
}

int ctlcmd_parse(const struct ctlcmd *c, int n, char **words,
		 struct ctlcmd_args *a, char *err, size_t errlen)
{
	int i = 0;

	ctlcmd_args_init(a);
	while (i < n) {
		if (strcmp(words[i], "--") == 0) {
			for (i++; i < n; i++) {
				if (a->argc >= CTL_MAX_ARGS) {
					snprintf(err, errlen,
						 "too many arguments");
					return -1;
				}
				a->argv[a->argc++] = words[i];
			}
			break;
		}
		if (ctlcmd_take(c, a, n, words, &i, 1, err, errlen) < 0)
			return -1;
	}
	return ctlcmd_check(c, a, 1, err, errlen);
}

int ctlcmd_words(const struct ctlcmd *c, const struct ctlcmd_args *a,
		 int sep, char **out, int max)
{
	int n = 0, k, dash = 0;

	for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name; k++) {
		if (c->opts[k].local || !a->opt[k])
			continue;
		if (n + 2 > max)
			return -1;
		out[n++] = (char *)c->opts[k].name;
		if (c->opts[k].value)
			out[n++] = (char *)a->opt[k];
	}
	if (c->flags & CTLCMD_LOCAL_ARGS)
		return n;
	for (k = 0; k < a->argc; k++)
		dash |= a->argv[k][0] == '-';
	if (sep && dash) {
		if (n + 1 > max)
			return -1;
		out[n++] = (char *)"--";
	}
	if (n + a->argc > max)
		return -1;
	for (k = 0; k < a->argc; k++)
		out[n++] = a->argv[k];
	return n;
}
