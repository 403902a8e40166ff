/* recover: force a new configuration offline after quorum loss. */
#include "node/cluster/offline/recover.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/cluster/cluster.h"
#include "node/cluster/offline/offline.h"
#include "storage/st_raft.h"

/* ---- inspect ---- */

struct scan {
	struct rcv_info *info;
	int found;
};

static int conf_fn(void *arg, uint64_t index, const struct st_entry *e)
{
	struct scan *s = arg;
	struct raft_buffer b = { (void *)e->buf, e->len };

	if (e->type != RAFT_CHANGE)
		return 0;
	raft_configuration_close(&s->info->conf);
	raft_configuration_init(&s->info->conf);
	if (raft_configuration_decode(&b, &s->info->conf) != 0)
		return -EIO;
	s->info->conf_index = index;
	s->found = 1;
	return 0;
}

static int replay_fn(void *arg, uint64_t index, const struct st_entry *e)
{
	struct rcv_info *info = arg;
	int result;

	/* For names only: a command this build cannot apply ends it. */
	if (e->type == RAFT_COMMAND &&
	    fsm_apply(info->fsm, index, e->buf, e->len, &result) != 0)
		return 1;
	return 0;
}

int rcv_inspect(struct st *st, struct rcv_info *info)
{
	struct scan sc = { info, 0 };
	struct st_snap s;
	void *mem = NULL;
	int rc, have_snap;

	memset(info, 0, sizeof(*info));
	raft_configuration_init(&info->conf);
	info->fsm = fsm_new();
	if (!info->fsm)
		return -ENOMEM;
	if (off_get_u64(st, CLUSTER_K_SELF, &info->self) < 0)
		return -ENOENT;
	rc = st_term_vote_get(st, &info->term, &info->vote);
	if (rc == 0)
		rc = st_log_range(st, &info->first, &info->last);
	if (rc != 0)
		return rc;
	rc = st_snap_get(st, &s, &mem);
	have_snap = rc == 0;
	if (rc != 0 && rc != -ENOENT)
		return rc;
	if (have_snap) {
		struct raft_buffer b = { (void *)s.conf, s.conf_len };

		info->last_index = s.index;
		info->last_term = s.term;
		info->conf_index = s.conf_index;
		sc.found = raft_configuration_decode(&b, &info->conf) == 0;
		if (fsm_restore(info->fsm, s.index, s.data, s.data_len) != 0)
			sc.found = 0;
		free(mem);
		if (!sc.found)
			return -EIO;
	}
	if (info->last) {
		info->last_index = info->last;
		info->last_term = st_log_term(st, info->last);
		rc = st_log_read(st, info->first,
				 (unsigned)(info->last - info->first + 1),
				 conf_fn, &sc);
		if (rc != 0)
			return rc;
		rc = st_log_read(st, info->first,
				 (unsigned)(info->last - info->first + 1),
				 replay_fn, info);
		if (rc < 0)
			return rc;
	}
	if (!sc.found || info->term == 0)
		return -ENOENT;
	return 0;
}

void rcv_info_close(struct rcv_info *info)
{
	raft_configuration_close(&info->conf);
	fsm_free(info->fsm);
	info->fsm = NULL;
}

/* ---- the voters ---- */

static const char *name_of(const struct rcv_info *info, uint64_t id)
{
	const struct fsm_member *m = fsm_member_find(info->fsm, id);

	return m && m->name[0] ? m->name : "?";
}

static uint64_t resolve(const struct rcv_info *info, const char *w)
{
	const struct raft_configuration *c = &info->conf;
	unsigned long long v;
	char *end;
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (strcmp(name_of(info, c->servers[i].id), w) == 0)
			return c->servers[i].id;
	if (*w < '0' || *w > '9')
		return 0;
	errno = 0;
	v = strtoull(w, &end, 10);
	if (errno || *end)
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->servers[i].id == v)
			return v;
	return 0;
}

