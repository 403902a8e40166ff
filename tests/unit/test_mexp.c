/* The exposition writer and the families (node/metrics/prom.c, mexp.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/metrics/mexp.h"
#include "node/metrics/prom.h"

static void test_prom_escaping(void **state)
{
	struct prom *p = prom_new();
	const char *l[] = { "a", "x\"y\\z\nw", "b", "", NULL };
	char *t;
	size_t len;

	assert_non_null(p);
	prom_family(p, "m", "gauge", "help \\ with\nnewline \"quoted\"");
	prom_gauge(p, "m", l, 1.5);
	prom_gauge(p, "m", NULL, NAN);
	prom_gauge(p, "m", NULL, INFINITY);
	prom_gauge(p, "m", NULL, -INFINITY);
	prom_count(p, "c_total", NULL, 18446744073709551615ull);
	t = prom_finish(p, &len);
	assert_non_null(t);
	assert_int_equal(len, strlen(t));
	assert_string_equal(t,
		"# HELP m help \\\\ with\\nnewline \"quoted\"\n"
		"# TYPE m gauge\n"
		"m{a=\"x\\\"y\\\\z\\nw\",b=\"\"} 1.5\n"
		"m NaN\n"
		"m +Inf\n"
		"m -Inf\n"
		"c_total 18446744073709551615\n");
	free(t);
}

static void test_prom_histogram(void **state)
{
	struct prom *p = prom_new();
	double le[] = { 0.001, 0.01 };
	uint64_t cum[] = { 3, 7 };
	char *t;
	size_t len;

	prom_histogram(p, "h_seconds", 2, le, cum, 0.25, 9);
	t = prom_finish(p, &len);
	assert_string_equal(t,
		"h_seconds_bucket{le=\"0.001\"} 3\n"
		"h_seconds_bucket{le=\"0.01\"} 7\n"
		"h_seconds_bucket{le=\"+Inf\"} 9\n"
		"h_seconds_sum 0.25\n"
		"h_seconds_count 9\n");
	free(t);
}

/* Every sample's family has # HELP and # TYPE before it, once. */
static void check_families(const char *t)
{
	char typed[64][96];
	int n = 0, i;
	const char *line = t;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char name[96];
		size_t k;

		assert_non_null(nl);
		if (strncmp(line, "# TYPE ", 7) == 0) {
			k = strcspn(line + 7, " ");
			assert_true(k < sizeof(name));
			memcpy(name, line + 7, k);
			name[k] = '\0';
			for (i = 0; i < n; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(n < 64);
			strcpy(typed[n++], name);
		} else if (line[0] != '#') {
			k = strcspn(line, "{ ");
			memcpy(name, line, k);
			name[k] = '\0';
			for (i = 0; i < n; i++) {
				size_t tl = strlen(typed[i]);

				if (strncmp(name, typed[i], tl) == 0 &&
				    (name[tl] == '\0' ||
				     !strcmp(name + tl, "_bucket") ||
				     !strcmp(name + tl, "_sum") ||
				     !strcmp(name + tl, "_count")))
					break;
			}
			if (i == n)
				fail_msg("sample %s has no TYPE", name);
			assert_int_equal(strncmp(name, "ntpmc_", 6), 0);
		}
		line = nl + 1;
	}
}

struct fixture {
	struct metrics_tracking tr;
	struct metrics_source src[2];
	struct metrics_serving sv;
	struct cluster_view cv;
	struct mhttp_stats hs;
	struct metrics_egress eg;
	struct mexp_in in;
};

static void fill(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->tr.state, sizeof(f->tr.state), "synchronized");
	f->tr.stratum = 2;
	f->tr.last_offset = -0.000123;
	f->tr.freq_ppm = 3.5;
	snprintf(f->src[0].name, sizeof(f->src[0].name), "ntp1.example");
	snprintf(f->src[0].addr, sizeof(f->src[0].addr), "192.0.2.1");
	snprintf(f->src[0].state, sizeof(f->src[0].state), "selected");
	f->src[0].reach = 0xff;
	f->src[0].poll = 6;
	f->src[0].have_sample = 1;
	f->src[0].offset = 0.001;
	snprintf(f->src[1].name, sizeof(f->src[1].name), "ntp2.example");
	snprintf(f->src[1].state, sizeof(f->src[1].state), "unresolved");
	f->sv.running = 1;
	f->sv.received = 100;
	f->sv.dropped[METRICS_DROP_MODE] = 4;
	f->sv.n_le = 1;
	f->sv.le[0] = 1e-6;
	f->sv.cum[0] = 90;
	f->sv.count = 96;
	f->cv.member = 1;
	f->cv.role = "voter";
	f->cv.voters = 3;
	f->cv.term = 7;
	f->in.version = "0.1.0";
	f->in.tr = &f->tr;
	f->in.src = f->src;
	f->in.n_src = 2;
	f->in.sv = &f->sv;
	f->in.cv = &f->cv;
	f->in.http = &f->hs;
}

static char *render(struct fixture *f)
{
	size_t len;
	char *t = mexp_render(&f->in, &len);

	assert_non_null(t);
	assert_int_equal(len, strlen(t));
	check_families(t);
	return t;
}

