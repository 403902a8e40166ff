#include "node/cluster/cpol.h"

/* Leaving: drained by the operator, or parked by the rotation. Neither is
 * ever promoted; both lose leadership and vote. */
static int leaving(const struct cpol_member *m)
{
	return m->drained || m->parked;
}

/*
 * A member counts as caught up when it votes (the leader keeps voters
 * current) or when raft finished its catch-up rounds.
 */
static int caught_up(const struct cpol_member *m)
{
	return m->role == CPOL_VOTER || m->catch_up == CPOL_CU_FINISHED;
}

/* Voters that stay: a drained voter is on its way out. */
static size_t live_voters(const struct cpol_member *m, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += m[i].role == CPOL_VOTER && !leaving(&m[i]);
	return k;
}

/* Voter counts: `grow` is where the membership is heading (5 once there are
 * 5 members to fill it), `target` what may be promoted now (5 only once 5
 * members are caught up, so that 4 is never a resting point). */
static void targets(const struct cpol_member *m, size_t n, int *grow,
		    int *target)
{
	size_t i, members = 0, ready = 0;

	/* Spares are not counted: they are joining or off; drained and
	 * parked members are leaving. */
	for (i = 0; i < n; i++) {
		if (m[i].role == CPOL_SPARE || leaving(&m[i]))
			continue;
		members++;
		ready += caught_up(&m[i]) && (m[i].reachable ||
					      m[i].role == CPOL_VOTER);
	}
	*grow = members >= 5 ? 5 : (members < 3 ? (int)members : 3);
	*target = ready >= 5 ? 5 : (members < 3 ? (int)members : 3);
}

int cpol_target_voters(const struct cpol_member *m, size_t n)
{
	int grow, target;

	targets(m, n, &grow, &target);
	return target;
}

/* The voter to demote: never self; an unreachable one first, then the
 * highest id (deterministic, so that every new leader picks the same). */
static const struct cpol_member *pick_demote(const struct cpol_member *m,
					     size_t n, uint64_t self)
{
	const struct cpol_member *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (m[i].role != CPOL_VOTER || m[i].id == self ||
		    leaving(&m[i]))
			continue;
		if (!best || (!m[i].reachable && best->reachable) ||
		    (m[i].reachable == best->reachable && m[i].id > best->id))
			best = &m[i];
	}
	return best;
}

static const struct cpol_member *successor(const struct cpol_member *m,
					  size_t n, uint64_t self, int need_ok)
{
	const struct cpol_member *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (m[i].role != CPOL_VOTER || m[i].id == self ||
		    leaving(&m[i]) || !m[i].reachable ||
		    (need_ok && !m[i].check_ok))
			continue;
		if (!best || m[i].match > best->match ||
		    (m[i].match == best->match && m[i].id < best->id))
			best = &m[i];
	}
	return best;
}

const struct cpol_member *cpol_successor(const struct cpol_member *m,
					 size_t n, uint64_t self)
{
	return successor(m, n, self, 0);
}

const struct cpol_member *cpol_check_successor(const struct cpol_member *m,
					       size_t n, uint64_t self)
{
	return successor(m, n, self, 1);
}

/* Voters left once `out` stops voting (`spare`: one more member that the
 * policy would promote), and how many of them are reachable. */
static void voters_without(const struct cpol_member *m, size_t n,
			   const struct cpol_member *out, int spare,
			   size_t *left, size_t *up)
{
	size_t i;

	*left = *up = 0;
	for (i = 0; i < n; i++) {
		if (m[i].role != CPOL_VOTER || &m[i] == out)
			continue;
		++*left;
		*up += m[i].reachable;
	}
	*left += spare;
	*up += spare;
}

enum cpol_drain cpol_drain_check(const struct cpol_member *m, size_t n,
				 uint64_t id)
{
	const struct cpol_member *out = NULL;
	size_t i, left, up;
	int spare = 0;

	for (i = 0; i < n; i++) {
		if (m[i].id == id)
			out = &m[i];
		else if (m[i].role != CPOL_VOTER && !leaving(&m[i]) &&
			 m[i].reachable)
			spare = 1;
	}
	if (!out || out->role != CPOL_VOTER)
		return CPOL_DRAIN_OK;    /* a standby or spare holds no vote */
	/* Drained and parked voters still vote until demoted; they leave
	 * too. */
	voters_without(m, n, out, spare, &left, &up);
	for (i = 0; i < n; i++)
		if (m[i].role == CPOL_VOTER && leaving(&m[i]) &&
		    &m[i] != out) {
			left--;
			up -= m[i].reachable;
		}
	if (left == 0)
		return CPOL_DRAIN_LAST_VOTER;
	return 2 * up > left ? CPOL_DRAIN_OK : CPOL_DRAIN_QUORUM;
}

/* 3. A drained or parked member that still votes or stands by: once no
 * replacement is on its way, hand leadership away (self) or demote it to
 * spare. */
