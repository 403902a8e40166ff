/*
 * cluster_check: the cluster's side of the cross-check (node/crosscheck
 * measures and decides; this file carries the result).
 *
 * - What the cross-check needs: the members and where their NTP service
 *   answers (the member record's ntp_port at the host of its address, the
 *   overlay address with the mesh), pair keys, our overlay address.
 * - Our verdict goes to the leader with the status (cluster_app.c), only
 *   when it changed or every CHECK_REFRESH_MS, so that a new leader
 *   learns it without a verdict riding on every status.
 * - The leader records each change between suspect and not in the FSM
 *   (fsm_cmd_check: the audit trail says who, when, how far, against
 *   whom), keeps members' NTP ports and command versions in their records
 *   up to date from their statuses, and moves its own leadership away when
 *   it is the suspect (cpol, through cluster_drain.c's policy).
 */
#include "node/cluster/cluster_int.h"

#include "node/base/hostport.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/cluster/wg/wgjoin.h"

_Static_assert(CLUSTER_CHECK_WHY_MAX <= FSM_CHECK_TEXT_MAX,
	       "a verdict's why fits the check command");

/* A verdict rides on a status when it changed, else this often. */
#define CHECK_REFRESH_MS 10000
/* A record proposal not applied by then may be proposed again. */
#define RECORD_RETRY_MS 5000

struct cl_check_seen {
	uint64_t id;
	int verdict, peers, has_offset;
	double offset;
	char why[CLUSTER_CHECK_WHY_MAX + 1];
	uint32_t ntp_port, cmd_version;  /* reported: record differs */
	uint64_t proposed;               /* loop ms of a record proposal */
};

struct cl_check {
	struct cluster_check own;
	int have_own, own_dirty;
	uint64_t own_sent;               /* loop ms */
	uint16_t ntp_port;
	struct cl_check_seen seen[CL_MAX_PEERS + 1];
	unsigned n_seen;
};

const char *cluster_verdict_name(int verdict)
{
	switch (verdict) {
	case CLUSTER_CHECK_OK:
		return "ok";
	case CLUSTER_CHECK_SUSPECT:
		return "suspect";
	default:
		return "unknown";
	}
}

static struct cl_check_seen *seen(struct cluster *cl, uint64_t id, int create)
{
	struct cl_check *k = cl->check;
	unsigned i;

	for (i = 0; i < k->n_seen; i++)
		if (k->seen[i].id == id)
			return &k->seen[i];
	if (!create || k->n_seen == CL_MAX_PEERS + 1)
		return NULL;
	memset(&k->seen[k->n_seen], 0, sizeof(k->seen[0]));
	k->seen[k->n_seen].id = id;
	return &k->seen[k->n_seen++];
}

/* ---------------------------------------------------------------- */
/* for the cross-check */

uint64_t cluster_self_id(struct cluster *cl)
{
	return cl->self;
}

/* The host members reach m's NTP service at. */
static void ntp_host(const struct fsm_member *m, char *out, size_t len)
{
	char host[TOKEN_ENDPOINT_MAX];
	unsigned port;

	out[0] = 0;
	if (m->overlay[0])
		cl_copy(out, len, m->overlay);
	else if (hostport_split(m->address, host, sizeof(host), &port) == 0)
		cl_copy(out, len, host);
}

int cluster_members(struct cluster *cl, struct cluster_member_info *out,
		    int max)
{
	const struct raft_configuration *c = drv_conf(cl->drv);
	unsigned i;
	int n = 0;

	for (i = 0; c && i < c->n && n < max; i++) {
		const struct fsm_member *m =
			fsm_member_find(cl->fsm, c->servers[i].id);
		struct cluster_member_info *x = &out[n];
		const struct fsm_rot *rot;

		if (c->servers[i].id == cl->self)
			continue;
		memset(x, 0, sizeof(*x));
		x->id = c->servers[i].id;
		if (m) {
			cl_copy(x->name, sizeof(x->name), m->name);
			ntp_host(m, x->host, sizeof(x->host));
			x->ntp_port = (uint16_t)m->ntp_port;
		}
		/* a member the rotation stopped (raft/fsm.h) is not
		 * probed */
		rot = fsm_rot_find(cl->fsm, x->id);
		x->stopped = rot && rot->state == FSM_ROT_STOPPED;
		n++;
	}
	return n;
}

