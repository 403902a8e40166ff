/*
 * ledger: the monthly egress ledger's arithmetic, pure (no clock, no
 * cluster), so that month rollover, restarts, leader changes and the
 * projection are unit-tested.
 *
 * The replicated entry per (month UTC, member) is raft/fsm.h's struct
 * fsm_ledger. A member reports the counters of its running process
 * (boot: a random id of the process) with its status; the leader folds
 * what is new since the entry's cursor (boot, base) into the month's
 * bytes. A new leader finds the cursor in the replicated entry, so it
 * adds only what is new; a restarted member has a new boot, so all it
 * counted is new. Lost: what a process counted after the last commit and
 * before it died (at most one ledger-interval of its egress). A month
 * boundary puts the egress since the last commit in the new month.
 */
#ifndef NTPMC_COST_LEDGER_H
#define NTPMC_COST_LEDGER_H

#include <stdint.h>

#include "raft/fsm.h"

#define LEDGER_DAY_MS 86400000ULL

/* "YYYY-MM" of a Unix time in ms (UTC). */
void ledger_month(uint64_t unix_ms, char out[8]);
/* Unix ms of the month's first instant and of the next month's; 0 for a
 * malformed month. */
uint64_t ledger_month_start_ms(const char *month);
uint64_t ledger_month_end_ms(const char *month);

struct ledger_report {
	uint64_t boot;                       /* 0: nothing reported */
	uint64_t bytes[FSM_LEDGER_CLASSES];  /* since that process started */
};

/* What the report adds beyond the cursor of last (the member's latest
 * committed entry of any month; NULL: none). */
void ledger_delta(const struct fsm_ledger *last,
		  const struct ledger_report *r,
		  uint64_t delta[FSM_LEDGER_CLASSES]);

/*
 * The member's entry for month after folding r in at now_ms. cur: its
 * committed entry of that month (NULL: none yet); last: its latest
 * committed entry of any month (the cursor; may be cur). Once a day has
 * been measured (now - mark_ms >= 24 h), day_bytes becomes that day's
 * bytes (scaled to 24 h) and the mark moves; a new month starts with the
 * previous month's day_bytes. Returns 1 when out differs from cur
 * (worth a commit), 0 when nothing changed.
 */
int ledger_fold(const struct fsm_ledger *cur, const struct fsm_ledger *last,
		const struct ledger_report *r, const char *month, uint64_t id,
		const char *provider, uint64_t now_ms, struct fsm_ledger *out);

uint64_t ledger_total(const uint64_t bytes[FSM_LEDGER_CLASSES]);

/* actual projected to the end of e's month from e->day_bytes; actual
 * alone while no day has been measured (day_bytes 0). */
uint64_t ledger_projected(const struct fsm_ledger *e, uint64_t actual,
			  uint64_t now_ms);

#endif
