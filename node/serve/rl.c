/*
 * Rate limiter: see rl.h and docs/serving.md.
 *
 * Why one shared, lock-striped table and not SO_ATTACH_REUSEPORT_CBPF
 * steering: steering by source address would make each thread's table
 * private, but it also pins every client (and every flood from one /64) to
 * one thread, so a single heavy source could starve the other clients that
 * hash to its thread; it needs a BPF program per address family and a
 * fallback when the kernel refuses it. The shared table costs one short
 * spinlock hold per request on a stripe chosen by a keyed hash, which is
 * uncontended at realistic thread counts.
 *
 * Each client's limit is a GCRA (the virtual-scheduling form of a token
 * bucket): tat is the "theoretical arrival time"; a request at now is within
 * the limit when tat - now <= (burst - 1) * T, T = 2^interval s, and then
 * moves tat by T. That equals a bucket of `burst` tokens refilled at one
 * token per T, in exact integer ns, in 8 bytes.
 *
 * The table is RL_WAYS-way set associative: a keyed hash (SipHash via
 * libsodium, so that clients cannot aim at one bucket) picks a bucket; a
 * new client takes a free way or evicts the way seen least recently. No
 * allocation after rl_new(): memory is entries * 32 bytes + the locks.
 */
#include "node/serve/rl.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RL_MAX_LOCKS 4096
#define RL_MIN_INTERVAL -19
#define RL_MAX_INTERVAL 12

struct rl_entry {
	uint64_t bits;
	int64_t tat;      /* GCRA theoretical arrival time, ns */
	int64_t last;     /* last request, ns: eviction order */
	uint32_t over;    /* over-limit requests so far */
	uint8_t v6;
	uint8_t used;
	uint8_t pad[2];
};

struct rl {
	struct rl_entry *tab;
	pthread_spinlock_t *locks;
	uint32_t nbuckets;       /* power of two */
	uint32_t nlocks;         /* power of two, <= nbuckets */
	int64_t t_ns;            /* T: one request per T on average */
	int64_t tau_ns;          /* (burst - 1) * T */
	uint32_t leak_mask;      /* 2^leak - 1 */
	unsigned char hkey[crypto_shorthash_KEYBYTES];
};

_Static_assert(sizeof(struct rl_entry) == 32, "rl_entry is 32 bytes");

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

struct rl *rl_new(const struct rl_conf *c)
{
	struct rl *r = NULL;
	uint32_t entries = c->entries ? c->entries : RL_DEFAULT_ENTRIES;
	uint32_t i;

	if (c->interval < RL_MIN_INTERVAL || c->interval > RL_MAX_INTERVAL ||
	    c->burst < 1 || c->burst > 255 || c->leak < 1 || c->leak > 4) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto fail;
	entries = pow2_at_least(entries < RL_WAYS ? RL_WAYS : entries);
	r->nbuckets = entries / RL_WAYS;
	r->nlocks = r->nbuckets < RL_MAX_LOCKS ? r->nbuckets : RL_MAX_LOCKS;
	/* calloc: the kernel hands zero pages lazily, so an idle node's RSS
	 * does not include the table; it is touched as clients arrive. */
	r->tab = calloc(entries, sizeof(*r->tab));
	r->locks = calloc(r->nlocks, sizeof(*r->locks));
	if (!r->tab || !r->locks)
		goto fail;
	for (i = 0; i < r->nlocks; i++)
		pthread_spin_init(&r->locks[i], PTHREAD_PROCESS_PRIVATE);
	if (c->interval >= 0)
		r->t_ns = 1000000000LL << c->interval;
	else
		r->t_ns = 1000000000LL >> -c->interval;
	r->tau_ns = (int64_t)(c->burst - 1) * r->t_ns;
	r->leak_mask = (1u << c->leak) - 1;
	randombytes_buf(r->hkey, sizeof(r->hkey));
	return r;
fail:
	if (r) {
		free(r->tab);
		free((void *)r->locks);
		free(r);
	}
	errno = ENOMEM;
	return NULL;
}

void rl_free(struct rl *r)
{
	uint32_t i;

	if (!r)
		return;
	for (i = 0; i < r->nlocks; i++)
		pthread_spin_destroy(&r->locks[i]);
	free((void *)r->locks);
	free(r->tab);
	free(r);
}

int rl_key_from_sa(const struct sockaddr *sa, struct rl_key *k)
{
	const uint8_t *a;
	uint64_t bits = 0;
	int i;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		k->bits = (uint64_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
		k->bits = (uint64_t)a[12] << 24 | a[13] << 16 | a[14] << 8 |
			  a[15];
		return 0;
	}
	/* A /64 is one client: an end site gets at least a /64. */
	for (i = 0; i < 8; i++)
		bits = bits << 8 | a[i];
	k->bits = bits;
	k->v6 = 1;
	return 0;
}

uint32_t rl_bucket_of(const struct rl *r, const struct rl_key *k)
{
	unsigned char in[16] = { 0 }, out[crypto_shorthash_BYTES];
	uint32_t h;

	memcpy(in, &k->bits, 8);
	in[8] = k->v6;
	crypto_shorthash(out, in, sizeof(in), r->hkey);
	memcpy(&h, out, sizeof(h));
	return h & (r->nbuckets - 1);
}

/* Finds the client's way, or claims one (free, else least recent). */
static struct rl_entry *lookup(struct rl_entry *b, const struct rl_key *k,
			       int64_t now)
{
	struct rl_entry *victim = NULL;
	int i;

	for (i = 0; i < RL_WAYS; i++) {
		if (b[i].used && b[i].bits == k->bits && b[i].v6 == k->v6)
			return &b[i];
	}
	for (i = 0; i < RL_WAYS; i++) {
		if (!b[i].used) {
			victim = &b[i];
			break;
		}
		if (!victim || b[i].last < victim->last)
			victim = &b[i];
	}
	victim->bits = k->bits;
	victim->v6 = k->v6;
	victim->used = 1;
	victim->tat = now;   /* a new client starts with a full burst */
	victim->over = 0;
	return victim;
}

enum rl_verdict rl_check(struct rl *r, const struct rl_key *k, int64_t now)
{
	uint32_t bi = rl_bucket_of(r, k);
	pthread_spinlock_t *lock = &r->locks[bi & (r->nlocks - 1)];
	struct rl_entry *e;
	enum rl_verdict v;
	uint32_t c;

	pthread_spin_lock(lock);
	e = lookup(&r->tab[(size_t)bi * RL_WAYS], k, now);
	e->last = now;
	if (e->tat < now)
		e->tat = now;
	if (e->tat - now <= r->tau_ns) {
		e->tat += r->t_ns;
		v = RL_PASS;
	} else {
		/* Over the limit: of every 2^leak such requests, the first is
		 * answered, the second gets a KoD, the rest are dropped. A
		 * counter, not a coin, so that the shares are exact. */
		c = e->over++ & r->leak_mask;
		if (c == 0)
			v = RL_LEAK;
		else if (c == 1)
			v = RL_KOD;
		else
			v = RL_DROP;
	}
	pthread_spin_unlock(lock);
	return v;
}

uint32_t rl_entries(const struct rl *r)
{
	return r->nbuckets * RL_WAYS;
}

size_t rl_table_bytes(const struct rl *r)
{
	return (size_t)rl_entries(r) * sizeof(struct rl_entry) +
	       (size_t)r->nlocks * sizeof(*r->locks);
}
