/*
 * fsm_rot: the rotation's replicated state (FSM command version 3): the
 * schedule, the members' rotation records and the hours ledger, and
 * (version 5) the freeze; their apply, read access, snapshot part and command builders. What the values
 * mean is node/rotation's; here they are only checked for bounds, kept in
 * canonical order and audited.
 */
#include "raft/fsm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- read access ---- */

unsigned fsm_sched_count(const struct fsm *f)
{
	return f->n_sched;
}

const struct fsm_sched *fsm_sched_at(const struct fsm *f, unsigned i)
{
	return i < f->n_sched ? &f->sched[i] : NULL;
}

static int sched_cmp(const void *target, const void *elem)
{
	return strcmp(target, ((const struct fsm_sched *)elem)->target);
}

/* Where target is or would go in the sorted schedule; 1 when found. */
static int sched_pos(const struct fsm *f, const char *target, unsigned *pos)
{
	return fsm_bsearch(f->sched, f->n_sched, sizeof(f->sched[0]), target,
			   sched_cmp, pos);
}

const struct fsm_sched *fsm_sched_find(const struct fsm *f,
				       const char *target)
{
	unsigned pos;

	return target && sched_pos(f, target, &pos) ? &f->sched[pos] : NULL;
}

unsigned fsm_rot_count(const struct fsm *f)
{
	return f->n_rot;
}

const struct fsm_rot *fsm_rot_at(const struct fsm *f, unsigned i)
{
	return i < f->n_rot ? &f->rot[i] : NULL;
}

static int rot_pos(const struct fsm *f, uint64_t id, unsigned *pos)
{
	unsigned i;

	for (i = 0; i < f->n_rot && f->rot[i].id < id; i++)
		;
	*pos = i;
	return i < f->n_rot && f->rot[i].id == id;
}

const struct fsm_rot *fsm_rot_find(const struct fsm *f, uint64_t id)
{
	unsigned pos;

	return rot_pos(f, id, &pos) ? &f->rot[pos] : NULL;
}

unsigned fsm_hours_count(const struct fsm *f)
{
	return f->n_hours;
}

const struct fsm_hours *fsm_hours_at(const struct fsm *f, unsigned i)
{
	return i < f->n_hours ? &f->hours[i] : NULL;
}

static int hours_pos(const struct fsm *f, uint64_t id, unsigned *pos)
{
	unsigned i;

	for (i = 0; i < f->n_hours && f->hours[i].id < id; i++)
		;
	*pos = i;
	return i < f->n_hours && f->hours[i].id == id;
}

const struct fsm_hours *fsm_hours_find(const struct fsm *f, uint64_t id)
{
	unsigned pos;

	return hours_pos(f, id, &pos) ? &f->hours[pos] : NULL;
}

int fsm_frozen(const struct fsm *f, uint64_t *since_ms, const char **reason)
{
	if (since_ms)
		*since_ms = f->frozen ? f->frozen_ms : 0;
	if (reason)
		*reason = f->frozen ? f->freeze_reason : "";
	return f->frozen;
}

const char *fsm_rot_state_name(int state)
{
	switch (state) {
	case FSM_ROT_RUNNING: return "running";
	case FSM_ROT_STARTING: return "starting";
	case FSM_ROT_STOPPING: return "stopping";
	case FSM_ROT_STOPPED: return "stopped";
	default: return "?";
	}
}

/* ---- apply ---- */

static int apply_sched(struct fsm *f, const Ntpmc__Fsm__FsmSchedSet *s,
		       uint64_t t)
{
	struct fsm_sched *e;
	unsigned pos;
	int found;

	if (!s->target || !s->target[0] ||
	    strlen(s->target) > FSM_TARGET_MAX || !s->windows ||
	    strlen(s->windows) > FSM_WINDOWS_MAX)
		return FSM_EINVAL;
	found = sched_pos(f, s->target, &pos);
	if (!s->windows[0]) {
		if (!found)
			return FSM_ENOKEY;
		memmove(&f->sched[pos], &f->sched[pos + 1],
			(f->n_sched - pos - 1) * sizeof(f->sched[0]));
		f->n_sched--;
		fsm_audit(f, t, "rotation schedule %s removed", s->target);
		return FSM_OK;
	}
	if (!found) {
		if (f->n_sched == FSM_SCHED_MAX)
			return FSM_EFULL;
		memmove(&f->sched[pos + 1], &f->sched[pos],
			(f->n_sched - pos) * sizeof(f->sched[0]));
		f->n_sched++;
	}
	e = &f->sched[pos];
	fsm_strset(e->target, sizeof(e->target), s->target);
	fsm_strset(e->windows, sizeof(e->windows), s->windows);
	e->conflict = s->conflict;
	fsm_audit(f, t, "rotation schedule %s: %s%s", e->target, e->windows,
		  e->conflict ? " (conflict: below min-serving, forced)" : "");
	return FSM_OK;
}

