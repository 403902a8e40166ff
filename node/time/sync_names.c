/*
 * Names to addresses to slots: numeric addresses as they are, the test-only
 * hostsfile, or uv_getaddrinfo; failed lookups back off 1, 2, 4 ... 600 s.
 * Pool members that stop answering, refuse us or stay falsetickers give
 * their slot back and the pool name is resolved again, avoiding them. A
 * plain upstream name whose server stopped answering is resolved again
 * (the server may have moved) through the same resolver.
 */
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "node/base/hostport.h"
#include "node/time/hosts.h"
#include "node/base/log.h"
#include "node/time/sync_int.h"

static int same_addr(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}

struct sync_slot *sync_slot_for(struct sync *sy,
				const struct sockaddr_storage *from)
{
	int i;

	for (i = 0; i < sy->n_slot; i++)
		if (sy->slot[i].have_addr && same_addr(&sy->slot[i].addr, from))
			return &sy->slot[i];
	return NULL;
}

static void retry_cb(uv_timer_t *t)
{
	sync_names_resolve(t->data);
}

static int avoided(const struct sync_entry *e, const struct sockaddr_storage *a)
{
	int i;

	for (i = 0; i < e->n_avoid; i++)
		if (same_addr(&e->avoid[i], a))
			return 1;
	return 0;
}

/* The slot gives its address up: polling stops, its samples are gone. */
static void release_slot(struct sync *sy, int i)
{
	struct sync_slot *sl = &sy->slot[i];

	uv_timer_stop(&sl->timer);
	source_reset(sl->src);
	sl->have_addr = 0;
	sl->addr_str[0] = '\0';
	if (sy->sys == i)
		sy->sys = -1;
}

static void refreshed(struct sync_entry *e, const struct sockaddr_storage *a,
		      int n);

static void assign(struct sync_entry *e, const struct sockaddr_storage *a,
		   int n)
{
	struct sync *sy = e->sy;
	int i, j, empty = 0;

	if (e->refreshing) {
		e->refreshing = 0;
		refreshed(e, a, n);
		return;
	}
	for (j = 0; j < n; j++) {
		struct sync_slot *sl = NULL;

		if (sync_slot_for(sy, &a[j]) || avoided(e, &a[j]))
			continue;
		for (i = e->first; i < e->first + e->n; i++)
			if (!sy->slot[i].have_addr) {
				sl = &sy->slot[i];
				break;
			}
		if (!sl)
			break;
		sl->addr = a[j];
		sl->addrlen = a[j].ss_family == AF_INET6 ?
			      sizeof(struct sockaddr_in6) :
			      sizeof(struct sockaddr_in);
		hostport_from_sa((const struct sockaddr *)&sl->addr,
				 sl->addr_str, sizeof(sl->addr_str));
		source_reset(sl->src);
		sl->have_addr = 1;
		sl->polls = sl->false_count = sl->distant = 0;
		e->refresh_at = e->refresh_every = SYNC_REFRESH_POLLS;
		log_info("sync: %s %s -> %s", e->cu->pool ? "pool" : "upstream",
			 e->cu->host, sl->addr_str);
		/* First poll soon, spread over 100 ms. */
		sync_poll_arm(sl, randombytes_uniform(100) + 1);
	}
	for (i = e->first; i < e->first + e->n; i++)
		empty += !sy->slot[i].have_addr;
	if (empty) {
		/* Back off: 1, 2, 4 ... 600 s. */
		uv_timer_start(&e->retry, retry_cb,
			       (uint64_t)e->retry_s * 1000, 0);
		if (e->retry_s < SYNC_RETRY_MAX_S)
			e->retry_s = e->retry_s * 2 > SYNC_RETRY_MAX_S ?
				     SYNC_RETRY_MAX_S : e->retry_s * 2;
	} else {
		e->retry_s = SYNC_RETRY_MIN_S;
		e->error[0] = '\0';
	}
}

/* A plain name resolved again: the address stays while the name still
 * gives it (a server that is down, not moved); otherwise the slot moves to
 * the first address no other source uses. */
static void refreshed(struct sync_entry *e, const struct sockaddr_storage *a,
		      int n)
{
	struct sync *sy = e->sy;
	struct sync_slot *sl = &sy->slot[e->first];
	int j;

	if (!sl->have_addr) {
		assign(e, a, n);
		return;
	}
	for (j = 0; j < n; j++)
		if (same_addr(&a[j], &sl->addr)) {
			log_info("sync: upstream %s: still %s", e->cu->host,
				 sl->addr_str);
			return;
		}
	for (j = 0; j < n && sync_slot_for(sy, &a[j]); j++)
		;
	if (j == n) {
		log_info("sync: upstream %s: only addresses other sources use, keeping %s",
			 e->cu->host, sl->addr_str);
		return;
	}
	log_info("sync: upstream %s: the name no longer gives %s",
		 e->cu->host, sl->addr_str);
	release_slot(sy, e->first);
	assign(e, &a[j], n - j);
}

