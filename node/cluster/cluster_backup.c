/*
 * `ntpctl backup` on the daemon side, and the first leader's clean-up after
 * `ntpnode restore` / `ntpnode recover`.
 *
 * A backup must hold everything committed when it was asked for. The
 * leader answers from its own FSM (it applies synchronously up to its
 * commit index). A follower first asks the leader for its commit index
 * ("backup index", forwarded like the other cluster commands) and answers
 * from its own FSM once it has applied that far (a read index, thesis
 * 6.4): the snapshot itself never crosses the member transport, whose
 * application messages are capped at RTR_APP_MAX.
 *
 * The reply carries the file (node/ctl/backup.h) in its binary body (the
 * control reply's data); the text body is the summary ntpctl prints, the
 * JSON body the same for -o json.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "node/cluster/ckey.h"
#include "node/ctl/backup.h"
#include "node/ctl/ctl.h"
#include "node/ctl/ctlframe.h"
#include "node/base/json.h"
#include "node/base/log.h"
#include "storage/st_raft.h"

/* The restore/recover flag's index (big-endian u64); -1 when absent. */
static int prune_flag(struct cluster *cl, uint64_t *from)
{
	void *buf = NULL;
	size_t len = 0, i;

	if (st_local_get(cl->st, CLUSTER_K_PRUNE, &buf, &len) < 0)
		return -1;
	for (*from = 0, i = 0; i < len && i < 8; i++)
		*from = *from << 8 | ((uint8_t *)buf)[i];
	free(buf);
	return 0;
}

/* Round trips to the leader a lagging follower waits before giving up. */
#define BK_RELAY_TRIES 5
/* Room for the summary and the JSON beside the file. */
#define BK_REPLY_SLACK (64 * 1024)

static uint64_t term_at(struct cluster *cl, uint64_t index)
{
	uint64_t t = st_log_term(cl->st, index);
	struct st_snap s;
	void *mem = NULL;

	if (t == 0 && st_snap_get(cl->st, &s, &mem) == 0) {
		if (s.index == index)
			t = s.term;
		free(mem);
	}
	return t;
}

