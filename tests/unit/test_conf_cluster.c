/* The cluster directives (node/daemon/conf_cluster.c) and the rotation's
 * (conf_rotation.c) through conf_load_text. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/daemon/conf.h"
#include "node/cluster/cluster.h"

static struct conf c;
static char errs[4096];

static int load(const char *text)
{
	FILE *f = fmemopen(errs, sizeof(errs), "w");
	int rc;

	assert_non_null(f);
	conf_set_error_stream(f);
	rc = conf_load_text(&c, "t.conf", text);
	fclose(f);
	conf_set_error_stream(NULL);
	return rc;
}

static int port_of(const struct netaddr *l)
{
	const struct sockaddr *sa = (const struct sockaddr *)&l->addr;

	return sa->sa_family == AF_INET6 ?
	       ntohs(((const struct sockaddr_in6 *)sa)->sin6_port) :
	       ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static void good(void **state)
{
	(void)state;
	assert_int_equal(load("node-name ntp-aws-1\n"
			      "cluster-listen 127.0.0.1\n"
			      "provider AWS\nregion eu-west-1\n"
			      "instance-id i-0123456789abcdef0\n"
			      "election-timeout 800\nheartbeat-timeout 80\n"
			      "mapsize 16m\n"), 0);
	assert_string_equal(c.cluster.node_name, "ntp-aws-1");
	assert_int_equal(c.cluster.listen_set, 1);
	assert_int_equal(port_of(&c.cluster.listen), CLUSTER_DEFAULT_PORT);
	assert_string_equal(c.cluster.provider, "aws");
	assert_string_equal(c.cluster.region, "eu-west-1");
	assert_string_equal(c.cluster.instance_id, "i-0123456789abcdef0");
	assert_int_equal(c.cluster.election_timeout_ms, 800);
	assert_int_equal(c.cluster.heartbeat_timeout_ms, 80);
	assert_int_equal(c.cluster.mapsize, 16 << 20);
	/* any provider name, case-folded */
	assert_int_equal(load("provider Fake-2\n"), 0);
	assert_string_equal(c.cluster.provider, "fake-2");
	assert_int_equal(load("provider 123456789012345\n"), 0);

	assert_int_equal(load("cluster-listen :: port 5000\n"
			      "cluster-advertise 2001:db8::1\n"), 0);
	assert_int_equal(port_of(&c.cluster.listen), 5000);
	assert_string_equal(c.cluster.advertise, "[2001:db8::1]");
	assert_int_equal(load("cluster-listen 0.0.0.0\n"
			      "cluster-advertise ntp1.example.net port 4461\n"),
			 0);
	assert_string_equal(c.cluster.advertise, "ntp1.example.net:4461");
	/* standalone: nothing cluster-related required */
	assert_int_equal(load("local stratum 10\n"), 0);
	assert_int_equal(c.cluster.listen_set, 0);
	assert_true(strlen(c.cluster.node_name) > 0);   /* the host name */
}

static void bad(void **state)
{
	static const char *cases[][2] = {
		{ "cluster-listen 0.0.0.0\n", "cluster-advertise" },
		{ "cluster-listen ::\n", "cluster-advertise" },
		{ "cluster-listen localhost\n", "not an IPv4" },
		{ "cluster-listen 127.0.0.1 port 0\n", "port" },
		{ "cluster-listen 127.0.0.1 port 70000\n", "port" },
		{ "cluster-listen 127.0.0.1 prot 5\n", "usage" },
		{ "cluster-advertise bad/name\n", "neither" },
		{ "provider az_ure\n", "provider: 'az_ure' is not 1 to 15" },
		{ "provider 1234567890123456\n", "is not 1 to 15" },
		{ "provider fake/x\n", "provider" },
		{ "instance-id i-0/1\n", "instance-id" },
		{ "instance-id a\ninstance-id b\n", "" },
		{ "node-name has\"quote\n", "node-name" },
		{ "region a/b\n", "region" },
		{ "election-timeout 50\n", "election-timeout" },
		{ "heartbeat-timeout 5\n", "heartbeat-timeout" },
		{ "cluster-listen 127.0.0.1\nheartbeat-timeout 300\n",
		  "at most half" },
		{ "mapsize 512k\n", "mapsize" },
		{ "mapsize 65g\n", "mapsize" },
		{ "mapsize -1m\n", "mapsize" },
		{ "mapsize 12x\n", "mapsize" },
		{ "node-name a\nnode-name b\n", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(errs, 0, sizeof(errs));
		if (load(cases[i][0]) != -1)
			fail_msg("accepted: %s", cases[i][0]);
		if (!strstr(errs, cases[i][1]))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i][0],
				 errs, cases[i][1]);
	}
}

