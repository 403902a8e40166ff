/*
 * rledger_run: the leader's side of the hours ledger. Every member's
 * status part says when its daemon started (served time); the leader
 * notes, in scheduler time, when each member (re)started and when it was
 * last heard up, and once an hour of the scheduler's clock commits what
 * was not counted yet (rledger.h). Hourly, not more: each commit is a
 * raft entry every member stores and replicates. A new leader starts from
 * what the ledger counted (counted_to), so a leader change loses nothing
 * but the leader's own last hour of reports, which the next one makes
 * good as long as the members kept running.
 */
#include "node/rotation/rot_int.h"

#include <stdlib.h>
#include <string.h>

#include "node/base/log.h"
#include "node/rotation/rcal.h"
#include "node/rotation/rledger.h"
#include "proto/rotation.pb-c.h"

/* Served unix ms -> the scheduler's ms (the test clock runs faster). */
static int64_t sched_of_wall(const struct rotation *r, int64_t wall)
{
	const struct rot_conf *c = r->conf;

	if (!c->clock_speed)
		return wall;
	return c->clock_sched_ms + (wall - c->clock_real_ms) *
				   (int64_t)c->clock_speed;
}

/*
 * What the cloud bills is closer to the rotation's own requests than to
 * the daemon's reports: a VM the rotation started runs from the start
 * request (booting before its daemon reports), one it stopped until the
 * stop request (the last report may be a status period older), both as
 * far as the hook said yes. Reports decide for what the rotation did not
 * do itself, and a request only counts when the reports agree it fits
 * (BILL_SLACK_MS of real time).
 */
#define BILL_SLACK_MS 120000

void rot_ledger_observe(struct rotation *r)
{
	const struct fsm *f = cluster_fsm(r->cl);
	uint64_t self = cluster_self(r->cl);
	int64_t now = rot_now(r), slack = rot_real_to_sched(r, BILL_SLACK_MS);
	int64_t heard = rot_real_to_sched(r, 3 * (int64_t)cluster_status_ms(r->cl));
	struct cluster_peer_view cv;
	unsigned i;

	for (i = 0; i < fsm_member_count(f); i++) {
		uint64_t id = fsm_member_at(f, i)->id;
		Ntpmc__Rot__RotStatus *s;
		struct rot_mem *mem = rot_mem(r, id);
		const void *buf;
		uint64_t age;
		size_t len;

		/* stopped on request while it still reported */
		if (mem->stop_asked > mem->last_seen && mem->last_seen &&
		    mem->stop_asked - mem->last_seen <= heard)
			mem->last_seen = mem->stop_asked;
		cluster_peer_view(r->cl, id, &cv);
		if (!cv.reachable ||
		    cluster_status_get(r->cl, id, ROT_KIND, &buf, &len,
				       &age) < 0)
			continue;
		s = ntpmc__rot__rot_status__unpack(NULL, len, buf);
		if (!s)
			continue;
		mem->up_since = sched_of_wall(r, (int64_t)s->up_since_ms);
		ntpmc__rot__rot_status__free_unpacked(s, NULL);
		/* started on request: from the request */
		if (mem->start_asked && mem->start_asked < mem->up_since &&
		    mem->up_since - mem->start_asked <= slack)
			mem->up_since = mem->start_asked;
		/* stopped on request (the cloud took it): its last reports
		 * are the VM going down */
		if (mem->stop_asked > mem->up_since)
			continue;
		/* the report is as old as it arrived long ago */
		mem->last_seen = id == self ? now :
				 now - rot_real_to_sched(r, (int64_t)age);
		if (mem->last_seen < mem->up_since)
			mem->last_seen = mem->up_since;
	}
}

struct ledger_arg {
	unsigned gen;
	int64_t hour;
};

static void ledger_done(struct rotation *r, void *arg, int err, int result)
{
	struct ledger_arg *a = arg;

	if (r->lead && r->lead->gen == a->gen) {
		r->lead->ledger_busy = 0;
		if (!err && (result == FSM_OK || result == FSM_EFULL))
			r->lead->ledger_hour = a->hour;
		else
			log_warnx("rotation: hours not committed (%s): again "
				  "at the next tick", err ?
				  cluster_strerror(err) : "refused");
	}
	free(a);
}

void rot_ledger_commit(struct rotation *r)
{
	const struct fsm *f = cluster_fsm(r->cl);
	struct rot_lead *l = r->lead;
	int64_t hour = rot_now(r) / RCAL_HOUR_MS;
	struct rledger_member m[RPLAN_MAX];
	struct fsm_hours_item it[FSM_HOURS_ITEMS_MAX];
	struct ledger_arg *a;
	size_t n = 0, k;
	unsigned i;
	void *buf;
	size_t len;

	if (l->ledger_hour < 0)
		l->ledger_hour = hour;     /* a new leader: from the next hour */
	if (hour <= l->ledger_hour || l->ledger_busy)
		return;
	for (i = 0; i < fsm_member_count(f) && n < RPLAN_MAX; i++) {
		const struct fsm_member *fm = fsm_member_at(f, i);
		const struct fsm_hours *h = fsm_hours_find(f, fm->id);
		struct rot_mem *mem = rot_mem(r, fm->id);

		if (!mem->last_seen)
			continue;
		m[n].id = fm->id;
		m[n].up_since = mem->up_since;
		m[n].last_seen = mem->last_seen;
		m[n].counted_to = h ? (int64_t)h->counted_to : 0;
		n++;
	}
	k = rledger_items(m, n, it, FSM_HOURS_ITEMS_MAX);
	if (!k) {
		l->ledger_hour = hour;
		return;
	}
	a = malloc(sizeof(*a));
	if (!a || fsm_cmd_hours_add(it, k, cluster_wall_ms(), &buf, &len) < 0) {
		free(a);
		return;
	}
	a->gen = l->gen;
	a->hour = hour;
	l->ledger_busy = 1;
	if (rot_propose(r, buf, len, ledger_done, a) < 0)
		l->ledger_busy = 0;
}