/* "n1 (voter), n2 (standby)", cut to fit. */
static void member_list(struct cluster *cl, char *out, size_t len)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	size_t off = 0;
	unsigned i;

	out[0] = 0;
	for (i = 0; c && i < c->n && off < len; i++) {
		int n = snprintf(out + off, len - off, "%s%s (%s)",
				 i ? ", " : "",
				 cl_member_name(cl, c->servers[i].id),
				 raft_role_name(c->servers[i].role));
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void answer(struct cluster *cl, struct cl_req *r)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	unsigned char h[FSM_HASH_LEN];
	char hash[2 * FSM_HASH_LEN + 1], when[32], members[1024];
	char *text = NULL, *js = NULL;
	void *state = NULL, *file = NULL;
	size_t slen = 0, flen = 0;
	struct bk_meta m;
	struct json *j = NULL;
	time_t secs;
	struct tm tm;
	int rc;

	memset(&m, 0, sizeof(m));
	m.format = BK_FORMAT;
	snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", cl->cluster_id_hex);
	m.index = fsm_applied(cl->fsm);
	m.term = term_at(cl, m.index);
	m.time_ms = cl_wall_ms();
	rc = fsm_snapshot(cl->fsm, &state, &slen);
	if (rc == 0)
		rc = fsm_hash(cl->fsm, h);
	if (rc == 0)
		rc = bk_encode(&m, state, slen, &file, &flen);
	if (rc != 0) {
		cl_fail(r, CTL_ERR, "cannot snapshot the replicated state");
		goto out;
	}
	if (flen + BK_REPLY_SLACK > CTL_MAX_RESPONSE) {
		cl_fail(r, CTL_ERR, "the backup (%zu bytes) does not fit in a "
			"control reply (%d bytes)", flen, CTL_MAX_RESPONSE);
		goto out;
	}
	sodium_bin2hex(hash, sizeof(hash), h, sizeof(h));
	secs = (time_t)(m.time_ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	member_list(cl, members, sizeof(members));
	if (asprintf(&text,
		     "cluster    %s\n"
		     "index      %" PRIu64 " (term %" PRIu64 ")\n"
		     "time       %s\n"
		     "members    %u: %s\n"
		     "size       %zu bytes (state %zu bytes)\n"
		     "state hash %s\n",
		     m.cluster_id, m.index, m.term, when, c ? c->n : 0,
		     members, flen, slen, hash) < 0) {
		text = NULL;
		cl_fail(r, CTL_ERR, "out of memory");
		goto out;
	}
	j = json_new();
	if (j) {
		json_obj_begin(j, NULL);
		json_str(j, "cluster_id", m.cluster_id);
		json_uint(j, "index", m.index);
		json_uint(j, "term", m.term);
		json_uint(j, "time_ms", m.time_ms);
		json_uint(j, "members", c ? c->n : 0);
		json_uint(j, "size", flen);
		json_str(j, "state_hash", hash);
		json_obj_end(j);
		js = json_finish(j);
	}
	if (js)
		cl_reply_data(r, CTL_OK, NULL, text, js, file, flen);
	else
		cl_fail(r, CTL_ERR, "out of memory");
	log_info("backup: index %" PRIu64 " term %" PRIu64 ", %zu bytes, "
		 "state hash %s", m.index, m.term, flen, hash);
out:
	json_free(j);
	free(js);
	free(text);
	free(file);
	free(state);
}

/* The leader's commit index came back (or the forward failed). */
static void relay(struct cl_req *r, int status, const char *error,
		  const char *text, const char *json)
{
	struct cluster *cl = r->cl;
	uint64_t commit = 0;

	(void)text;
	r->relay = NULL;        /* from here on, cl_reply() answers ntpctl */
	if (status != 0) {
		cl_reply(r, status, error, NULL, NULL);
		return;
	}
	if (!json || sscanf(json, "{\"commit\":%" SCNu64, &commit) != 1) {
		cl_fail(r, CTL_ERR, "the leader's answer is not understood");
		return;
	}
	if (drv_applied(cl->drv) >= commit) {
		answer(cl, r);
		return;
	}
	/* Behind the leader: one more round trip lets the entries arrive. */
	if (++r->relay_tries < BK_RELAY_TRIES) {
		r->relay = relay;
		if (cl_forward(cl, r, "backup index", 0, NULL, 0) == 0)
			return;
		r->relay = NULL;
	}
	cl_fail(r, CTL_ERR, "this member is behind the leader: retry, or run "
		 "the backup on the leader");
}

static void on_backup(void *arg, struct ctl_call *call, int argc,
		      char **argv)
{
	struct cluster *cl = arg;
	struct cl_req *r;
	int local;

	local = argc == 1 && strcmp(argv[0], "--local") == 0;
	if (argc > 0 && !local) {
		ctl_reply(call, CTL_EUSAGE, "usage: backup [--local] (ntpctl "
			  "backup [--force] [--local] FILE)", NULL, NULL);
		return;
	}
	r = cl_req_local(cl, call);
	if (!r)
		return;
	/* --local: what this member applied, leader or not (an emergency
	 * shutdown without quorum still keeps what it can) */
	if (local || cl_is_leader(cl)) {
		answer(cl, r);
		return;
	}
	r->relay = relay;
	if (cl_forward(cl, r, "backup index", 0, NULL, 0) == 0)
		return;
	r->relay = NULL;
	cl_fail(r, CTL_ERR, "no leader is known right now: a backup must hold "
		 "everything committed, so it asks the leader; retry in a "
		 "moment");
}

int cl_backup_register(struct cluster *cl, struct ctl *ctl)
{
	/* mutating (node/ctl/ctlcmd.c): the file holds member and token
	 * public keys */
	return ctl_register(ctl, "backup", on_backup, cl);
}

int cl_backup_forwarded(struct cluster *cl, struct cl_req *r,
			const char *command, int argc, char **argv)
{
	char json[64];

	(void)argv;
	if (strcmp(command, "backup index") != 0 || argc != 0)
		return -1;
	snprintf(json, sizeof(json), "{\"commit\":%" PRIu64 "}",
		 (uint64_t)raft_commit_index(drv_raft(cl->drv)));
	cl_ok(r, json, json);
	return 0;
}

/* ---------------------------------------------------------------- */
/* after restore / recover: the first leader removes what belonged to the
 * old cluster from the replicated state, through ordinary (audited)
 * commands: member records of members not in the configuration, and every
 * join token (they name the old members' endpoints); it clears the
 * drained flag of the voters the operator named.
 *
 * Every recovered member holds the flag (CLUSTER_K_PRUNE, the index of the
 * new configuration). The clean-up ends by committing the replicated key
 * recovered-at = that index: from then on every member that holds the
 * flag for that index or an older one deletes it, followers too, so that
 * a recovered voter that leads later never runs it again (it would revoke
 * tokens and clear drains made since). Until the clean-up is done the role
 * policy waits (cl_prune_pending): it would otherwise act on the old
 * cluster's drained flags before the clean-up's own commands commit. */

enum prune_state {
	PRUNE_UNCHECKED,   /* the flag not read yet */
	PRUNE_WAITING,     /* flag read: for the leader, or for the marker */
	PRUNE_BUSY,        /* the clean-up's commands are out */
	PRUNE_MARK,        /* recovered-at is out */
	PRUNE_DONE,        /* no flag (any more) */
};

/* A failed attempt waits this long before the next, doubling. */
#define PRUNE_RETRY_MIN_MS 500
#define PRUNE_RETRY_MAX_MS 30000

struct cl_prune {
	enum prune_state state;
	uint64_t from;             /* the flag: index of the new config */
	unsigned left, failed;     /* proposals out, and failed */
	uint64_t retry_at;         /* loop ms */
	unsigned retry_ms;
};

int cl_prune_pending(struct cluster *cl)
{
	return cl->prune && cl->prune->state != PRUNE_DONE;
}

/* The marker the last clean-up committed (0: none). */
static uint64_t recovered_at(struct cluster *cl)
{
	const char *v = fsm_config_get(cl->fsm, CKEY_RECOVERED_AT);

	return v ? strtoull(v, NULL, 10) : 0;
}

static void prune_finish(struct cluster *cl, const char *how)
{
	int rc = st_local_del(cl->st, CLUSTER_K_PRUNE);

	if (rc < 0 && rc != -ENOENT) {
		log_warnx("restore/recover clean-up: cannot clear the flag "
			  "(%s): retrying", strerror(-rc));
		cl->prune->retry_at = cl_now(cl) + PRUNE_RETRY_MIN_MS;
		return;
	}
	log_info("restore/recover clean-up %s", how);
	cl->prune->state = PRUNE_DONE;
}

static void prune_retry(struct cluster *cl, const char *what)
{
	struct cl_prune *p = cl->prune;

	p->retry_ms = p->retry_ms ? p->retry_ms * 2 : PRUNE_RETRY_MIN_MS;
	if (p->retry_ms > PRUNE_RETRY_MAX_MS)
		p->retry_ms = PRUNE_RETRY_MAX_MS;
	log_warnx("restore/recover clean-up: %u %s not committed, retrying "
		  "in %u ms", p->failed, what, p->retry_ms);
	p->retry_at = cl_now(cl) + p->retry_ms;
	p->state = PRUNE_WAITING;
}

static void prune_done(struct cluster *cl, struct cl_pend *pend, int err,
		       int result)
{
	struct cl_prune *p = cl->prune;
	char how[96];
	void *buf = NULL;
	size_t len = 0;

	(void)pend;
	if (err || (result != FSM_OK && result != FSM_ENOKEY))
		p->failed++;
	if (--p->left)
		return;
	if (p->failed) {
		prune_retry(cl, p->state == PRUNE_MARK ? "marker" :
			    "command(s)");
		return;
	}
	if (p->state == PRUNE_MARK) {
		snprintf(how, sizeof(how), "done: old members and tokens "
			 "removed (see the audit trail), %s %" PRIu64,
			 CKEY_RECOVERED_AT, p->from);
		prune_finish(cl, how);
		return;
	}
	/* Everything committed: the marker last, so that it never stands
	 * for a clean-up that did not happen. */
	snprintf(how, sizeof(how), "%" PRIu64, p->from);
	p->state = PRUNE_MARK;
	p->left = 1;
	if (fsm_cmd_config_set(CKEY_RECOVERED_AT, how, cl_wall_ms(), &buf,
			       &len) < 0 ||
	    cl_propose(cl, buf, len, prune_done, NULL, NULL) != 0) {
		p->left = 0;
		p->failed = 1;
		prune_retry(cl, "marker");
	}
}

static int in_conf(const struct raft_configuration *c, uint64_t id)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return 1;
	return 0;
}

