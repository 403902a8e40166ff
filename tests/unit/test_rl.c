/* Rate limiter against a deliberately naive reference: a plain array of
 * clients scanned linearly, token buckets in ns, same eviction rule. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/serve/rl.h"

struct naive_client {
	int used;
	struct rl_key key;
	uint32_t bucket;
	int64_t tokens;   /* in ns of credit: one request costs T */
	int64_t tok_time;
	int64_t last;
	uint32_t over;
};

struct naive {
	struct naive_client *c;
	size_t n, cap;
	int64_t t, burst;
	uint32_t leak_div;
};

static struct naive_client *naive_find(struct naive *nv, const struct rl *r,
				       const struct rl_key *k, int64_t now)
{
	struct naive_client *oldest = NULL;
	uint32_t b = rl_bucket_of(r, k);
	size_t i, in_bucket = 0;

	for (i = 0; i < nv->n; i++)
		if (nv->c[i].key.bits == k->bits && nv->c[i].key.v6 == k->v6)
			return &nv->c[i];
	for (i = 0; i < nv->n; i++) {
		if (nv->c[i].bucket != b)
			continue;
		in_bucket++;
		if (!oldest || nv->c[i].last < oldest->last)
			oldest = &nv->c[i];
	}
	if (in_bucket < RL_WAYS) {
		assert_true(nv->n < nv->cap);
		oldest = &nv->c[nv->n++];
	}
	oldest->key = *k;
	oldest->bucket = b;
	oldest->tokens = nv->burst * nv->t;
	oldest->tok_time = now;
	oldest->over = 0;
	return oldest;
}

static enum rl_verdict naive_check(struct naive *nv, const struct rl *r,
				   const struct rl_key *k, int64_t now)
{
	struct naive_client *c = naive_find(nv, r, k, now);
	uint32_t n;

	c->last = now;
	c->tokens += now - c->tok_time;
	if (c->tokens > nv->burst * nv->t)
		c->tokens = nv->burst * nv->t;
	c->tok_time = now;
	if (c->tokens >= nv->t) {
		c->tokens -= nv->t;
		return RL_PASS;
	}
	n = c->over++ % nv->leak_div;
	return n == 0 ? RL_LEAK : n == 1 ? RL_KOD : RL_DROP;
}

static uint64_t rnd64(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 2 ^
	       (uint64_t)random();
}

static void run_random(int interval, int burst, int leak, uint32_t entries,
		       int nclients, unsigned seed)
{
	struct rl_conf c = { 1, interval, burst, leak, entries };
	struct rl *r = rl_new(&c);
	struct naive nv;
	struct rl_key *keys;
	int64_t now = 1000000000, t;
	long counts[4] = { 0 };
	int i;

	assert_non_null(r);
	t = interval >= 0 ? 1000000000LL << interval : 1000000000LL >> -interval;
	nv.cap = rl_entries(r);
	nv.c = calloc(nv.cap, sizeof(*nv.c));
	nv.n = 0;
	nv.t = t;
	nv.burst = burst;
	nv.leak_div = 1u << leak;
	keys = calloc((size_t)nclients, sizeof(*keys));
	assert_non_null(nv.c);
	assert_non_null(keys);
	srandom(seed);
	for (i = 0; i < nclients; i++) {
		keys[i].bits = (uint64_t)random() << 31 ^ (uint64_t)random();
		keys[i].v6 = random() & 1;
		if (!keys[i].v6)
			keys[i].bits &= 0xffffffffu;
	}
	for (i = 0; i < 200000; i++) {
		/* A few heavy clients, a long tail; time strictly increases
		 * (no ties in eviction order), mostly in small steps. */
		int who = random() % 4 ? (int)(random() % 4) :
					 (int)(random() % nclients);
		enum rl_verdict a, b;

		now += 1 + (int64_t)(random() % 64 ?
				     rnd64() % (uint64_t)(t / 4 + 1) :
				     rnd64() % (uint64_t)(2 * t));
		a = rl_check(r, &keys[who], now);
		b = naive_check(&nv, r, &keys[who], now);
		assert_int_equal(a, b);
		counts[a]++;
	}
	print_message("interval %d burst %d leak %d: %ld pass %ld leak "
		      "%ld kod %ld drop\n", interval, burst, leak,
		      counts[RL_PASS], counts[RL_LEAK], counts[RL_KOD],
		      counts[RL_DROP]);
	/* The traffic must have exercised every outcome. */
	assert_true(counts[RL_PASS] > 0 && counts[RL_LEAK] > 0 &&
		    counts[RL_KOD] > 0);
	if (leak > 1)
		assert_true(counts[RL_DROP] > 0);
	free(keys);
	free(nv.c);
	rl_free(r);
}

