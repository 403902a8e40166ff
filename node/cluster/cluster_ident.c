/*
 * cluster_ident: what the datadir says this node is (cluster id, raft id;
 * init / join / run decide what may happen to it), the identity key
 * store, the endpoint members dial, and the handshake's trust callbacks
 * (which identity keys and join tokens the transport accepts).
 */
#include "node/cluster/cluster_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/base/hostport.h"
#include "node/base/log.h"

static int st_get_cb(void *ctx, const char *key, void **buf, size_t *len)
{
	return st_local_get(ctx, key, buf, len);
}

static int st_put_cb(void *ctx, const char *key, const void *buf, size_t len)
{
	return st_local_put(ctx, key, buf, len);
}

void cl_ident_store(struct cluster *cl, struct ident_store *is)
{
	is->get = st_get_cb;
	is->put = st_put_cb;
	is->ctx = cl->st;
}

int cl_trust_member_key(void *ctx, uint64_t id,
			uint8_t pk[IDENT_PK_LEN])
{
	struct cluster *cl = ctx;
	const struct fsm_member *m = fsm_member_find(cl->fsm, id);

	if (m) {
		memcpy(pk, m->idkey, IDENT_PK_LEN);
		return 0;
	}
	/* A fresh joiner: its log does not name the members yet. */
	if (fsm_member_count(cl->fsm) == 0)
		return cl_boot_key(cl, id, pk);
	return -ENOENT;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * The state of a token for one joiner, from the FSM, before any signature
 * is made for it: a used-up token admits only the identities it is bound
 * to (their retry), a revoked or expired one nobody. Tokens of the older
 * format (a MAC key, no public key) are unknown to this release.
 */
enum hs_token_state cl_trust_token(void *ctx, const uint8_t id[TOKEN_ID_LEN],
				   const uint8_t joiner[IDENT_PK_LEN],
				   uint8_t pk[TOKEN_PK_LEN])
{
	struct cluster *cl = ctx;
	uint64_t want = token_id_u64(id), now = cl_wall_ms();
	unsigned i, j;

	for (i = 0; i < fsm_token_count(cl->fsm); i++) {
		const struct fsm_token *t = fsm_token_at(cl->fsm, i);

		if (t->id != want || !t->has_pubkey)
			continue;
		memcpy(pk, t->pubkey, TOKEN_PK_LEN);
		if (t->revoked)
			return HS_TOKEN_REVOKED;
		if (now >= t->expires_ms)
			return HS_TOKEN_EXPIRED;
		for (j = 0; j < t->n_bound; j++)
			if (memcmp(t->bound[j], joiner, IDENT_PK_LEN) == 0)
				return HS_TOKEN_LIVE;
		return t->uses_left ? HS_TOKEN_LIVE : HS_TOKEN_USED;
	}
	return HS_TOKEN_UNKNOWN;
}

static int load_u64(struct st *st, const char *key, uint64_t *out)
{
	void *buf = NULL;
	size_t len = 0;
	int rc = st_local_get(st, key, &buf, &len);

	if (rc == 0 && len == 8)
		*out = be64(buf);
	else if (rc == 0)
		rc = -EINVAL;
	free(buf);
	return rc;
}

static int store_u64(struct st *st, const char *key, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	return st_local_put(st, key, b, sizeof(b));
}

static int load_blob(struct st *st, const char *key, void *out, size_t want)
{
	void *buf = NULL;
	size_t len = 0;
	int rc = st_local_get(st, key, &buf, &len);

	if (rc == 0 && len == want)
		memcpy(out, buf, want);
	else if (rc == 0)
		rc = -EINVAL;
	free(buf);
	return rc;
}

static uint64_t random_id(void)
{
	uint64_t id;

	do
		randombytes_buf(&id, sizeof(id));
	while (id == 0 || id >> 63);  /* positive in every language's JSON */
	return id;
}

/* Datadir state and the mode decide what happens. */
int cl_prepare_identity(struct cluster *cl, const char *token)
{
	const struct cluster_conf *c = cl->conf;
	int has_cluster, joining, rc;

	has_cluster = load_blob(cl->st, CLUSTER_K_CLUSTER_ID, cl->cluster_id,
				sizeof(cl->cluster_id)) == 0;
	joining = !has_cluster &&
		  load_blob(cl->st, CLUSTER_K_JOINING, cl->cluster_id,
			    sizeof(cl->cluster_id)) == 0;
	switch (cl->mode) {
	case CLUSTER_INIT:
		if (has_cluster || joining || drv_has_state(cl->st)) {
			log_err("%s already holds a cluster: refusing to init "
				"over it (use `ntpnode run`)", c->datadir);
			return -1;
		}
		randombytes_buf(cl->cluster_id, sizeof(cl->cluster_id));
		cl->self = random_id();
		if (store_u64(cl->st, CLUSTER_K_SELF, cl->self) < 0)
			goto store_err;
		rc = drv_bootstrap(cl->st, cl->self, cl->address);
		if (rc < 0) {
			log_err("init: cannot bootstrap the raft log (%d)", rc);
			return -1;
		}
		/* Written last: a crash before this leaves no half cluster
		 * that run would start. */
		if (st_local_put(cl->st, CLUSTER_K_CLUSTER_ID, cl->cluster_id,
				 sizeof(cl->cluster_id)) < 0)
			goto store_err;
		break;
	case CLUSTER_JOIN:
		if (has_cluster) {
			log_err("%s already holds a cluster: refusing to join "
				"(use `ntpnode run`)", c->datadir);
			return -1;
		}
		rc = token_parse(token, &cl->join_tok);
		if (rc == -EPROTO) {
			log_err("join: this token has the older format (before "
				"key-pair tokens): create a new one with "
				"`ntpctl token create` on a member running this "
				"release");
			return -1;
		}
		if (rc < 0) {
			log_err("join: the token is not a valid join token");
			return -1;
		}
		/* Judged by our clock only once it is synchronized: a new
		 * VM's clock may be far off, and the members judge anyway. */
		if (token_check_expiry(cl->join_tok,
				       cl_wall_ms() / 1000) < 0) {
			if (cl_clock_synced()) {
				log_err("join: the token expired; ask for a "
					"new one (ntpctl token create)");
				return -1;
			}
			log_warnx("join: by this node's clock, which is not "
				  "synchronized yet, the token has expired; "
				  "trying anyway (the members judge it)");
		}
		if (joining && memcmp(cl->cluster_id, cl->join_tok->cluster_id,
				      sizeof(cl->cluster_id)) != 0) {
			log_err("%s is joining another cluster", c->datadir);
			return -1;
		}
		memcpy(cl->cluster_id, cl->join_tok->cluster_id,
		       sizeof(cl->cluster_id));
		/* A retried join keeps its id and key, so a token it already
		 * consumed still admits it. */
		if (!joining || load_u64(cl->st, CLUSTER_K_SELF, &cl->self) < 0) {
			cl->self = random_id();
			if (store_u64(cl->st, CLUSTER_K_SELF, cl->self) < 0 ||
			    st_local_put(cl->st, CLUSTER_K_JOINING, cl->cluster_id,
					 sizeof(cl->cluster_id)) < 0)
				goto store_err;
		}
		break;
	case CLUSTER_RUN:
		if (!has_cluster) {
			log_err("%s holds no cluster: run `ntpnode init` or "
				"`ntpnode join` first (or remove cluster-listen "
				"to serve standalone)", c->datadir);
			return -1;
		}
		if (load_u64(cl->st, CLUSTER_K_SELF, &cl->self) < 0)
			goto store_err;
		break;
	}
	sodium_bin2hex(cl->cluster_id_hex, sizeof(cl->cluster_id_hex),
		       cl->cluster_id, sizeof(cl->cluster_id));
	return 0;
store_err:
	log_err("cannot write the node-local table in %s", c->datadir);
	return -1;
}

/* The endpoint members dial: cluster-advertise ("host[:port]"), else the
 * cluster-listen address; the port defaults to cluster-listen's. */
void cluster_advertise(const struct cluster_conf *c, char *out, size_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)
					    &c->listen.addr;
	unsigned listen_port = ntohs(sa->sa_family == AF_INET6 ?
		((const struct sockaddr_in6 *)sa)->sin6_port :
		((const struct sockaddr_in *)sa)->sin_port), port;
	char host[sizeof(c->advertise)];

	if (!c->advertise[0]) {
		hostport_from_sa(sa, out, len);
		return;
	}
	/* the config parser wrote it: it splits */
	if (hostport_split(c->advertise, host, sizeof(host), &port) < 0 ||
	    hostport_join(host, port ? port : listen_port, out, len) < 0)
		out[0] = 0;
}
