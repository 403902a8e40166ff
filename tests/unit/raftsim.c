/*
 * raftsim: the simulation harness. Deterministic simulation of a raft cluster: several drivers (the real
 * raft/driver*.c, the real LMDB storage in temp dirs, the real FSM) in one
 * process on a simulated network and a virtual clock, under seeded faults:
 * partitions, drops, reordering delays, kills and restarts with storage
 * kept. Invariants checked:
 *  - at most one leader per term (after every event);
 *  - state machine safety: every member applies the same command at the
 *    same index (checked at every apply, across restarts);
 *  - durability before send: every message a node sends is backed by what
 *    is already committed in its LMDB (term, vote, entries acknowledged);
 *  - after healing: every acknowledged command is applied on every member,
 *    identical FSM state hash everywhere, log matching on what is stored.
 *
 * Default run: NTPMC_SIM_SEEDS (3) seeds x NTPMC_SIM_STEPS (80) fault
 * steps. tests/bench/raft-soak.sh runs many more.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <raft.h>
#include <sodium.h>

#include "raft/adapter.h"
#include "raft/driver.h"
#include "raft/fsm.h"
#include "storage/st_raft.h"

#include "tests/unit/raftsim.h"

uint64_t rnd(struct sim *s)
{
	/* xorshift64* */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

