/*
 * Per-client rate limiting (chrony's `ratelimit interval/burst/leak`): one
 * fixed-size table shared by every serving thread, keyed by IPv4 /32 and
 * IPv6 /64, allocated once at start. See docs/serving.md for the rules.
 */
#ifndef NTPMC_RL_H
#define NTPMC_RL_H

#include <stdint.h>
#include <sys/socket.h>


#define RL_DEFAULT_ENTRIES 65536
/* Rate limiting is on by default: a public server meets abusive clients. */
#define RL_DEFAULT_INTERVAL 3      /* chrony's defaults */
#define RL_DEFAULT_BURST 8
#define RL_DEFAULT_LEAK 2
#define RL_WAYS 4          /* entries per bucket (set associativity) */

enum rl_verdict {
	RL_PASS,   /* within the limit: answer */
	RL_LEAK,   /* over the limit, answered anyway (1 in 2^leak) */
	RL_KOD,    /* over the limit, answered with KoD RATE (1 in 2^leak) */
	RL_DROP,   /* over the limit, not answered (the rest) */
};

/* A client: family and the address bits that count (/32 or /64). */
struct rl_key {
	uint64_t bits;
	uint8_t v6;
};

/* `ratelimit interval I burst B leak L entries N` (docs/serving.md). */
struct rl_conf {
	int enabled;
	int interval;      /* log2 seconds between requests, chrony's meaning */
	int burst;         /* requests allowed in a burst */
	int leak;          /* log2 of 1/share of over-limit requests answered */
	uint32_t entries;  /* fixed size of the client table */
};

struct rl;

/* NULL with errno set on a bad config or no memory. c->entries 0 means
 * RL_DEFAULT_ENTRIES; it is rounded up to a power of two. */
struct rl *rl_new(const struct rl_conf *c);
void rl_free(struct rl *r);
/* Returns -1 for an address family we do not limit. */
int rl_key_from_sa(const struct sockaddr *sa, struct rl_key *k);
/* now_ns: any monotonic clock, the same for every caller. */
enum rl_verdict rl_check(struct rl *r, const struct rl_key *k, int64_t now_ns);

/* For tests and stats. */
uint32_t rl_entries(const struct rl *r);
uint32_t rl_bucket_of(const struct rl *r, const struct rl_key *k);
size_t rl_table_bytes(const struct rl *r);

#endif