static void test_mexp_follower_and_leader(void **state)
{
	struct fixture f;
	char *t;

	fill(&f);
	t = render(&f);
	assert_non_null(strstr(t, "ntpmc_build_info{version=\"0.1.0\"} 1\n"));
	assert_non_null(strstr(t, "ntpmc_tracking_stratum 2\n"));
	assert_non_null(strstr(t, "ntpmc_tracking_frequency_ppms 3.5\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_is_leader 0\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_term 7\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_role{role=\"voter\"} 1\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_role{role=\"spare\"} 0\n"));
	/* only the leader speaks for the cluster */
	assert_null(strstr(t, "ntpmc_cluster_members"));
	assert_null(strstr(t, "ntpmc_cluster_fault_tolerance"));
	assert_non_null(strstr(t, "ntpmc_crosscheck_verdict{verdict=\"unknown\"} 1\n"));
	assert_non_null(strstr(t, "ntpmc_crosscheck_verdict{verdict=\"suspect\"} 0\n"));
	assert_non_null(strstr(t, "ntpmc_serverstats_ntp_packets_dropped_total"
				  "{reason=\"mode\"} 4\n"));
	assert_non_null(strstr(t, "ntpmc_sources_reachability_ratio{source_address="
				  "\"192.0.2.1\",source_name=\"ntp1.example\"} 1\n"));
	assert_non_null(strstr(t, "ntpmc_sources_polling_interval_seconds{source_"
				  "address=\"192.0.2.1\",source_name=\"ntp1.example\"} 64\n"));
	assert_non_null(strstr(t, "ntpmc_sources_state_info{source_address=\"\","
				  "source_name=\"ntp2.example\",source_state="
				  "\"unresolved\"} 1\n"));
	/* a source without a sample has no offset sample */
	assert_null(strstr(t, "ntpmc_sources_offset_seconds{source_address=\"\""));
	/* reserved families are not written */
	assert_null(strstr(t, "ntpmc_budget_used_ratio"));
	assert_null(strstr(t, "ntpmc_egress_bytes_total"));
	/* no rotation view: no rotation family */
	assert_null(strstr(t, "ntpmc_rotation_"));
	free(t);

	f.cv.is_leader = 1;
	f.cv.fault_tolerance = 1;
	t = render(&f);
	assert_non_null(strstr(t, "ntpmc_cluster_is_leader 1\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_members{role=\"voter\"} 3\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_members{role=\"spare\"} 0\n"));
	assert_non_null(strstr(t, "ntpmc_cluster_fault_tolerance 1\n"));
	free(t);

	/* egress by class, once the daemon counts it; the ratio only with a
	 * budget */
	f.eg.n = 2;
	f.eg.cls[0].name = "ntp";
	f.eg.cls[0].bytes = 7600;
	f.eg.cls[1].name = "cluster";
	f.eg.cls[1].bytes = 52;
	f.in.eg = &f.eg;
	t = render(&f);
	assert_non_null(strstr(t, "ntpmc_egress_bytes_total{class=\"ntp\"} 7600\n"));
	assert_non_null(strstr(t, "ntpmc_egress_bytes_total{class=\"cluster\"} 52\n"));
	assert_null(strstr(t, "ntpmc_budget_used_ratio"));
	free(t);
	f.eg.has_ratio = 1;
	f.eg.used_ratio = 0.5;
	t = render(&f);
	assert_non_null(strstr(t, "ntpmc_budget_used_ratio 0.5\n"));
	assert_null(strstr(t, "ntpmc_egress_governor_state"));
	free(t);
	f.eg.governor = "limiting";
	f.eg.governor_rate = 400;
	t = render(&f);
	assert_non_null(strstr(t, "ntpmc_egress_governor_state{state=\"limiting\"} 1\n"));
	assert_non_null(strstr(t, "ntpmc_egress_governor_state{state=\"on\"} 0\n"));
	assert_non_null(strstr(t, "ntpmc_egress_governor_limit_bytes_per_second 400\n"));
	free(t);
}

static void test_mexp_standalone(void **state)
{
	struct fixture f;
	char *t;

	fill(&f);
	f.in.cv = NULL;
	f.in.n_src = 0;
	f.in.src = NULL;
	t = render(&f);
	assert_null(strstr(t, "ntpmc_cluster_"));
	assert_null(strstr(t, "ntpmc_sources_"));
	/* the tracking families are always there */
	assert_non_null(strstr(t, "ntpmc_tracking_leap_status 0\n"));
	free(t);
	/* a joining member exports no cluster family yet */
	fill(&f);
	f.cv.member = 0;
	t = render(&f);
	assert_null(strstr(t, "ntpmc_cluster_"));
	free(t);
}

/* Where a rotation runs: each member's plan and the leader's alerts. */
static void test_mexp_rotation(void **state)
{
	struct metrics_rotation rot;
	struct fixture f;
	char *t;

	(void)state;
	fill(&f);
	memset(&rot, 0, sizeof(rot));
	f.in.rot = &rot;
	t = render(&f);
	assert_null(strstr(t, "ntpmc_rotation_"));   /* not present */
	free(t);
	rot.present = 1;
	rot.n_member = 2;
	snprintf(rot.member[0].name, sizeof(rot.member[0].name), "aws-a");
	rot.member[0].planned = 1;
	snprintf(rot.member[1].name, sizeof(rot.member[1].name), "aws-b");
	rot.alerts = 2;
	t = render(&f);
	assert_non_null(strstr(t, "# TYPE ntpmc_rotation_planned gauge\n"));
	assert_non_null(strstr(t, "ntpmc_rotation_planned{member=\"aws-a\"} 1\n"));
	assert_non_null(strstr(t, "ntpmc_rotation_planned{member=\"aws-b\"} 0\n"));
	assert_non_null(strstr(t, "ntpmc_rotation_alerts 2\n"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_escaping),
		cmocka_unit_test(test_prom_histogram),
		cmocka_unit_test(test_mexp_follower_and_leader),
		cmocka_unit_test(test_mexp_standalone),
		cmocka_unit_test(test_mexp_rotation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
