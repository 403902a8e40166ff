/* Control socket framing: round trips, byte-at-a-time input, caps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "node/ctl/ctlframe.h"

static void test_request_round_trip(void **state)
{
	char *args[] = { "a", "", "c d" };
	struct ctlframe_rd rd;
	Ntpmc__CtlRequest *req;
	uint8_t *buf;
	size_t len, used, i;
	int r = CTLFRAME_MORE;

	buf = ctlframe_pack_request("cluster status", 3, args, &len);
	assert_non_null(buf);
	assert_int_equal(((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
			  (size_t)buf[2] << 8 | buf[3]), len - 4);
	/* One byte at a time: the reader must not care how bytes arrive. */
	ctlframe_rd_init(&rd, CTL_MAX_REQUEST);
	for (i = 0; i < len; i++) {
		assert_int_equal(r, CTLFRAME_MORE);
		r = ctlframe_rd_feed(&rd, buf + i, 1, &used);
		assert_int_equal(used, 1);
	}
	assert_int_equal(r, CTLFRAME_DONE);
	req = ctlframe_unpack_request(rd.body, rd.len);
	assert_non_null(req);
	assert_int_equal(req->version, CTL_VERSION);
	assert_string_equal(req->command, "cluster status");
	assert_int_equal(req->n_args, 3);
	assert_string_equal(req->args[0], "a");
	assert_string_equal(req->args[1], "");
	assert_string_equal(req->args[2], "c d");
	ntpmc__ctl_request__free_unpacked(req, NULL);
	ctlframe_rd_free(&rd);
	free(buf);
}

static void test_two_frames_one_read(void **state)
{
	uint8_t *a, *b, both[256];
	size_t la, lb, used;
	struct ctlframe_rd rd;
	Ntpmc__CtlResponse *rsp;

	a = ctlframe_pack_response(0, NULL, "hello", "{}", "\0bin", 4, &la);
	b = ctlframe_pack_response(3, "denied", NULL, NULL, NULL, 0, &lb);
	assert_true(la + lb <= sizeof(both));
	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	ctlframe_rd_init(&rd, CTL_MAX_RESPONSE);
	assert_int_equal(ctlframe_rd_feed(&rd, both, la + lb, &used),
			 CTLFRAME_DONE);
	assert_int_equal(used, la);
	rsp = ctlframe_unpack_response(rd.body, rd.len);
	assert_non_null(rsp);
	assert_int_equal(rsp->version, CTL_VERSION);
	assert_int_equal(rsp->status, 0);
	assert_string_equal(rsp->text, "hello");
	assert_string_equal(rsp->json, "{}");
	/* the binary body (a backup file) arrives byte for byte */
	assert_int_equal(rsp->data.len, 4);
	assert_memory_equal(rsp->data.data, "\0bin", 4);
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	assert_int_equal(ctlframe_rd_feed(&rd, both + la, lb, &used),
			 CTLFRAME_DONE);
	assert_int_equal(used, lb);
	rsp = ctlframe_unpack_response(rd.body, rd.len);
	assert_non_null(rsp);
	assert_int_equal(rsp->status, 3);
	assert_string_equal(rsp->error, "denied");
	assert_string_equal(rsp->text, "");
	assert_int_equal(rsp->data.len, 0);
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	ctlframe_rd_free(&rd);
	free(a);
	free(b);
}

static void test_caps(void **state)
{
	uint8_t hdr[4] = { 0, 1, 0, 1 };        /* 65537 > 64 KiB */
	uint8_t zero[4] = { 0, 0, 0, 0 };
	struct ctlframe_rd rd;
	Ntpmc__CtlRequest *req;
	char *big, *args[CTL_MAX_ARGS + 1];
	size_t used, len;
	uint8_t *buf;

	ctlframe_rd_init(&rd, CTL_MAX_REQUEST);
	assert_int_equal(ctlframe_rd_feed(&rd, hdr, 4, &used), CTLFRAME_TOOBIG);
	ctlframe_rd_free(&rd);

	/* An empty frame is a valid (empty) message: version 0, refused by
	 * the caller, not by the framing. */
	ctlframe_rd_init(&rd, CTL_MAX_REQUEST);
	assert_int_equal(ctlframe_rd_feed(&rd, zero, 4, &used), CTLFRAME_DONE);
	req = ctlframe_unpack_request(rd.body, rd.len);
	assert_non_null(req);
	assert_int_equal(req->version, 0);
	ntpmc__ctl_request__free_unpacked(req, NULL);
	ctlframe_rd_free(&rd);

	/* Garbage does not decode. */
	assert_null(ctlframe_unpack_request((const uint8_t *)"\xff\xff\xff", 3));
	assert_null(ctlframe_unpack_response((const uint8_t *)"\x0a\x05", 2));

	/* Requests over the cap or with too many args are not built. */
	big = malloc(CTL_MAX_REQUEST + 1);
	memset(big, 'x', CTL_MAX_REQUEST);
	big[CTL_MAX_REQUEST] = '\0';
	assert_null(ctlframe_pack_request(big, 0, NULL, &len));
	free(big);
	for (int i = 0; i <= CTL_MAX_ARGS; i++)
		args[i] = "a";
	assert_null(ctlframe_pack_request("x", CTL_MAX_ARGS + 1, args, &len));
	buf = ctlframe_pack_request("x", CTL_MAX_ARGS, args, &len);
	assert_non_null(buf);
	free(buf);
}

static void test_too_many_args_decoded(void **state)
{
	/* A peer that ignores the cap: the decoder refuses the message. */
	Ntpmc__CtlRequest req = NTPMC__CTL_REQUEST__INIT;
	char *args[CTL_MAX_ARGS + 1];
	uint8_t buf[1024];
	size_t n;

	for (int i = 0; i <= CTL_MAX_ARGS; i++)
		args[i] = "a";
	req.version = CTL_VERSION;
	req.command = "x";
	req.n_args = CTL_MAX_ARGS + 1;
	req.args = args;
	n = ntpmc__ctl_request__pack(&req, buf);
	assert_null(ctlframe_unpack_request(buf, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_two_frames_one_read),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_too_many_args_decoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