void cluster_overlay(struct cluster *cl, char *out, size_t len)
{
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);

	/* our record's: a joiner learns its overlay from the log, and until
	 * then its cluster address is its public one */
	out[0] = 0;
	if (cl->wg && me && me->overlay[0])
		cl_copy(out, len, me->overlay);
}

int cluster_pair_key(struct cluster *cl, uint64_t id,
		     uint8_t key[CLUSTER_PAIR_KEY_LEN])
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);
	static const uint8_t zero[FSM_IDKEY_LEN];
	uint8_t pk[IDENT_PK_LEN];

	if (m && memcmp(m->idkey, zero, sizeof(zero)) != 0)
		memcpy(pk, m->idkey, sizeof(pk));
	else if (cl_boot_key(cl, id, pk) < 0)
		return -ENOENT;
	return ident_pair_key(cl->ident, pk, "crosscheck", key);
}

void cluster_set_ntp_port(struct cluster *cl, uint16_t port)
{
	cl->check->ntp_port = port;
}

int cluster_self_suspect(struct cluster *cl)
{
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);

	return me && me->suspect;
}

void cluster_check_report(struct cluster *cl, const struct cluster_check *c)
{
	struct cl_check *k = cl->check;

	if (!k->have_own || k->own.verdict != c->verdict ||
	    k->own.peers != c->peers || k->own.has_offset != c->has_offset ||
	    k->own.offset != c->offset || strcmp(k->own.why, c->why) != 0)
		k->own_dirty = 1;
	k->own = *c;
	k->own.why[sizeof(k->own.why) - 1] = 0;
	k->have_own = 1;
}

/* ---------------------------------------------------------------- */
/* status: ours out, theirs in */

void cl_check_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s,
			  Ntpmc__CheckStatus *cs)
{
	struct cl_check *k = cl->check;
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);
	uint64_t now = cl_now(cl);

	/* The verdict counts as sent once it is in a status: a status lost
	 * on the way is repaired by the refresh. */
	if (me && k->ntp_port && me->ntp_port != k->ntp_port)
		s->ntp_port = k->ntp_port;
	if (me && me->cmd_version < FSM_CMD_VERSION)
		s->cmd_version = FSM_CMD_VERSION;
	if (!k->have_own ||
	    (!k->own_dirty && now - k->own_sent < CHECK_REFRESH_MS))
		return;
	cs->verdict = (uint32_t)k->own.verdict;
	cs->peers = (uint32_t)k->own.peers;
	cs->has_offset = k->own.has_offset;
	cs->offset = k->own.offset;
	cs->why = k->own.why;
	s->check = cs;
	k->own_dirty = 0;
	k->own_sent = now;
}

void cl_check_status_seen(struct cluster *cl, uint64_t id,
			  const Ntpmc__MemberStatus *s)
{
	struct cl_check_seen *x = seen(cl, id, 1);

	if (!x)
		return;
	x->ntp_port = s->ntp_port <= 65535 ? s->ntp_port : 0;
	x->cmd_version = s->cmd_version;
	if (!s->check)
		return;
	x->verdict = s->check->verdict <= CLUSTER_CHECK_SUSPECT ?
		     (int)s->check->verdict : CLUSTER_CHECK_UNKNOWN;
	x->peers = s->check->peers < 1000 ? (int)s->check->peers : 0;
	x->has_offset = s->check->has_offset &&
			s->check->offset == s->check->offset;
	x->offset = x->has_offset ? s->check->offset : 0;
	cl_copy(x->why, sizeof(x->why), s->check->why ? s->check->why : "");
}

int cl_check_of(struct cluster *cl, uint64_t id, int *peers, int *has_offset,
		double *offset)
{
	struct cl_check *k = cl->check;
	const struct cl_check_seen *x;

	*peers = 0;
	*has_offset = 0;
	*offset = 0;
	if (id == cl->self) {
		if (!k->have_own)
			return CLUSTER_CHECK_UNKNOWN;
		*peers = k->own.peers;
		*has_offset = k->own.has_offset;
		*offset = k->own.offset;
		return k->own.verdict;
	}
	x = seen(cl, id, 0);
	if (!x)
		return CLUSTER_CHECK_UNKNOWN;
	*peers = x->peers;
	*has_offset = x->has_offset;
	*offset = x->offset;
	return x->verdict;
}

int cl_serving(struct cluster *cl, uint64_t id, int synced)
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);
	int peers, has;
	double off;

	if (!synced || !cl_reachable(cl, id) || (m && m->suspect))
		return 0;
	return cl_check_of(cl, id, &peers, &has, &off) !=
	       CLUSTER_CHECK_SUSPECT;
}

