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
	free(j);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(price),
		cmocka_unit_test(json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