static void test_vs_naive(void **state)
{
	run_random(3, 8, 2, 64, 300, 11);      /* chrony's defaults, evicting */
	run_random(0, 1, 1, 16, 50, 12);
	run_random(-4, 16, 4, 1024, 2000, 13);
	run_random(12, 255, 3, 64, 20, 14);
	run_random(5, 4, 2, 4, 12, 16);        /* one bucket, constant eviction */
	run_random(-19, 2, 2, 256, 100, 15);
}

static void test_shares(void **state)
{
	struct rl_conf c = { 1, 0, 4, 2, 0 };  /* 1/s, burst 4 */
	struct rl *r = rl_new(&c);
	struct rl_key k = { 0x0a000001, 0 };
	long counts[4] = { 0 };
	int64_t now = 5;
	int i;

	assert_non_null(r);
	assert_int_equal(rl_entries(r), RL_DEFAULT_ENTRIES);
	/* 32 B each + stripe locks: 2 MiB + 16 KiB for 65536 entries. */
	assert_int_equal(rl_table_bytes(r), 65536 * 32 + 4096 * 4);
	/* 1000 requests within 1 ms: 4 pass, 996 over the limit of which
	 * exactly a quarter is answered and a quarter gets a KoD. */
	for (i = 0; i < 1000; i++)
		counts[rl_check(r, &k, now + i * 1000)]++;
	assert_int_equal(counts[RL_PASS], 4);
	assert_int_equal(counts[RL_LEAK], 249);
	assert_int_equal(counts[RL_KOD], 249);
	assert_int_equal(counts[RL_DROP], 498);
	/* After 2 s idle, two more pass. */
	now += 1000000 + 2000000000LL;
	assert_int_equal(rl_check(r, &k, now), RL_PASS);
	assert_int_equal(rl_check(r, &k, now), RL_PASS);
	assert_int_not_equal(rl_check(r, &k, now), RL_PASS);
	rl_free(r);
}

static void test_keys_and_config(void **state)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 }, b6 = a6;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	struct rl_conf bad[] = {
		{ 1, 13, 8, 2, 0 }, { 1, -20, 8, 2, 0 }, { 1, 3, 0, 2, 0 },
		{ 1, 3, 256, 2, 0 }, { 1, 3, 8, 0, 0 }, { 1, 3, 8, 5, 0 },
	};
	struct rl_key k1, k2;
	size_t i;

	inet_pton(AF_INET6, "2001:db8:1:2::1", &a6.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &b6.sin6_addr);
	assert_int_equal(rl_key_from_sa((struct sockaddr *)&a6, &k1), 0);
	assert_int_equal(rl_key_from_sa((struct sockaddr *)&b6, &k2), 0);
	assert_true(k1.bits == k2.bits && k1.v6 && k2.v6); /* same /64 */
	inet_pton(AF_INET6, "2001:db8:1:3::1", &b6.sin6_addr);
	rl_key_from_sa((struct sockaddr *)&b6, &k2);
	assert_true(k1.bits != k2.bits);
	inet_pton(AF_INET, "192.0.2.7", &a4.sin_addr);
	assert_int_equal(rl_key_from_sa((struct sockaddr *)&a4, &k1), 0);
	assert_true(k1.bits == 0xc0000207u && !k1.v6);
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &b6.sin6_addr);
	rl_key_from_sa((struct sockaddr *)&b6, &k2);
	assert_true(k2.bits == k1.bits && !k2.v6);
	assert_int_equal(rl_key_from_sa(&sa, &k1), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(rl_new(&bad[i]));
}

static struct rl *shared;

static void *hammer(void *arg)
{
	struct rl_key k;
	int64_t now = 1;
	int i;

	for (i = 0; i < 200000; i++) {
		k.bits = (uint64_t)(i * 2654435761u % 5000);
		k.v6 = i & 1;
		if (rl_check(shared, &k, now += 100) > RL_DROP)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct rl_conf c = { 1, -3, 4, 2, 1024 };
	pthread_t th[3];
	void *ret;
	int i;

	shared = rl_new(&c);
	assert_non_null(shared);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	rl_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vs_naive),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_keys_and_config),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
