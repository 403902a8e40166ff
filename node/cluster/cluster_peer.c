/*
 * cluster_peer: what this member knows of the others: when each was last
 * heard and the status it reported, and the boot record, the members'
 * ids, keys and addresses kept in the node-local table (a restarted
 * member must authenticate the leader before its log, replayed only up
 * to what the leader says is committed, names the members again).
 */
#include "node/cluster/cluster_int.h"

#include <errno.h>
#include <stdlib.h>

struct cl_boot_member {
	uint64_t id;
	uint8_t key[IDENT_PK_LEN];
	char address[TOKEN_ENDPOINT_MAX];
};

struct cl_peers {
	struct cl_peer peer[CL_MAX_PEERS];
	unsigned n_peer;
	struct cl_boot_member boot[CL_MAX_PEERS];
	unsigned n_boot;
	uint64_t boot_sum;         /* of the membership last saved */
};

#define BOOT_REC (8 + IDENT_PK_LEN + TOKEN_ENDPOINT_MAX)

struct cl_peer *cl_peer(struct cluster *cl, uint64_t id, int create)
{
	struct cl_peers *ps = cl->peers;
	unsigned i;

	for (i = 0; i < ps->n_peer; i++)
		if (ps->peer[i].id == id)
			return &ps->peer[i];
	if (!create || ps->n_peer == CL_MAX_PEERS)
		return NULL;
	memset(&ps->peer[ps->n_peer], 0, sizeof(ps->peer[0]));
	ps->peer[ps->n_peer].id = id;
	return &ps->peer[ps->n_peer++];
}

void cl_peer_heard(struct cluster *cl, uint64_t id)
{
	struct cl_peer *p = cl_peer(cl, id, 1);

	if (p)
		p->last_ms = cl_now(cl);
}

unsigned cl_election_ms(struct cluster *cl)
{
	const char *v = cl->fsm ? fsm_config_get(cl->fsm, "election-timeout") :
				  NULL;

	if (v)
		return (unsigned)atoi(v);
	return cl->conf->election_timeout_ms ? cl->conf->election_timeout_ms :
					       DRV_ELECTION_TIMEOUT_MS;
}

int cl_reachable(struct cluster *cl, uint64_t id)
{
	struct cl_peer *p;
	uint64_t lim = cl_election_ms(cl);

	if (id == cl->self)
		return 1;
	if (lim < 3 * CL_STATUS_EVERY_MS)
		lim = 3 * CL_STATUS_EVERY_MS;
	p = cl_peer(cl, id, 0);
	return p && p->last_ms && cl_now(cl) - p->last_ms <= lim;
}

/* ---------------------------------------------------------------- */
/* the boot record */

static int boot_save(struct cluster *cl)
{
	struct cl_peers *ps = cl->peers;
	uint8_t *buf, *p;
	unsigned i;
	int rc, k;

	buf = calloc(ps->n_boot ? ps->n_boot : 1, BOOT_REC);
	if (!buf)
		return -ENOMEM;
	for (i = 0, p = buf; i < ps->n_boot; i++, p += BOOT_REC) {
		for (k = 0; k < 8; k++)
			p[k] = (uint8_t)(ps->boot[i].id >> (56 - 8 * k));
		memcpy(p + 8, ps->boot[i].key, IDENT_PK_LEN);
		memcpy(p + 8 + IDENT_PK_LEN, ps->boot[i].address,
		       TOKEN_ENDPOINT_MAX);
	}
	rc = st_local_put(cl->st, CLUSTER_K_MEMBERS, buf,
			  (size_t)ps->n_boot * BOOT_REC);
	free(buf);
	return rc;
}

void cl_boot_load(struct cluster *cl)
{
	struct cl_peers *ps = cl->peers;
	void *buf = NULL;
	size_t len = 0, i;
	const uint8_t *p;
	int k;

	if (st_local_get(cl->st, CLUSTER_K_MEMBERS, &buf, &len) < 0)
		return;
	ps->n_boot = 0;
	for (i = 0, p = buf; i + BOOT_REC <= len && ps->n_boot < CL_MAX_PEERS;
	     i += BOOT_REC, p += BOOT_REC) {
		struct cl_boot_member *b = &ps->boot[ps->n_boot++];

		b->id = 0;
		for (k = 0; k < 8; k++)
			b->id = b->id << 8 | p[k];
		memcpy(b->key, p + 8, IDENT_PK_LEN);
		memcpy(b->address, p + 8 + IDENT_PK_LEN, TOKEN_ENDPOINT_MAX);
		b->address[TOKEN_ENDPOINT_MAX - 1] = 0;
	}
	free(buf);
}

