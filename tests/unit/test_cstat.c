/* `cluster status` rendering: its JSON contract. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/cluster/cstat.h"

static struct cstat_member mk(uint64_t id, const char *name, int role,
			      int leader, int reach)
{
	struct cstat_member m;

	memset(&m, 0, sizeof(m));
	m.id = id;
	strcpy(m.name, name);
	m.role = role;
	m.is_leader = leader;
	m.reachable = reach;
	m.last_contact_ms = -1;
	m.log_lag = -1;
	m.sync = CSTAT_SYNC_UNKNOWN;
	m.stratum = -1;
	m.offset = NAN;
	m.check_offset = NAN;
	return m;
}

static void json_fields(void **state)
{
	struct cstat_member m[3] = {
		mk(18446744073709551615ULL, "n1", 1, 1, 1),
		mk(2, "we\"ird\\\n", 1, 0, 0),
		mk(3, "n3", 2, 0, 1),
	};
	struct cstat s = { "c0ffee", 7, 18446744073709551615ULL, 0, 3, m, 0 };
	char *j;

	(void)state;
	m[0].stratum = 2;
	m[0].offset = 0.000125;
	m[0].sync = CSTAT_SYNC;
	m[0].last_contact_ms = 0;
	m[0].log_lag = 0;
	j = cstat_json(&s);
	assert_non_null(j);
	assert_non_null(strstr(j, "{\"cluster_id\":\"c0ffee\",\"term\":7,"
			       "\"leader_id\":\"18446744073709551615\","
			       "\"fault_tolerance\":0,\"view\":\"leader\","
			       "\"serving\":0,\"min_serving\":null,"
			       "\"members\":[{\"id\":\"18446744073709551615\","
			       "\"name\":\"n1\",\"role\":\"voter\","
			       "\"is_leader\":true,\"reachable\":true,"));
	assert_non_null(strstr(j, "\"last_contact_ms\":0,\"log_lag\":0,"
			       "\"sync\":\"synced\",\"stratum\":2,"
			       "\"offset\":0.000125000,\"mesh\":null,"
			       "\"crosscheck\":{\"verdict\":\"unknown\","
			       "\"offset_ms\":null,\"peers\":0},"
			       "\"serving\":false}"));
	assert_non_null(strstr(j, "\"name\":\"we\\\"ird\\\\\\u000a\""));
	assert_non_null(strstr(j, "\"role\":\"spare\""));
	assert_non_null(strstr(j, "\"stratum\":null,\"offset\":null"));
	free(j);

	/* ntpctl node drain: a flag per member, and a line under the table */
	j = cstat_json(&s);
	assert_non_null(strstr(j, "\"reachable\":true,\"drained\":false,"));
	free(j);
	m[2].drained = 1;
	j = cstat_json(&s);
	assert_non_null(strstr(j, "\"name\":\"n3\",\"role\":\"spare\","
			       "\"is_leader\":false,\"reachable\":true,"
			       "\"drained\":true,"));
	free(j);
	j = cstat_text(&s);
	assert_non_null(strstr(j, "\ndrained (never promoted; ntpctl node "
			       "undrain): n3 (3)\n"));
	free(j);
	m[2].drained = 0;
	j = cstat_text(&s);
	assert_null(strstr(j, "drained"));
	free(j);

	/* WireGuard clusters: each member's mesh hash prefix */
	strcpy(m[2].mesh, "dcbe227b1eee4851");
	j = cstat_json(&s);
	assert_non_null(strstr(j, "\"mesh\":\"dcbe227b1eee4851\","));
	free(j);

	s.leader_id = 0;
	s.local = 1;
	j = cstat_json(&s);
	assert_non_null(strstr(j, "\"leader_id\":null,"));
	assert_non_null(strstr(j, "\"view\":\"local\""));
	free(j);
}

/* The cross-check: a verdict, the offset from the others' median in ms
 * and the peers behind it, always present; serving members counted. */
