/*
 * What the cluster offers the subsystems above it, on the in-memory
 * cluster (clmem.h). record_announce: a member's record follows its
 * config (provider, instance id) and its build's FSM version
 * (node/cluster/cluster_announce.c); an instance id is written only once
 * every member applies version 3. record_puts_chained: two changes of a
 * record in flight at once both land. ext_api: the API of cluster_ext.c:
 * status parts and messages of a subsystem, observers, a config check,
 * proposals and the view of a member.
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

#include "clmem.h"
#include "raft/fsm.h"

struct rec_want {
	int node;           /* whose record, as the leader n1 has it */
	const char *provider, *instance;
	uint32_t version;
};

static int record_is(void *arg)
{
	struct rec_want *w = arg;
	const struct fsm_member *m;

	if (!nodes[0].cl || !nodes[w->node].cl)
		return 0;
	m = fsm_member_find(nodes[0].cl->fsm, nodes[w->node].cl->self);
	return m && strcmp(m->provider, w->provider) == 0 &&
	       strcmp(m->instance_id, w->instance) == 0 &&
	       m->cmd_version == w->version;
}

static void put_done(struct cluster *cl, struct cl_pend *p, int err,
		     int result)
{
	(void)cl;
	(void)p;
	assert_int_equal(err, 0);
	assert_int_equal(result, FSM_OK);
}

/* A member's record follows its config (provider, region, instance id)
 * and its build's FSM version; an instance id (version 3) is written only
 * once every member applies version 3. */
static void record_announce(void **state)
{
	struct rec_want rw;
	struct fsm_member m;
	void *buf;
	size_t len;

	(void)state;
	snprintf(conf_instance[0], sizeof(conf_instance[0]), "vm-1");
	snprintf(conf_instance[1], sizeof(conf_instance[1]), "vm-2");
	snprintf(conf_provider[1], sizeof(conf_provider[1]), "fake");
	form_cluster(2);
	/* recorded at init and at join */
	rw = (struct rec_want){ 0, "other", "vm-1", FSM_CMD_VERSION };
	assert_true(record_is(&rw));
	rw = (struct rec_want){ 1, "fake", "vm-2", FSM_CMD_VERSION };
	assert_true(record_is(&rw));

	/* n2 restarts with another provider and instance id */
	node_stop(1);
	snprintf(conf_instance[1], sizeof(conf_instance[1]), "vm-2b");
	snprintf(conf_provider[1], sizeof(conf_provider[1]), "gcp");
	assert_int_equal(node_start(1, CLUSTER_RUN, NULL), 0);
	rw = (struct rec_want){ 1, "gcp", "vm-2b", FSM_CMD_VERSION };
	assert_true(run_until(record_is, &rw, 10000));

	/* n2's record as an old build wrote it (version 1, no instance
	 * id): n2 announces its version first; as long as a member says
	 * version 1 no instance id is written, then it is */
	assert_true(cl_is_leader(nodes[0].cl));
	m = *fsm_member_find(nodes[0].cl->fsm, nodes[1].cl->self);
	m.cmd_version = 1;
	m.instance_id[0] = 0;
	assert_int_equal(fsm_cmd_member_put(&m, cl_wall_ms(), &buf, &len), 0);
	assert_int_equal(cl_propose(nodes[0].cl, buf, len, put_done, NULL,
				    NULL), 0);
	rw = (struct rec_want){ 1, "gcp", "", 1 };
	assert_true(run_until(record_is, &rw, 5000));
	assert_false(fsm_version_ok(nodes[0].cl->fsm, 3));
	rw = (struct rec_want){ 1, "gcp", "vm-2b", FSM_CMD_VERSION };
	assert_true(run_until(record_is, &rw, 40000));

	stop_all();
	memset(conf_instance, 0, sizeof(conf_instance));
	memset(conf_provider, 0, sizeof(conf_provider));
}

struct drain_want {
	int node, leader;
	const char *region;
};

static int drained_in(void *arg)
{
	struct drain_want *w = arg;
	const struct fsm_member *m;

	m = fsm_member_find(nodes[w->leader].cl->fsm,
			    nodes[w->node].cl->self);
	return m && strcmp(m->region, w->region) == 0;
}

/* Two changes of one member's record in flight at once, a drain and the
 * member's announce of a new region: a member_put replaces the whole
 * record, so the second starts from the first (cl_member_latest) and the
 * drain is not undone. */
static void record_puts_chained(void **state)
{
	struct drain_want w;
	struct ctl_call *c;
	struct cluster *cl;
	const char *name[1];
	char ver[16], *fwd[4];
	uint64_t id;
	int l, f;

	(void)state;
	form_cluster(3);
	l = leader_index();
	assert_true(l >= 0);
	f = (l + 1) % 3;
	cl = nodes[l].cl;
	id = nodes[f].cl->self;
	name[0] = nodes[f].conf.node_name;
	c = cmd_start(l, "node drain", 1, name);
	/* proposed, not applied yet */
	assert_false(fsm_member_find(cl->fsm, id)->drained);
	assert_true(cl_member_latest(cl, id)->drained);
	snprintf(ver, sizeof(ver), "%u", FSM_CMD_VERSION);
	fwd[0] = "other";
	fwd[1] = "elsewhere";
	fwd[2] = "";
	fwd[3] = ver;
	assert_int_equal(cl_announce_forwarded(cl, cl_req_forwarded(cl, id, 0),
					       "member announce", 4, fwd), 1);
	w = (struct drain_want){ f, l, "elsewhere" };
	assert_true(run_until(drained_in, &w, 5000));
	assert_true(fsm_member_find(cl->fsm, id)->drained);
	assert_true(run_until(call_done, c, 10000));
	assert_int_equal(c->status, CTL_OK);
	call_free(c);
	/* the member announces its configured region back, drain kept */
	w.region = nodes[f].conf.region;
	assert_true(run_until(drained_in, &w, 5000));
	assert_true(fsm_member_find(cl->fsm, id)->drained);
	stop_all();
}

