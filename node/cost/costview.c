/* costview: cost status, priced and rendered; see costview.h. */
#include "node/cost/costview.h"

#include <stdio.h>
#include <string.h>

#include "node/base/json.h"
#include "node/base/strbuf.h"

struct costview_provider *costview_add(struct costview *v,
				       const struct costview_member *m)
{
	struct costview_provider *p;
	size_t i;
	int k;

	for (i = 0; i < v->n_prov; i++)
		if (strcmp(v->prov[i].name, m->provider) == 0)
			break;
	if (i == v->n_prov) {
		if (v->n_prov == COSTVIEW_PROVIDERS)
			return NULL;
		p = &v->prov[v->n_prov++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", m->provider);
	}
	p = &v->prov[i];
	for (k = 0; k < EGRESS_NCLASS; k++)
		p->bytes += m->bytes[k];
	p->projected += m->projected;
	p->vm_ms += m->vm_ms;
	p->vm_proj_ms += m->vm_proj_ms;
	p->ip_ms += m->ip_ms;
	p->ip_proj_ms += m->ip_proj_ms;
	return p;
}

const char *costview_state(double ratio)
{
	if (ratio >= 1)
		return "100";
	if (ratio >= 0.8)
		return "80";
	if (ratio >= 0.5)
		return "50";
	return "ok";
}

static uint64_t over(uint64_t used, uint64_t free)
{
	return used > free ? used - free : 0;
}

void costview_price(struct costview *v)
{
	double total = 0, ratio = 0, r;
	size_t i;

	for (i = 0; i < v->n_prov; i++) {
		struct costview_provider *p = &v->prov[i];

		p->egress_usd = (double)over(p->projected, p->allowance) /
				COSTVIEW_GB * p->price_gb;
		p->vm_usd = (double)over(p->vm_proj_ms, p->vm_free_ms) /
			    COSTVIEW_HOUR_MS * p->price_vm_h;
		p->ip_usd = (double)over(p->ip_proj_ms, p->ip_free_ms) /
			    COSTVIEW_HOUR_MS * p->price_ip_h;
		p->cost_usd = p->egress_usd + p->vm_usd + p->ip_usd;
		total += p->cost_usd;
		if (p->allowance) {
			r = (double)(p->projected > p->bytes ? p->projected :
							       p->bytes) /
			    (double)p->allowance;
			if (r > ratio)
				ratio = r;
		}
	}
	v->projected_cost_usd = total;
	if (v->budget_usd > 0 && total / v->budget_usd > ratio)
		ratio = total / v->budget_usd;
	v->used_ratio = ratio;
	v->budget_state = costview_state(ratio);
}

char *costview_json(const struct costview *v)
{
	struct json *j = json_new();
	char *out;
	size_t i;
	int k;

	if (!j)
		return NULL;
	json_obj_begin(j, NULL);
	json_str(j, "month", v->month);
	json_double(j, "budget_usd", v->budget_usd);
	json_double(j, "projected_cost_usd", v->projected_cost_usd);
	json_str(j, "budget_state", v->budget_state ? v->budget_state : "ok");
	json_arr_begin(j, "providers");
	for (i = 0; i < v->n_prov; i++) {
		const struct costview_provider *p = &v->prov[i];

		json_obj_begin(j, NULL);
		json_str(j, "name", p->name);
		json_uint(j, "bytes", p->bytes);
		json_uint(j, "projected_bytes", p->projected);
		json_uint(j, "allowance_bytes", p->allowance);
		json_double(j, "projected_cost_usd", p->cost_usd);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_arr_begin(j, "members");
	for (i = 0; i < v->n_mem; i++) {
		const struct costview_member *m = &v->mem[i];

		json_obj_begin(j, NULL);
		json_str(j, "name", m->name);
		json_str(j, "provider", m->provider);
		json_obj_begin(j, "bytes");
		for (k = 0; k < EGRESS_NCLASS; k++)
			json_uint(j, egress_class_name(k), m->bytes[k]);
		json_obj_end(j);
		json_uint(j, "projected_bytes", m->projected);
		json_str(j, "governor", m->governor ? m->governor : "off");
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	out = json_finish(j);
	json_free(j);
	return out;
}

/* "1.23 GB" style, GB of 2^30 bytes like the bill. */
static void human(uint64_t b, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB" };
	double x = (double)b;
	int u = 0;

	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)b);
	else
		snprintf(out, len, "%.2f %s", x, unit[u]);
}

char *costview_text(const struct costview *v)
{
	struct strbuf b;
	char h[5][32];
	size_t i;
	int k;

	strbuf_init(&b);
	strbuf_addf(&b, "Month %s%s: projected cost %.2f USD", v->month,
		    v->local ? " (this member's view: no leader answered)" :
			       "",
		    v->projected_cost_usd);
	if (v->budget_usd > 0)
		strbuf_addf(&b, " of a %.2f USD budget", v->budget_usd);
	strbuf_addf(&b, ", state %s\n\n",
		    v->budget_state ? v->budget_state : "ok");
	strbuf_addf(&b, "%-10s %12s %12s %12s %10s %10s\n", "PROVIDER",
		    "SENT", "PROJECTED", "ALLOWANCE", "EGRESS USD",
		    "COST USD");
	for (i = 0; i < v->n_prov; i++) {
		const struct costview_provider *p = &v->prov[i];

		human(p->bytes, h[0], sizeof(h[0]));
		human(p->projected, h[1], sizeof(h[1]));
		human(p->allowance, h[2], sizeof(h[2]));
		strbuf_addf(&b, "%-10s %12s %12s %12s %10.2f %10.2f\n", p->name,
			    h[0], h[1], h[2], p->egress_usd, p->cost_usd);
	}
	/* hours: actual, projected to the month's end, free a month */
	strbuf_addf(&b, "\n%-10s %9s %9s %9s %8s %9s %9s %9s %8s\n",
		    "PROVIDER", "VM HOURS", "PROJECTED", "FREE", "VM USD",
		    "IPV4 H", "PROJECTED", "FREE", "IPV4 USD");
	for (i = 0; i < v->n_prov; i++) {
		const struct costview_provider *p = &v->prov[i];

		strbuf_addf(&b, "%-10s %9.1f %9.1f %9.1f %8.2f %9.1f %9.1f "
			    "%9.1f %8.2f\n", p->name,
			    (double)p->vm_ms / COSTVIEW_HOUR_MS,
			    (double)p->vm_proj_ms / COSTVIEW_HOUR_MS,
			    (double)p->vm_free_ms / COSTVIEW_HOUR_MS,
			    p->vm_usd,
			    (double)p->ip_ms / COSTVIEW_HOUR_MS,
			    (double)p->ip_proj_ms / COSTVIEW_HOUR_MS,
			    (double)p->ip_free_ms / COSTVIEW_HOUR_MS,
			    p->ip_usd);
	}
	strbuf_addf(&b, "\n%-16s %-8s %10s %10s %10s %10s %10s %-8s\n",
		    "MEMBER", "PROVIDER", "NTP", "XCHECK", "CLUSTER", "OTHER",
		    "PROJECTED", "GOVERNOR");
	for (i = 0; i < v->n_mem; i++) {
		const struct costview_member *m = &v->mem[i];

		for (k = 0; k < EGRESS_NCLASS; k++)
			human(m->bytes[k], h[k], sizeof(h[k]));
		strbuf_addf(&b, "%-16s %-8s %10s %10s %10s %10s", m->name,
			    m->provider, h[0], h[1], h[2], h[3]);
		human(m->projected, h[0], sizeof(h[0]));
		strbuf_addf(&b, " %10s %-8s\n", h[0],
			    m->governor ? m->governor : "off");
	}
	return strbuf_finish(&b, NULL);
}
