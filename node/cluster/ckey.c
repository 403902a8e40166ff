#include "node/cluster/ckey.h"
#include "node/cluster/wg/wgmesh.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ckey_type { T_INT, T_DURATION, T_ENUM, T_MONEY, T_SUBNET, T_BYTES,
		 T_ALLOW, T_PRICE };

/* T_DURATION flags */
#define F_ZERO_OFF 1	/* "0" (canonical "0s") turns the thing off */
#define F_WHOLE_S 2	/* whole seconds only */

struct ckey_def {
	struct ckey_info info;
	enum ckey_type type;
	long long min, max;      /* T_INT, T_DURATION (ms), T_BYTES */
	const char *choices;     /* T_ENUM: space separated */
	unsigned flags;
};

/*
 * The closed set. Adding a key is a compatible change (older members keep
 * the value as an opaque string); removing one is not.
 */
static const struct ckey_def keys[] = {
	{ { CKEY_CLUSTER_PROFILE, "lan",
	    "timing profile: lan (fast failover) or wan (few bytes on the "
	    "wire); sets the keys below it that are not set explicitly", 0 },
	  T_ENUM, 0, 0, "lan wan", 0 },
	{ { "election-timeout", "500",
	    "raft election timeout in ms (followers wait this long, randomized "
	    "up to 2x, before standing)", 1 },
	  T_INT, 100, 600000, NULL, 0 },
	{ { "heartbeat-timeout", "50",
	    "raft heartbeat interval in ms (must stay well under "
	    "election-timeout)", 1 },
	  T_INT, 10, 300000, NULL, 0 },
	{ { "status-interval", "250ms",
	    "how often a member sends the leader its status (sooner when "
	    "its timing or its leader changes)", 0 },
	  T_DURATION, 100, 3600 * 1000LL, NULL, 0 },
	{ { "transport-keepalive", "10s",
	    "keepalive record on an idle dialed member connection (TCP "
	    "keepalive after half of it); 0s: none", 0 },
	  T_DURATION, 1000, 3600 * 1000LL, NULL, F_ZERO_OFF },
	{ { "transport-idle-close", "45s",
	    "an accepted member connection silent this long is closed", 0 },
	  T_DURATION, 10 * 1000LL, 86400 * 1000LL, NULL, 0 },
	{ { "transport-user-timeout", "15s",
	    "TCP_USER_TIMEOUT: data unacknowledged this long aborts a member "
	    "connection", 0 },
	  T_DURATION, 1000, 3600 * 1000LL, NULL, 0 },
	{ { "wg-keepalive", "25s",
	    "WireGuard PersistentKeepalive of the mesh's peers; 0s: off", 0 },
	  T_DURATION, 1000, 65535 * 1000LL, NULL, F_ZERO_OFF | F_WHOLE_S },
	{ { "log-level", "info", "daemon log level on every member", 0 },
	  T_ENUM, 0, 0, "debug info warn error", 0 },
	{ { "token-ttl", "900s",
	    "default lifetime of a join token (ntpctl token create)", 0 },
	  T_DURATION, CKEY_TOKEN_TTL_MIN_MS, CKEY_TOKEN_TTL_MAX_MS, NULL, 0 },
	{ { "token-uses", "1",
	    "default number of joins one token allows", 0 },
	  T_INT, 1, 1000, NULL, 0 },
	{ { "min-serving", "2",
	    "fewest members the rotation keeps serving NTP", 0 },
	  T_INT, 1, 100, NULL, 0 },
	{ { "crosscheck-interval", "16",
	    "seconds between a member's checks of the others' clocks "
	    "(node/crosscheck)", 1 },
	  T_INT, 1, 1024, NULL, 0 },
	/* The rotation (node/rotation, docs/rotation.md). */
	{ { "allowance-aws", "750",
	    "hours a month AWS's free tier gives the account's members "
	    "together (N, month: every hour for one VM, none)", 0 },
	  T_ALLOW, 0, 100000, NULL, 0 },
	{ { "allowance-gcp", "month",
	    "hours a month GCP's free tier gives (always-free e2-micro: "
	    "month)", 0 },
	  T_ALLOW, 0, 100000, NULL, 0 },
	{ { "rotation-start-timeout", "600s",
	    "a started member not serving by then is stopped again", 0 },
	  T_DURATION, 30 * 1000LL, 86400 * 1000LL, NULL, 0 },
	{ { "budget-usd", "0.00",
	    "monthly cloud budget in USD for the rotation (0: none)", 0 },
	  T_MONEY, 0, 100000000, NULL, 0 },
	/* The egress a provider's free tier includes per month, shared by
	 * its members; a provider without a key (or 0) has none. */
	{ { CKEY_EGRESS_ALLOWANCE_PREFIX "aws", "100GB",
	    "monthly egress included for the aws members (0: none)", 0 },
	  T_BYTES, 0, 1000000000000000LL, NULL, 0 },
	{ { CKEY_EGRESS_ALLOWANCE_PREFIX "gcp", "1GB",
	    "monthly egress included for the gcp members (0: none)", 0 },
	  T_BYTES, 0, 1000000000000000LL, NULL, 0 },
	{ { CKEY_EGRESS_ALLOWANCE_PREFIX "other", "0B",
	    "monthly egress included for other members (0: none)", 0 },
	  T_BYTES, 0, 1000000000000000LL, NULL, 0 },
	/* The cost guard (docs/cost.md): the price table (USD, up to 4
	 * decimals), the governor per provider, the ledger's interval. */
	{ { "governor-aws", "off",
	    "egress governor on AWS members (on: pace public replies to "
	    "their share of the allowance)", 0 },
	  T_ENUM, 0, 0, "on off", 0 },
	{ { "governor-gcp", "on",
	    "egress governor on GCP members", 0 },
	  T_ENUM, 0, 0, "on off", 0 },
	{ { "governor-other", "off",
	    "egress governor on other members", 0 },
	  T_ENUM, 0, 0, "on off", 0 },
	{ { "ledger-interval", "300s",
	    "how often the leader commits the egress ledger", 0 },
	  T_DURATION, 5 * 1000LL, 3600 * 1000LL, NULL, 0 },
	/* Prices: USD with up to 4 decimals, at most CKEY_PRICE_MAX (a GB
	 * or an hour of a micro VM costs cents; anything near 1000 USD is a
	 * typo). Defaults and their sources: docs/cost.md. */
	{ { "price-egress-gb-aws", "0.0900",
	    "USD per GB of AWS egress beyond the allowance", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-egress-gb-gcp", "0.1200",
	    "USD per GB of GCP egress beyond the allowance", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-egress-gb-other", "0.0000",
	    "USD per GB of other providers' egress", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-instance-hour-aws", "0.0104",
	    "USD per AWS instance hour beyond the free allowance "
	    "(allowance-aws)", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-instance-hour-gcp", "0.0084",
	    "USD per GCP instance hour beyond the free allowance "
	    "(allowance-gcp)", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-instance-hour-other", "0.0000",
	    "USD per instance hour of other providers (no free hours)", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-ipv4-hour-aws", "0.0050",
	    "USD per AWS public IPv4 address hour beyond ipv4-allowance-aws",
	    0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-ipv4-hour-gcp", "0.0050",
	    "USD per GCP external IPv4 address hour beyond "
	    "ipv4-allowance-gcp", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	{ { "price-ipv4-hour-other", "0.0000",
	    "USD per public IPv4 address hour of other providers", 0 },
	  T_PRICE, 0, CKEY_PRICE_MAX, NULL, 0 },
	/* Public IPv4 hours a month the provider does not bill (N, month:
	 * every hour of the month for one address, none). */
	{ { "ipv4-allowance-aws", "750",
	    "public IPv4 address hours a month AWS's free tier includes "
	    "(N, month, none)", 0 },
	  T_ALLOW, 0, 100000, NULL, 0 },
	{ { "ipv4-allowance-gcp", "none",
	    "external IPv4 address hours a month GCP does not bill (its free "
	    "tier includes none)", 0 },
	  T_ALLOW, 0, 100000, NULL, 0 },
	{ { "ipv4-allowance-other", "none",
	    "public IPv4 address hours a month other providers do not bill",
	    0 },
	  T_ALLOW, 0, 100000, NULL, 0 },
	/* on: a member keeps its address while its VM is stopped (an
	 * Elastic IP, a reserved GCP address: infra/terraform makes them),
	 * so every hour of the month is billed, not only the running ones. */
	{ { "ipv4-static-aws", "on",
	    "AWS members' public IPv4 addresses are static (billed while "
	    "stopped too)", 0 },
	  T_ENUM, 0, 0, "on off", 0 },
	{ { "ipv4-static-gcp", "on",
	    "GCP members' external IPv4 addresses are static (billed while "
	    "stopped too)", 0 },
	  T_ENUM, 0, 0, "on off", 0 },
	{ { "ipv4-static-other", "off",
	    "other members' public IPv4 addresses are static", 0 },
	  T_ENUM, 0, 0, "on off", 0 },
	/* Fixed at init (ntpnode init --overlay-subnet): members' overlay
	 * addresses are allocated from it, so it never changes afterwards
	 * (config set refuses it, see ckey_read_only). */
	{ { CKEY_OVERLAY_SUBNET, "192.168.10.0/24",
	    "WireGuard overlay subnet the leader allocates members' addresses "
	    "from (set at init, read-only)", 0 },
	  T_SUBNET, 16, 30, NULL, 0 },
	/* The index of the configuration the last restore or recover wrote,
	 * committed once its clean-up is done: no member runs that clean-up
	 * again (node/cluster/cluster_backup.c). Read-only. */
	{ { CKEY_RECOVERED_AT, "0",
	    "raft index of the configuration the last restore/recover wrote, "
	    "once its clean-up is done (read-only)", 0 },
	  T_INT, 0, 1LL << 62, NULL, 0 },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/*
 * The profiles: for each key a profile sets, its value under each profile
 * (columns in the order of profile_names; the lan column is the keys'
 * built-in defaults). A key with no row here is not touched by the
 * profile. Why the wan column is what it is: docs/cost.md.
 */
static const char *const profile_names[CKEY_N_PROFILES] = { "lan", "wan" };

static const struct {
	const char *key;
	const char *value[CKEY_N_PROFILES];
} profile_rows[] = {
	{ "election-timeout", { "500", "60000" } },
	{ "heartbeat-timeout", { "50", "30000" } },
	{ "status-interval", { "250ms", "60s" } },
	{ "transport-keepalive", { "10s", "0s" } },
	{ "transport-idle-close", { "45s", "300s" } },
	{ "transport-user-timeout", { "15s", "60s" } },
	{ "wg-keepalive", { "25s", "0s" } },
	{ "crosscheck-interval", { "16", "128" } },
};

#define N_ROWS (sizeof(profile_rows) / sizeof(profile_rows[0]))

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

int ckey_profile_index(const char *name)
{
	int i;

	for (i = 0; name && i < CKEY_N_PROFILES; i++)
		if (strcmp(profile_names[i], name) == 0)
			return i;
	return -1;
}

const char *ckey_profile_name(int i)
{
	return i >= 0 && i < CKEY_N_PROFILES ? profile_names[i] : NULL;
}

const char *ckey_profile_value(const char *profile, const char *key)
{
	int p = ckey_profile_index(profile);
	size_t i;

	for (i = 0; p >= 0 && key && i < N_ROWS; i++)
		if (strcmp(profile_rows[i].key, key) == 0)
			return profile_rows[i].value[p];
	return NULL;
}

size_t ckey_profile_row_count(void)
{
	return N_ROWS;
}

const char *ckey_profile_row_key(size_t i)
{
	return i < N_ROWS ? profile_rows[i].key : NULL;
}

const char *ckey_source_name(enum ckey_source s)
{
	switch (s) {
	case CKEY_FILE:
		return "file";
	case CKEY_PROFILE:
		return "profile";
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

/* "whole[.fraction]" with at most `places` fraction digits: frac comes
 * back in units of 10^-places; returns how many fraction digits were
 * written, or -1. */
static int parse_fixed(const char *s, int places, const char **end,
		       long long *whole, long long *frac)
{
	const char *f;
	int nd, i;

	*frac = 0;
	if (parse_uint(s, end, whole) < 0)
		return -1;
	if (**end != '.')
		nd = 0;
	else {
		f = *end + 1;
		if (parse_uint(f, end, frac) < 0)
			return -1;
		nd = (int)(*end - f);
		if (nd > places)
			return -1;
	}
	for (i = nd; i < places; i++)
		*frac *= 10;
	return nd;
}

/* "100GB", "1.5GB", "500MB", "64kB", "1000" (bytes); decimal units, as
 * the clouds bill egress. A fraction must name whole bytes. */
static int parse_bytes(const char *s, long long *out)
{
	static const struct {
		const char *unit;
		long long mul;
	} units[] = { { "", 1 }, { "B", 1 }, { "kB", 1000LL },
		      { "MB", 1000000LL }, { "GB", 1000000000LL },
		      { "TB", 1000000000000LL } };
	const char *end;
	long long whole, milli, scale = 1;
	int nd;
	size_t i;

	nd = parse_fixed(s, 3, &end, &whole, &milli);
	if (nd < 0)
		return -1;
	while (nd--)
		scale *= 10;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (whole > 1000000LL * 1000000000000LL / units[i].mul ||
		    units[i].mul < scale)
			return -1;
		*out = whole * units[i].mul + milli * units[i].mul / 1000;
		return 0;
	}
	return -1;
}

/* The largest decimal unit that shows the value exactly. */
static void fmt_bytes(long long v, char *out, size_t outlen)
{
	static const struct {
		const char *unit;
		long long mul;
	} units[] = { { "TB", 1000000000000LL }, { "GB", 1000000000LL },
		      { "MB", 1000000LL }, { "kB", 1000LL } };
	size_t i;

	for (i = 0; v && i < sizeof(units) / sizeof(units[0]); i++)
		if (v % units[i].mul == 0) {
			snprintf(out, outlen, "%lld%s", v / units[i].mul,
				 units[i].unit);
			return;
		}
	snprintf(out, outlen, "%lldB", v);
}

/* "12", "12.3", "12.34" -> cents. */
static int parse_money(const char *s, long long *cents)
{
	const char *end;
	long long whole, frac;

	if (parse_fixed(s, 2, &end, &whole, &frac) < 0 || *end ||
	    whole > 1000000)
		return -1;
	*cents = whole * 100 + frac;
	return 0;
}

/* "0.09", "12", "0.0104" -> 1/10000 USD. */
static int parse_price(const char *s, long long *tenk)
{
	const char *end;
	long long whole, frac;

	if (parse_fixed(s, 4, &end, &whole, &frac) < 0 || *end ||
	    whole > 1000000)
		return -1;
	*tenk = whole * 10000 + frac;
	return 0;
}

long long ckey_price_tenk(const char *value)
{
	long long v;

	return value && parse_price(value, &v) == 0 ? v : -1;
}

int ckey_read_only(const char *key)
{
	return key && (strcmp(key, CKEY_OVERLAY_SUBNET) == 0 ||
		       strcmp(key, CKEY_RECOVERED_AT) == 0);
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
	case T_DURATION: {
		char lo[24], hi[24];
		long long z;

		v = ckey_parse_duration_ms(value);
		if ((d->flags & F_ZERO_OFF) && parse_uint(value, &end, &z) == 0 &&
		    z == 0 && (!*end || !strcmp(end, "s") || !strcmp(end, "ms")))
			v = 0;
		else if (v < d->min || v > d->max ||
			 ((d->flags & F_WHOLE_S) && v % 1000)) {
			fmt_duration(d->min, lo, sizeof(lo));
			fmt_duration(d->max, hi, sizeof(hi));
			snprintf(err, errlen,
				 "%s: '%s' is not a duration in %s..%s%s%s "
				 "(like 90s, 15m, 2h, 1d)",
				 key, value, lo, hi,
				 (d->flags & F_WHOLE_S) ? ", whole seconds" : "",
				 (d->flags & F_ZERO_OFF) ? ", or 0s (off)" : "");
			return -1;
		}
		fmt_duration(v, out, outlen);
		return 0;
	}
	case T_BYTES:
		if (parse_bytes(value, &v) < 0 || v < d->min || v > d->max) {
			snprintf(err, errlen,
				 "%s: '%s' is not an amount of bytes like 1GB, "
				 "500MB or 0 (decimal units B, kB, MB, GB, TB; "
				 "at most 1000TB)",
				 key, value);
			return -1;
		}
		fmt_bytes(v, out, outlen);
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
	case T_PRICE:
		if (parse_price(value, &v) < 0 || v < d->min * 10000 ||
		    v > d->max * 10000) {
			snprintf(err, errlen,
				 "%s: '%s' is not a price in USD like 0.09 or "
				 "0.0104 (%lld..%lld, at most 4 decimals)",
				 key, value, d->min, d->max);
			return -1;
		}
		snprintf(out, outlen, "%lld.%04lld", v / 10000, v % 10000);
		return 0;
	case T_ALLOW:
		if (strcmp(value, "none") == 0 || strcmp(value, "month") == 0) {
			snprintf(out, outlen, "%s", value);
			return 0;
		}
		if (parse_uint(value, &end, &v) < 0 || *end || v < d->min ||
		    v > d->max) {
			snprintf(err, errlen, "%s: '%s' is not hours (%lld..%lld), "
				 "month (every hour of the month, one VM) or "
				 "none", key, value, d->min, d->max);
			return -1;
		}
		snprintf(out, outlen, "%lld", v);
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
