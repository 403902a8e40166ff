#include "fakentp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/ntp/clk.h"
#include "node/ntp/ntp.h"

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char buf[512];

	(void)h;
	(void)sz;
	b->base = buf;
	b->len = sizeof(buf);
}

static void send_cb(uv_udp_send_t *r, int status)
{
	(void)status;
	free(r);
}

static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b,
		    const struct sockaddr *from, unsigned flags)
{
	struct fakentp *f = h->data;
	struct ntp_hdr q, r;
	int64_t now = clk_raw_ns() + (int64_t)(f->offset * 1e9);
	uv_udp_send_t *req;
	uv_buf_t out;

	(void)flags;
	if (n < 48 || !from || f->silent)
		return;
	ntp_decode((const uint8_t *)b->base, &q);
	memset(&r, 0, sizeof(r));
	if (f->leap_at && f->leap_li == 2) {
		r.leap = now < f->leap_at - 1000000000LL ? 2 : 0;
		if (!r.leap)
			now += 1000000000LL;
	} else if (f->leap_at) {
		r.leap = now < f->leap_at ? 1 : 0;
		if (now >= f->leap_at)
			now -= 1000000000LL;
	}
	r.version = 4;
	r.mode = NTP_MODE_SERVER;
	r.stratum = 1;
	r.precision = -20;
	r.refid = 0x47505300;
	r.root_disp = ntp_short_from_s(1e-5);
	r.root_delay = ntp_short_from_s(f->root_delay);
	r.org = f->spoof ? q.xmt ^ 0xdead : q.xmt;
	r.rec = r.xmt = r.ref = ntp_ts_from_ns(now);
	ntp_encode(&r, f->pkt);
	f->answered++;
	req = malloc(sizeof(*req));
	if (!req)
		return;
	out = uv_buf_init((char *)f->pkt, 48);
	if (uv_udp_send(req, h, &out, 1, from, send_cb) < 0)
		free(req);
}

uint16_t fakentp_start(struct fakentp *f, uv_loop_t *loop)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_storage got;
	int len = sizeof(got);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(uv_udp_init(loop, &f->h), 0);
	f->h.data = f;
	assert_int_equal(uv_udp_bind(&f->h, (struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_udp_getsockname(&f->h, (struct sockaddr *)&got,
					    &len), 0);
	assert_int_equal(uv_udp_recv_start(&f->h, alloc_cb, recv_cb), 0);
	return ntohs(((struct sockaddr_in *)&got)->sin_port);
}

void fakentp_close(struct fakentp *f)
{
	uv_close((uv_handle_t *)&f->h, NULL);
}