static int apply_rot(struct fsm *f, const Ntpmc__Fsm__FsmRotSet *s,
		     uint64_t t)
{
	const struct fsm_member *m = fsm_member_find(f, s->id);
	struct fsm_rot *r;
	unsigned pos;

	if (s->state > FSM_ROT_STOPPED || s->phase > FSM_ROT_PHASE_MAX ||
	    !s->reason || strlen(s->reason) > FSM_REASON_MAX)
		return FSM_EINVAL;
	if (!m)
		return FSM_ENOKEY;
	if (!rot_pos(f, s->id, &pos)) {
		memmove(&f->rot[pos + 1], &f->rot[pos],
			(f->n_rot - pos) * sizeof(f->rot[0]));
		f->n_rot++;
		memset(&f->rot[pos], 0, sizeof(f->rot[pos]));
		f->rot[pos].id = s->id;
		f->rot[pos].state = -1;
	}
	r = &f->rot[pos];
	if (r->state != (int)s->state)
		r->since_ms = t;
	r->state = (int)s->state;
	r->phase = (int)s->phase;
	r->parked = s->parked;
	r->sched_ms = s->sched_ms;
	fsm_strset(r->reason, sizeof(r->reason), s->reason);
	fsm_audit(f, t, "rotation %s %s%s: %s", m->name,
		  fsm_rot_state_name(r->state), r->parked ? " (parked)" : "",
		  r->reason);
	return FSM_OK;
}

/* The record of id, created (in order) if missing; NULL when full. */
static struct fsm_hours *hours_get(struct fsm *f, uint64_t id)
{
	unsigned pos;

	if (hours_pos(f, id, &pos))
		return &f->hours[pos];
	if (f->n_hours == FSM_HOURS_MAX)
		return NULL;
	memmove(&f->hours[pos + 1], &f->hours[pos],
		(f->n_hours - pos) * sizeof(f->hours[0]));
	f->n_hours++;
	memset(&f->hours[pos], 0, sizeof(f->hours[pos]));
	f->hours[pos].id = id;
	return &f->hours[pos];
}

/* Records of former members that have nothing in month or later go. */
static void hours_purge(struct fsm *f, uint32_t month)
{
	unsigned i = 0;

	while (i < f->n_hours) {
		if (!fsm_member_find(f, f->hours[i].id) &&
		    f->hours[i].month < month) {
			memmove(&f->hours[i], &f->hours[i + 1],
				(f->n_hours - i - 1) * sizeof(f->hours[0]));
			f->n_hours--;
		} else {
			i++;
		}
	}
}

static int apply_hours(struct fsm *f, const Ntpmc__Fsm__FsmHoursAdd *a)
{
	uint32_t newest = 0;
	size_t i;
	int r = FSM_OK;

	if (a->n_items > FSM_HOURS_ITEMS_MAX)
		return FSM_EINVAL;
	for (i = 0; i < a->n_items; i++) {
		const Ntpmc__Fsm__FsmHoursItem *it = a->items[i];

		if (!it->id || it->month < 197001 || it->month > 999912 ||
		    it->month % 100 < 1 || it->month % 100 > 12)
			return FSM_EINVAL;
		if (it->month > newest)
			newest = it->month;
	}
	hours_purge(f, newest);
	for (i = 0; i < a->n_items; i++) {
		const Ntpmc__Fsm__FsmHoursItem *it = a->items[i];
		struct fsm_hours *h = hours_get(f, it->id);

		if (!h) {
			r = FSM_EFULL;
			continue;
		}
		if (it->month == h->month) {
			h->ms += it->add_ms;
		} else if (it->month > h->month) {
			h->prev_month = h->month;
			h->prev_ms = h->ms;
			h->month = it->month;
			h->ms = it->add_ms;
		} else if (it->month == h->prev_month) {
			h->prev_ms += it->add_ms;
		}	/* older than both: nothing left to add it to */
		if (it->counted_to > h->counted_to)
			h->counted_to = it->counted_to;
	}
	return r;
}

