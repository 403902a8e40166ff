/*
 * cluster_ext: what the subsystems above the cluster (node/rotation) may
 * read and ask (cluster.h, "for the subsystems above"): the replicated
 * state, members' reachability and status, proposals, observers, control
 * commands forwarded to the leader like the cluster's own, a check on
 * `config set`, and messages and status parts they define themselves,
 * carried as opaque bytes (proto/cluster_app.proto `Ext`).
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/ctl/ctlcmd.h"
#include "node/ntp/tstate.h"

#define EXT_OBS_MAX 8
#define EXT_CMDS_MAX 16
#define EXT_CHECKS_MAX 4
#define EXT_KINDS_MAX 4
#define EXT_KIND_MAX 15
#define EXT_SEEN_MAX (CL_MAX_PEERS * EXT_KINDS_MAX)

struct ext_cmd {
	struct cluster *cl;
	const char *name;          /* the table's row (node/ctl/ctlcmd.c) */
	int leader;                /* CTLCMD_LEADER: forwarded */
	cluster_cmd_fn fn;
	void *arg;
};

/* A status part: ours (id 0) or one a member sent. */
struct ext_blob {
	uint64_t id;
	char kind[EXT_KIND_MAX + 1];
	void *buf;
	size_t len;
	uint64_t at;               /* loop ms it arrived */
};

struct cl_ext {
	struct { void (*fn)(void *arg); void *arg; } obs[EXT_OBS_MAX];
	unsigned n_obs;
	struct ext_cmd cmds[EXT_CMDS_MAX];
	unsigned n_cmds;
	struct { cluster_check_fn fn; void *arg; } checks[EXT_CHECKS_MAX];
	unsigned n_checks;
	struct {
		char kind[EXT_KIND_MAX + 1];
		cluster_msg_fn fn;
		void *arg;
	} kinds[EXT_KINDS_MAX];
	unsigned n_kinds;
	struct ext_blob own[EXT_KINDS_MAX];
	unsigned n_own;
	struct ext_blob seen[EXT_SEEN_MAX];
	unsigned n_seen;
};

/* ---------------------------------------------------------------- */
/* reading */

const struct fsm *cluster_fsm(const struct cluster *cl)
{
	return cl->fsm;
}

uint64_t cluster_self(const struct cluster *cl)
{
	return cl->self;
}

int cluster_is_leader(struct cluster *cl)
{
	return cl_is_leader(cl);
}

uint64_t cluster_leader(struct cluster *cl)
{
	return cl_leader_id(cl);
}

uint64_t cluster_wall_ms(void)
{
	return cl_wall_ms();
}

unsigned cluster_election_ms(struct cluster *cl)
{
	return cl_election_ms(cl);
}

const char *cluster_strerror(int err)
{
	return cl_raft_err(err);
}

void cluster_peer_view(struct cluster *cl, uint64_t id,
		       struct cluster_peer_view *v)
{
	struct cl_peer *p = cl_peer(cl, id, 0);
	struct raft *r = drv_raft(cl->drv);
	raft_index mi;

	memset(v, 0, sizeof(*v));
	v->role = cl_conf_role(cl, id);
	v->reachable = cl_reachable(cl, id);
	v->heard_ms = p ? p->last_ms : 0;
	if (id == cl->self) {
		struct tstate ts;

		tstate_read(&ts);
		v->has_status = 1;
		v->heard_ms = uv_now(cl->loop);
		v->synced = ts.leap != 3 && ts.stratum != 0;
	} else if (p && p->has_status) {
		v->has_status = 1;
		v->synced = p->sync == 1;
	}
	if (!cl_is_leader(cl))
		return;
	if (id == cl->self)
		v->caught_up = 1;
	else if ((v->role == RAFT_VOTER || v->role == RAFT_STANDBY) &&
		 raft_match_index(r, id, &mi) == 0)
		v->caught_up = mi + CLUSTER_CAUGHT_UP >= raft_last_index(r);
}

int cluster_voter_target(struct cluster *cl)
{
	return cl_voter_target(cl);
}

/* ---------------------------------------------------------------- */
/* proposals and observers */

struct ext_prop {
	cluster_done_fn done;
	void *arg;
};

static void prop_done(struct cluster *cl, struct cl_pend *p, int err,
		      int result)
{
	struct ext_prop *x = p->arg;

	(void)cl;
	x->done(x->arg, err, result);
}

