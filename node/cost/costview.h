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
#define COSTVIEW_HOUR_MS 3600000.0

/* Hours are kept in ms (node/cost/vmhours.h). */
struct costview_provider {
	char name[16];
	uint64_t bytes, projected;
	uint64_t allowance;             /* bytes a month free */
	double price_gb;                /* USD per GB beyond it */
	uint64_t vm_ms, vm_proj_ms;     /* its members' instance hours */
	uint64_t vm_free_ms;            /* free a month */
	double price_vm_h;              /* USD per instance hour beyond it */
	uint64_t ip_ms, ip_proj_ms;     /* public IPv4 address hours */
	uint64_t ip_free_ms;            /* free a month */
	double price_ip_h;              /* USD per address hour beyond it */
	/* projected, filled by costview_price */
	double egress_usd, vm_usd, ip_usd;
	double cost_usd;                /* their sum */
};

struct costview_member {
	char name[72];
	char provider[16];
	uint64_t bytes[EGRESS_NCLASS];
	uint64_t projected;
	uint64_t vm_ms, vm_proj_ms;     /* instance hours, vmhours.h */
	uint64_t ip_ms, ip_proj_ms;     /* IPv4 address hours */
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

/* Adds a member's bytes, hours and projections to its provider's row
 * (made on first use; the provider's allowances and prices are the
 * caller's to set on the row returned). NULL when the table is full. */
struct costview_provider *costview_add(struct costview *v,
				       const struct costview_member *m);
/*
 * Prices every provider and the total: projected bytes beyond the
 * allowance times the price per GB (GB of 2^30 bytes), plus projected
 * instance hours beyond the free hours times the instance-hour price,
 * plus projected IPv4 address hours beyond the free address hours times
 * the address-hour price. Sets used_ratio: the largest of projected cost
 * / budget (with a budget) and, for providers with an egress allowance,
 * the larger of actual and projected bytes / allowance (free hours have
 * no ratio of their own: the rotation plans within them, and what goes
 * beyond is in the cost). budget_state follows from it (costview_state).
 */
void costview_price(struct costview *v);
/* "ok" under 0.5, "50", "80", "100" from 1 on. */
const char *costview_state(double ratio);

/* malloc()ed NUL-terminated strings, NULL on ENOMEM. */
char *costview_json(const struct costview *v);
char *costview_text(const struct costview *v);

#endif