static int apply_freeze(struct fsm *f, const Ntpmc__Fsm__FsmFreeze *z,
			uint64_t t)
{
	if (!z->reason || strlen(z->reason) > FSM_REASON_MAX)
		return FSM_EINVAL;
	if (!z->frozen) {
		if (!f->frozen)
			return FSM_ENOKEY;
		f->frozen = 0;
		f->frozen_ms = 0;
		f->freeze_reason[0] = 0;
		fsm_audit(f, t, "rotation resumed%s%s", z->reason[0] ? ": " :
			  "", z->reason);
		return FSM_OK;
	}
	if (!f->frozen)
		f->frozen_ms = t;
	f->frozen = 1;
	fsm_strset(f->freeze_reason, sizeof(f->freeze_reason), z->reason);
	fsm_audit(f, t, "rotation frozen%s%s: no step and no hook until "
		  "rotation resume", z->reason[0] ? ": " : "", z->reason);
	return FSM_OK;
}

int fsm_rot_apply(struct fsm *f, const Ntpmc__Fsm__FsmCommand *c,
		  uint64_t t)
{
	switch (c->op_case) {
	case NTPMC__FSM__FSM_COMMAND__OP_FREEZE:
		return apply_freeze(f, c->freeze, t);
	case NTPMC__FSM__FSM_COMMAND__OP_SCHED_SET:
		return apply_sched(f, c->sched_set, t);
	case NTPMC__FSM__FSM_COMMAND__OP_ROT_SET:
		return apply_rot(f, c->rot_set, t);
	case NTPMC__FSM__FSM_COMMAND__OP_HOURS_ADD:
		return apply_hours(f, c->hours_add);
	case NTPMC__FSM__FSM_COMMAND__OP_NOTE:
		if (!c->note->text || !c->note->text[0] ||
		    strlen(c->note->text) > FSM_REASON_MAX)
			return FSM_EINVAL;
		fsm_audit(f, t, "rotation: %s", c->note->text);
		return FSM_OK;
	default:
		return FSM_EINVAL;
	}
}

void fsm_rot_member_gone(struct fsm *f, uint64_t id)
{
	unsigned pos;

	if (!rot_pos(f, id, &pos))
		return;
	memmove(&f->rot[pos], &f->rot[pos + 1],
		(f->n_rot - pos - 1) * sizeof(f->rot[0]));
	f->n_rot--;
}

/* ---- snapshot ---- */

struct rot_pb {
	Ntpmc__Fsm__FsmSchedule *sc, **scp;
	Ntpmc__Fsm__FsmRot *ro, **rop;
	Ntpmc__Fsm__FsmHours *ho, **hop;
};

