/*
 * cluster_wg: the WireGuard mesh of the cluster, wired to the membership
 *. Only active with `wireguard-interface NAME` in the config:
 *
 *  - init: the overlay subnet is recorded (replicated key overlay-subnet)
 *    and the first member takes its first host address; its raft address
 *    is OVERLAY:PORT;
 *  - join: the leader allocates the joiner's overlay address before the
 *    member is added (wgj_join_member); the JoinReply carries the mesh so
 *    the joiner applies it before its log catches up;
 *  - every member renders its mesh from the membership after each applied
 *    change and applies it (wg syncconf) when its hash changed; the mesh
 *    last applied is kept in the node-local table, so that a restarted
 *    member is reachable before the leader replays its log;
 *  - a member whose configured endpoint differs from its committed record
 *    re-announces it to the leader (a member_put of its record with the
 *    new endpoint), once a second until committed.
 *
 * The private key only goes from the identity store to wgm_render()'s
 * sodium memory and from there through a memfd to wg(8): never logged,
 * never replicated.
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/cluster/ckey.h"
#include "node/base/hostport.h"
#include "node/base/log.h"
#include "node/cluster/wg/wgjoin.h"
#include "node/cluster/wg/wgmesh.h"

#define CLUSTER_K_MESH "cluster/mesh"     /* the mesh last applied (wgjoin.h) */
#define WG_RETRY_MS 1000
#define WG_ANNOUNCE_CMD "wg announce"  /* forwarded only, never on ntpctl */

struct cl_wg {
	int on;
	char endpoint[WGM_ENDPOINT_MAX];  /* ours, from the config */
	/* the mesh known before our own record is in the FSM (JoinReply
	 * or the node-local table) */
	struct wgm_subnet boot_sn;
	struct wgm_peer *boot;
	size_t n_boot;
	unsigned char applied[WGM_HASH_LEN];
	int has_applied, dirty, failing;
	/* the apply in flight (wgapply.h) and what it puts in place */
	cluster_wg_apply_fn apply;
	struct wga *job;
	int applying;
	struct {
		unsigned char hash[WGM_HASH_LEN];
		struct wgm_subnet sn;
		struct wgm_peer *p;
		size_t n, peers;
		int from_fsm;
		char overlay[WGM_ADDR_MAX];
	} next;
	int member_listen;  /* 1 listening at the overlay, -1 could not */
	uint64_t retry_at, announce_at;
	struct { uint64_t id; char overlay[WGM_ADDR_MAX]; } res[8];
	struct { uint64_t id; unsigned char hash[WGM_HASH_LEN]; } seen[CL_MAX_PEERS];
	unsigned n_seen;
	char init_subnet[WGM_ADDR_MAX];
};

static void subnet_of(struct cluster *cl, struct wgm_subnet *sn)
{
	const char *v = cl->fsm ? fsm_config_get(cl->fsm, CKEY_OVERLAY_SUBNET) :
				  NULL;

	if (!v || wgm_subnet_parse(v, sn) != 0)
		wgm_subnet_parse(cl->wg && cl->wg->init_subnet[0] ?
				 cl->wg->init_subnet : WGM_DEFAULT_SUBNET, sn);
}

static void boot_set(struct cl_wg *w, const struct wgm_subnet *sn,
		     struct wgm_peer *p, size_t n)
{
	free(w->boot);
	w->boot = p;
	w->n_boot = n;
	w->boot_sn = *sn;
}

