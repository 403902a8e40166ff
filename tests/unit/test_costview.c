/* costview: pricing, the budget state and the JSON contract of cost
 * status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/cost/costview.h"

#define GB 1073741824ULL

static void fill(struct costview *v, struct costview_member *m)
{
	struct costview_provider *p;

	memset(v, 0, sizeof(*v));
	snprintf(v->month, sizeof(v->month), "2026-12");
	v->mem = m;
	memset(m, 0, 3 * sizeof(*m));
	snprintf(m[0].name, sizeof(m[0].name), "n1");
	snprintf(m[0].provider, sizeof(m[0].provider), "gcp");
	m[0].bytes[EGRESS_NTP] = GB / 2;
	m[0].bytes[EGRESS_CLUSTER] = GB / 4;
	m[0].projected = 3 * GB;
	m[0].governor = "off";
	snprintf(m[1].name, sizeof(m[1].name), "n2");
	snprintf(m[1].provider, sizeof(m[1].provider), "aws");
	m[1].bytes[EGRESS_NTP] = 10 * GB;
	m[1].projected = 20 * GB;
	snprintf(m[2].name, sizeof(m[2].name), "n\"3");
	snprintf(m[2].provider, sizeof(m[2].provider), "gcp");
	m[2].bytes[EGRESS_OTHER] = 76;
	m[2].projected = 76;
	for (v->n_mem = 0; v->n_mem < 3; v->n_mem++) {
		p = costview_add(v, &m[v->n_mem]);
		assert_non_null(p);
		p->allowance = strcmp(p->name, "gcp") ? 100 * GB : GB;
		p->price_gb = strcmp(p->name, "gcp") ? 0.09 : 0.12;
	}
}

static void price(void **state)
{
	struct costview v;
	struct costview_member m[3];

	(void)state;
	fill(&v, m);
	costview_price(&v);
	assert_int_equal(v.n_prov, 2);
	assert_string_equal(v.prov[0].name, "gcp");
	assert_int_equal(v.prov[0].bytes, GB / 2 + GB / 4 + 76);
	assert_int_equal(v.prov[0].projected, 3 * GB + 76);
	/* 2 GB (and 76 B) over the allowance at 0.12 */
	assert_true(v.prov[0].cost_usd > 0.2399 && v.prov[0].cost_usd < 0.2401);
	assert_true(v.prov[1].cost_usd == 0);      /* within 100 GB */
	assert_true(v.projected_cost_usd > 0.2399 &&
		    v.projected_cost_usd < 0.2401);
	/* gcp's projection is 3x its allowance */
	assert_true(v.used_ratio > 3 && v.used_ratio < 3.01);
	assert_string_equal(v.budget_state, "100");
	/* a budget alone, allowances met */
	v.prov[0].allowance = 10 * GB;
	v.budget_usd = 1;
	costview_price(&v);
	assert_true(v.projected_cost_usd == 0);
	assert_true(v.used_ratio > 0.3 && v.used_ratio < 0.31); /* 3/10 */
	assert_string_equal(v.budget_state, "ok");
	assert_string_equal(costview_state(0.49), "ok");
	assert_string_equal(costview_state(0.5), "50");
	assert_string_equal(costview_state(0.8), "80");
	assert_string_equal(costview_state(0.99), "80");
	assert_string_equal(costview_state(1), "100");
}

#define HOUR 3600000ULL

/* Instance and IPv4 hours beyond the free allowances, with egress. */
static void price_hours(void **state)
{
	struct costview v;
	struct costview_member m[3];
	struct costview_provider *aws;

	(void)state;
	fill(&v, m);
	aws = &v.prov[1];
	assert_string_equal(aws->name, "aws");
	aws->vm_free_ms = 750 * HOUR;
	aws->price_vm_h = 0.0104;
	aws->ip_free_ms = 750 * HOUR;
	aws->price_ip_h = 0.005;
	/* below the free hours: nothing */
	aws->vm_ms = 300 * HOUR;
	aws->vm_proj_ms = 700 * HOUR;
	aws->ip_ms = 300 * HOUR;
	aws->ip_proj_ms = 744 * HOUR;
	costview_price(&v);
	assert_true(aws->vm_usd == 0 && aws->ip_usd == 0);
	assert_true(aws->cost_usd == 0);
	/* two members all month: 1488 h, 738 beyond the 750 free */
	aws->vm_proj_ms = 1488 * HOUR;
	aws->ip_proj_ms = 1488 * HOUR;
	costview_price(&v);
	assert_true(aws->vm_usd > 7.6752 - 1e-9 && aws->vm_usd < 7.6752 + 1e-9);
	assert_true(aws->ip_usd > 3.69 - 1e-9 && aws->ip_usd < 3.69 + 1e-9);
	assert_true(aws->egress_usd == 0);
	assert_true(aws->cost_usd > 11.3652 - 1e-9 &&
		    aws->cost_usd < 11.3652 + 1e-9);
	/* the total adds gcp's egress (0.24) */
	assert_true(v.projected_cost_usd > 11.6052 - 1e-6 &&
		    v.projected_cost_usd < 11.6052 + 1e-6);
	/* a stopped member's static address: address hours, no instance
	 * hours, and with no free address hours every one is billed */
	aws->vm_proj_ms = 0;
	aws->ip_proj_ms = 744 * HOUR;
	aws->ip_free_ms = 0;
	costview_price(&v);
	assert_true(aws->vm_usd == 0);
	assert_true(aws->ip_usd > 3.72 - 1e-9 && aws->ip_usd < 3.72 + 1e-9);
	/* the budget state follows the cost with hours: gcp within its
	 * egress allowance (30 %), the 3.72 USD of addresses are 74.4 % of
	 * a 5 USD budget */
	v.prov[0].allowance = 10 * GB;
	v.budget_usd = 5;
	costview_price(&v);
	assert_true(v.projected_cost_usd > 3.7199 &&
		    v.projected_cost_usd < 3.7201);
	assert_true(v.used_ratio > 0.7439 && v.used_ratio < 0.7441);
	assert_string_equal(v.budget_state, "50");
	v.budget_usd = 4.5;
	costview_price(&v);
	assert_string_equal(v.budget_state, "80");
	v.budget_usd = 3.7;
	costview_price(&v);
	assert_string_equal(v.budget_state, "100");
}