static struct cpol_action drain_step(const struct cpol_member *m, size_t n,
				     uint64_t self)
{
	struct cpol_action a = { CPOL_NONE, 0, 0 };
	const struct cpol_member *d = NULL, *succ;
	size_t i, left, up;

	for (i = 0; i < n; i++)
		if (leaving(&m[i]) && m[i].role != CPOL_SPARE &&
		    (!d || d->id == self))
			d = &m[i];       /* others first, the leader last */
	if (!d)
		return a;
	if (d->id == self) {
		succ = cpol_successor(m, n, self);
		if (succ) {
			a.kind = CPOL_TRANSFER;
			a.id = succ->id;
		}
		return a;
	}
	/* Raft commits the change with the new voters: keep a majority. */
	voters_without(m, n, d, 0, &left, &up);
	if (d->role == CPOL_VOTER && 2 * up <= left)
		return a;
	a.kind = CPOL_SET_ROLE;
	a.id = d->id;
	a.role = CPOL_SPARE;
	return a;
}

/* A majority of the voters before the change (id to role) and of those
 * after it are reachable and not lagging. */
static int change_safe(const struct cpol_member *m, size_t n, uint64_t id,
		       int role)
{
	size_t i, old = 0, old_ok = 0, nw = 0, nw_ok = 0;

	for (i = 0; i < n; i++) {
		int ok = m[i].reachable && !m[i].lagging;
		int was = m[i].role == CPOL_VOTER;
		int will = m[i].id == id ? role == CPOL_VOTER : was;

		old += was;
		old_ok += was && ok;
		nw += will;
		nw_ok += will && ok;
	}
	return 2 * old_ok > old && 2 * nw_ok > nw;
}

static struct cpol_action next_step(const struct cpol_member *m, size_t n,
				    uint64_t self);

struct cpol_action cpol_next(const struct cpol_member *m, size_t n,
			     uint64_t self)
{
	struct cpol_action a = next_step(m, n, self);
	size_t i;

	for (i = 0; a.kind == CPOL_SET_ROLE && i < n; i++)
		if (m[i].id == a.id &&
		    (m[i].role == CPOL_VOTER || a.role == CPOL_VOTER) &&
		    !change_safe(m, n, a.id, a.role))
			a.kind = CPOL_NONE;    /* wait for the majorities */
	return a;
}

static struct cpol_action next_step(const struct cpol_member *m, size_t n,
				    uint64_t self)
{
	struct cpol_action a = { CPOL_NONE, 0, 0 };
	const struct cpol_member *run = NULL, *idle = NULL, *done = NULL, *d;
	int voters = (int)live_voters(m, n), grow, target;
	size_t i;

	targets(m, n, &grow, &target);
	/* 0. A suspect leader: its clock stamps every command. */
	for (i = 0; i < n; i++) {
		if (m[i].id != self || !m[i].suspect)
			continue;
		d = cpol_check_successor(m, n, self);
		if (d) {
			a.kind = CPOL_TRANSFER;
			a.id = d->id;
			return a;
		}
	}
	/* 1. A reachable joiner (spare, not leaving) starts receiving the
	 * log. */
	for (i = 0; i < n; i++) {
		if (m[i].role == CPOL_SPARE && !leaving(&m[i]) &&
		    m[i].reachable) {
			a.kind = CPOL_SET_ROLE;
			a.id = m[i].id;
			a.role = CPOL_STANDBY;
			return a;
		}
	}
	for (i = 0; i < n; i++) {
		if (m[i].role != CPOL_STANDBY || !m[i].reachable ||
		    leaving(&m[i]))
			continue;
		if (m[i].catch_up == CPOL_CU_FINISHED) {
			if (!done)
				done = &m[i];
		} else if (m[i].catch_up == CPOL_CU_RUNNING) {
			run = &m[i];
		} else if (!idle) {
			idle = &m[i];
		}
	}
	/* 2. Growing: promote a caught-up standby... */
	if (voters < target && done) {
		a.kind = CPOL_SET_ROLE;
		a.id = done->id;
		a.role = CPOL_VOTER;
		return a;
	}
	/* ...and catch standbys up, one at a time, while voters are missing. */
	if (voters + (done != NULL) < grow && !run && idle) {
		a.kind = CPOL_CATCH_UP;
		a.id = idle->id;
		return a;
	}
	/* 3. Draining, once no replacement is on its way. */
	if (voters >= grow || (!done && !run && !idle)) {
		a = drain_step(m, n, self);
		if (a.kind != CPOL_NONE)
			return a;
	}
	/* 4. Shrinking: too many voters (a member left or went spare). */
	if (voters > grow) {
		d = pick_demote(m, n, self);
		if (d) {
			a.kind = CPOL_SET_ROLE;
			a.id = d->id;
			a.role = CPOL_STANDBY;
		}
	}
	return a;
}
