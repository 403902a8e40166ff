/*
 * serve_batch: one batch of a serving thread (serve_int.h). A batch is
 * one recvmmsg, one tstate_read, per-packet classify/acl/ratelimit/build,
 * then one realtime read for the transmit timestamp of the whole batch,
 * written into every reply right before the one sendmmsg (the batch's
 * replies carry the same transmit time: the kernel sends them within
 * microseconds). Counters go to the thread's own stats, flushed once per
 * batch without locks.
 */
#include "node/serve/serve_int.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "node/base/wirelen.h"
#include "node/ntp/clk.h"
#include "node/ntp/ntp.h"
#include "node/ntp/pkeys.h"
#include "node/ntp/tstate.h"

/*
 * `received` (word 0) is stored last with release, and serve_get_stats
 * loads it first with acquire: a reader that sees a batch's datagrams in
 * `received` sees every other counter of that batch too.
 */
static void stats_flush(struct serve_worker *w, const struct serve_stats *d)
{
	uint64_t *dst = (uint64_t *)&w->stats;
	const uint64_t *src = (const uint64_t *)d;
	size_t i;

	_Static_assert(offsetof(struct serve_stats, received) == 0,
		       "received is the first word");
	for (i = STAT_WORDS - 1; i > 0; i--) {
		if (src[i])
			__atomic_store_n(&dst[i],
					 __atomic_load_n(&dst[i],
							 __ATOMIC_RELAXED) +
						 src[i],
					 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&dst[0],
			 __atomic_load_n(&dst[0], __ATOMIC_RELAXED) + src[0],
			 __ATOMIC_RELEASE);
}

/* Kernel receive time and the request's local address from the cmsgs. */
static void parse_cmsgs(struct msghdr *mh, int64_t *raw, int *have_ts,
			struct in_pktinfo *pi4, struct in6_pktinfo *pi6,
			int *have_pi)
{
	struct cmsghdr *c;

	*have_ts = 0;
	*have_pi = 0;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*raw = clk_raw_from_kernel(&ts);
			*have_ts = 1;
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(*pi4))) {
			memcpy(pi4, CMSG_DATA(c), sizeof(*pi4));
			*have_pi = AF_INET;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(*pi6))) {
			memcpy(pi6, CMSG_DATA(c), sizeof(*pi6));
			*have_pi = AF_INET6;
		}
	}
}

/* Reply from the address the request was sent to (wildcard sockets). */
static void set_src(struct serve_worker *w, int j, struct msghdr *mh, int have_pi,
		    const struct in_pktinfo *pi4, const struct in6_pktinfo *pi6)
{
	struct cmsghdr *c;

	if (!have_pi) {
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		return;
	}
	memset(w->sctl[j].buf, 0, sizeof(w->sctl[j].buf));
	mh->msg_control = w->sctl[j].buf;
	c = (struct cmsghdr *)w->sctl[j].buf;
	if (have_pi == AF_INET) {
		struct in_pktinfo out = { 0 };

		/* ipi_spec_dst is the local address the request came to (or
		 * the interface's, for a broadcast); let routing pick the
		 * interface. */
		out.ipi_spec_dst = pi4->ipi_spec_dst;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(out));
		memcpy(CMSG_DATA(c), &out, sizeof(out));
		mh->msg_controllen = CMSG_SPACE(sizeof(out));
	} else {
		struct in6_pktinfo out = { 0 };

		out.ipi6_addr = pi6->ipi6_addr;
		/* A link-local source needs its interface. */
		if (IN6_IS_ADDR_LINKLOCAL(&pi6->ipi6_addr))
			out.ipi6_ifindex = pi6->ipi6_ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(out));
		memcpy(CMSG_DATA(c), &out, sizeof(out));
		mh->msg_controllen = CMSG_SPACE(sizeof(out));
	}
}

static void count_class(struct serve_stats *d, enum ntp_class c)
{
	switch (c) {
	case NTP_CLIENT:
		break;
	case NTP_DROP_SHORT:
		d->drop_short++;
		break;
	case NTP_DROP_VERSION:
		d->drop_version++;
		break;
	case NTP_DROP_MODE:
		d->drop_mode++;
		break;
	case NTP_DROP_CONTROL:
		d->drop_control++;
		break;
	case NTP_DROP_AUTH:
		d->drop_auth++;
		break;
	}
}

/* Replies to members (peer_self set) count as peer_replied, never in the
 * server counters. */