/* Observer: saves the FSM's membership when it changed. */
static void boot_sync(struct cluster *cl)
{
	struct cl_peers *ps = cl->peers;
	unsigned i, n = fsm_member_count(cl->fsm);
	uint64_t sum = 1469598103934665603ULL;  /* FNV-1a over the set */
	unsigned k;

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);
		const uint8_t *b = (const uint8_t *)&m->id;

		for (k = 0; k < 8; k++)
			sum = (sum ^ b[k]) * 1099511628211ULL;
		for (k = 0; k < FSM_IDKEY_LEN; k++)
			sum = (sum ^ m->idkey[k]) * 1099511628211ULL;
		for (k = 0; m->address[k]; k++)
			sum = (sum ^ (uint8_t)m->address[k]) *
			      1099511628211ULL;
	}
	if (sum == ps->boot_sum)
		return;
	ps->n_boot = 0;
	for (i = 0; i < n && i < CL_MAX_PEERS; i++) {
		const struct fsm_member *m = fsm_member_at(cl->fsm, i);
		struct cl_boot_member *b = &ps->boot[ps->n_boot++];

		b->id = m->id;
		memcpy(b->key, m->idkey, IDENT_PK_LEN);
		cl_copy(b->address, sizeof(b->address), m->address);
	}
	if (boot_save(cl) == 0)
		ps->boot_sum = sum;
}

int cl_boot_from_reply(struct cluster *cl, const Ntpmc__JoinReply *jr)
{
	struct cl_peers *ps = cl->peers;
	size_t i;

	ps->n_boot = 0;
	for (i = 0; i < jr->n_member_ids && i < jr->n_member_keys &&
		    ps->n_boot < CL_MAX_PEERS; i++) {
		struct cl_boot_member *b = &ps->boot[ps->n_boot];

		if (jr->member_keys[i].len != IDENT_PK_LEN)
			continue;
		b->id = jr->member_ids[i];
		memcpy(b->key, jr->member_keys[i].data, IDENT_PK_LEN);
		cl_copy(b->address, sizeof(b->address),
			i < jr->n_member_addresses ? jr->member_addresses[i] :
			"");
		ps->n_boot++;
	}
	return boot_save(cl);
}

int cl_boot_key(struct cluster *cl, uint64_t id, uint8_t key[IDENT_PK_LEN])
{
	struct cl_peers *ps = cl->peers;
	unsigned i;

	for (i = 0; i < ps->n_boot; i++)
		if (ps->boot[i].id == id) {
			memcpy(key, ps->boot[i].key, IDENT_PK_LEN);
			return 0;
		}
	return -ENOENT;
}

const char *cl_member_address(struct cluster *cl, uint64_t id)
{
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);
	struct cl_peers *ps = cl->peers;
	unsigned i;

	if (m)
		return m->address;
	for (i = 0; i < ps->n_boot; i++)
		if (ps->boot[i].id == id)
			return ps->boot[i].address;
	return "";
}

void cl_boot_each(struct cluster *cl,
		  void (*fn)(struct cluster *cl, uint64_t id,
			     const char *address, void *arg), void *arg)
{
	struct cl_peers *ps = cl->peers;
	unsigned i;

	for (i = 0; i < ps->n_boot; i++)
		if (ps->boot[i].id != cl->self)
			fn(cl, ps->boot[i].id, ps->boot[i].address, arg);
}

/* ---------------------------------------------------------------- */
/* the module */

static int peers_init(struct cluster *cl)
{
	cl->peers = calloc(1, sizeof(*cl->peers));
	if (!cl->peers)
		return -1;
	cl_observe(cl, boot_sync);
	return 0;
}

static void peers_stop(struct cluster *cl)
{
	free(cl->peers);
	cl->peers = NULL;
}

const struct cl_module cl_peers_module = {
	peers_init, NULL, peers_stop,
};