int cluster_propose(struct cluster *cl, void *buf, size_t len,
		    cluster_done_fn done, void *arg)
{
	struct ext_prop *x = malloc(sizeof(*x));

	if (!x) {
		free(buf);
		return RAFT_NOMEM;
	}
	x->done = done;
	x->arg = arg;
	/* x is freed by the cluster after prop_done, or on failure */
	return cl_propose(cl, buf, len, prop_done, NULL, x);
}

int cluster_observe(struct cluster *cl, void (*fn)(void *arg), void *arg)
{
	struct cl_ext *e = cl->ext;

	if (e->n_obs == EXT_OBS_MAX)
		return -1;
	e->obs[e->n_obs].fn = fn;
	e->obs[e->n_obs].arg = arg;
	e->n_obs++;
	return 0;
}

static void ext_observer(struct cluster *cl)
{
	struct cl_ext *e = cl->ext;
	unsigned i;

	for (i = 0; i < e->n_obs; i++)
		e->obs[i].fn(e->obs[i].arg);
}

/* ---------------------------------------------------------------- */
/* control commands */

void cluster_reply(struct cl_req *r, int status, const char *error,
		   const char *text, const char *json)
{
	cl_reply(r, status, error, text, json);
}

static void on_ext_ctl(void *arg, struct ctl_call *call, int argc,
		       char **argv)
{
	struct ext_cmd *c = arg;
	struct cl_req *r = cl_req_local(c->cl, call);

	if (!r)
		return;
	if (!c->leader || cl_is_leader(c->cl)) {
		c->fn(c->arg, r, argc, argv);
		return;
	}
	if (cl_forward(c->cl, r, c->name, argc, argv, 0) != 0)
		cl_fail(r, CTL_ERR, "no leader is known right now: retry in a "
			"moment");
}

int cluster_command(struct cluster *cl, struct ctl *ctl, const char *name,
		    cluster_cmd_fn fn, void *arg)
{
	const struct ctlcmd *row = ctlcmd_find(name);
	struct cl_ext *e = cl->ext;
	struct ext_cmd *c;

	if (!row || e->n_cmds == EXT_CMDS_MAX)
		return -1;
	c = &e->cmds[e->n_cmds];
	c->cl = cl;
	c->name = row->name;
	c->leader = (row->flags & CTLCMD_LEADER) != 0;
	c->fn = fn;
	c->arg = arg;
	if (ctl_register(ctl, name, on_ext_ctl, c) < 0)
		return -1;
	e->n_cmds++;
	return 0;
}

int cl_ext_forwarded(struct cluster *cl, struct cl_req *r,
		     const char *command, int argc, char **argv)
{
	struct cl_ext *e = cl->ext;
	unsigned i;

	for (i = 0; i < e->n_cmds; i++)
		if (e->cmds[i].leader && strcmp(e->cmds[i].name, command) == 0) {
			e->cmds[i].fn(e->cmds[i].arg, r, argc, argv);
			return 1;
		}
	return 0;
}

int cluster_config_checker(struct cluster *cl, cluster_check_fn fn,
			   void *arg)
{
	struct cl_ext *e = cl->ext;

	if (e->n_checks == EXT_CHECKS_MAX)
		return -1;
	e->checks[e->n_checks].fn = fn;
	e->checks[e->n_checks].arg = arg;
	e->n_checks++;
	return 0;
}

int cl_ext_config_check(struct cluster *cl, const char *key,
			const char *value, char *err, size_t errlen)
{
	struct cl_ext *e = cl->ext;
	unsigned i;

	for (i = 0; i < e->n_checks; i++)
		if (e->checks[i].fn(e->checks[i].arg, key, value, err,
				    errlen) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* messages and status parts */

static int kind_ok(const char *kind)
{
	return kind && kind[0] && strlen(kind) <= EXT_KIND_MAX;
}

int cluster_msg_handler(struct cluster *cl, const char *kind,
			cluster_msg_fn fn, void *arg)
{
	struct cl_ext *e = cl->ext;

	if (!kind_ok(kind) || e->n_kinds == EXT_KINDS_MAX)
		return -1;
	cl_copy(e->kinds[e->n_kinds].kind, sizeof(e->kinds[0].kind), kind);
	e->kinds[e->n_kinds].fn = fn;
	e->kinds[e->n_kinds].arg = arg;
	e->n_kinds++;
	return 0;
}

int cluster_msg_send(struct cluster *cl, uint64_t to, const char *kind,
		     const void *buf, size_t len)
{
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__Ext x = NTPMC__EXT__INIT;
	const char *addr = cl_addr_of(cl, to);

	if (!kind_ok(kind))
		return -EINVAL;
	x.kind = (char *)kind;
	x.body.data = (uint8_t *)buf;
	x.body.len = len;
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_EXT;
	m.ext = &x;
	return cl_send_app(cl, to, addr ? addr : cl_member_address(cl, to),
			   &m);
}

void cl_ext_on_msg(struct cluster *cl, uint64_t from, const Ntpmc__Ext *x)
{
	struct cl_ext *e = cl->ext;
	unsigned i;

	if (!x->kind)
		return;
	for (i = 0; i < e->n_kinds; i++)
		if (strcmp(e->kinds[i].kind, x->kind) == 0)
			e->kinds[i].fn(e->kinds[i].arg, from, x->body.data,
				       x->body.len);
}

/* The blob of (id, kind) in arr, created if asked and there is room. */
static struct ext_blob *blob(struct ext_blob *arr, unsigned *n, unsigned max,
			     uint64_t id, const char *kind, int create)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (arr[i].id == id && strcmp(arr[i].kind, kind) == 0)
			return &arr[i];
	if (!create || *n == max)
		return NULL;
	memset(&arr[*n], 0, sizeof(arr[0]));
	arr[*n].id = id;
	cl_copy(arr[*n].kind, sizeof(arr[0].kind), kind);
	return &arr[(*n)++];
}

static int blob_set(struct ext_blob *b, const void *buf, size_t len,
		    uint64_t at)
{
	void *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, buf, len);
	free(b->buf);
	b->buf = copy;
	b->len = len;
	b->at = at;
	return 0;
}

