/* drv: lifetime, the raft_step() loop and its timeouts. Each update is
 * carried out in a fixed order by the modules named in raft/driver_int.h. */
#include "raft/driver_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/adapter.h"
#include "storage/st_raft.h"

/* Capacity is reported to the engine in units of 64 KiB (the field is an
 * unsigned short). */
#define CAP_UNIT 65536ULL

raft_time drv_now(struct drv *d)
{
	return d->cfg.now(d->cfg.now_data);
}

void drv_fail(struct drv *d, int rc, const char *what)
{
	if (d->failed == 0) {
		d->failed = rc != 0 ? rc : -EIO;
		rlog(&d->cfg.log, RLOG_ERR, "raft %llu: %s failed (%d%s%s): "
		     "stopping, no further acknowledgement", d->cfg.id, what,
		     rc, st_why(d->st)[0] ? ", store: " : "", st_why(d->st));
	}
}

static unsigned short capacity_of(struct drv *d)
{
	uint64_t c = st_free_bytes(d->st) / CAP_UNIT;

	return c > 65535 ? 65535 : (unsigned short)c;
}

int drv_enqueue(struct drv *d, const struct raft_event *ev)
{
	if (d->q_len == DRV_QUEUE_MAX) {
		drv_fail(d, -ENOBUFS, "event queue");
		return -ENOBUFS;
	}
	d->queue[(d->q_head + d->q_len) % DRV_QUEUE_MAX] = *ev;
	d->q_len++;
	return 0;
}

/* ---- the step ---- */

static void handle_update(struct drv *d, struct raft_update *u)
{
	unsigned i;
	int rc;

	/* Term and vote first: nothing may leave this node that depends on
	 * them before they are durable (thesis 3.8; raft_update docs). */
	if (u->flags & (RAFT_UPDATE_CURRENT_TERM | RAFT_UPDATE_VOTED_FOR)) {
		rc = st_term_vote_put(d->st, raft_current_term(&d->raft),
				      raft_voted_for(&d->raft));
		if (rc != 0) {
			drv_fail(d, rc, "persist term/vote");
			if (u->flags & RAFT_UPDATE_ENTRIES)
				rad_entries_free_payloads(u->entries.batch,
							  u->entries.n);
			if (u->flags & RAFT_UPDATE_SNAPSHOT) {
				raft_free(u->snapshot.chunk.base);
				raft_configuration_close(
				    &u->snapshot.metadata.configuration);
			}
			return;
		}
	}
	if (u->flags & RAFT_UPDATE_ENTRIES) {
		if (drv_persist_entries(d, u) != 0)
			return;
	}
	if (u->flags & RAFT_UPDATE_SNAPSHOT) {
		if (drv_install_snapshot(d, u) != 0)
			return;
	}
	if (u->flags & RAFT_UPDATE_MESSAGES) {
		for (i = 0; i < u->messages.n; i++)
			drv_send(d, &u->messages.batch[i]);
	}
	drv_apply_committed(d);
}

/*
 * Elections, leadership changes and step-downs, one info line each for the
 * operator (the cluster's sink logs them): a change of role, or of the
 * leader a follower follows. A candidate that keeps failing (pre-vote,
 * partitioned) stays a candidate and says so once.
 */
static void note_role(struct drv *d)
{
	int state = raft_state(&d->raft), was = d->seen_state;
	uint64_t term = raft_current_term(&d->raft);
	unsigned long long id = d->cfg.id;
	raft_id leader = 0;
	const char *addr = NULL, *why;
	char now[48] = "";

	raft_leader(&d->raft, &leader, &addr);
	if (state == RAFT_LEADER && was != RAFT_LEADER) {
		rlog(&d->cfg.log, RLOG_INFO, "raft %llu: elected leader for "
		     "term %llu", id, (unsigned long long)term);
	} else if (was == RAFT_LEADER && state != RAFT_LEADER) {
		why = d->transfer_deadline ? "leadership transferred" :
		      term > d->seen_term ? "a newer term began" :
		      "a majority of voters was not heard from";
		if (leader)
			snprintf(now, sizeof(now), "; the leader is now %llu",
				 (unsigned long long)leader);
		rlog(&d->cfg.log, RLOG_INFO, "raft %llu: stepped down as "
		     "leader of term %llu (%s)%s", id,
		     (unsigned long long)d->seen_term, why, now);
	} else if (state == RAFT_CANDIDATE && was != RAFT_CANDIDATE) {
		rlog(&d->cfg.log, RLOG_INFO, "raft %llu: standing for "
		     "election after term %llu (no leader heard in time, or "
		     "asked to take over)", id, (unsigned long long)term);
	} else if (state == RAFT_FOLLOWER && leader &&
		   leader != d->seen_leader) {
		rlog(&d->cfg.log, RLOG_INFO, "raft %llu: following leader "
		     "%llu (term %llu)", id, (unsigned long long)leader,
		     (unsigned long long)term);
	}
	d->seen_state = state;
	d->seen_leader = leader;
	d->seen_term = term;
}