/* ---------------------------------------------------------------- */
/* the leader: records */

static void record_done(struct cluster *cl, struct cl_pend *p, int err,
			int result)
{
	uint64_t id = *(uint64_t *)p->arg;
	struct cl_check_seen *x = seen(cl, id, 0);

	if (err || result != FSM_OK)
		log_warnx("cross-check record of %s (%" PRIu64 ") not "
			  "committed: %s", cl_member_name(cl, id), id,
			  err ? cl_raft_err(err) : "refused");
	if (x)
		x->proposed = 0;
}

/* Proposes put as x's record, or else buf (taken). */
static int propose_record(struct cluster *cl, struct cl_check_seen *x,
			  const struct fsm_member *put, void *buf, size_t len)
{
	uint64_t *arg = malloc(sizeof(*arg));
	int rc;

	if (!arg) {
		free(buf);
		return -ENOMEM;
	}
	*arg = x->id;
	x->proposed = cl_now(cl);
	rc = put ? cl_propose_member(cl, put, record_done, NULL, arg) :
	     cl_propose(cl, buf, len, record_done, NULL, arg);
	if (rc != 0) {
		x->proposed = 0;
		return -EAGAIN;
	}
	return 0;
}

/* The member record says what the member last reported about itself. */
static void refresh_record(struct cluster *cl, struct cl_check_seen *x,
			   uint32_t port, uint32_t version)
{
	const struct fsm_member *old = cl_member_latest(cl, x->id);
	struct fsm_member m;

	if (!old || ((!port || port == old->ntp_port) &&
		     (!version || version <= old->cmd_version ||
		      version > FSM_CMD_VERSION)))
		return;
	m = *old;                   /* member_put replaces it all */
	if (port)
		m.ntp_port = port;
	if (version > old->cmd_version && version <= FSM_CMD_VERSION)
		m.cmd_version = version;
	log_info("member %s (%" PRIu64 "): NTP port %u, command version %u "
		 "recorded", m.name, m.id, m.ntp_port, m.cmd_version);
	propose_record(cl, x, &m, NULL, 0);
}

/* A change between suspect and not, as the member itself reports it. */
static void record_verdict(struct cluster *cl, struct cl_check_seen *x,
			   int verdict, const char *why)
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, x->id);
	int suspect = verdict == CLUSTER_CHECK_SUSPECT;
	void *buf;
	size_t len;

	/* unknown never clears a suspicion, here either */
	if (!m || verdict == CLUSTER_CHECK_UNKNOWN || m->suspect == suspect ||
	    !fsm_version_ok(cl->fsm, 2))
		return;
	if (fsm_cmd_check(x->id, suspect, why, cl_wall_ms(), &buf, &len) < 0)
		return;
	propose_record(cl, x, NULL, buf, len);
}

static void leader_chores(struct cluster *cl)
{
	struct cl_check *k = cl->check;
	struct cl_check_seen *me = seen(cl, cl->self, 1);
	uint64_t now = cl_now(cl);
	unsigned i;

	if (!me)
		return;
	if (k->have_own) {
		me->verdict = k->own.verdict;
		cl_copy(me->why, sizeof(me->why), k->own.why);
	}
	me->ntp_port = k->ntp_port;
	me->cmd_version = FSM_CMD_VERSION;
	for (i = 0; i < k->n_seen; i++) {
		struct cl_check_seen *x = &k->seen[i];

		if (x->proposed && now - x->proposed < RECORD_RETRY_MS)
			continue;
		x->proposed = 0;
		if (cl_conf_role(cl, x->id) < 0)
			continue;
		refresh_record(cl, x, x->ntp_port, x->cmd_version);
		if (!x->proposed && (x->id != cl->self || k->have_own))
			record_verdict(cl, x, x->verdict, x->why);
	}
}

/* ---------------------------------------------------------------- */
/* the module */

static int check_init(struct cluster *cl)
{
	cl->check = calloc(1, sizeof(*cl->check));
	return cl->check ? 0 : -1;
}

static void check_chores(struct cluster *cl)
{
	if (cl_is_leader(cl) && cl->ready_done)
		leader_chores(cl);
}

static void check_stop(struct cluster *cl)
{
	free(cl->check);
	cl->check = NULL;
}

const struct cl_module cl_check_module = {
	check_init, check_chores, check_stop,
};
