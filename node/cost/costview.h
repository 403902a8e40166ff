/*
 * costview: renders `ntpctl cost status` (table and JSON) from a plain
 * snapshot, and prices it. Pure, so that the JSON contract is
 * unit-tested field by field:
 *
 * {"month": "YYYY-MM", "budget_usd": N, "projected_cost_usd": N,
 *  "budget_state": "ok"|"50"|"80"|"100",
 *  "providers": [{"name", "bytes", "projected_bytes", "allowance_bytes",
 *                 "projected_cost_usd"}],
 *  "members": [{"name", "provider", "bytes": {"ntp", "crosscheck",
 *               "cluster", "other"}, "projected_bytes",
 *               "governor": "off"|"on"|"limiting"}]}
 */
#ifndef NTPMC_COSTVIEW_H
#define NTPMC_COSTVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "node/cost/egress.h"

#define COSTVIEW_PROVIDERS 8
#define COSTVIEW_GB 1073741824.0	/* providers bill GB of 2^30 bytes */

struct costview_provider {
	char name[16];
	uint64_t bytes, projected;
	uint64_t allowance;             /* bytes a month free */
	double price_gb;                /* USD per GB beyond it */
	double cost_usd;                /* projected, filled by costview_price */
};

struct costview_member {
	char name[72];
	char provider[16];
	uint64_t bytes[EGRESS_NCLASS];
	uint64_t projected;
	const char *governor;           /* "off" | "on" | "limiting" */
};

struct costview {
	char month[8];
	int local;                      /* answered without the leader */
	double budget_usd;              /* 0: none */
	double projected_cost_usd;
	double used_ratio;              /* see costview_price */
	const char *budget_state;
	size_t n_prov;
	struct costview_provider prov[COSTVIEW_PROVIDERS];
	size_t n_mem;
	struct costview_member *mem;
};

/* Adds a member's bytes and projection to its provider's row (made on
 * first use; the provider's allowance and price are the caller's to
 * set on the row returned). NULL when the table is full. */
struct costview_provider *costview_add(struct costview *v,
				       const struct costview_member *m);
/*
 * Prices every provider (projected bytes beyond the allowance times the
 * price per GB) and the total, and sets used_ratio: the largest of
 * projected cost / budget (with a budget) and, for providers with an
 * allowance, the larger of actual and projected bytes / allowance.
 * budget_state follows from it (costview_state).
 */
void costview_price(struct costview *v);
/* "ok" under 0.5, "50", "80", "100" from 1 on. */
const char *costview_state(double ratio);

/* malloc()ed NUL-terminated strings, NULL on ENOMEM. */
char *costview_json(const struct costview *v);
char *costview_text(const struct costview *v);

#endif