int cl_wg_open(struct cluster *cl, const char *init_subnet)
{
	const struct cluster_conf *c = cl->conf;
	struct cl_wg *w;
	void *buf = NULL;
	size_t len = 0, i;
	unsigned port;
	char host[WGJ_HOSTPORT_MAX];

	if (!c->wg_interface[0]) {
		if (cl->mode == CLUSTER_INIT && init_subnet && *init_subnet)
			log_warnx("init: --overlay-subnet has no effect without "
				  "wireguard-interface in the config");
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	cl->wg = w;
	w->on = 1;
	w->apply = cl->hooks.wg_apply ? cl->hooks.wg_apply : wga_start;
	{
		const struct sockaddr *sa = (const struct sockaddr *)
						    &c->listen.addr;
		static const uint8_t zero[16];
		int wild = sa->sa_family == AF_INET6 ?
			   memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
				  zero, 16) == 0 :
			   ((const struct sockaddr_in *)sa)->sin_addr.s_addr == 0;

		/* the overlay address only exists once the mesh is applied,
		 * and joiners dial the public address */
		if (!wild)
			log_warnx("wireguard-interface %s: cluster-listen is "
				  "not a wildcard address: members dial the "
				  "overlay address and joiners the public one "
				  "(use cluster-listen 0.0.0.0 and "
				  "cluster-advertise PUBLIC_IP)",
				  c->wg_interface);
	}
	if (wgj_endpoint(c->wg_endpoint, cl->address, c->wg_port,
			 w->endpoint) < 0) {
		log_err("wireguard-interface %s: no public WireGuard endpoint: "
			"set wireguard-endpoint IP[:PORT] (cluster-advertise "
			"'%s' is not a numeric address)", c->wg_interface,
			cl->address);
		return -1;
	}
	if (hostport_split(cl->address, host, sizeof(host), &port) < 0 ||
	    !port) {
		log_err("cluster address '%s' has no port", cl->address);
		return -1;
	}
	if (cl->mode == CLUSTER_INIT) {
		struct wgm_subnet sn;
		char ov[WGM_ADDR_MAX];

		snprintf(w->init_subnet, sizeof(w->init_subnet), "%s",
			 init_subnet && *init_subnet ? init_subnet :
			 WGM_DEFAULT_SUBNET);
		if (wgm_subnet_parse(w->init_subnet, &sn) != 0 ||
		    wgm_alloc(&sn, NULL, 0, ov) != 0) {
			log_err("init: bad overlay subnet '%s'", w->init_subnet);
			return -1;
		}
		/* the raft address of the first voter, in its bootstrap
		 * configuration: its overlay address */
		hostport_join(ov, port, cl->address, sizeof(cl->address));
		return 0;
	}
	if (cl->mode == CLUSTER_RUN &&
	    st_local_get(cl->st, CLUSTER_K_MESH, &buf, &len) == 0) {
		struct wgm_subnet sn;
		struct wgm_peer *p = NULL;
		size_t n = 0;

		if (wgj_mesh_unpack(buf, len, &sn, &p, &n) == 0)
			boot_set(w, &sn, p, n);
		else
			log_warnx("the saved WireGuard mesh is unreadable: "
				  "waiting for the log");
		free(buf);
		buf = NULL;
	}
	/* raft address: our overlay (only the log line and raft's own
	 * idea of itself use it; the configuration entries decide). The
	 * id is read here: prepare_identity runs after us. */
	if (w->n_boot && st_local_get(cl->st, CLUSTER_K_SELF, &buf, &len) == 0) {
		uint64_t self = 0;

		for (i = 0; len == 8 && i < 8; i++)
			self = self << 8 | ((unsigned char *)buf)[i];
		free(buf);
		for (i = 0; i < w->n_boot; i++)
			if (w->boot[i].id == self && self &&
			    w->boot[i].overlay[0])
				hostport_join(w->boot[i].overlay, port,
					      cl->address, sizeof(cl->address));
	}
	return 0;
}

static void wg_stop(struct cluster *cl)
{
	if (!cl->wg)
		return;
	wga_cancel(cl->wg->job);	/* the tool running is killed */
	free(cl->wg->next.p);
	free(cl->wg->boot);
	free(cl->wg);
	cl->wg = NULL;
}

/* The mesh to apply: the FSM's once it has our own record, else the boot
 * copy (a joiner catching up must not shrink its mesh to the part of the
 * membership its log has replayed so far). */
static int mesh_now(struct cluster *cl, struct wgm_subnet *sn,
		    struct wgm_peer **p, size_t *n, int *from_fsm)
{
	struct cl_wg *w = cl->wg;
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);

	if (me && me->overlay[0]) {
		subnet_of(cl, sn);
		*from_fsm = 1;
		return wgm_peers_from_fsm(cl->fsm, p, n);
	}
	if (!w->n_boot)
		return -ENOENT;
	*p = malloc(w->n_boot * sizeof(**p));
	if (!*p)
		return -ENOMEM;
	memcpy(*p, w->boot, w->n_boot * sizeof(**p));
	*n = w->n_boot;
	*sn = w->boot_sn;
	*from_fsm = 0;
	return 0;
}

