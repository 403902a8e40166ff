/*
 * ckey: the closed set of replicated configuration keys (`ntpctl config
 * set|get`). A replicated value overrides the node's file, which keeps the
 * node-local settings; then comes the cluster profile (`cluster-profile
 * lan|wan`, a table of per-key values), then the key's built-in default.
 * Values are checked and put in canonical form here, before anything is
 * proposed to raft, so a bad value never reaches the log.
 */
#ifndef NTPMC_CKEY_H
#define NTPMC_CKEY_H

#include <stddef.h>

#define CKEY_VALUE_MAX 64

enum ckey_source { CKEY_DEFAULT, CKEY_PROFILE, CKEY_FILE, CKEY_REPLICATED };

struct ckey_info {
	const char *name;
	const char *def;     /* canonical default */
	const char *help;    /* one line, for `config get` and docs */
	int file_directive;  /* 1: the config file may set it too */
};

#define CKEY_OVERLAY_SUBNET "overlay-subnet"
#define CKEY_CLUSTER_PROFILE "cluster-profile"
/* + provider name: that provider's monthly egress allowance (bytes) */
#define CKEY_EGRESS_ALLOWANCE_PREFIX "egress-allowance-"

/* The profiles, lan (index 0, the built-in defaults) and wan. */
#define CKEY_N_PROFILES 2
/* Index of a profile name, -1 unknown. */
int ckey_profile_index(const char *name);
const char *ckey_profile_name(int i);          /* NULL out of range */
/* The canonical value PROFILE gives KEY, or NULL when the profile does
 * not set that key (or either name is unknown). Static storage. */
const char *ckey_profile_value(const char *profile, const char *key);
/* The keys a profile sets, in table order. */
size_t ckey_profile_row_count(void);
const char *ckey_profile_row_key(size_t i);

/* Written by the first leader after `ntpnode restore` / `recover`, when
 * its clean-up is done (node/cluster/cluster_backup.c); read-only. */
#define CKEY_RECOVERED_AT "recovered-at"

/* A join token's lifetime, one range for `token create --ttl` and the
 * token-ttl key: 1 s (tests of expiry) to 30 days. */
#define CKEY_TOKEN_TTL_MIN_MS 1000LL
#define CKEY_TOKEN_TTL_MAX_MS (30 * 86400 * 1000LL)
#define CKEY_TOKEN_TTL_RANGE "1s to 30d"

/* 1 for keys fixed when the cluster is made (config set refuses them). */
int ckey_read_only(const char *key);

/* Number of keys and the i-th one (stable, documented order). */
size_t ckey_count(void);
const struct ckey_info *ckey_at(size_t i);
const struct ckey_info *ckey_find(const char *name);

/*
 * Checks VALUE for KEY and writes its canonical form into out (for example
 * "15m" -> "900s", " 50 " refused). Returns 0, or -1 with a reason for the
 * operator in err.
 */
int ckey_check(const char *key, const char *value, char *out, size_t outlen,
	       char *err, size_t errlen);

/* Duration text ("250ms", "90s", "15m", "2h", "1d", bare number = seconds)
 * to milliseconds; -1 when malformed or out of 1 ms .. 366 d (a key that
 * can be off takes "0s" too: ckey_check). */
long long ckey_parse_duration_ms(const char *s);

const char *ckey_source_name(enum ckey_source s);

/* The largest price a price-* key takes, USD per GB or per hour. */
#define CKEY_PRICE_MAX 1000
/* A canonical price ("0.0900") in 1/10000 USD; -1 when malformed. */
long long ckey_price_tenk(const char *value);

#endif