/* provider-hook: an executable file, one per provider; the timeout; the
 * test-only clock. */
static void rotation(void **state)
{
	static const char *cases[][2] = {
		{ "provider-hook aws /nonexistent/hook\n",
		  "t.conf:1: provider-hook aws: '/nonexistent/hook': No such "
		  "file" },
		{ "provider-hook aws /etc/passwd\n", "is not executable" },
		{ "provider-hook aws /tmp\n", "not a regular file" },
		{ "provider-hook aws bin/true\n", "absolute" },
		{ "provider-hook a_b /bin/true\n", "not a provider name" },
		{ "provider-hook aws /bin/true\nprovider-hook AWS /bin/true\n",
		  "aws has a hook already" },
		{ "provider-hook aws\n", "usage: provider-hook PROVIDER PATH" },
		{ "provider-hook-timeout 0s\n", "from 1s to 1h" },
		{ "provider-hook-timeout 2h\n", "from 1s to 1h" },
		{ "rotation-test-clock 1 2 3\n", "test-only" },
		{ "test-mode yes\nrotation-test-clock 1 2 0\n", "SPEED" },
	};
	size_t i;

	(void)state;
	assert_int_equal(load("provider-hook aws /bin/true\n"
			      "provider-hook Fake /bin/sh\n"
			      "provider-hook-timeout 90s\n"
			      "test-mode yes\n"
			      "rotation-test-clock 1700000000 1736337600 "
			      "2000\n"), 0);
	assert_int_equal(c.rotation.n_hooks, 2);
	assert_string_equal(c.rotation.hook[1].provider, "fake");
	assert_string_equal(c.rotation.hook[1].path, "/bin/sh");
	assert_int_equal(c.rotation.hook_timeout_ms, 90000);
	assert_int_equal(c.rotation.clock_real_ms, 1700000000000LL);
	assert_int_equal(c.rotation.clock_sched_ms, 1736337600000LL);
	assert_int_equal(c.rotation.clock_speed, 2000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(errs, 0, sizeof(errs));
		if (load(cases[i][0]) != -1)
			fail_msg("accepted: %s", cases[i][0]);
		if (!strstr(errs, cases[i][1]))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i][0],
				 errs, cases[i][1]);
	}
}

/* crosscheck-interval (the range in the message) and the test-only
 * crosscheck-port (node/daemon/conf_crosscheck.c). */
static void crosscheck(void **state)
{
	(void)state;
	assert_int_equal(load("cluster-listen 127.0.0.1\n"), 0);
	assert_int_equal(c.crosscheck.interval_s, 0);
	assert_int_equal(c.crosscheck.port, 0);
	assert_int_equal(load("crosscheck-interval 1\n"), 0);
	assert_int_equal(c.crosscheck.interval_s, 1);
	assert_int_equal(load("crosscheck-interval 1024\n"
			      "test-mode yes\ncrosscheck-port 4000\n"), 0);
	assert_int_equal(c.crosscheck.interval_s, 1024);
	assert_int_equal(c.crosscheck.port, 4000);
	assert_int_equal(load("crosscheck-interval 0\n"), -1);
	assert_non_null(strstr(errs, "t.conf:1: crosscheck-interval (seconds) "
			       "must be between 1 and 1024, got '0'"));
	assert_int_equal(load("crosscheck-interval 1025\n"), -1);
	assert_non_null(strstr(errs, "between 1 and 1024, got '1025'"));
	assert_int_equal(load("crosscheck-interval 16s\n"), -1);
	assert_non_null(strstr(errs, "must be a whole number, got '16s'"));
	assert_int_equal(load("crosscheck-interval 2\ncrosscheck-interval 3\n"),
			 -1);
	assert_non_null(strstr(errs, "already set at line 1"));
	assert_int_equal(load("crosscheck-port 4000\n"), -1);
	assert_non_null(strstr(errs, "t.conf:1: crosscheck-port is test-only: "
			       "add 'test-mode yes'"));
	assert_int_equal(load("test-mode yes\ncrosscheck-port 0\n"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(rotation),
		cmocka_unit_test(bad),
		cmocka_unit_test(crosscheck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