/* The arrays live in one block, found again through st->schedule. */
int fsm_rot_to_pb(const struct fsm *f, Ntpmc__Fsm__FsmState *st)
{
	size_t ns = f->n_sched, nr = f->n_rot, nh = f->n_hours, i;
	char *blk;
	Ntpmc__Fsm__FsmSchedule *sc, **scp;
	Ntpmc__Fsm__FsmRot *ro, **rop;
	Ntpmc__Fsm__FsmHours *ho, **hop;

	blk = calloc(1, (ns + 1) * (sizeof(*sc) + sizeof(*scp)) +
			(nr + 1) * (sizeof(*ro) + sizeof(*rop)) +
			(nh + 1) * (sizeof(*ho) + sizeof(*hop)));
	if (!blk)
		return -ENOMEM;
	/* pointer arrays first: the block is freed through st->schedule */
	scp = (void *)blk;
	rop = (void *)(scp + ns + 1);
	hop = (void *)(rop + nr + 1);
	sc = (void *)(hop + nh + 1);
	ro = (void *)(sc + ns + 1);
	ho = (void *)(ro + nr + 1);
	for (i = 0; i < ns; i++) {
		ntpmc__fsm__fsm_schedule__init(&sc[i]);
		sc[i].target = (char *)f->sched[i].target;
		sc[i].windows = (char *)f->sched[i].windows;
		sc[i].conflict = f->sched[i].conflict != 0;
		scp[i] = &sc[i];
	}
	for (i = 0; i < nr; i++) {
		const struct fsm_rot *r = &f->rot[i];

		ntpmc__fsm__fsm_rot__init(&ro[i]);
		ro[i].id = r->id;
		ro[i].state = (uint32_t)r->state;
		ro[i].phase = (uint32_t)r->phase;
		ro[i].parked = r->parked != 0;
		ro[i].since_ms = r->since_ms;
		ro[i].sched_ms = r->sched_ms;
		ro[i].reason = (char *)r->reason;
		rop[i] = &ro[i];
	}
	for (i = 0; i < nh; i++) {
		const struct fsm_hours *h = &f->hours[i];

		ntpmc__fsm__fsm_hours__init(&ho[i]);
		ho[i].id = h->id;
		ho[i].month = h->month;
		ho[i].ms = h->ms;
		ho[i].prev_month = h->prev_month;
		ho[i].prev_ms = h->prev_ms;
		ho[i].counted_to = h->counted_to;
		hop[i] = &ho[i];
	}
	st->schedule = scp;
	st->n_schedule = ns;
	st->rot = rop;
	st->n_rot = nr;
	st->hours = hop;
	st->n_hours = nh;
	st->frozen = f->frozen != 0;
	st->frozen_ms = f->frozen ? f->frozen_ms : 0;
	st->freeze_reason = f->frozen ? (char *)f->freeze_reason : (char *)"";
	return 0;
}

void fsm_rot_pb_free(Ntpmc__Fsm__FsmState *st)
{
	free(st->schedule);
	st->schedule = NULL;
	st->rot = NULL;
	st->hours = NULL;
	st->n_schedule = st->n_rot = st->n_hours = 0;
	st->frozen = 0;
	st->frozen_ms = 0;
	st->freeze_reason = (char *)"";
}

int fsm_rot_from_pb(struct fsm *f, const Ntpmc__Fsm__FsmState *st)
{
	size_t i;

	if (st->n_schedule > FSM_SCHED_MAX || st->n_rot > FSM_MEMBERS_MAX ||
	    st->n_hours > FSM_HOURS_MAX)
		return -EINVAL;
	for (i = 0; i < st->n_schedule; i++) {
		const Ntpmc__Fsm__FsmSchedule *p = st->schedule[i];
		struct fsm_sched *e = &f->sched[i];

		if (!p->target || !p->target[0] ||
		    fsm_strset(e->target, sizeof(e->target), p->target) != 0 ||
		    fsm_strset(e->windows, sizeof(e->windows),
			       p->windows) != 0 || !e->windows[0] ||
		    (i > 0 && strcmp(f->sched[i - 1].target, e->target) >= 0))
			return -EINVAL;
		e->conflict = p->conflict;
	}
	f->n_sched = (unsigned)st->n_schedule;
	for (i = 0; i < st->n_rot; i++) {
		const Ntpmc__Fsm__FsmRot *p = st->rot[i];
		struct fsm_rot *r = &f->rot[i];

		if (!p->id || p->state > FSM_ROT_STOPPED ||
		    p->phase > FSM_ROT_PHASE_MAX ||
		    fsm_strset(r->reason, sizeof(r->reason), p->reason) != 0 ||
		    (i > 0 && f->rot[i - 1].id >= p->id))
			return -EINVAL;
		r->id = p->id;
		r->state = (int)p->state;
		r->phase = (int)p->phase;
		r->parked = p->parked;
		r->since_ms = p->since_ms;
		r->sched_ms = p->sched_ms;
	}
	f->n_rot = (unsigned)st->n_rot;
	for (i = 0; i < st->n_hours; i++) {
		const Ntpmc__Fsm__FsmHours *p = st->hours[i];
		struct fsm_hours *h = &f->hours[i];

		if (!p->id || (i > 0 && f->hours[i - 1].id >= p->id))
			return -EINVAL;
		h->id = p->id;
		h->month = p->month;
		h->ms = p->ms;
		h->prev_month = p->prev_month;
		h->prev_ms = p->prev_ms;
		h->counted_to = p->counted_to;
	}
	f->n_hours = (unsigned)st->n_hours;
	if (fsm_strset(f->freeze_reason, sizeof(f->freeze_reason),
		       st->freeze_reason ? st->freeze_reason : "") != 0 ||
	    (!st->frozen && (st->frozen_ms || f->freeze_reason[0])))
		return -EINVAL;
	f->frozen = st->frozen;
	f->frozen_ms = st->frozen_ms;
	return 0;
}