int cluster_status_set(struct cluster *cl, const char *kind, const void *buf,
		       size_t len)
{
	struct cl_ext *e = cl->ext;
	struct ext_blob *b;

	if (!kind_ok(kind) || len > RTR_APP_MAX / 8)
		return -EINVAL;
	b = blob(e->own, &e->n_own, EXT_KINDS_MAX, 0, kind, 1);
	return b ? blob_set(b, buf, len, cl_now(cl)) : -ENOSPC;
}

int cluster_status_get(struct cluster *cl, uint64_t id, const char *kind,
		       const void **buf, size_t *len, uint64_t *age_ms)
{
	struct cl_ext *e = cl->ext;
	struct ext_blob *b;

	if (!kind_ok(kind))
		return -EINVAL;
	b = id == cl->self ? blob(e->own, &e->n_own, EXT_KINDS_MAX, 0, kind,
				  0) :
			     blob(e->seen, &e->n_seen, EXT_SEEN_MAX, id, kind,
				  0);
	if (!b)
		return -ENOENT;
	*buf = b->buf;
	*len = b->len;
	if (age_ms)
		*age_ms = id == cl->self ? 0 : cl_now(cl) - b->at;
	return 0;
}

void cl_ext_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s,
			Ntpmc__Ext *x, Ntpmc__Ext **ptrs)
{
	struct cl_ext *e = cl->ext;
	unsigned i;

	for (i = 0; i < e->n_own && i < CL_EXT_STATUS_MAX; i++) {
		ntpmc__ext__init(&x[i]);
		x[i].kind = e->own[i].kind;
		x[i].body.data = e->own[i].buf;
		x[i].body.len = e->own[i].len;
		ptrs[i] = &x[i];
	}
	s->ext = ptrs;
	s->n_ext = i;
}

void cl_ext_status_seen(struct cluster *cl, uint64_t id,
			const Ntpmc__MemberStatus *s)
{
	struct cl_ext *e = cl->ext;
	struct ext_blob *b;
	size_t i;

	for (i = 0; i < s->n_ext && i < CL_EXT_STATUS_MAX; i++) {
		const Ntpmc__Ext *x = s->ext[i];

		if (!kind_ok(x->kind))
			continue;
		b = blob(e->seen, &e->n_seen, EXT_SEEN_MAX, id, x->kind, 1);
		if (b)
			blob_set(b, x->body.data, x->body.len, cl_now(cl));
	}
}

/* ---------------------------------------------------------------- */
/* the module */

static int ext_init(struct cluster *cl)
{
	cl->ext = calloc(1, sizeof(*cl->ext));
	if (!cl->ext)
		return -1;
	cl_observe(cl, ext_observer);
	return 0;
}

static void ext_stop(struct cluster *cl)
{
	unsigned i;

	if (!cl->ext)
		return;
	for (i = 0; i < cl->ext->n_own; i++)
		free(cl->ext->own[i].buf);
	for (i = 0; i < cl->ext->n_seen; i++)
		free(cl->ext->seen[i].buf);
	free(cl->ext);
	cl->ext = NULL;
}

const struct cl_module cl_ext_module = {
	ext_init, NULL, ext_stop,
};