int drv_step(struct drv *d, struct raft_event *ev)
{
	struct raft_update u;
	int rc;

	memset(&u, 0, sizeof(u));
	ev->time = drv_now(d);
	ev->capacity = capacity_of(d);
	rc = raft_step(&d->raft, ev, &u);
	d->stats.steps++;
	if (rc != 0)
		return rc;
	rad_fix_uncommitted(&d->raft, &u);
	handle_update(d, &u);
	note_role(d);
	return 0;
}

void drv_drain(struct drv *d)
{
	struct raft_event ev;
	int rc;

	while (d->q_len > 0 && d->failed == 0) {
		ev = d->queue[d->q_head];
		d->q_head = (d->q_head + 1) % DRV_QUEUE_MAX;
		d->q_len--;
		rc = drv_step(d, &ev);
		if (rc != 0 && rc != RAFT_NOTLEADER) {
			/* The engine's own follow-ups failing means our view
			 * and its view diverged: stop rather than guess. */
			drv_fail(d, -EIO, raft_strerror(rc));
		}
	}
	/* Leftover events after a failure still own configurations. */
	while (d->q_len > 0) {
		ev = d->queue[d->q_head];
		d->q_head = (d->q_head + 1) % DRV_QUEUE_MAX;
		d->q_len--;
		if (ev.type == RAFT_CONFIGURATION)
			raft_configuration_close(&ev.configuration.conf);
		else if (ev.type == RAFT_SNAPSHOT)
			raft_configuration_close(
			    &ev.snapshot.metadata.configuration);
		else if (ev.type == RAFT_PERSISTED_SNAPSHOT)
			raft_configuration_close(
			    &ev.persisted_snapshot.metadata.configuration);
	}
}

int drv_run(struct drv *d, struct raft_event *ev)
{
	int rc = drv_step(d, ev);

	drv_drain(d);
	return rc;
}

static void on_receive(void *owner, struct raft_message *m)
{
	struct drv *d = owner;
	struct raft_event ev;
	struct raft_entry *entries = NULL;
	int rc;

	if (d->failed != 0 || rad_msg_check(m) != 0) {
		d->stats.recv_dropped++;
		rad_msg_free(m);
		return;
	}
	if (m->type == RAFT_APPEND_ENTRIES && m->append_entries.n_entries)
		entries = m->append_entries.entries;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_RECEIVE;
	ev.receive.message = m;
	rc = drv_run(d, &ev);
	/* The array is always ours; the payload went to the engine or to the
	 * update (adapter.h). */
	raft_free(entries);
	if (rc == RAFT_SHUTDOWN)
		drv_fail(d, -EIO, "receive: conflicting committed entry");
	else if (rc != 0)
		rlog(&d->cfg.log, RLOG_DEBUG, "raft %llu: receive from %llu: %s", d->cfg.id,
			  m->server_id, raft_strerror(rc));
}

/* ---- public ---- */