/* costview_add sums the members' hours into their provider's row. */
static void add_hours(void **state)
{
	struct costview v;
	struct costview_member m[2];
	struct costview_provider *p = NULL;

	(void)state;
	memset(&v, 0, sizeof(v));
	memset(m, 0, sizeof(m));
	v.mem = m;
	for (v.n_mem = 0; v.n_mem < 2; v.n_mem++) {
		snprintf(m[v.n_mem].provider, sizeof(m[0].provider), "gcp");
		m[v.n_mem].vm_ms = 10 * HOUR;
		m[v.n_mem].vm_proj_ms = 744 * HOUR;
		m[v.n_mem].ip_ms = 20 * HOUR;
		m[v.n_mem].ip_proj_ms = 744 * HOUR;
		p = costview_add(&v, &m[v.n_mem]);
		assert_non_null(p);
	}
	assert_int_equal(v.n_prov, 1);
	assert_int_equal(p->vm_ms, 20 * HOUR);
	assert_int_equal(p->vm_proj_ms, 1488 * HOUR);
	assert_int_equal(p->ip_ms, 40 * HOUR);
	/* gcp's always-free e2-micro: one VM's month free, the other's
	 * billed at 0.0084 */
	p->vm_free_ms = 744 * HOUR;
	p->price_vm_h = 0.0084;
	p->price_ip_h = 0.005;
	costview_price(&v);
	assert_true(p->vm_usd > 6.2496 - 1e-9 && p->vm_usd < 6.2496 + 1e-9);
	assert_true(p->ip_usd > 7.44 - 1e-9 && p->ip_usd < 7.44 + 1e-9);
}

static void json(void **state)
{
	struct costview v;
	struct costview_member m[3];
	char *j, *t;

	(void)state;
	fill(&v, m);
	v.budget_usd = 5;
	costview_price(&v);
	j = costview_json(&v);
	assert_non_null(j);
	assert_non_null(strstr(j, "{\"month\":\"2026-12\",\"budget_usd\":5,"
				  "\"projected_cost_usd\":"));
	assert_non_null(strstr(j, ",\"budget_state\":\"100\",\"providers\":"
				  "[{\"name\":\"gcp\",\"bytes\":805306444,"
				  "\"projected_bytes\":3221225548,"
				  "\"allowance_bytes\":1073741824,"
				  "\"projected_cost_usd\":"));
	assert_non_null(strstr(j, "\"members\":[{\"name\":\"n1\",\"provider\":"
				  "\"gcp\",\"bytes\":{\"ntp\":536870912,"
				  "\"crosscheck\":0,\"cluster\":268435456,"
				  "\"other\":0},\"projected_bytes\":3221225472,"
				  "\"governor\":\"off\"}"));
	/* names are escaped; a missing governor is off */
	assert_non_null(strstr(j, "{\"name\":\"n\\\"3\""));
	assert_null(strstr(j, "\"governor\":null"));
	t = costview_text(&v);
	assert_non_null(t);
	assert_non_null(strstr(t, "Month 2026-12: projected cost 0.24 USD of "
				  "a 5.00 USD budget, state 100"));
	assert_non_null(strstr(t, "gcp"));
	assert_non_null(strstr(t, "VM HOURS"));
	assert_non_null(strstr(t, "IPV4 USD"));
	/* the JSON keeps exactly its keys: no hours in it */
	assert_null(strstr(j, "hours"));
	assert_null(strstr(j, "vm_"));
	free(j);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(price),
		cmocka_unit_test(price_hours),
		cmocka_unit_test(add_hours),
		cmocka_unit_test(json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