/* ---- command builders (version 3) ---- */

int fsm_cmd_sched_set(const char *target, const char *windows, int conflict,
		      uint64_t time_ms, void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmSchedSet s = NTPMC__FSM__FSM_SCHED_SET__INIT;

	if (!target || !windows || strlen(target) > FSM_TARGET_MAX ||
	    strlen(windows) > FSM_WINDOWS_MAX)
		return -EINVAL;
	s.target = (char *)target;
	s.windows = (char *)windows;
	s.conflict = conflict != 0;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_SCHED_SET;
	c.sched_set = &s;
	return fsm_pack(&c, 3, time_ms, buf, len);
}

int fsm_cmd_rot_set(const struct fsm_rot *r, uint64_t time_ms, void **buf,
		    size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmRotSet s = NTPMC__FSM__FSM_ROT_SET__INIT;

	if (r->state < 0 || r->phase < 0 || strlen(r->reason) > FSM_REASON_MAX)
		return -EINVAL;
	s.id = r->id;
	s.state = (uint32_t)r->state;
	s.phase = (uint32_t)r->phase;
	s.parked = r->parked != 0;
	s.sched_ms = r->sched_ms;
	s.reason = (char *)r->reason;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_ROT_SET;
	c.rot_set = &s;
	return fsm_pack(&c, 3, time_ms, buf, len);
}

int fsm_cmd_hours_add(const struct fsm_hours_item *it, size_t n,
		      uint64_t time_ms, void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmHoursAdd a = NTPMC__FSM__FSM_HOURS_ADD__INIT;
	Ntpmc__Fsm__FsmHoursItem *items, **ptrs;
	size_t i;
	int rc;

	if (n > FSM_HOURS_ITEMS_MAX)
		return -EINVAL;
	items = calloc(n + 1, sizeof(*items));
	ptrs = calloc(n + 1, sizeof(*ptrs));
	if (!items || !ptrs) {
		free(items);
		free(ptrs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ntpmc__fsm__fsm_hours_item__init(&items[i]);
		items[i].id = it[i].id;
		items[i].month = it[i].month;
		items[i].add_ms = it[i].add_ms;
		items[i].counted_to = it[i].counted_to;
		ptrs[i] = &items[i];
	}
	a.items = ptrs;
	a.n_items = n;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_HOURS_ADD;
	c.hours_add = &a;
	rc = fsm_pack(&c, 3, time_ms, buf, len);
	free(items);
	free(ptrs);
	return rc;
}

int fsm_cmd_note(const char *text, uint64_t time_ms, void **buf,
		 size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmNote nt = NTPMC__FSM__FSM_NOTE__INIT;

	if (!text || strlen(text) > FSM_REASON_MAX)
		return -EINVAL;
	nt.text = (char *)text;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_NOTE;
	c.note = &nt;
	return fsm_pack(&c, 3, time_ms, buf, len);
}

/* ---- version 5 ---- */

int fsm_cmd_freeze(int frozen, const char *reason, uint64_t time_ms,
		   void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmFreeze z = NTPMC__FSM__FSM_FREEZE__INIT;

	if (!reason || strlen(reason) > FSM_REASON_MAX)
		return -EINVAL;
	z.frozen = frozen != 0;
	z.reason = (char *)reason;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_FREEZE;
	c.freeze = &z;
	return fsm_pack(&c, 5, time_ms, buf, len);
}
