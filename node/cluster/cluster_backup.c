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

#include "node/ctl/backup.h"
#include "node/ctl/ctl.h"
#include "node/ctl/ctlframe.h"
#include "node/base/json.h"
#include "node/base/log.h"
#include "storage/st_raft.h"

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

	(void)argv;
	if (argc > 0) {
		ctl_reply(call, CTL_EUSAGE, "usage: backup (ntpctl backup "
			  "[--force] FILE)", NULL, NULL);
		return;
	}
	r = cl_req_local(cl, call);
	if (!r)
		return;
	if (cl_is_leader(cl)) {
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
 * join token (they name the old members' endpoints). */

enum prune_state { PRUNE_UNCHECKED, PRUNE_BUSY, PRUNE_DONE };

struct cl_prune {
	enum prune_state state;
	unsigned left, failed;     /* proposals out, and failed */
};

static void prune_done(struct cluster *cl, struct cl_pend *p, int err,
		       int result)
{
	(void)p;
	if (err || (result != FSM_OK && result != FSM_ENOKEY))
		cl->prune->failed++;
	if (--cl->prune->left)
		return;
	if (cl->prune->failed) {
		log_warnx("restore/recover clean-up: %u command(s) not "
			  "committed, retrying", cl->prune->failed);
		cl->prune->state = PRUNE_UNCHECKED;
		return;
	}
	if (st_local_del(cl->st, CLUSTER_K_PRUNE) < 0)
		log_warnx("restore/recover clean-up: cannot clear the flag");
	log_info("restore/recover clean-up done: old members and tokens "
		 "removed (see the audit trail)");
	cl->prune->state = PRUNE_DONE;
}

static int in_conf(const struct raft_configuration *c, uint64_t id)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return 1;
	return 0;
}

static int prune_one(struct cluster *cl, int rc, void *buf, size_t len)
{
	if (rc < 0)
		return rc;
	cl->prune->left++;
	if (cl_propose(cl, buf, len, prune_done, NULL, NULL) != 0) {
		/* cl_propose ran done already (it answers exactly once) */
		return -EAGAIN;
	}
	return 0;
}

/* A member the operator named as a voter of the new configuration was
 * chosen to vote: a drained flag from the old cluster would have the role
 * policy move its vote away again as soon as another member joins. */
static int prune_undrain(struct cluster *cl, const struct fsm_member *m,
			 uint64_t now)
{
	struct fsm_member u;
	void *buf = NULL;
	size_t len = 0;
	int rc;

	if (!m->drained)
		return 0;
	u = *m;    /* member_put replaces the whole record */
	u.drained = 0;
	log_info("restore/recover: member %" PRIu64 " (%s) votes in the new "
		 "configuration: its drained flag is cleared", m->id, m->name);
	rc = fsm_cmd_member_put(&u, now, &buf, &len);
	return prune_one(cl, rc, buf, len);
}

static void prune_chores(struct cluster *cl)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	uint64_t from = 0, now = cl_wall_ms();
	void *buf = NULL;
	size_t len = 0;
	unsigned i, n;
	int rc = 0;

	if (cl->prune->state != PRUNE_UNCHECKED || !cl_is_leader(cl))
		return;
	if (st_local_get(cl->st, CLUSTER_K_PRUNE, &buf, &len) < 0) {
		cl->prune->state = PRUNE_DONE;
		return;
	}
	for (i = 0; i < len && i < 8; i++)
		from = from << 8 | ((uint8_t *)buf)[i];
	free(buf);
	/* The new configuration must be the committed one first: until
	 * then drv_conf() still names the old members. */
	if (drv_applied(cl->drv) < from || !c || !in_conf(c, cl->self))
		return;
	cl->prune->state = PRUNE_BUSY;
	cl->prune->left = 1;     /* held until every proposal is out */
	cl->prune->failed = 0;
	if (!fsm_member_find(cl->fsm, cl->self)) {
		cl->prune->left++;
		if (cl_put_self(cl, prune_done) != 0)
			rc = -EAGAIN;
	}
	n = fsm_member_count(cl->fsm);
	for (i = n; rc == 0 && i-- > 0;) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);

		if (in_conf(c, m->id)) {
			rc = prune_undrain(cl, m, now);
			continue;
		}
		log_info("restore/recover: removing the record of old member "
			 "%" PRIu64 " (%s)", m->id, m->name);
		buf = NULL;
		rc = fsm_cmd_member_del(m->id, now, &buf, &len);
		rc = prune_one(cl, rc, buf, len);
	}
	n = fsm_token_count(cl->fsm);
	for (i = n; rc == 0 && i-- > 0;) {
		buf = NULL;
		rc = fsm_cmd_token_revoke(fsm_token_at(cl->fsm, i)->id, now,
					  &buf, &len);
		rc = prune_one(cl, rc, buf, len);
	}
	if (rc < 0)
		cl->prune->failed++;
	prune_done(cl, NULL, 0, FSM_OK);    /* drops the hold */
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
