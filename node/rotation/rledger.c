/* rledger: uncounted running time -> ledger items (rledger.h). */
#include "node/rotation/rledger.h"

#include "node/rotation/rcal.h"

size_t rledger_items(const struct rledger_member *m, size_t n,
		     struct fsm_hours_item *out, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int64_t from = m[i].counted_to, to = m[i].last_seen, cut;

		if (m[i].up_since > from)
			from = m[i].up_since;
		if (!from)
			from = to;     /* nothing known before: start here */
		if (to <= 0 || to <= m[i].counted_to)
			continue;
		if (from > to)
			from = to;     /* restarted after it was last heard */
		while (k < max) {
			cut = rcal_month_end(from);
			out[k].id = m[i].id;
			out[k].month = rcal_month(from);
			out[k].add_ms = (uint64_t)((cut < to ? cut : to) - from);
			out[k].counted_to = (uint64_t)to;
			k++;
			if (cut >= to)
				break;
			from = cut;
		}
	}
	return k;
}
