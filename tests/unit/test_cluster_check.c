/*
 * The cross-check's side of the cluster (node/cluster/cluster_check.c), on
 * the in-memory cluster (clmem.h): NTP ports into the member records,
 * members and pair keys for node/crosscheck, a follower's and the
 * leader's verdicts in cluster status, in the audit trail and in the
 * records, and a suspect leader handing over to an ok voter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <uv.h>

#include "tests/unit/clmem.h"

static struct cluster_check verdict(int v, double off, const char *why)
{
	struct cluster_check c;

	memset(&c, 0, sizeof(c));
	c.verdict = v;
	c.peers = 2;
	c.has_offset = 1;
	c.offset = off;
	snprintf(c.why, sizeof(c.why), "%s", why);
	return c;
}

/* Every member's record carries the NTP port it reported. */
static int ports_known(void *arg)
{
	struct cluster_member_info m[MAXN];
	int i, k, n;

	(void)arg;
	for (i = 0; i < 3; i++) {
		n = cluster_members(nodes[i].cl, m, MAXN);
		if (n != 2)
			return 0;
		for (k = 0; k < n; k++)
			if (m[k].ntp_port != 12300 + (int)(m[k].id % 1000) ||
			    strcmp(m[k].host, "127.0.0.1") != 0)
				return 0;
	}
	return 1;
}

struct shows {
	int node;
	const char *what;
};

/* The leader's status (asked on node w->node) and audit hold w->what. */
static int status_shows(void *arg)
{
	struct shows *w = arg;
	struct ctl_call *c = cmd(w->node, "cluster status", 0, NULL);
	int ok = c->status == 0 && strstr(c->json, w->what) != NULL;

	call_free(c);
	return ok;
}

static int audit_shows(void *arg)
{
	struct shows *w = arg;
	struct ctl_call *c = cmd(w->node, "audit", 0, NULL);
	int ok = c->status == 0 && strstr(c->text, w->what) != NULL;

	call_free(c);
	return ok;
}

static int suspect_recorded(void *arg)
{
	return cluster_self_suspect(nodes[*(int *)arg].cl);
}

static int leader_not(void *arg)
{
	int l = leader_index();

	return l >= 0 && l != *(int *)arg;
}

static void check_verdicts(void **state)
{
	uint8_t k12[CLUSTER_PAIR_KEY_LEN], k21[CLUSTER_PAIR_KEY_LEN];
	uint8_t k13[CLUSTER_PAIR_KEY_LEN];
	struct cluster_check c;
	struct ctl_call *cc;
	struct shows sh;
	int i, l, f, s;

	(void)state;
	form_cluster(3);
	for (i = 0; i < 3; i++)
		cluster_set_ntp_port(nodes[i].cl, (uint16_t)(12300 +
			cluster_self_id(nodes[i].cl) % 1000));
	assert_true(run_until(ports_known, NULL, 5000));
	/* pair keys: the same on both sides, another for another pair */
	assert_int_equal(cluster_pair_key(nodes[0].cl,
					  cluster_self_id(nodes[1].cl), k12), 0);
	assert_int_equal(cluster_pair_key(nodes[1].cl,
					  cluster_self_id(nodes[0].cl), k21), 0);
	assert_int_equal(cluster_pair_key(nodes[0].cl,
					  cluster_self_id(nodes[2].cl), k13), 0);
	assert_memory_equal(k12, k21, sizeof(k12));
	assert_memory_not_equal(k12, k13, sizeof(k12));
	assert_int_equal(cluster_pair_key(nodes[0].cl, 12345, k12), -ENOENT);
	/* nothing reported yet: unknown, null, 0 */
	sh = (struct shows){ 0, "\"crosscheck\":{\"verdict\":\"unknown\","
			     "\"offset_ms\":null,\"peers\":0}" };
	assert_true(status_shows(&sh));

	/* a follower reports ok, then suspect: status, audit, record */
	l = leader_index();
	assert_true(l >= 0);
	f = (l + 1) % 3;
	s = (l + 2) % 3;
	c = verdict(CLUSTER_CHECK_OK, 0.0002, "ok");
	cluster_check_report(nodes[l].cl, &c);
	cluster_check_report(nodes[s].cl, &c);
	c = verdict(CLUSTER_CHECK_SUSPECT, 0.02, "+20.000 ms from n1, n2");
	cluster_check_report(nodes[f].cl, &c);
	sh = (struct shows){ s, "\"crosscheck\":{\"verdict\":\"suspect\","
			     "\"offset_ms\":20.000,\"peers\":2},"
			     "\"serving\":false}" };
	assert_true(run_until(status_shows, &sh, 5000));
	sh = (struct shows){ s, "\"serving\":2," };
	assert_true(status_shows(&sh));
	sh = (struct shows){ s, "cross-check suspect: +20.000 ms from n1, n2" };
	assert_true(run_until(audit_shows, &sh, 5000));
	assert_true(run_until(suspect_recorded, &f, 5000));
	/* unknown never clears; ok does, once */
	c = verdict(CLUSTER_CHECK_UNKNOWN, 0, "no majority");
	cluster_check_report(nodes[f].cl, &c);
	c = verdict(CLUSTER_CHECK_OK, 0.0001, "3 ok checks");
	cluster_check_report(nodes[f].cl, &c);
	sh = (struct shows){ s, "cross-check cleared: 3 ok checks" };
	assert_true(run_until(audit_shows, &sh, 15000));
	assert_false(cluster_self_suspect(nodes[f].cl));
	cc = cmd(s, "audit", 0, NULL);
	assert_int_equal(count(cc->text, "cross-check"), 2);
	call_free(cc);

	/* the leader a suspect: it hands over to a voter whose verdict is
	 * ok, not to the one whose verdict is unknown */
	c = verdict(CLUSTER_CHECK_UNKNOWN, 0, "no majority");
	cluster_check_report(nodes[f].cl, &c);
	sh = (struct shows){ l, "\"crosscheck\":{\"verdict\":\"unknown\","
			     "\"offset_ms\":0.000,\"peers\":2}" };
	assert_true(run_until(status_shows, &sh, 5000));
	c = verdict(CLUSTER_CHECK_SUSPECT, -0.03, "-30.000 ms");
	cluster_check_report(nodes[l].cl, &c);
	assert_true(run_until(leader_not, &l, 15000));
	assert_int_equal(leader_index(), s);
	sh = (struct shows){ s, "cross-check suspect: -30.000 ms" };
	assert_true(run_until(audit_shows, &sh, 5000));

	stop_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_verdicts),
	};

	return cmocka_run_group_tests(tests, clmem_setup, clmem_teardown);
}
