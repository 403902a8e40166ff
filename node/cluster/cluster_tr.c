/* cluster_tr: the real member transport (raft/transport/tcp.h) on
 * cluster-listen. */
#include "node/cluster/cluster_int.h"

#include <stdio.h>
#include <string.h>

#include "node/base/hostport.h"
#include "node/base/log.h"
#include "raft/transport/tcp.h"

static int tcp_open(void *arg, uv_loop_t *loop, const struct cluster_conf *c,
		    const struct hs_config *hs, const struct token *join,
		    struct rtr **out)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->listen.addr;
	char listen[HOSTPORT_SA_LEN];
	struct tcp_config tc;
	struct tcp *t;
	int rc;

	(void)arg;
	memset(&tc, 0, sizeof(tc));
	tc.loop = loop;
	tc.listen = sa;
	tc.parse_addr = hostport_to_sa;
	tc.self_id = hs->self_id;
	memcpy(tc.cluster_id, hs->cluster_id, sizeof(tc.cluster_id));
	tc.ident = hs->ident;
	tc.trust = hs->trust;
	tc.join = join;
	/* The mesh: members move to an overlay listener on this port. */
	tc.share_port = c->wg_interface[0] != 0;
	tc.log.fn = cl_rlog;
	rc = tcp_new(&tc, &t);
	if (rc < 0) {
		log_err("cluster-listen %s: %s",
			hostport_from_sa(sa, listen, sizeof(listen)),
			strerror(-rc));
		return rc;
	}
	*out = tcp_rtr(t);
	return 0;
}

static void closed(void *arg)
{
	(void)arg;
}

static void tcp_close_rtr(void *arg, struct rtr *tr)
{
	(void)arg;
	tcp_close(tcp_of_rtr(tr), closed, NULL);
}

/* At debug level, every few seconds: what the transport dropped and why. */
static void tcp_debug(void *arg, struct rtr *tr)
{
	const struct tcp *t = tcp_of_rtr(tr);
	const struct wire_stats *s;
	char buf[1024];
	size_t n = 0;
	int i;

	(void)arg;
	s = tcp_stats(t);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "conns up %u rx %llu "
			      "tx %llu", tcp_established(t),
			      (unsigned long long)s->frames_rx,
			      (unsigned long long)s->frames_tx);
	for (i = 0; i < WIRE_DROP_COUNT && n < sizeof(buf); i++)
		if (s->drops[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " %s %llu", wire_drop_name(i),
					      (unsigned long long)s->drops[i]);
	for (i = 1; i < HS_ERR_COUNT && n < sizeof(buf); i++)
		if (s->hs_failed[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " hs:%s %llu", hs_strerror(-i),
					      (unsigned long long)s->hs_failed[i]);
	for (i = 1; i < HS_ERR_COUNT && n < sizeof(buf); i++)
		if (s->hs_refused[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " refused-by-peer:%s %llu",
					      hs_strerror(-i),
					      (unsigned long long)
						      s->hs_refused[i]);
	for (i = 0; i < WIRE_REFUSE_COUNT && n < sizeof(buf); i++)
		if (s->refused[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " refused:%s %llu",
					      wire_refuse_name(i),
					      (unsigned long long)s->refused[i]);
	log_debug("transport: %s", buf);
}

static void tcp_egress(void *arg, struct rtr *tr, uint64_t *bytes,
		       uint64_t seg_len16[16], uint64_t *packets)
{
	struct tcp *t = tcp_of_rtr(tr);
	const struct wire_stats *s = tcp_stats(t);

	(void)arg;
	tcp_count_sent(t);
	*bytes = s->tx_bytes + s->tx_retrans_bytes;
	memcpy(seg_len16, s->tx_seg_len16, sizeof(s->tx_seg_len16));
	/* Without the kernel's count: the segments written and about one
	 * bare ACK per read that returned data (a request/response protocol
	 * whose next frame comes later than the peer's delayed ACK). */
	*packets = s->tx_packets ? s->tx_packets
				 : s->tx_segments + s->rx_reads;
}

const struct cluster_transport cl_tcp_transport = {
	tcp_open, tcp_close_rtr, tcp_debug, NULL, tcp_egress,
};

void cl_tr_timing(struct cluster *cl, const struct cl_tr_timing *tm)
{
	struct tcp_timing t;

	if (!cl->tr || cl->hooks.transport != &cl_tcp_transport)
		return;
	t.keepalive_ms = tm->keepalive_ms;
	t.idle_close_ms = tm->idle_close_ms;
	t.user_timeout_ms = tm->user_timeout_ms;
	tcp_set_timing(tcp_of_rtr(cl->tr), &t);
}
