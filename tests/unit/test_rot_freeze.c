/*
 * The rotation honours the freeze (node/rotation/rrec.c), on the
 * in-memory cluster (clmem.h) with the real reconciler and a provider hook
 * that logs its calls: 3 members of provider "fake", one of them gone
 * (its process stopped, its hook's status says stopped). Frozen, the
 * leader runs no hook and records nothing for it however long it waits;
 * resumed, it asks the hook, finds the member stopped and starts it (what
 * it would have done at once without the freeze).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "clmem.h"
#include "node/rotation/rotation.h"
#include "raft/fsm.h"

static struct rotation *rot[3];
static struct rot_conf rconf;
static char dir[64], hook[128], hooklog[128];

static struct {
	int done, err, result;
} prop;

static void prop_done(void *arg, int err, int result)
{
	(void)arg;
	prop.done = 1;
	prop.err = err;
	prop.result = result;
}

static int prop_over(void *arg)
{
	(void)arg;
	return prop.done;
}

/* Commits a freeze (1) or resume (0) through the leader. */
static void freeze(int leader, int on)
{
	void *buf;
	size_t len;

	memset(&prop, 0, sizeof(prop));
	assert_int_equal(fsm_cmd_freeze(on, on ? "test" : "", 1, &buf, &len),
			 0);
	assert_int_equal(cluster_propose(nodes[leader].cl, buf, len,
					 prop_done, NULL), 0);
	assert_true(run_until(prop_over, NULL, 5000));
	assert_int_equal(prop.err, 0);
	assert_int_equal(prop.result, FSM_OK);
}

/* The hook's log (empty string when nothing ran). */
static const char *log_text(void)
{
	static char buf[4096];
	FILE *f = fopen(hooklog, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

static int started(void *arg)
{
	char want[64];

	snprintf(want, sizeof(want), "start %s\n", (const char *)arg);
	return strstr(log_text(), want) != NULL;
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

static void freeze_honoured(void **state)
{
	const struct fsm_rot *rec;
	uint64_t victim_id;
	struct cluster_peer_view v;
	int i, k, leader, victim;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_rot_freeze.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(hook, sizeof(hook), "%s/hook", dir);
	snprintf(hooklog, sizeof(hooklog), "%s/log", dir);
	f = fopen(hook, "w");
	assert_non_null(f);
	/* status: stopped (the one gone is the only one asked) */
	fprintf(f, "#!/bin/sh\necho \"$1 $2\" >>'%s'\n"
		"[ \"$1\" = status ] && echo stopped\nexit 0\n", hooklog);
	fclose(f);
	assert_int_equal(chmod(hook, 0700), 0);
	memset(&rconf, 0, sizeof(rconf));
	snprintf(rconf.hook[0].provider, sizeof(rconf.hook[0].provider),
		 "fake");
	snprintf(rconf.hook[0].path, sizeof(rconf.hook[0].path), "%s", hook);
	rconf.n_hooks = 1;
	rconf.hook_timeout_ms = 5000;
	for (i = 0; i < 3; i++) {
		snprintf(conf_provider[i], sizeof(conf_provider[i]), "fake");
		snprintf(conf_instance[i], sizeof(conf_instance[i]), "i-%d", i);
	}

	form_cluster(3);
	for (i = 0; i < 3; i++)
		assert_int_equal(rotation_start(&rot[i], &loop, nodes[i].cl,
						&rconf), 0);
	leader = leader_index();
	assert_true(leader >= 0);
	freeze(leader, 1);

	/* a member that is not the leader goes away */
	victim = leader == 2 ? 1 : 2;
	victim_id = nodes[victim].cl->self;
	rotation_stop(rot[victim]);
	rot[victim] = NULL;
	node_stop(victim);
	/* unreachable within an election timeout or so */
	for (k = 0; k < 100; k++) {
		cluster_peer_view(nodes[leader].cl, victim_id, &v);
		if (!v.reachable)
			break;
		run_until(nothing, NULL, 50);
	}
	assert_false(v.reachable);
	/* frozen: no hook at all, nothing recorded, for 3 s (unfrozen, the
	 * leader asks the hook at once: see below) */
	run_until(nothing, NULL, 3000);
	assert_string_equal(log_text(), "");
	rec = fsm_rot_find(nodes[leader].cl->fsm, victim_id);
	assert_true(rec == NULL || rec->state == FSM_ROT_RUNNING);
	assert_int_equal(fsm_frozen(nodes[leader].cl->fsm, NULL, NULL), 1);

	/* resumed: status says stopped, found stopped, started */
	freeze(leader, 0);
	assert_true(run_until(started, conf_instance[victim], 10000));
	assert_non_null(strstr(log_text(), "status "));
	rec = fsm_rot_find(nodes[leader].cl->fsm, victim_id);
	assert_non_null(rec);
	assert_int_equal(rec->state, FSM_ROT_STARTING);

	for (i = 0; i < 3; i++)
		if (rot[i]) {
			rotation_stop(rot[i]);
			rot[i] = NULL;
		}
	stop_all();
	node_wipe(victim);
	unlink(hook);
	unlink(hooklog);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(freeze_honoured),
	};

	return cmocka_run_group_tests(tests, clmem_setup, clmem_teardown);
}