static void send_all(int fd, struct serve_worker *w, int n, struct serve_stats *d)
{
	int done = 0, r, k;

	while (done < n) {
		r = sendmmsg(fd, w->smsg + done, (unsigned)(n - done),
			     MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Skip the one that failed (EAGAIN: socket buffer
			 * full; unreachable: ICMP error; ...). */
			if (!w->peer_self[done])
				d->send_errors++;
			done++;
			continue;
		}
		/* Egress by class: plain adds on the batch's own counters,
		 * flushed with relaxed stores (stats_flush). */
		for (k = done; k < done + r; k++) {
			uint32_t b = wirelen_udp(
				w->smsg[k].msg_hdr.msg_name,
				w->siov[k].iov_len);

			if (w->peer_self[k]) {
				d->peer_replied++;
				d->peer_tx_bytes += b;
			} else {
				d->replied++;
				d->tx_bytes += b;
			}
		}
		done += r;
	}
}

/*
 * A member's cross-check request (node/ntp/pmac.h): a client request with
 * a trailer whose key id names a member and whose tag that pair key
 * verifies. Anything else, including a bad tag, is public traffic (and
 * counted as drop_auth there). Returns our key id for the reply, 0 when
 * it is not one.
 */
static uint32_t peer_request(const uint8_t *b, size_t len,
			     uint8_t key[PMAC_KEY_LEN])
{
	uint32_t self;

	if (len != PMAC_LEN || ntp_classify(b, NTP_HDR_LEN) != NTP_CLIENT ||
	    pkeys_find(pmac_peek_id(b, len), key, &self) < 0)
		return 0;
	if (pmac_verify(b, len, key) < 0)
		return 0;
	return self;
}

/* A public request: counted, then the answerable / length / codec /
 * access / rate-limit checks; 1 when it is answered (*v says how). */
static int admit(struct serve *s, const struct msghdr *mh,
		 const struct sockaddr *src, const uint8_t *b, size_t len,
		 int64_t t0, struct serve_stats *d, enum rl_verdict *v)
{
	enum ntp_class c;
	struct rl_key key;

	d->received++;
	/* Whatever it holds, a reply could not be delivered (it
	 * would only show up as a send error). */
	if (!acl_answerable(src)) {
		d->drop_unanswerable++;
		return 0;
	}
	if (mh->msg_flags & MSG_TRUNC) {
		d->drop_short++;
		return 0;
	}
	c = ntp_classify(b, len);
	if (c != NTP_CLIENT) {
		count_class(d, c);
		return 0;
	}
	if (s->acl && !acl_allowed(s->acl, src)) {
		d->drop_denied++;
		return 0;
	}
	if (s->rl && rl_key_from_sa(src, &key) == 0)
		*v = rl_check(s->rl, &key, t0);
	if (*v == RL_DROP) {
		d->rate_limited++;
		d->drop_ratelimit++;
		return 0;
	}
	return 1;
}

/* The governor: 1 when a public reply of len bytes to src fits this
 * thread's share of the rate (a token bucket holding at most a second's
 * worth), 0 to drop it. */
static int governed(struct serve_worker *w, const struct sockaddr *src, int64_t now)
{
	uint64_t rate = atomic_load_explicit(&w->s->gov_rate,
					     memory_order_relaxed);
	double share, cost;

	if (!rate)
		return 1;
	share = (double)rate / w->s->nthreads;
	/* the first reply under a limit starts with a full bucket */
	w->gov_tokens = w->gov_ns ? w->gov_tokens + share *
				    (double)(now - w->gov_ns) / 1e9 : share;
	w->gov_ns = now;
	if (w->gov_tokens > share)
		w->gov_tokens = share;
	cost = wirelen_udp(src, NTP_HDR_LEN);
	if (w->gov_tokens < cost)
		return 0;
	w->gov_tokens -= cost;
	return 1;
}