/* Proposes one clean-up command: put as its member's record, else buf
 * (from a builder that returned rc); a command that cannot be built or
 * proposed counts as failed. */
static void prune_one(struct cluster *cl, int rc, void *buf, size_t len,
		      const struct fsm_member *put)
{
	struct cl_prune *p = cl->prune;

	if (rc < 0) {
		p->failed++;
		return;
	}
	p->left++;
	if ((put ? cl_propose_member(cl, put, prune_done, NULL, NULL) :
	     cl_propose(cl, buf, len, prune_done, NULL, NULL)) != 0) {
		/* not proposed: done will not run for it */
		p->left--;
		p->failed++;
	}
}

/* A member the operator named as a voter of the new configuration was
 * chosen to vote: a drained flag from the old cluster would have the role
 * policy move its vote away again. */
static void prune_undrain(struct cluster *cl, uint64_t id)
{
	const struct fsm_member *m = cl_member_latest(cl, id);
	struct fsm_member u;

	if (!m || !m->drained)
		return;
	u = *m;    /* member_put replaces the whole record */
	u.drained = 0;
	log_info("restore/recover: member %" PRIu64 " (%s) votes in the new "
		 "configuration: its drained flag is cleared", m->id, m->name);
	prune_one(cl, 0, NULL, 0, &u);
}

