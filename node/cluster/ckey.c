#include "node/cluster/ckey.h"
#include "node/cluster/wg/wgmesh.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ckey_type { T_INT, T_DURATION, T_ENUM, T_MONEY, T_SUBNET };

struct ckey_def {
	struct ckey_info info;
	enum ckey_type type;
	long long min, max;      /* T_INT, T_DURATION (ms) */
	const char *choices;     /* T_ENUM: space separated */
};

/*
 * The closed set. Adding a key is a compatible change (older members keep
 * the value as an opaque string); removing one is not.
 */
static const struct ckey_def keys[] = {
	{ { "election-timeout", "500",
	    "raft election timeout in ms (followers wait this long, randomized "
	    "up to 2x, before standing)", 1 },
	  T_INT, 100, 60000, NULL },
	{ { "heartbeat-timeout", "50",
	    "raft heartbeat interval in ms (must stay well under "
	    "election-timeout)", 1 },
	  T_INT, 10, 10000, NULL },
	{ { "log-level", "info", "daemon log level on every member", 0 },
	  T_ENUM, 0, 0, "debug info warn error" },
	{ { "token-ttl", "900s",
	    "default lifetime of a join token (ntpctl token create)", 0 },
	  T_DURATION, 60 * 1000LL, 30 * 86400 * 1000LL, NULL },
	{ { "token-uses", "1",
	    "default number of joins one token allows", 0 },
	  T_INT, 1, 1000, NULL },
	{ { "min-serving", "2",
	    "fewest members the rotation keeps serving NTP", 0 },
	  T_INT, 1, 100, NULL },
	{ { "crosscheck-interval", "16",
	    "seconds between a member's checks of the others' clocks "
	    "(node/crosscheck)", 1 },
	  T_INT, 1, 1024, NULL },
	{ { "budget-usd", "0.00",
	    "monthly cloud budget in USD for the rotation (0: none)", 0 },
	  T_MONEY, 0, 100000000, NULL },
	/* Fixed at init (ntpnode init --overlay-subnet): members' overlay
	 * addresses are allocated from it, so it never changes afterwards
	 * (config set refuses it, see ckey_read_only). */
	{ { CKEY_OVERLAY_SUBNET, "192.168.10.0/24",
	    "WireGuard overlay subnet the leader allocates members' addresses "
	    "from (set at init, read-only)", 0 },
	  T_SUBNET, 16, 30, NULL },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

size_t ckey_count(void)
{
	return N_KEYS;
}

const struct ckey_info *ckey_at(size_t i)
{
	return i < N_KEYS ? &keys[i].info : NULL;
}

static const struct ckey_def *find_def(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].info.name, name) == 0)
			return &keys[i];
	return NULL;
}

const struct ckey_info *ckey_find(const char *name)
{
	const struct ckey_def *d = find_def(name);

	return d ? &d->info : NULL;
}

const char *ckey_source_name(enum ckey_source s)
{
	switch (s) {
	case CKEY_FILE:
		return "file";
	case CKEY_REPLICATED:
		return "replicated";
	default:
		return "default";
	}
}

/* Strict decimal: digits only, no sign, no blanks, no overflow. */
static int parse_uint(const char *s, const char **end, long long *out)
{
	long long v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (1LL << 50))
			return -1;
		v = v * 10 + (*p - '0');
	}
	*end = p;
	*out = v;
	return 0;
}

long long ckey_parse_duration_ms(const char *s)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = { { "ms", 1 },	{ "s", 1000 },	  { "", 1000 },
		      { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	const char *end;
	long long v;
	size_t i;

	if (!s || parse_uint(s, &end, &v) < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > 366LL * 86400000 / units[i].ms)
			return -1;
		v *= units[i].ms;
		return v >= 1 ? v : -1;
	}
	return -1;
}

