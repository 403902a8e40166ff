/*
 * ckey: the closed set of replicated configuration keys (`ntpctl config
 * set|get`). A replicated value overrides the node's file, which keeps the
 * node-local settings; every key has a built-in default. Values are checked
 * and put in canonical form here, before anything is proposed to raft, so a
 * bad value never reaches the log.
 */
#ifndef NTPMC_CKEY_H
#define NTPMC_CKEY_H

#include <stddef.h>

#define CKEY_VALUE_MAX 64

enum ckey_source { CKEY_DEFAULT, CKEY_FILE, CKEY_REPLICATED };

struct ckey_info {
	const char *name;
	const char *def;     /* canonical default */
	const char *help;    /* one line, for `config get` and docs */
	int file_directive;  /* 1: the config file may set it too */
};

#define CKEY_OVERLAY_SUBNET "overlay-subnet"

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
 * to milliseconds; -1 when malformed or out of 1 ms .. 366 d. */
long long ckey_parse_duration_ms(const char *s);

const char *ckey_source_name(enum ckey_source s);

#endif