/* The leader's clean-up: every command proposed at once. */
static void prune_run(struct cluster *cl)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct cl_prune *p = cl->prune;
	uint64_t now = cl_wall_ms();
	void *buf = NULL;
	size_t len = 0;
	unsigned i, n;
	int rc;

	p->state = PRUNE_BUSY;
	p->left = 1;     /* held until every proposal is out */
	p->failed = 0;
	if (!fsm_member_find(cl->fsm, cl->self)) {
		p->left++;
		if (cl_put_self(cl, prune_done) != 0) {
			p->left--;
			p->failed++;
		}
	}
	n = fsm_member_count(cl->fsm);
	for (i = n; i-- > 0;) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);

		if (in_conf(c, m->id)) {
			prune_undrain(cl, m->id);
			continue;
		}
		log_info("restore/recover: removing the record of old member "
			 "%" PRIu64 " (%s)", m->id, m->name);
		buf = NULL;
		rc = fsm_cmd_member_del(m->id, now, &buf, &len);
		prune_one(cl, rc, buf, len, NULL);
	}
	n = fsm_token_count(cl->fsm);
	for (i = n; i-- > 0;) {
		buf = NULL;
		rc = fsm_cmd_token_revoke(fsm_token_at(cl->fsm, i)->id, now,
					  &buf, &len);
		prune_one(cl, rc, buf, len, NULL);
	}
	prune_done(cl, NULL, 0, FSM_OK);    /* drops the hold */
}

static void prune_chores(struct cluster *cl)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	struct cl_prune *p = cl->prune;
	char how[96];

	if (p->state == PRUNE_UNCHECKED) {
		if (prune_flag(cl, &p->from) < 0) {
			p->state = PRUNE_DONE;
			return;
		}
		p->state = PRUNE_WAITING;
	}
	if (p->state != PRUNE_WAITING || cl_now(cl) < p->retry_at)
		return;
	/* Done already, by whichever member led first. */
	if (recovered_at(cl) >= p->from) {
		snprintf(how, sizeof(how), "already done by the first leader "
			 "(%s %" PRIu64 "): flag cleared", CKEY_RECOVERED_AT,
			 recovered_at(cl));
		prune_finish(cl, how);
		return;
	}
	/* The new configuration must be the committed one first: until
	 * then drv_conf() still names the old members. */
	if (!cl_is_leader(cl) || drv_applied(cl->drv) < p->from || !c ||
	    !in_conf(c, cl->self))
		return;
	prune_run(cl);
}

static int prune_init(struct cluster *cl)
{
	cl->prune = calloc(1, sizeof(*cl->prune));
	return cl->prune ? 0 : -1;
}

static void prune_stop(struct cluster *cl)
{
	free(cl->prune);
	cl->prune = NULL;
}

const struct cl_module cl_prune_module = {
	prune_init, prune_chores, prune_stop,
};