static void fmt_duration(long long ms, char *out, size_t outlen)
{
	if (ms % 1000 == 0)
		snprintf(out, outlen, "%llds", ms / 1000);
	else
		snprintf(out, outlen, "%lldms", ms);
}

/* "12", "12.3", "12.34" -> cents. */
static int parse_money(const char *s, long long *cents)
{
	const char *end;
	long long whole, frac = 0;
	size_t nd;

	if (parse_uint(s, &end, &whole) < 0)
		return -1;
	if (*end == '.') {
		const char *f = end + 1;

		if (parse_uint(f, &end, &frac) < 0)
			return -1;
		nd = (size_t)(end - f);
		if (nd > 2)
			return -1;
		if (nd == 1)
			frac *= 10;
	}
	if (*end)
		return -1;
	if (whole > 1000000)
		return -1;
	*cents = whole * 100 + frac;
	return 0;
}

int ckey_read_only(const char *key)
{
	return key && strcmp(key, CKEY_OVERLAY_SUBNET) == 0;
}

int ckey_check(const char *key, const char *value, char *out, size_t outlen,
	       char *err, size_t errlen)
{
	const struct ckey_def *d = find_def(key ? key : "");
	char canon[WGM_ADDR_MAX];
	struct wgm_subnet sn;
	const char *end;
	long long v;

	if (!d) {
		snprintf(err, errlen, "unknown key '%s' (ntpctl config get "
			 "lists the keys)", key ? key : "");
		return -1;
	}
	if (!value || strlen(value) >= CKEY_VALUE_MAX) {
		snprintf(err, errlen, "%s: value missing or too long", key);
		return -1;
	}
	switch (d->type) {
	case T_INT:
		if (parse_uint(value, &end, &v) < 0 || *end || v < d->min ||
		    v > d->max) {
			snprintf(err, errlen,
				 "%s: '%s' is not an integer in %lld..%lld",
				 key, value, d->min, d->max);
			return -1;
		}
		snprintf(out, outlen, "%lld", v);
		return 0;
	case T_DURATION:
		v = ckey_parse_duration_ms(value);
		if (v < d->min || v > d->max) {
			snprintf(err, errlen,
				 "%s: '%s' is not a duration in %llds..%llds "
				 "(like 90s, 15m, 2h, 1d)",
				 key, value, d->min / 1000, d->max / 1000);
			return -1;
		}
		fmt_duration(v, out, outlen);
		return 0;
	case T_ENUM: {
		const char *p = d->choices;
		size_t n = strlen(value);

		while (*p) {
			size_t m = strcspn(p, " ");

			if (m == n && strncmp(p, value, n) == 0) {
				snprintf(out, outlen, "%s", value);
				return 0;
			}
			p += m;
			while (*p == ' ')
				p++;
		}
		snprintf(err, errlen, "%s: '%s' is not one of: %s", key, value,
			 d->choices);
		return -1;
	}
	case T_MONEY:
		if (parse_money(value, &v) < 0) {
			snprintf(err, errlen,
				 "%s: '%s' is not an amount like 12 or 12.50 "
				 "(0..1000000)",
				 key, value);
			return -1;
		}
		snprintf(out, outlen, "%lld.%02lld", v / 100, v % 100);
		return 0;
	case T_SUBNET:
		/* the mesh's own rule (node/cluster/wg/wgmesh.h) */
		if (wgm_subnet_parse(value, &sn) < 0 ||
		    (int)sn.prefix < d->min || (int)sn.prefix > d->max) {
			snprintf(err, errlen,
				 "%s: '%s' is not an IPv4 subnet A.B.C.D/N with "
				 "N in %lld..%lld and the host bits zero "
				 "(like 192.168.10.0/24)",
				 key, value, d->min, d->max);
			return -1;
		}
		wgm_subnet_format(&sn, canon);
		snprintf(out, outlen, "%s", canon);
		return 0;
	}
	snprintf(err, errlen, "%s: internal error", key);
	return -1;
}
