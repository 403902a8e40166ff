/*
 * rledger: the hours ledger's arithmetic. Each member reports how long it
 * has been up; the leader keeps, per member, when it (re)started and when
 * it was last heard up, in scheduler ms, and commits once an hour what was
 * not counted yet (raft/fsm.h FsmHoursAdd): from where the ledger stopped
 * counting (or the restart, if later: the time it was down is not
 * counted) to when it was last heard up, split at UTC month boundaries.
 * Pure.
 */
#ifndef NTPMC_RLEDGER_H
#define NTPMC_RLEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "raft/fsm.h"

struct rledger_member {
	uint64_t id;
	int64_t up_since;          /* scheduler ms it (re)started; 0 unknown */
	int64_t last_seen;         /* scheduler ms it was last heard up */
	int64_t counted_to;        /* the ledger's record; 0 never counted */
};

/*
 * The items to commit for m[0..n-1] (at most max written; a member whose
 * uncounted time spans a month boundary takes two). Each item's
 * counted_to is the member's last_seen. A member with nothing new is left
 * out. Returns the number of items.
 */
size_t rledger_items(const struct rledger_member *m, size_t n,
		     struct fsm_hours_item *out, size_t max);

#endif