int drv_open(struct drv **out, const struct drv_config *cfg)
{
	struct drv *d;
	int rc;

	*out = NULL;
	if (cfg->st == NULL || cfg->tr == NULL || cfg->fsm == NULL ||
	    cfg->now == NULL || cfg->id == 0 || cfg->address == NULL)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->cfg = *cfg;
	d->st = cfg->st;
	if (d->cfg.election_timeout_ms == 0)
		d->cfg.election_timeout_ms = DRV_ELECTION_TIMEOUT_MS;
	if (d->cfg.heartbeat_timeout_ms == 0)
		d->cfg.heartbeat_timeout_ms = DRV_HEARTBEAT_TIMEOUT_MS;
	if (d->cfg.snapshot_threshold == 0)
		d->cfg.snapshot_threshold = DRV_SNAPSHOT_THRESHOLD;
	if (d->cfg.snapshot_trailing == 0)
		d->cfg.snapshot_trailing = DRV_SNAPSHOT_TRAILING;
	if (d->cfg.capacity_min_kib == 0)
		d->cfg.capacity_min_kib = DRV_CAPACITY_MIN_KIB;
	raft_configuration_init(&d->conf);
	/* raft_init with NULL io/fsm: the sans-I/O engine only. */
	rc = raft_init(&d->raft, NULL, NULL, cfg->id, cfg->address);
	if (rc != 0) {
		free(d);
		return -ENOMEM;
	}
	raft_seed(&d->raft, cfg->seed);
	raft_set_election_timeout(&d->raft, d->cfg.election_timeout_ms);
	raft_set_heartbeat_timeout(&d->raft, d->cfg.heartbeat_timeout_ms);
	raft_set_pre_vote(&d->raft, true);
	raft_set_capacity_threshold(&d->raft,
	    (unsigned short)((d->cfg.capacity_min_kib * 1024ULL + CAP_UNIT - 1) /
			     CAP_UNIT));
	cfg->tr->recv = on_receive;
	cfg->tr->owner = d;
	d->seen_state = RAFT_FOLLOWER;    /* where every member starts */
	rc = drv_load(d);
	if (rc != 0) {
		cfg->tr->recv = NULL;
		drv_close(d);
		return rc;
	}
	*out = d;
	return 0;
}

void drv_close(struct drv *d)
{
	if (d == NULL)
		return;
	if (d->cfg.tr->owner == d) {
		d->cfg.tr->recv = NULL;
		d->cfg.tr->owner = NULL;
	}
	raft_close(&d->raft, NULL);
	raft_configuration_close(&d->conf);
	free(d);
}

int drv_tick(struct drv *d)
{
	struct raft_event ev;
	int rc;

	if (d->failed != 0)
		return d->failed;
	if (d->transfer_deadline != 0) {
		if (raft_transferee(&d->raft) == 0) {
			d->transfer_deadline = 0;
			d->transfer_state = 0;
		} else if (drv_now(d) >= d->transfer_deadline) {
			d->transfer_deadline = 0;
			d->transfer_state = -1;
		}
	}
	if (drv_now(d) < raft_timeout(&d->raft))
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_TIMEOUT;
	d->last_tick = drv_now(d);
	rc = drv_run(d, &ev);
	if (rc != 0)
		rlog(&d->cfg.log, RLOG_DEBUG, "raft %llu: timeout: %s", d->cfg.id,
			  raft_strerror(rc));
	return d->failed;
}

raft_time drv_next_timeout(struct drv *d)
{
	raft_time t = raft_timeout(&d->raft);

	/* libraft's leader timeout is the oldest last send to ANY server,
	 * spares included, and a spare is sent nothing: a voter or standby
	 * demoted to spare (ntpctl node drain) keeps its old send time, so
	 * the timeout stays in the past, a timeout event there changes
	 * nothing and the loop would spin on it. Once a tick at or after that
	 * time did not move it, the next one is a heartbeat period later. */
	if (raft_state(&d->raft) == RAFT_LEADER && d->last_tick &&
	    t <= d->last_tick)
		t = d->last_tick + d->raft.heartbeat_timeout;
	return t;
}

int drv_failed(const struct drv *d)
{
	return d->failed;
}

struct raft *drv_raft(struct drv *d)
{
	return &d->raft;
}

uint64_t drv_applied(const struct drv *d)
{
	return d->applied;
}

const struct raft_configuration *drv_conf(const struct drv *d)
{
	return &d->conf;
}

void drv_get_stats(const struct drv *d, struct drv_stats *s)
{
	*s = d->stats;
}