static void crosscheck_fields(void **state)
{
	struct cstat_member m[3] = {
		mk(1, "n1", 1, 1, 1), mk(2, "n2", 1, 0, 1), mk(3, "n3", 1, 0, 1),
	};
	struct cstat s = { "c", 2, 1, 0, 3, m, 2 };
	char *j, *t;

	(void)state;
	m[0].check = CSTAT_CHECK_OK;
	m[0].check_peers = 2;
	m[0].check_offset = 0.000214;
	m[0].serving = 1;
	m[1].check = CSTAT_CHECK_SUSPECT;
	m[1].check_peers = 2;
	m[1].check_offset = -0.0200126;
	m[2].check = CSTAT_CHECK_OK;
	m[2].check_peers = 2;
	m[2].check_offset = 0;
	m[2].serving = 1;
	j = cstat_json(&s);
	assert_non_null(strstr(j, "\"serving\":2,\"min_serving\":2,"));
	assert_non_null(strstr(j, "\"name\":\"n1\""));
	assert_non_null(strstr(j, "\"crosscheck\":{\"verdict\":\"ok\","
			       "\"offset_ms\":0.214,\"peers\":2},"
			       "\"serving\":true}"));
	assert_non_null(strstr(j, "\"crosscheck\":{\"verdict\":\"suspect\","
			       "\"offset_ms\":-20.013,\"peers\":2},"
			       "\"serving\":false}"));
	assert_non_null(strstr(j, "\"offset_ms\":0.000,"));
	free(j);
	t = cstat_text(&s);
	assert_non_null(strstr(t, "serving 2 (min-serving 2)"));
	assert_non_null(strstr(t, " CHECK\n"));
	assert_non_null(strstr(t, " ok +0.214ms\n"));
	assert_non_null(strstr(t, " suspect -20.013ms\n"));
	free(t);
	m[1].check = CSTAT_CHECK_UNKNOWN;
	m[1].check_offset = NAN;
	t = cstat_text(&s);
	assert_non_null(strstr(t, " unknown\n"));
	free(t);
}

static void fault_tolerance(void **state)
{
	struct cstat_member m[5];
	struct cstat s = { "x", 1, 1, 0, 0, m, 0 };
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		m[i] = mk((uint64_t)i + 1, "n", 1, i == 0, 1);
	s.n = 1;
	assert_int_equal(cstat_fault_tolerance(&s), 0);
	s.n = 3;
	assert_int_equal(cstat_fault_tolerance(&s), 1);
	s.n = 5;
	assert_int_equal(cstat_fault_tolerance(&s), 2);
	m[4].reachable = 0;
	assert_int_equal(cstat_fault_tolerance(&s), 1);
	m[3].reachable = m[2].reachable = m[1].reachable = 0;
	assert_int_equal(cstat_fault_tolerance(&s), 0);  /* never negative */
	/* standbys and spares do not count */
	m[3].role = 0;
	m[4].role = 2;
	m[3].reachable = m[4].reachable = 1;
	m[1].reachable = 1;
	s.n = 5;
	assert_int_equal(cstat_fault_tolerance(&s), 0);
	s.n = 0;
	assert_int_equal(cstat_fault_tolerance(&s), 0);
}

static void text_table(void **state)
{
	struct cstat_member m[2] = { mk(1, "a\x1b[2J", 1, 1, 1),
				     mk(2, "b", 0, 0, 1) };
	struct cstat s = { "abc", 3, 1, 1, 2, m, 0 };
	char *t;

	(void)state;
	t = cstat_text(&s);
	assert_non_null(t);
	assert_non_null(strstr(t, "cluster abc  term 3  leader 1"));
	assert_non_null(strstr(t, "(local view: leader not reachable)"));
	assert_null(strchr(t, 0x1b));   /* no terminal escapes from names */
	assert_non_null(strstr(t, "standby"));
	assert_null(strstr(t, "mesh"));  /* no WireGuard: no mesh column */
	free(t);
	strcpy(m[0].mesh, "0123456789abcdef");
	t = cstat_text(&s);
	assert_non_null(strstr(t, "  mesh 0123456789abcdef\n"));
	assert_non_null(strstr(t, "  mesh -\n"));
	free(t);
	/* a drained member's own view says why it may be old; JSON says
	 * only "local" */
	s.local = CSTAT_LOCAL_DRAINED;
	t = cstat_text(&s);
	assert_non_null(strstr(t, "(local view: this member is drained, a "
			       "spare hears no raft traffic: ask another "
			       "member)"));
	assert_null(strstr(t, "leader not reachable"));
	free(t);
	t = cstat_json(&s);
	assert_non_null(strstr(t, "\"view\":\"local\""));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_fields),
		cmocka_unit_test(fault_tolerance),
		cmocka_unit_test(crosscheck_fields),
		cmocka_unit_test(text_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
