/* restore: seed a new single-member cluster from a backup (restore.h). */
#include "node/cluster/offline/restore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <raft.h>
#include <sodium.h>

#include "node/cluster/cluster.h"
#include "node/cluster/offline/offline.h"
#include "raft/driver.h"
#include "raft/fsm.h"
#include "raft/transport/token.h"
#include "storage/st_raft.h"

_Static_assert(RST_CLUSTER_ID_LEN == TOKEN_CLUSTER_ID_LEN, "cluster id");

static int unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (i = 0; i < 2 * n; i++) {
		int v = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
			s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

static int holds_cluster(struct st *st)
{
	void *buf = NULL;
	size_t len;

	if (st_local_get(st, CLUSTER_K_CLUSTER_ID, &buf, &len) == 0 ||
	    st_local_get(st, CLUSTER_K_JOINING, &buf, &len) == 0) {
		free(buf);
		return 1;
	}
	return drv_has_state(st);
}

int rst_seed(struct st *st, const struct bk_meta *m, const void *state,
	     size_t len, uint64_t self, const char *address)
{
	uint8_t id[RST_CLUSTER_ID_LEN];
	struct raft_configuration conf;
	struct raft_buffer cb = { NULL, 0 };
	struct st_snap s;
	uint64_t index = m->index ? m->index : 1;
	int rc;

	if (unhex(m->cluster_id, id, sizeof(id)) < 0 || self == 0)
		return -EINVAL;
	if (holds_cluster(st))
		return -EEXIST;
	raft_configuration_init(&conf);
	if (raft_configuration_add(&conf, self, address, RAFT_VOTER) != 0 ||
	    raft_configuration_encode(&conf, &cb) != 0) {
		raft_configuration_close(&conf);
		return -ENOMEM;
	}
	raft_configuration_close(&conf);
	memset(&s, 0, sizeof(s));
	s.index = index;
	s.term = 1;
	s.conf_index = index;
	s.conf = cb.base;
	s.conf_len = cb.len;
	s.data = state;
	s.data_len = len;
	/* The cluster id last, as init does: an interrupted restore leaves a
	 * datadir that `run` refuses and a second restore names. */
	rc = off_put_u64(st, CLUSTER_K_SELF, self);
	if (rc == 0)
		rc = st_snap_put(st, &s, 0);
	if (rc == 0)
		rc = st_term_vote_put(st, 1, 0);
	if (rc == 0)
		rc = off_put_u64(st, CLUSTER_K_PRUNE, index);
	if (rc == 0)
		rc = st_local_put(st, CLUSTER_K_CLUSTER_ID, id, sizeof(id));
	raft_free(cb.base);
	return rc;
}

static void hash_hex(const struct fsm *f, char out[2 * FSM_HASH_LEN + 1])
{
	unsigned char h[FSM_HASH_LEN];

	out[0] = 0;
	if (fsm_hash(f, h) == 0)
		sodium_bin2hex(out, 2 * FSM_HASH_LEN + 1, h, sizeof(h));
}

/* The hash of the FSM as a start will load it: from the stored snapshot. */
static int stored_hash(struct st *st, char out[2 * FSM_HASH_LEN + 1])
{
	struct fsm *f = fsm_new();
	struct st_snap s;
	void *mem = NULL;
	int rc = f ? st_snap_get(st, &s, &mem) : -ENOMEM;

	if (rc == 0)
		rc = fsm_restore(f, s.index, s.data, s.data_len);
	if (rc == 0)
		hash_hex(f, out);
	free(mem);
	fsm_free(f);
	return rc;
}

static uint64_t new_id(void)
{
	uint64_t id;

	do
		randombytes_buf(&id, sizeof(id));
	while (id == 0 || id >> 63);    /* as cluster.c: positive in JSON */
	return id;
}

int restore_run(const struct cluster_conf *c, const char *config,
		const char *from)
{
	char address[TOKEN_ENDPOINT_MAX], h_backup[2 * FSM_HASH_LEN + 1];
	char h_store[2 * FSM_HASH_LEN + 1] = "";
	const char *why = "";
	struct fsm *f = NULL;
	struct st *st = NULL;
	struct bk_meta m;
	const void *state;
	void *file = NULL;
	size_t flen, slen;
	uint64_t self;
	int rc, ret = 1, lock = -1;

	if (sodium_init() < 0)
		return 1;
	/* 1. The backup, completely, before anything is touched. */
	rc = off_read_file(from, BK_MAX_STATE + 4096, &file, &flen);
	if (rc < 0) {
		fprintf(stderr, "ntpnode restore: %s: %s\n", from,
			rc == -EFBIG ? "larger than any backup" :
			strerror(-rc));
		goto out;
	}
	rc = bk_decode(file, flen, &m, &state, &slen, &why);
	if (rc < 0) {
		fprintf(stderr, "ntpnode restore: %s: refused: %s; nothing "
			"was changed\n", from, why);
		goto out;
	}
	f = fsm_new();
	if (!f || fsm_restore(f, m.index, state, slen) != 0) {
		fprintf(stderr, "ntpnode restore: %s: refused: its state does "
			"not decode with this build; nothing was changed\n",
			from);
		goto out;
	}
	hash_hex(f, h_backup);
	if (strlen(m.cluster_id) != 2 * RST_CLUSTER_ID_LEN ||
	    strspn(m.cluster_id, "0123456789abcdef") !=
		    2 * RST_CLUSTER_ID_LEN) {
		fprintf(stderr, "ntpnode restore: %s: refused: cluster id "
			"'%s' is not an NTP-MC cluster id; nothing was "
			"changed\n", from, m.cluster_id);
		goto out;
	}
	/* 2. The datadir. */
	if (!c->listen_set) {
		fprintf(stderr, "ntpnode restore: %s: restore needs "
			"cluster-listen (and cluster-advertise)\n", config);
		goto out;
	}
	if (access(c->datadir, F_OK) < 0 && mkdir(c->datadir, 0750) < 0) {
		fprintf(stderr, "ntpnode restore: cannot create %s: %s\n",
			c->datadir, strerror(errno));
		goto out;
	}
	lock = off_lock("restore", c->datadir);
	if (lock < 0)
		goto out;
	rc = st_open(&st, c->datadir, c->mapsize);
	if (rc < 0) {
		fprintf(stderr, "ntpnode restore: cannot open the store in "
			"%s: %s\n", c->datadir, strerror(-rc));
		goto out;
	}
	if (holds_cluster(st)) {
		char own[2 * RST_CLUSTER_ID_LEN + 1] = "";
		void *id = NULL;
		size_t idl = 0;

		if (st_local_get(st, CLUSTER_K_CLUSTER_ID, &id, &idl) == 0 &&
		    idl == RST_CLUSTER_ID_LEN)
			sodium_bin2hex(own, sizeof(own), id, idl);
		free(id);
		if (own[0] && bk_check_cluster(&m, own) != 0)
			fprintf(stderr, "ntpnode restore: %s: refused: the "
				"backup is of another cluster (%s) than the "
				"one %s holds (%s); nothing was changed\n",
				from, m.cluster_id, c->datadir, own);
		else
			fprintf(stderr, "ntpnode restore: %s already holds a "
				"cluster%s: restore seeds an EMPTY datadir "
				"(move it away first); nothing was changed\n",
				c->datadir, own[0] ? "" :
				" (or a join in progress)");
		goto out;
	}
	/* 3. The new cluster. */
	cluster_advertise(c, address, sizeof(address));
	self = new_id();
	rc = rst_seed(st, &m, state, slen, self, address);
	if (rc < 0) {
		fprintf(stderr, "ntpnode restore: writing %s failed: %s\n",
			c->datadir, strerror(-rc));
		goto out;
	}
	if (stored_hash(st, h_store) < 0 || strcmp(h_store, h_backup) != 0) {
		fprintf(stderr, "ntpnode restore: the stored state does not "
			"read back as the backup's (%s vs %s)\n", h_store,
			h_backup);
		goto out;
	}
	printf("restored cluster %s from %s\n"
	       "backup     index %" PRIu64 " (term %" PRIu64 "), %zu "
	       "bytes of state\n"
	       "member     %" PRIu64 " (%s) at %s, the only voter; new raft "
	       "history from index %" PRIu64 "\n"
	       "state hash %s (backup)\n"
	       "state hash %s (restored datadir %s)\n"
	       "next: start it (ntpnode run -c %s, or systemctl start "
	       "ntpnode); it removes the old members and tokens at its "
	       "first start; then ntpctl token create + ntpnode join for "
	       "each new member\n",
	       m.cluster_id, from, m.index, m.term, slen, self, c->node_name,
	       address, m.index ? m.index : 1, h_backup, h_store, c->datadir,
	       config);
	ret = 0;
out:
	if (st)
		st_close(st);
	if (lock >= 0)
		close(lock);
	fsm_free(f);
	free(file);
	return ret;
}