unsigned rndn(struct sim *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static raft_time sim_now(void *data)
{
	return ((struct sim *)data)->now;
}

/* ---- durability shim: what a node sends must already be on disk ---- */

static uint64_t msg_term(const struct raft_message *m)
{
	switch (m->type) {
	case RAFT_APPEND_ENTRIES:
		return m->append_entries.term;
	case RAFT_APPEND_ENTRIES_RESULT:
		return m->append_entries_result.term;
	case RAFT_REQUEST_VOTE:
		return m->request_vote.term;
	case RAFT_REQUEST_VOTE_RESULT:
		return m->request_vote_result.term;
	case RAFT_INSTALL_SNAPSHOT:
		return m->install_snapshot.term;
	case RAFT_TIMEOUT_NOW:
		return m->timeout_now.term;
	}
	return 0;
}

static void check_durable(struct node *nd, raft_id to,
			  const struct raft_message *m)
{
	uint64_t term, vote, first, last;
	struct st_snap snap;
	void *mem;

	assert_int_equal(st_term_vote_get(nd->st, &term, &vote), 0);
	/* Pre-vote requests and their answers carry term+1 without anyone
	 * persisting it (thesis 9.6): that is the point of pre-vote. */
	if (!(m->type == RAFT_REQUEST_VOTE && m->request_vote.pre_vote) &&
	    !(m->type == RAFT_REQUEST_VOTE_RESULT &&
	      m->request_vote_result.pre_vote))
		assert_true(msg_term(m) <= term);
	if (m->type == RAFT_REQUEST_VOTE && !m->request_vote.pre_vote) {
		assert_true(term == m->request_vote.term);
		assert_true(vote == nd->id);
	}
	if (m->type == RAFT_REQUEST_VOTE_RESULT &&
	    m->request_vote_result.vote_granted &&
	    !m->request_vote_result.pre_vote) {
		assert_true(vote == to);
	}
	if (m->type == RAFT_APPEND_ENTRIES_RESULT &&
	    m->append_entries_result.rejected == 0) {
		uint64_t have;

		assert_int_equal(st_log_range(nd->st, &first, &last), 0);
		have = last;
		if (st_snap_get(nd->st, &snap, &mem) == 0) {
			if (snap.index > have)
				have = snap.index;
			free(mem);
		}
		assert_true(m->append_entries_result.last_log_index <= have);
	}
	nd->sim->durability_checks++;
}

/* ---- network ---- */

static int sim_send(struct rtr *t, raft_id id, const char *address,
		    const struct raft_message *msg)
{
	struct node *nd = (struct node *)((char *)t - offsetof(struct node, tr));
	struct sim *s = nd->sim;
	struct inflight *f;

	assert_true(id >= 1 && id <= s->n);
	assert_non_null(address);
	check_durable(nd, id, msg);
	if (s->group[nd->id - 1] != s->group[id - 1] ||
	    rndn(s, 100) < s->drop_pct || s->n_msgs == MSG_MAX) {
		s->dropped++;
		return 0;
	}
	f = &s->msgs[s->n_msgs];
	if (rad_msg_copy(msg, &f->m) != 0)
		return -ENOMEM;
	s->n_msgs++;
	f->m.server_id = nd->id;
	f->m.server_address = nd->addr;
	f->from = nd->id;
	f->to = (unsigned)id;
	f->at = s->now + 1 + rndn(s, s->delay_max);
	f->seq = s->msg_seq++;
	return 0;
}

/* ---- apply hook: state machine safety and acknowledgements ---- */

static void on_apply(void *data, uint64_t index, uint64_t term,
		     const void *buf, size_t len, int result)
{
	struct node *nd = data;
	struct sim *s = nd->sim;
	unsigned char h[32];
	unsigned i;

	assert_true(index < HIST_MAX);
	crypto_generichash(h, sizeof(h), buf, len, (const void *)&term,
			   sizeof(term));
	if (s->hist_set[index])
		assert_memory_equal(s->hist[index], h, 32);
	else {
		memcpy(s->hist[index], h, 32);
		s->hist_set[index] = 1;
	}
	for (i = 0; i < s->n_pend; i++) {
		struct pending *p = &s->pend[i];

		if (p->node == nd->id && p->index == index &&
		    p->term == term && !p->acked) {
			assert_memory_equal(p->hash, h, 32);
			p->acked = 1;
			s->acked++;
		}
	}
}

/* ---- node life ---- */

void node_start(struct node *nd)
{
	struct drv_config c;

	assert_int_equal(st_open(&nd->st, nd->dir, nd->sim->mapsize), 0);
	nd->fsm = fsm_new();
	assert_non_null(nd->fsm);
	memset(&nd->tr, 0, sizeof(nd->tr));
	nd->tr.send = sim_send;
	memset(&c, 0, sizeof(c));
	c.id = nd->id;
	c.address = nd->addr;
	c.st = nd->st;
	c.tr = &nd->tr;
	c.fsm = nd->fsm;
	c.now = sim_now;
	c.now_data = nd->sim;
	c.seed = (unsigned)rnd(nd->sim);
	c.snapshot_threshold = nd->sim->snap_threshold ? nd->sim->snap_threshold : 16;
	c.snapshot_trailing = nd->sim->snap_trailing ? nd->sim->snap_trailing : 4;
	c.capacity_min_kib = nd->sim->capacity_min_kib;
	c.on_apply = on_apply;
	c.cb_data = nd;
	assert_int_equal(drv_open(&nd->drv, &c), 0);
	nd->up = 1;
	nd->last_tick = 0;
}

void node_stop(struct node *nd)
{
	struct drv_stats st;
	unsigned i;

	drv_get_stats(nd->drv, &st);
	nd->sim->snap_taken += st.snapshots_taken;
	nd->sim->snap_installed += st.snapshots_installed;

	drv_close(nd->drv);
	fsm_free(nd->fsm);
	st_close(nd->st);
	nd->drv = NULL;
	nd->up = 0;
	/* A dead node's unacknowledged submissions are simply lost. */
	for (i = 0; i < nd->sim->n_pend; i++)
		if (nd->sim->pend[i].node == nd->id)
			nd->sim->pend[i].node = 0;
}

void sim_init_n(struct sim *s, uint64_t seed, unsigned n_boot, unsigned n)
{
	struct raft_configuration conf;
	/* tmpfs by default: fsync is cheap there and the durability checks
	 * are logical (a committed LMDB txn), not timing-based. */
	const char *base = getenv("NTPMC_SIM_DIR") != NULL ?
			   getenv("NTPMC_SIM_DIR") :
			   access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	unsigned i;

	size_t mapsize = s->mapsize;
	unsigned cap = s->capacity_min_kib, thr = s->snap_threshold;
	unsigned trl = s->snap_trailing;

	memset(s, 0, sizeof(*s));
	s->mapsize = mapsize;
	s->capacity_min_kib = cap;
	s->snap_threshold = thr;
	s->snap_trailing = trl;
	s->rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	s->now = 1000;
	s->n = n;
	s->delay_max = 10;
	s->msgs = calloc(MSG_MAX, sizeof(*s->msgs));
	s->leader_of_term = calloc(TERM_MAX, sizeof(unsigned));
	s->hist = calloc(HIST_MAX, 32);
	s->hist_set = calloc(HIST_MAX, 1);
	assert_true(s->msgs && s->leader_of_term && s->hist && s->hist_set);
	raft_configuration_init(&conf);
	for (i = 0; i < n; i++) {
		struct node *nd = &s->nodes[i];

		nd->sim = s;
		nd->id = i + 1;
		snprintf(nd->addr, sizeof(nd->addr), "n%u", nd->id);
		snprintf(nd->dir, sizeof(nd->dir), "%s/ntpmc-sim-XXXXXX", base);
		assert_non_null(mkdtemp(nd->dir));
		if (i < n_boot)
			assert_int_equal(raft_configuration_add(&conf, nd->id,
						nd->addr, RAFT_VOTER), 0);
	}
	for (i = 0; i < n; i++) {
		struct node *nd = &s->nodes[i];
		struct st *st;

		if (i < n_boot) {
			assert_int_equal(st_open(&st, nd->dir, 0), 0);
			assert_int_equal(drv_bootstrap_conf(st, &conf), 0);
			assert_int_equal(drv_bootstrap_conf(st, &conf),
					 -EEXIST);
			st_close(st);
		}
		node_start(nd);
	}
	raft_configuration_close(&conf);
}

void sim_init(struct sim *s, uint64_t seed, unsigned n)
{
	sim_init_n(s, seed, n, n);
}

void sim_free(struct sim *s)
{
	char cmd[160];
	unsigned i;

	for (i = 0; i < s->n_msgs; i++)
		rad_msg_free(&s->msgs[i].m);
	for (i = 0; i < s->n; i++) {
		if (s->nodes[i].up)
			node_stop(&s->nodes[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->nodes[i].dir);
		assert_int_equal(system(cmd), 0);
	}
	free(s->msgs);
	free(s->leader_of_term);
	free(s->hist);
	free(s->hist_set);
	free(s->pend);
}

/* ---- running ---- */

static void check_leaders(struct sim *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];
		struct raft *r;
		raft_term t;

		if (!nd->up)
			continue;
		assert_int_equal(drv_failed(nd->drv), 0);
		r = drv_raft(nd->drv);
		if (raft_state(r) != RAFT_LEADER)
			continue;
		t = raft_current_term(r);
		assert_true(t < TERM_MAX);
		if (s->leader_of_term[t] == 0) {
			s->leader_of_term[t] = nd->id;
			s->leaders++;
		}
		/* Election safety (thesis fig. 3.2). */
		assert_int_equal(s->leader_of_term[t], nd->id);
	}
}