static void save_mesh(struct cluster *cl, const struct wgm_subnet *sn,
		      const struct wgm_peer *p, size_t n)
{
	void *buf;
	size_t len;

	if (wgj_mesh_pack(sn, p, n, &buf, &len) != 0)
		return;
	if (st_local_put(cl->st, CLUSTER_K_MESH, buf, len) < 0)
		log_warnx("cannot save the WireGuard mesh in the store");
	free(buf);
}

/* The apply ended: the mesh it put in place is the one applied now, or
 * it is tried again in WG_RETRY_MS. */
static void on_applied(void *arg, int rc, const char *why)
{
	struct cluster *cl = arg;
	struct cl_wg *w = cl->wg;
	char hx[2 * WGM_HASH_LEN + 1];

	w->job = NULL;
	w->applying = 0;
	if (rc != 0) {
		if (!w->failing)
			log_warnx("wireguard %s: applying the mesh failed (%s%s%s): "
				  "retrying every %d s", cl->conf->wg_interface,
				  rc == -ENOENT ? "wg or ip not installed" :
				  strerror(-rc), why[0] ? ": " : "", why,
				  WG_RETRY_MS / 1000);
		w->failing = 1;
		w->retry_at = cl_now(cl) + WG_RETRY_MS;
		goto out;
	}
	w->failing = 0;
	memcpy(w->applied, w->next.hash, sizeof(w->applied));
	w->has_applied = 1;
	sodium_bin2hex(hx, sizeof(hx), w->applied, 8);
	log_info("wireguard %s: mesh %s applied: overlay %s, %zu peer%s",
		 cl->conf->wg_interface, hx, w->next.overlay, w->next.peers,
		 w->next.peers == 1 ? "" : "s");
	if (w->next.from_fsm)
		save_mesh(cl, &w->next.sn, w->next.p, w->next.n);
out:
	free(w->next.p);
	w->next.p = NULL;
}

/* Renders the mesh and starts applying it when its hash changed; with an
 * apply in flight, once that one ended (the next chore). */
static void wg_sync(struct cluster *cl)
{
	struct cl_wg *w = cl->wg;
	struct wgm_subnet sn;
	struct wgm_peer *p = NULL;
	unsigned char h[WGM_HASH_LEN];
	char priv[IDENT_WG_B64_LEN];
	const char *overlay = NULL;
	struct wga_req req;
	char *conf = NULL;
	size_t n = 0, len = 0, i, peers = 0;
	int rc, from_fsm = 0;

	if (w->applying) {
		w->dirty = 1;
		return;
	}
	w->dirty = 0;
	if (!cl->ident || mesh_now(cl, &sn, &p, &n, &from_fsm) != 0)
		return;
	rc = wgm_hash(p, n, cl_timing(cl)->wg_keepalive_s, h);
	if (rc != 0 || (w->has_applied && !w->failing &&
			memcmp(h, w->applied, sizeof(h)) == 0))
		goto out;
	for (i = 0; i < n; i++) {
		if (p[i].id == cl->self)
			overlay = p[i].overlay;
		else if (p[i].overlay[0])
			peers++;
	}
	if (!overlay || !overlay[0])
		goto out;
	ident_wg_private_b64(cl->ident, priv);
	rc = wgm_render(p, n, cl->self, priv, cl->conf->wg_port,
			cl_timing(cl)->wg_keepalive_s, &conf, &len);
	sodium_memzero(priv, sizeof(priv));
	if (rc != 0) {
		on_applied(cl, rc, "rendering");	/* retried, logged once */
		goto out;
	}
	memcpy(w->next.hash, h, sizeof(h));
	w->next.sn = sn;
	w->next.p = p;
	w->next.n = n;
	w->next.peers = peers;
	w->next.from_fsm = from_fsm;
	cl_copy(w->next.overlay, sizeof(w->next.overlay), overlay);
	p = NULL;	/* w->next's until on_applied */
	req.ifname = cl->conf->wg_interface;
	req.conf = conf;
	req.len = len;
	req.overlay = w->next.overlay;
	req.sn = &w->next.sn;
	w->applying = 1;
	rc = w->apply(cl->loop, &req, on_applied, cl, &w->job);
	wgm_conf_free(conf, len);
	if (rc != 0)
		on_applied(cl, rc, "");
out:
	free(p);
}

/*
 * Once our overlay address is known (the FSM's record, the saved or the
 * replied mesh), members are accepted only there: the transport's member
 * listener (bound before the address exists) on the cluster port, and
 * cluster-listen, the public side, takes joins only.
 */