/* See serve_int.h. */
int serve_batch(struct serve_worker *w, int fd, int flags)
{
	struct serve *s = w->s;
	struct serve_stats d;
	struct tstate st, claim;
	int64_t t0, t1, now_raw = 0, rx_raw, tx;
	int got, i, n = 0, npeer = 0, have_ts, have_pi, have_claim = 0;

	for (i = 0; i < BATCH; i++) {
		struct msghdr *mh = &w->rmsg[i].msg_hdr;

		mh->msg_name = &w->raddr[i];
		mh->msg_namelen = sizeof(w->raddr[i]);
		mh->msg_iov = &w->riov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = w->rctl[i].buf;
		mh->msg_controllen = sizeof(w->rctl[i].buf);
		mh->msg_flags = 0;
		w->riov[i].iov_base = w->rbuf[i];
		w->riov[i].iov_len = PKT_MAX;
	}
	got = recvmmsg(fd, w->rmsg, BATCH, flags, NULL);
	if (got <= 0)
		return 0;
	t0 = serve_mono_ns();
	memset(&d, 0, sizeof(d));
	tstate_read(&st);
	for (i = 0; i < got; i++) {
		struct msghdr *mh = &w->rmsg[i].msg_hdr;
		const struct sockaddr *src = (const struct sockaddr *)&w->raddr[i];
		struct in_pktinfo pi4;
		struct in6_pktinfo pi6;
		enum rl_verdict v = RL_PASS;
		size_t len = w->rmsg[i].msg_len;
		size_t out_len = NTP_HDR_LEN;
		int64_t rx;

		/* Members' requests: answered past the access list and the
		 * rate limiter, with the engine's own claim (a withdrawn
		 * claim is the clients' business, not the members'), and
		 * kept out of the server counters. */
		w->peer_self[n] = 0;
		if (!(mh->msg_flags & MSG_TRUNC))
			w->peer_self[n] = peer_request(w->rbuf[i], len,
						       w->peer_key[n]);
		if (w->peer_self[n]) {
			if (!acl_answerable(src)) {
				w->peer_self[n] = 0;
				memset(w->peer_key[n], 0, PMAC_KEY_LEN);
				continue;
			}
			if (!have_claim) {
				tstate_read_claim(&claim);
				have_claim = 1;
			}
			npeer++;
			out_len = PMAC_LEN;
		} else if (!admit(s, mh, src, w->rbuf[i], len, t0, &d, &v)) {
			continue;
		} else if (!governed(w, src, t0)) {
			d.drop_governor++;
			continue;
		}
		parse_cmsgs(mh, &rx_raw, &have_ts, &pi4, &pi6, &have_pi);
		if (!have_ts) {
			if (!now_raw)
				now_raw = clk_raw_ns();
			rx_raw = now_raw;
		}
		rx = tstate_served_ns(&st, rx_raw);
		if (w->peer_self[n]) {
			ntp_build_reply(w->rbuf[i], &claim, rx, w->sbuf[n]);
		} else if (v == RL_KOD) {
			ntp_build_kod(w->rbuf[i], &st, rx, w->sbuf[n]);
			d.rate_limited++;
			d.kod_sent++;
		} else {
			ntp_build_reply(w->rbuf[i], &st, rx, w->sbuf[n]);
			if (v == RL_LEAK)
				d.rl_leaked++;
		}
		w->siov[n].iov_base = w->sbuf[n];
		w->siov[n].iov_len = out_len;
		w->smsg[n].msg_hdr.msg_name = &w->raddr[i];
		w->smsg[n].msg_hdr.msg_namelen = mh->msg_namelen;
		w->smsg[n].msg_hdr.msg_iov = &w->siov[n];
		w->smsg[n].msg_hdr.msg_iovlen = 1;
		w->smsg[n].msg_hdr.msg_flags = 0;
		set_src(w, n, &w->smsg[n].msg_hdr, have_pi, &pi4, &pi6);
		n++;
	}
	if (n > 0) {
		/* As late as possible: one read for the batch, then only
		 * the stores of 8 bytes per reply before the syscall. */
		tx = tstate_served_ns(&st, clk_raw_ns());
		for (i = 0; i < n; i++)
			ntp_set_xmt(w->sbuf[i], tx);
		for (i = 0; i < n; i++)
			if (w->peer_self[i])
				pmac_sign(w->sbuf[i], w->peer_self[i],
					  w->peer_key[i]);
		t1 = serve_mono_ns();
		d.reply_ns_hist[serve_hist_bucket((uint64_t)(t1 - t0))] +=
			(uint64_t)(n - npeer);
		d.reply_ns_sum += (uint64_t)(t1 - t0) * (uint64_t)(n - npeer);
		send_all(fd, w, n, &d);
		for (i = 0; i < n; i++)
			if (w->peer_self[i])
				memset(w->peer_key[i], 0, PMAC_KEY_LEN);
	}
	stats_flush(w, &d);
	return got;
}