void deliver(struct sim *s, unsigned k)
{
	struct inflight f = s->msgs[k];
	struct node *to = &s->nodes[f.to - 1];

	s->msgs[k] = s->msgs[--s->n_msgs];
	if (!to->up || s->group[f.from - 1] != s->group[f.to - 1]) {
		rad_msg_free(&f.m);
		s->dropped++;
		return;
	}
	s->delivered++;
	to->tr.recv(to->tr.owner, &f.m);
}

void run_until(struct sim *s, raft_time until)
{
	for (;;) {
		raft_time best = UINT64_MAX;
		int kind = -1;		/* 0: message, 1: tick */
		unsigned who = 0, i;
		uint64_t best_seq = UINT64_MAX;

		for (i = 0; i < s->n_msgs; i++) {
			if (s->msgs[i].at < best ||
			    (s->msgs[i].at == best && s->msgs[i].seq < best_seq)) {
				best = s->msgs[i].at;
				best_seq = s->msgs[i].seq;
				kind = 0;
				who = i;
			}
		}
		for (i = 0; i < s->n; i++) {
			struct node *nd = &s->nodes[i];
			raft_time t;

			if (!nd->up)
				continue;
			t = drv_next_timeout(nd->drv);
			if (t <= nd->last_tick)
				t = nd->last_tick + 1;
			if (t < best) {
				best = t;
				kind = 1;
				who = i;
			}
		}
		if (kind < 0 || best > until) {
			s->now = until;
			return;
		}
		if (best > s->now)
			s->now = best;
		if (kind == 0) {
			deliver(s, who);
		} else {
			s->nodes[who].last_tick = s->now;
			drv_tick(s->nodes[who].drv);
		}
		check_leaders(s);
	}
}

struct node *find_leader(struct sim *s)
{
	struct node *best = NULL;
	unsigned i;

	for (i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];

		if (nd->up && raft_state(drv_raft(nd->drv)) == RAFT_LEADER &&
		    (best == NULL || raft_current_term(drv_raft(nd->drv)) >
				     raft_current_term(drv_raft(best->drv))))
			best = nd;
	}
	return best;
}