static void wg_member_listen(struct cluster *cl)
{
	const struct sockaddr *sa = (const struct sockaddr *)
					    &cl->conf->listen.addr;
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);
	struct cl_wg *w = cl->wg;
	const char *ov = me && me->overlay[0] ? me->overlay : NULL;
	char addr[WGM_ADDR_MAX + 8];
	size_t i;
	int rc;

	if (w->member_listen || !cl->tr || !cl->tr->member_listen)
		return;
	for (i = 0; !ov && i < w->n_boot; i++)
		if (w->boot[i].id == cl->self && w->boot[i].overlay[0])
			ov = w->boot[i].overlay;
	if (!ov)
		return;
	snprintf(addr, sizeof(addr), "%s:%u", ov, (unsigned)ntohs(
		 sa->sa_family == AF_INET6 ?
		 ((const struct sockaddr_in6 *)sa)->sin6_port :
		 ((const struct sockaddr_in *)sa)->sin_port));
	rc = cl->tr->member_listen(cl->tr, addr);
	if (rc == 0) {
		w->member_listen = 1;
		log_info("cluster: members are accepted at %s only (the "
			 "overlay); cluster-listen takes joins", addr);
	} else {
		w->member_listen = -1;
		log_warnx("cluster: cannot listen for members at %s (%s): "
			  "members and joiners share cluster-listen", addr,
			  strerror(-rc));
	}
}

void cl_wg_sync(struct cluster *cl)
{
	if (cl->wg) {
		wg_sync(cl);
		wg_member_listen(cl);
	}
}

static void wg_on_apply(struct cluster *cl)
{
	if (!cl->wg)
		return;
	/* The leader applies at once: the member it just recorded is
	 * dialed over the overlay right after. Others at the next chore,
	 * which folds a catch-up's many entries into one apply. */
	if (cl_is_leader(cl))
		wg_sync(cl);
	else
		cl->wg->dirty = 1;
}

/* ---------------------------------------------------------------- */
/* init and join */

int cl_wg_init_propose(struct cluster *cl)
{
	void *buf;
	size_t len;

	if (!cl->wg || fsm_config_get(cl->fsm, CKEY_OVERLAY_SUBNET))
		return 0;
	/* Before the member record, in the same term: raft applies them in
	 * this order, so the record never exists without its subnet. */
	if (fsm_cmd_config_set(CKEY_OVERLAY_SUBNET, cl->wg->init_subnet,
			       cl_wall_ms(), &buf, &len) < 0)
		return -1;
	return cl_propose(cl, buf, len, NULL, NULL, NULL) == 0 ? 0 : -1;
}