int rcv_parse_voters(const struct rcv_info *info, const char *list,
		     uint64_t *ids, unsigned max, unsigned *n, char *err,
		     size_t errlen)
{
	char word[128];
	const char *p = list;
	unsigned i, self_in = 0;

	*n = 0;
	if (!list || !*list) {
		snprintf(err, errlen, "--voters is empty: name at least this "
			 "member");
		return -EINVAL;
	}
	while (*p) {
		size_t l = strcspn(p, ",");
		uint64_t id;

		if (l == 0 || l >= sizeof(word)) {
			snprintf(err, errlen, "--voters: %s word in '%s'",
				 l ? "overlong" : "empty", list);
			return -EINVAL;
		}
		memcpy(word, p, l);
		word[l] = 0;
		id = resolve(info, word);
		if (!id) {
			snprintf(err, errlen, "--voters: '%s' is not a member "
				 "of the last configuration (unknown id or "
				 "name; see recover --check)", word);
			return -EINVAL;
		}
		for (i = 0; i < *n; i++)
			if (ids[i] == id) {
				snprintf(err, errlen, "--voters: '%s' names "
					 "member %" PRIu64 " twice", word, id);
				return -EINVAL;
			}
		if (*n == max) {
			snprintf(err, errlen, "--voters: more than %u", max);
			return -EINVAL;
		}
		ids[(*n)++] = id;
		self_in |= id == info->self;
		p += l;
		if (*p == ',' && !*++p) {
			snprintf(err, errlen, "--voters: empty word at the "
				 "end of '%s'", list);
			return -EINVAL;
		}
	}
	if (!self_in) {
		snprintf(err, errlen, "--voters does not name this member "
			 "(%" PRIu64 ", %s): run recover on the members that "
			 "will be voters; wipe the others and join them again",
			 info->self, name_of(info, info->self));
		return -EINVAL;
	}
	return 0;
}

/* ---- the entry ---- */

int rcv_write(struct st *st, const struct rcv_info *info,
	      const uint64_t *ids, unsigned n, uint64_t *index,
	      uint64_t *term)
{
	const struct raft_configuration *c = &info->conf;
	struct raft_configuration nc;
	struct raft_buffer b = { NULL, 0 };
	struct st_entry e;
	unsigned i, k;
	int rc = 0;

	raft_configuration_init(&nc);
	for (i = 0; i < c->n && rc == 0; i++)
		for (k = 0; k < n; k++)
			if (c->servers[i].id == ids[k] &&
			    raft_configuration_add(&nc, ids[k],
						   c->servers[i].address,
						   RAFT_VOTER) != 0)
				rc = -ENOMEM;
	if (rc == 0 && nc.n != n)
		rc = -EINVAL;   /* rcv_parse_voters lets no such list by */
	if (rc == 0 && raft_configuration_encode(&nc, &b) != 0)
		rc = -ENOMEM;
	raft_configuration_close(&nc);
	if (rc != 0)
		return rc;
	*term = (info->term > info->last_term ? info->term :
		 info->last_term) + 1;
	*index = info->last_index + 1;
	e.term = *term;
	e.type = RAFT_CHANGE;
	e.buf = b.base;
	e.len = b.len;
	/* Term first: alone it is only a lost election. */
	rc = st_term_vote_put(st, *term, 0);
	if (rc == 0)
		rc = st_log_append(st, *index, &e, 1);
	if (rc == 0)
		rc = off_put_u64(st, CLUSTER_K_PRUNE, *index);
	raft_free(b.base);
	return rc;
}

/* ---- the command ---- */

static void print_info(const struct rcv_info *info)
{
	const struct raft_configuration *c = &info->conf;
	unsigned i;

	printf("member        %" PRIu64 " (%s)\n"
	       "last log      index %" PRIu64 ", term %" PRIu64 "\n"
	       "current term  %" PRIu64 "\n"
	       "configuration index %" PRIu64 ", %u member%s:\n",
	       info->self, name_of(info, info->self), info->last_index,
	       info->last_term, info->term, info->conf_index, c->n,
	       c->n == 1 ? "" : "s");
	for (i = 0; i < c->n; i++)
		printf("  %-20" PRIu64 " %-12s %-8s %s\n",
		       (uint64_t)c->servers[i].id,
		       name_of(info, c->servers[i].id),
		       raft_role_name(c->servers[i].role),
		       c->servers[i].address);
}

