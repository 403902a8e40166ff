#include "node/cpol.h"

/*
 * A member counts as caught up when it votes (the leader keeps voters
 * current) or when raft finished its catch-up rounds.
 */
static int caught_up(const struct cpol_member *m)
{
	return m->role == CPOL_VOTER || m->catch_up == CPOL_CU_FINISHED;
}

static size_t count_role(const struct cpol_member *m, size_t n, int role)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += m[i].role == role;
	return k;
}

/* Voter counts: `grow` is where the membership is heading (5 once there are
 * 5 members to fill it), `target` what may be promoted now (5 only once 5
 * members are caught up, so that 4 is never a resting point). */
static void targets(const struct cpol_member *m, size_t n, int *grow,
		    int *target)
{
	size_t i, members = 0, ready = 0;

	/* Spares are not counted: they are joining or parked (off). */
	for (i = 0; i < n; i++) {
		if (m[i].role == CPOL_SPARE)
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
		if (m[i].role != CPOL_VOTER || m[i].id == self)
			continue;
		if (!best || (!m[i].reachable && best->reachable) ||
		    (m[i].reachable == best->reachable && m[i].id > best->id))
			best = &m[i];
	}
	return best;
}

struct cpol_action cpol_next(const struct cpol_member *m, size_t n,
			     uint64_t self)
{
	struct cpol_action a = { CPOL_NONE, 0, 0 };
	const struct cpol_member *run = NULL, *idle = NULL, *done = NULL, *d;
	int voters = (int)count_role(m, n, CPOL_VOTER), grow, target;
	size_t i;

	targets(m, n, &grow, &target);
	/* 1. A reachable joiner (spare, not parked) starts receiving the log. */
	for (i = 0; i < n; i++) {
		if (m[i].role == CPOL_SPARE && !m[i].parked &&
		    m[i].reachable) {
			a.kind = CPOL_SET_ROLE;
			a.id = m[i].id;
			a.role = CPOL_STANDBY;
			return a;
		}
	}
	for (i = 0; i < n; i++) {
		if (m[i].role != CPOL_STANDBY || !m[i].reachable)
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
	/* 3. Shrinking: too many voters (a member left or went spare). */
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