void cl_wg_fill_self(struct cluster *cl, struct fsm_member *me)
{
	const struct fsm_member *old = fsm_member_find(cl->fsm, cl->self);
	char host[WGJ_HOSTPORT_MAX];
	unsigned port;

	if (!cl->wg)
		return;
	{
		char b64[IDENT_WG_B64_LEN];
		size_t raw = 0;

		ident_wg_public_b64(cl->ident, b64);
		if (sodium_base642bin(me->wg_public, sizeof(me->wg_public),
				      b64, strlen(b64), NULL, &raw, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    raw != sizeof(me->wg_public))
			memset(me->wg_public, 0, sizeof(me->wg_public));
	}
	cl_copy(me->endpoint, sizeof(me->endpoint), cl->wg->endpoint);
	if (old && old->overlay[0]) {
		cl_copy(me->overlay, sizeof(me->overlay), old->overlay);
		return;
	}
	/* init: cl->address is OVERLAY:PORT (cl_wg_open) */
	if (hostport_split(cl->address, host, sizeof(host), &port) == 0)
		cl_copy(me->overlay, sizeof(me->overlay), host);
}

void cl_wg_fill_request(struct cluster *cl, Ntpmc__JoinRequest *jr)
{
	if (cl->wg)
		jr->wg_endpoint = cl->wg->endpoint;
}

int cl_wg_join_member(struct cluster *cl, const Ntpmc__JoinRequest *jr,
		      struct fsm_member *m, char *err, size_t errlen)
{
	struct cl_wg *w = cl->wg;
	const char *res[8];
	struct wgm_subnet sn;
	size_t n = 0, i;
	int rc;

	if (!jr->wg_endpoint || !jr->wg_endpoint[0])
		return 0;
	if (!w) {
		/* we do not manage WireGuard, but the joiner does: its
		 * mesh would never be rendered here */
		snprintf(err, errlen, "this member manages no WireGuard "
			 "interface: join through one that does");
		return -1;
	}
	for (i = 0; i < 8; i++)
		if (w->res[i].id && w->res[i].id != m->id)
			res[n++] = w->res[i].overlay;
	subnet_of(cl, &sn);
	rc = wgj_join_member(jr, cl->fsm, &sn, res, n, m, err, errlen);
	if (rc <= 0)
		return rc;
	for (i = 0; i < 8; i++)
		if (!w->res[i].id || w->res[i].id == m->id) {
			w->res[i].id = m->id;
			cl_copy(w->res[i].overlay, sizeof(w->res[i].overlay),
				m->overlay);
			break;
		}
	log_info("join of %" PRIu64 " (%s): overlay %s, WireGuard endpoint "
		 "%s", m->id, m->name, m->overlay, m->endpoint);
	return 1;
}

void cl_wg_release(struct cluster *cl, uint64_t id)
{
	unsigned i;

	if (!cl->wg)
		return;
	for (i = 0; i < 8; i++)
		if (cl->wg->res[i].id == id)
			cl->wg->res[i].id = 0;
}

void cl_wg_fill_reply(struct cluster *cl, Ntpmc__JoinReply *jr,
		      struct wgj_reply_buf *b)
{
	struct wgm_subnet sn;

	subnet_of(cl, &sn);
	wgj_reply_fill(cl->fsm, &sn, jr, b);
}

int cl_wg_on_reply(struct cluster *cl, const Ntpmc__JoinReply *jr)
{
	struct wgm_subnet sn;
	struct wgm_peer *p = NULL;
	char ov[WGM_ADDR_MAX];
	size_t n = 0;
	int rc;

	if (!cl->wg)
		return 0;
	rc = wgj_reply_decode(jr, cl->self, &sn, &p, &n, ov);
	if (rc == -ENOENT) {
		log_err("join: the cluster gave no WireGuard overlay address "
			"(its members manage no WireGuard interface): remove "
			"wireguard-interface here or use another cluster");
		return -1;
	}
	if (rc != 0) {
		if (rc != -EAGAIN)
			log_warnx("join: the reply's WireGuard mesh is "
				  "malformed: asking again");
		return -EAGAIN;
	}
	boot_set(cl->wg, &sn, p, n);
	save_mesh(cl, &sn, p, n);
	log_info("join: overlay %s in %s", ov, jr->overlay_subnet);
	wg_sync(cl);
	wg_member_listen(cl);
	return 0;
}

/* ---------------------------------------------------------------- */
/* endpoint re-announce */

static void announce_done(struct cluster *cl, struct cl_pend *p, int err,
			  int result)
{
	(void)cl;
	if (!p->req)
		return;
	if (err || result != FSM_OK)
		cl_fail(p->req, CTL_ERR, "%s", err ? cl_raft_err(err) :
			 "the member record was refused");
	else
		cl_ok(p->req, "endpoint recorded\n", NULL);
}

/* On the leader: member id's record with endpoint ep, all else copied. */
static int announce_put(struct cluster *cl, uint64_t id, const char *ep,
			struct cl_req *r)
{
	const struct fsm_member *old = cl_member_latest(cl, id);
	struct fsm_member m;

	if (!old || !old->overlay[0] || wgm_endpoint_check(ep) != 0 ||
	    strlen(ep) > FSM_VALUE_MAX)
		return -EINVAL;
	if (strcmp(old->endpoint, ep) == 0) {
		if (r)
			cl_ok(r, "endpoint unchanged\n", NULL);
		return 0;
	}
	m = *old;
	cl_copy(m.endpoint, sizeof(m.endpoint), ep);
	log_info("member %" PRIu64 " (%s) re-announces its WireGuard "
		 "endpoint %s (was %s)", id, old->name, ep,
		 old->endpoint[0] ? old->endpoint : "none");
	return cl_propose_member(cl, &m, announce_done, r, NULL) == 0 ? 0 :
	       -EAGAIN;
}

int cl_wg_forwarded(struct cluster *cl, struct cl_req *r, const char *command,
		    int argc, char **argv)
{
	if (strcmp(command, WG_ANNOUNCE_CMD) != 0)
		return 0;
	/* only a member's own record, named by its authenticated id */
	if (argc != 1 || r->call || !r->peer ||
	    announce_put(cl, r->peer, argv[0], r) < 0)
		cl_fail(r, CTL_ERR, "endpoint announce refused");
	return 1;
}

static void announce(struct cluster *cl)
{
	struct cl_wg *w = cl->wg;
	const struct fsm_member *me = fsm_member_find(cl->fsm, cl->self);
	Ntpmc__AppMsg m = NTPMC__APP_MSG__INIT;
	Ntpmc__CtlForward f = NTPMC__CTL_FORWARD__INIT;
	uint64_t leader = cl_leader_id(cl), now = cl_now(cl);
	char *args[1];

	if (!wgj_announce_needed(me, w->endpoint) || now < w->announce_at ||
	    !leader)
		return;
	w->announce_at = now + WG_RETRY_MS;  /* again until committed */
	if (leader == cl->self) {
		announce_put(cl, cl->self, w->endpoint, NULL);
		return;
	}
	if (!cl_addr_of(cl, leader))
		return;
	/* req_id 0: no answer is waited for, the committed record is */
	args[0] = w->endpoint;
	f.command = (char *)WG_ANNOUNCE_CMD;
	f.n_args = 1;
	f.args = args;
	m.version = 1;
	m.body_case = NTPMC__APP_MSG__BODY_CTL_FORWARD;
	m.ctl_forward = &f;
	cl_send_app(cl, leader, cl_addr_of(cl, leader), &m);
}

static void wg_chores(struct cluster *cl)
{
	struct cl_wg *w = cl->wg;

	if (!w)
		return;
	if (w->dirty || (w->failing && cl_now(cl) >= w->retry_at))
		wg_sync(cl);
	wg_member_listen(cl);
	if (cl->ready_done)
		announce(cl);
}

/* ---------------------------------------------------------------- */
/* mesh hashes in cluster status */

void cl_wg_fill_status(struct cluster *cl, Ntpmc__MemberStatus *s)
{
	if (!cl->wg || !cl->wg->has_applied)
		return;
	s->mesh_hash.data = cl->wg->applied;
	s->mesh_hash.len = WGM_HASH_LEN;
}

void cl_wg_status_seen(struct cluster *cl, uint64_t id,
		       const Ntpmc__MemberStatus *s)
{
	struct cl_wg *w = cl->wg;
	unsigned i;

	if (!w || s->mesh_hash.len != WGM_HASH_LEN)
		return;
	for (i = 0; i < w->n_seen; i++)
		if (w->seen[i].id == id)
			break;
	if (i == w->n_seen) {
		if (w->n_seen == CL_MAX_PEERS)
			return;
		w->n_seen++;
	}
	w->seen[i].id = id;
	memcpy(w->seen[i].hash, s->mesh_hash.data, WGM_HASH_LEN);
}

void cl_wg_mesh_of(struct cluster *cl, uint64_t id, char *out, size_t len)
{
	struct cl_wg *w = cl->wg;
	char hx[2 * WGM_HASH_LEN + 1];
	unsigned i;

	out[0] = 0;
	if (!w || len < 17)
		return;
	if (id == cl->self) {
		if (w->has_applied) {
			sodium_bin2hex(hx, sizeof(hx), w->applied, 8);
			cl_copy(out, len, hx);
		}
		return;
	}
	for (i = 0; i < w->n_seen; i++)
		if (w->seen[i].id == id) {
			sodium_bin2hex(hx, sizeof(hx), w->seen[i].hash, 8);
			cl_copy(out, len, hx);
		}
}

int cl_wg_dial_address(struct cluster *cl, uint64_t id, char *out,
		       size_t len)
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);
	char a[WGJ_HOSTPORT_MAX];

	if (!cl->wg || !m || wgj_dial_address(m, a) != 0)
		return -ENOENT;
	cl_copy(out, len, a);
	return 0;
}

/* ---------------------------------------------------------------- */
/* the module: its state exists only with `wireguard-interface`
 * (cl_wg_open, once the store is open) */

static int wg_init(struct cluster *cl)
{
	cl_observe(cl, wg_on_apply);
	return 0;
}

const struct cl_module cl_wg_module = {
	wg_init, wg_chores, wg_stop,
};