int recover_run(const struct cluster_conf *c, const char *config,
		int check, const char *voters, const char *at)
{
	uint64_t ids[RCV_MAX_VOTERS] = { 0 }, at_index = 0, at_term = 0, idx, term;
	struct rcv_info info;
	struct st *st = NULL;
	char err[256], tail;
	unsigned n = 0, i;
	int rc, ret = 1, lock = -1, have_info = 0;

	if (at && sscanf(at, "%" SCNu64 ":%" SCNu64 "%c", &at_index,
			 &at_term, &tail) != 2) {
		fprintf(stderr, "ntpnode recover: --at takes INDEX:TERM, as "
			"recover --check prints them\n");
		return 2;
	}
	if (access(c->datadir, F_OK) < 0) {
		fprintf(stderr, "ntpnode recover: datadir %s does not exist\n",
			c->datadir);
		goto out;
	}
	lock = off_lock("recover", c->datadir);
	if (lock < 0)
		goto out;
	rc = st_open(&st, c->datadir, c->mapsize);
	if (rc < 0) {
		fprintf(stderr, "ntpnode recover: cannot open the store in "
			"%s: %s\n", c->datadir, strerror(-rc));
		goto out;
	}
	rc = rcv_inspect(st, &info);
	have_info = 1;
	if (rc < 0) {
		fprintf(stderr, "ntpnode recover: %s holds no cluster member "
			"state (%s)\n", c->datadir, strerror(-rc));
		goto out;
	}
	print_info(&info);
	if (voters && rcv_parse_voters(&info, voters, ids, RCV_MAX_VOTERS, &n,
				       err, sizeof(err)) < 0) {
		fprintf(stderr, "ntpnode recover: refused: %s; nothing was "
			"changed\n", err);
		goto out;
	}
	if (n > 1 && !at) {
		fprintf(stderr, "ntpnode recover: refused: %u voters named: "
			"run recover --check on each of them and pass the last "
			"index:term they all print as --at INDEX:TERM (if they "
			"differ, recover the most up-to-date one alone); "
			"nothing was changed\n", n);
		goto out;
	}
	if (at && (at_index != info.last_index || at_term != info.last_term)) {
		fprintf(stderr, "ntpnode recover: refused: this member's log "
			"ends at %" PRIu64 ":%" PRIu64 ", not at --at %" PRIu64
			":%" PRIu64 ": the named voters are not "
			"offline-consistent; nothing was changed\n",
			info.last_index, info.last_term, at_index, at_term);
		goto out;
	}
	if (check) {
		if (n)
			printf("check only: --voters %s is acceptable here; "
			       "nothing was changed\n", voters);
		ret = 0;
		goto out;
	}
	rc = rcv_write(st, &info, ids, n, &idx, &term);
	if (rc < 0) {
		fprintf(stderr, "ntpnode recover: writing the configuration "
			"failed: %s\n", strerror(-rc));
		goto out;
	}
	printf("recovered: configuration entry %" PRIu64 " (term %" PRIu64
	       ") with %u voter%s:", idx, term, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		printf(" %" PRIu64 " (%s)", ids[i], name_of(&info, ids[i]));
	printf("\nremoved:");
	for (i = 0; i < info.conf.n; i++) {
		unsigned k;

		for (k = 0; k < n && ids[k] != info.conf.servers[i].id; k++)
			;
		if (k == n)
			printf(" %" PRIu64 " (%s)",
			       (uint64_t)info.conf.servers[i].id,
			       name_of(&info, info.conf.servers[i].id));
	}
	printf("\nnext: start it (ntpnode run -c %s, or systemctl start "
	       "ntpnode); never start a removed member on its old datadir: "
	       "wipe it and join it again with a new token\n", config);
	ret = 0;
out:
	if (have_info)
		rcv_info_close(&info);
	if (st)
		st_close(st);
	if (lock >= 0)
		close(lock);
	return ret;
}