static void resolve_failed(struct sync_entry *e, const char *why)
{
	if (e->refreshing) {
		/* Keep the address we have: a lookup failing says nothing
		 * about the server. */
		e->refreshing = 0;
		log_warnx("sync: upstream %s: resolving again: %s (keeping %s)",
			  e->cu->host, why, e->sy->slot[e->first].addr_str);
		return;
	}
	e->failures++;
	snprintf(e->error, sizeof(e->error),
		 "cannot resolve: %s (%d tries, next in %d s)", why,
		 e->failures, e->retry_s);
	if (e->failures == 1 || e->failures % 10 == 0)
		log_warnx("sync: %s: %s", e->cu->host, e->error);
	assign(e, NULL, 0);
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct sync_entry *e = req->data;
	struct sockaddr_storage a[SYNC_MAX_ADDRS];
	struct addrinfo *ai;
	int n = 0;

	e->resolving = 0;
	if (e->sy->stopping || status == UV_ECANCELED) {
		if (res)
			uv_freeaddrinfo(res);
		sync_release(e->sy);
		return;
	}
	sync_release(e->sy); /* the loop still holds the handles: sy lives on */
	if (status < 0) {
		resolve_failed(e, uv_strerror(status));
		return;
	}
	for (ai = res; ai && n < SYNC_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_addrlen > sizeof(a[0]))
			continue;
		memset(&a[n], 0, sizeof(a[n]));
		memcpy(&a[n], ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	uv_freeaddrinfo(res);
	if (!n) {
		resolve_failed(e, "no IPv4 or IPv6 address");
		return;
	}
	assign(e, a, n);
}

void sync_names_resolve(struct sync_entry *e)
{
	struct sync *sy = e->sy;
	struct sockaddr_storage a[SYNC_MAX_ADDRS];
	struct addrinfo hints;
	char port[8];
	int n, rc;

	if (e->resolving || sy->stopping)
		return;
	if (hosts_numeric(e->cu->host, e->cu->port, &a[0]) == 0) {
		assign(e, a, 1);
		return;
	}
	if (sy->ct.hostsfile[0]) {
		/* Test-only: the private hosts file is the only resolver. */
		n = hosts_lookup(sy->ct.hostsfile, e->cu->host, e->cu->port, a,
				 SYNC_MAX_ADDRS);
		if (n < 0)
			resolve_failed(e, "hostsfile unreadable");
		else if (n == 0)
			resolve_failed(e, "name not in hostsfile");
		else
			assign(e, a, n);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", e->cu->port);
	e->gai.data = e;
	rc = uv_getaddrinfo(sy->loop, &e->gai, gai_cb, e->cu->host, port,
			    &hints);
	if (rc < 0) {
		resolve_failed(e, uv_strerror(rc));
		return;
	}
	e->resolving = 1;
	sy->open_handles++;
}

/* A pool member that stopped answering, refused us, or keeps being a
 * falseticker gives its slot back; the pool is resolved again. */
static void check_pool_member(struct sync *sy, int i,
			      const struct source_info *info)
{
	struct sync_slot *sl = &sy->slot[i];
	struct sync_entry *e = sl->ent;
	const char *why = NULL;

	if (info->denied)
		why = "refused us (KoD)";
	else if (sl->polls >= 8 && !info->reach)
		why = "unreachable";
	else if (sl->false_count >= SYNC_FALSE_REPLACE)
		why = "falseticker";
	if (!why)
		return;
	log_info("sync: pool %s: dropping %s (%s)", e->cu->host,
		 sl->addr_str, why);
	e->avoid[e->avoid_next] = sl->addr;
	e->avoid_next = (e->avoid_next + 1) % SYNC_AVOID;
	if (e->n_avoid < SYNC_AVOID)
		e->n_avoid++;
	release_slot(sy, i);
	uv_timer_stop(&e->retry);
	e->retry_s = SYNC_RETRY_MIN_S;
	sync_names_resolve(e);
}

/* A plain upstream name whose address has not answered SYNC_REFRESH_POLLS
 * polls in a row is resolved again, then after 16, 32 ... 128 more while
 * it stays silent; any reply starts over. A literal address is not. */
static void check_plain_name(struct sync *sy, int i,
			     const struct source_info *info)
{
	struct sync_slot *sl = &sy->slot[i];
	struct sync_entry *e = sl->ent;
	struct sockaddr_storage literal;

	if (info->reach) {
		e->refresh_at = 0;
		e->refresh_every = SYNC_REFRESH_POLLS;
		return;
	}
	if (info->denied || e->resolving || e->refreshing ||
	    sl->polls < SYNC_REFRESH_POLLS || sl->polls < e->refresh_at)
		return;
	if (hosts_numeric(e->cu->host, e->cu->port, &literal) == 0)
		return;
	log_info("sync: upstream %s: no reply from %s (%d polls), resolving the name again",
		 e->cu->host, sl->addr_str, sl->polls);
	if (e->refresh_every < SYNC_REFRESH_MAX_POLLS)
		e->refresh_every *= 2;
	e->refresh_at = sl->polls + e->refresh_every;
	e->refreshes++;
	e->refreshing = 1;
	sync_names_resolve(e);
}

void sync_names_check(struct sync *sy)
{
	int i;

	for (i = 0; i < sy->n_slot; i++) {
		struct sync_slot *sl = &sy->slot[i];
		struct source_info info;

		if (!sl->have_addr)
			continue;
		source_get_info(sl->src, &info);
		if (sl->ent->cu->pool)
			check_pool_member(sy, i, &info);
		else
			check_plain_name(sy, i, &info);
	}
}
