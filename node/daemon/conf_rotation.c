/*
 * The rotation's directives (docs/rotation.md): provider-hook,
 * provider-hook-timeout and the test-only rotation-test-clock. They fill
 * struct rot_conf. A hook must exist and be executable: `ntpnode check`
 * (and every command that loads a config) refuses it otherwise.
 */
#include "node/daemon/conf_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cluster/ckey.h"
#include "node/rotation/rhook.h"

/* The provider directive's rule: 1-15 of [a-z0-9-], case-folded. */
static int provider_of(const char *s, char *out, size_t cap)
{
	size_t i, n = strlen(s);

	if (!n || n >= cap)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') :
			 s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return -1;
		out[i] = c;
	}
	out[n] = 0;
	return 0;
}

static int parse_provider_hook(struct conf_ctx *x, int argc, char **argv)
{
	struct rot_conf *r = &x->c->rotation;
	char prov[sizeof(r->hook[0].provider)], err[PATH_MAX + 64];
	unsigned i;

	if (provider_of(argv[1], prov, sizeof(prov)) < 0) {
		conf_error(x, "provider-hook: '%s' is not a provider name (1 "
			   "to 15 of a-z, 0-9, '-')", argv[1]);
		return -1;
	}
	for (i = 0; i < r->n_hooks; i++)
		if (strcmp(r->hook[i].provider, prov) == 0) {
			conf_error(x, "provider-hook: %s has a hook already",
				   prov);
			return -1;
		}
	if (r->n_hooks == ROT_MAX_HOOKS) {
		conf_error(x, "provider-hook: at most %d", ROT_MAX_HOOKS);
		return -1;
	}
	if (conf_copy_path(x, "provider-hook", r->hook[r->n_hooks].path,
			   sizeof(r->hook[0].path), argv[2]) < 0)
		return -1;
	if (rhook_check_path(argv[2], err, sizeof(err)) < 0) {
		conf_error(x, "provider-hook %s: %s", prov, err);
		return -1;
	}
	strcpy(r->hook[r->n_hooks].provider, prov);
	r->n_hooks++;
	return 0;
}

static int parse_hook_timeout(struct conf_ctx *x, int argc, char **argv)
{
	long long ms = ckey_parse_duration_ms(argv[1]);

	if (ms < 1000 || ms > 3600 * 1000) {
		conf_error(x, "provider-hook-timeout: '%s' is not a duration "
			   "from 1s to 1h (like 90s, 2m)", argv[1]);
		return -1;
	}
	x->c->rotation.hook_timeout_ms = (unsigned)ms;
	return 0;
}

/* rotation-test-clock REAL SCHED SPEED: at served time REAL (unix s) the
 * scheduler's clock reads SCHED (unix s), and it runs SPEED times as
 * fast. */
static int parse_test_clock(struct conf_ctx *x, int argc, char **argv)
{
	long real, sched, speed;

	if (conf_parse_int(x, "rotation-test-clock REAL", argv[1], 0,
			   4102444800L, &real) < 0 ||
	    conf_parse_int(x, "rotation-test-clock SCHED", argv[2], 0,
			   4102444800L, &sched) < 0 ||
	    conf_parse_int(x, "rotation-test-clock SPEED", argv[3], 1,
			   100000, &speed) < 0)
		return -1;
	x->c->rotation.clock_real_ms = (int64_t)real * 1000;
	x->c->rotation.clock_sched_ms = (int64_t)sched * 1000;
	x->c->rotation.clock_speed = (unsigned)speed;
	return 0;
}

const struct conf_directive conf_rotation_directives[] = {
	{ "provider-hook", "provider-hook PROVIDER PATH", parse_provider_hook,
	  2, 2, 0, 0 },
	{ "provider-hook-timeout", "provider-hook-timeout DURATION",
	  parse_hook_timeout, 1, 1, 1, 0 },
	{ "rotation-test-clock", "rotation-test-clock REAL_S SCHED_S SPEED",
	  parse_test_clock, 3, 3, 1, 1 },
	{ NULL, NULL, NULL, 0, 0, 0, 0 },
};