/* ---- the API for the subsystems above (cluster_ext.c) ---- */

static struct {
	int observed, msgs, done, done_err, done_result;
	uint64_t from;
	char msg[32];
} ext;

static void ext_observe(void *arg)
{
	(void)arg;
	ext.observed++;
}

static void ext_msg(void *arg, uint64_t from, const void *buf, size_t len)
{
	(void)arg;
	ext.msgs++;
	ext.from = from;
	snprintf(ext.msg, sizeof(ext.msg), "%.*s", (int)len, (const char *)buf);
}

static int ext_check(void *arg, const char *key, const char *value,
		     char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(key, "min-serving") == 0 && strcmp(value, "7") == 0) {
		snprintf(err, errlen, "min-serving 7: not with this schedule");
		return -1;
	}
	return 0;
}

static void ext_done(void *arg, int err, int result)
{
	(void)arg;
	ext.done++;
	ext.done_err = err;
	ext.done_result = result;
}

static int status_seen(void *arg)
{
	const void *buf;
	size_t len;
	uint64_t age;

	(void)arg;
	return cluster_status_get(nodes[0].cl, nodes[1].cl->self, "rot", &buf,
				  &len, &age) == 0 && len == 5 &&
	       memcmp(buf, "hello", 5) == 0 && age < 1000;
}

static int msg_seen(void *arg)
{
	(void)arg;
	return ext.msgs == 1;
}

static int ext_proposed(void *arg)
{
	(void)arg;
	return ext.done == 1;
}

static int view_ok(void *arg)
{
	struct cluster_peer_view v;

	(void)arg;
	cluster_peer_view(nodes[0].cl, nodes[1].cl->self, &v);
	return v.role == CLUSTER_VOTER && v.reachable && v.has_status &&
	       v.synced && v.caught_up;
}

/* Status parts and messages of a subsystem reach the leader and the
 * member they are sent to; observers run after applied entries; a
 * subsystem's check refuses a config value; proposals report back; the
 * view of a member says what the leader knows. */
static void ext_api(void **state)
{
	struct ctl_call *c;
	const void *buf;
	size_t len;
	void *cmd_buf;
	int before;

	(void)state;
	memset(&ext, 0, sizeof(ext));
	form_cluster(2);
	assert_int_equal(cluster_self(nodes[0].cl), nodes[0].cl->self);
	assert_true(cluster_is_leader(nodes[0].cl));
	assert_int_equal(cluster_leader(nodes[1].cl), nodes[0].cl->self);

	assert_int_equal(cluster_status_set(nodes[1].cl, "rot", "hello", 5),
			 0);
	assert_int_equal(cluster_status_get(nodes[1].cl, nodes[1].cl->self,
					    "rot", &buf, &len, NULL), 0);
	assert_int_equal(len, 5);
	assert_int_equal(cluster_status_get(nodes[0].cl, 12345, "rot", &buf,
					    &len, NULL), -ENOENT);
	assert_true(run_until(status_seen, NULL, 3000));
	assert_true(run_until(view_ok, NULL, 3000));

	assert_int_equal(cluster_msg_handler(nodes[1].cl, "rot", ext_msg,
					     NULL), 0);
	assert_int_equal(cluster_msg_send(nodes[0].cl, nodes[1].cl->self,
					  "rot", "ping", 4), 0);
	assert_true(run_until(msg_seen, NULL, 3000));
	assert_string_equal(ext.msg, "ping");
	assert_int_equal(ext.from, nodes[0].cl->self);

	assert_int_equal(cluster_observe(nodes[1].cl, ext_observe, NULL), 0);
	assert_int_equal(cluster_config_checker(nodes[0].cl, ext_check, NULL),
			 0);
	c = cmd(0, "config set", 2, (const char *[]){ "min-serving", "7" });
	assert_int_equal(c->status, 2);
	assert_string_equal(c->err, "min-serving 7: not with this schedule");
	call_free(c);
	before = ext.observed;
	c = cmd(0, "config set", 2, (const char *[]){ "min-serving", "3" });
	assert_int_equal(c->status, 0);
	call_free(c);
	assert_int_equal(fsm_cmd_note("hello", cluster_wall_ms(), &cmd_buf,
				      &len), 0);
	assert_int_equal(cluster_propose(nodes[0].cl, cmd_buf, len, ext_done,
					 NULL), 0);
	assert_true(run_until(ext_proposed, NULL, 3000));
	assert_int_equal(ext.done_err, 0);
	assert_int_equal(ext.done_result, FSM_OK);
	assert_true(ext.observed > before);

	stop_all();
}
/* a failed test leaves nothing running for the next one */
static int stop_td(void **state)
{
	(void)state;
	stop_all();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(record_announce, stop_td),
		cmocka_unit_test_teardown(record_puts_chained, stop_td),
		cmocka_unit_test_teardown(ext_api, stop_td),
	};

	return cmocka_run_group_tests(tests, clmem_setup, clmem_teardown);
}