int submit(struct sim *s, struct node *nd)
{
	char key[16], val[32];
	struct pending *p;
	uint64_t index, term;
	void *buf;
	size_t len;
	int rc;

	snprintf(key, sizeof(key), "k%u", s->cmd_seq % 40);
	snprintf(val, sizeof(val), "v%u", s->cmd_seq);
	s->cmd_seq++;
	assert_int_equal(fsm_cmd_config_set(key, val, s->now, &buf, &len), 0);
	/* Recorded before submitting: a single voter commits and applies
	 * inside drv_submit() already. */
	if (s->n_pend == s->cap_pend) {
		s->cap_pend = s->cap_pend ? 2 * s->cap_pend : 256;
		s->pend = realloc(s->pend, s->cap_pend * sizeof(*p));
		assert_non_null(s->pend);
	}
	p = &s->pend[s->n_pend++];
	memset(p, 0, sizeof(*p));
	p->node = nd->id;
	p->index = raft_last_index(drv_raft(nd->drv)) + 1;
	p->term = raft_current_term(drv_raft(nd->drv));
	crypto_generichash(p->hash, 32, buf, len, (const void *)&p->term,
			   sizeof(p->term));
	rc = drv_submit(nd->drv, buf, len, &index, &term);
	if (rc == 0) {
		p = &s->pend[s->n_pend - 1];
		assert_true(p->index == index && p->term == term);
	} else {
		assert_false(s->pend[s->n_pend - 1].acked);
		s->n_pend--;
		assert_true(rc == RAFT_NOTLEADER || rc == RAFT_NOSPACE);
	}
	free(buf);
	return rc;
}

void heal_and_check(struct sim *s)
{
	unsigned char h0[FSM_HASH_LEN], h[FSM_HASH_LEN];
	uint64_t max_acked = 0, target = 0;
	struct node *l = NULL;
	unsigned i, j, tries;

	memset(s->group, 0, sizeof(s->group));
	s->drop_pct = 0;
	s->delay_max = 10;
	for (i = 0; i < s->n; i++)
		if (!s->nodes[i].up)
			node_start(&s->nodes[i]);
	/* A final command in the newest term makes everything before it
	 * committed everywhere (thesis 3.6.2). */
	for (tries = 0; tries < 40 && target == 0; tries++) {
		run_until(s, s->now + 500);
		l = find_leader(s);
		if (l != NULL) {
			uint64_t index, term;
			void *buf;
			size_t len;

			assert_int_equal(fsm_cmd_config_set("final", "1", s->now,
							    &buf, &len), 0);
			if (drv_submit(l->drv, buf, len, &index, &term) == 0)
				target = index;
			free(buf);
		}
	}
	assert_true(target != 0);
	for (tries = 0; tries < 60; tries++) {
		int done = 1;

		run_until(s, s->now + 500);
		for (i = 0; i < s->n; i++)
			if (drv_applied(s->nodes[i].drv) < target)
				done = 0;
		if (done)
			break;
	}
	for (i = 0; i < s->n_pend; i++)
		if (s->pend[i].acked && s->pend[i].index > max_acked)
			max_acked = s->pend[i].index;
	assert_int_equal(fsm_hash(s->nodes[0].fsm, h0), 0);
	for (i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];

		assert_int_equal(drv_failed(nd->drv), 0);
		/* Every acknowledged command is applied here too... */
		assert_true(drv_applied(nd->drv) >= target);
		assert_true(drv_applied(nd->drv) >= max_acked);
		/* ...and the states are identical. */
		assert_int_equal(fsm_hash(nd->fsm, h), 0);
		assert_memory_equal(h, h0, FSM_HASH_LEN);
		assert_string_equal(fsm_config_get(nd->fsm, "final"), "1");
	}
	/* Every acknowledged command is the one committed at its index. */
	for (i = 0; i < s->n_pend; i++)
		if (s->pend[i].acked)
			assert_memory_equal(s->hist[s->pend[i].index],
					    s->pend[i].hash, 32);
	/* Log matching on what every pair still stores. */
	for (i = 0; i < s->n; i++) {
		for (j = i + 1; j < s->n; j++) {
			uint64_t fi, li, fj, lj, x;

			assert_int_equal(st_log_range(s->nodes[i].st, &fi, &li), 0);
			assert_int_equal(st_log_range(s->nodes[j].st, &fj, &lj), 0);
			for (x = (fi > fj ? fi : fj); x && x <= li && x <= lj;
			     x++) {
				uint64_t ti = st_log_term(s->nodes[i].st, x);
				uint64_t tj = st_log_term(s->nodes[j].st, x);

				if (ti == tj && x <= target)
					assert_true(ti != 0);
				if (x <= target)
					assert_true(ti == tj);
			}
		}
	}
}

