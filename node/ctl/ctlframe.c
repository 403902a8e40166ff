/* Control socket framing: length prefix, size caps, protobuf (un)packing. */
#include "node/ctl/ctlframe.h"

#include <stdlib.h>
#include <string.h>

void ctlframe_rd_init(struct ctlframe_rd *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void ctlframe_rd_free(struct ctlframe_rd *r)
{
	free(r->body);
	r->body = NULL;
}

int ctlframe_rd_feed(struct ctlframe_rd *r, const uint8_t *p, size_t n,
		     size_t *used)
{
	size_t take;

	*used = 0;
	if (r->hdr_have == 4 && r->have == r->len) {
		/* The previous call returned a frame: start the next one. */
		free(r->body);
		r->body = NULL;
		r->hdr_have = 0;
		r->have = 0;
		r->len = 0;
	}
	while (r->hdr_have < 4) {
		if (*used == n)
			return CTLFRAME_MORE;
		r->hdr[r->hdr_have++] = p[(*used)++];
		if (r->hdr_have < 4)
			continue;
		r->len = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
			 (uint32_t)r->hdr[2] << 8 | r->hdr[3];
		if (r->len > r->max)
			return CTLFRAME_TOOBIG;
		/* +1: a zero-length frame still gets a distinct buffer. */
		r->body = malloc(r->len + 1);
		if (!r->body)
			return CTLFRAME_NOMEM;
	}
	take = r->len - r->have;
	if (take > n - *used)
		take = n - *used;
	memcpy(r->body + r->have, p + *used, take);
	r->have += take;
	*used += take;
	return r->have == r->len ? CTLFRAME_DONE : CTLFRAME_MORE;
}

static uint8_t *frame(const ProtobufCMessage *m, size_t max, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf;

	if (n > max)
		return NULL;
	buf = malloc(n + 4);
	if (!buf)
		return NULL;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	protobuf_c_message_pack(m, buf + 4);
	*len = n + 4;
	return buf;
}

uint8_t *ctlframe_pack_request(const char *command, int argc,
			       char *const *argv, size_t *len)
{
	Ntpmc__CtlRequest req = NTPMC__CTL_REQUEST__INIT;

	if (argc < 0 || argc > CTL_MAX_ARGS)
		return NULL;
	req.version = CTL_VERSION;
	req.command = (char *)command;
	req.n_args = (size_t)argc;
	req.args = (char **)argv;
	return frame(&req.base, CTL_MAX_REQUEST, len);
}

uint8_t *ctlframe_pack_response(int status, const char *error,
				const char *text, const char *json,
				const void *data, size_t data_len, size_t *len)
{
	Ntpmc__CtlResponse rsp = NTPMC__CTL_RESPONSE__INIT;

	rsp.version = CTL_VERSION;
	rsp.status = status;
	rsp.error = (char *)(error ? error : "");
	rsp.text = (char *)(text ? text : "");
	rsp.json = (char *)(json ? json : "");
	rsp.data.data = (uint8_t *)data;
	rsp.data.len = data ? data_len : 0;
	return frame(&rsp.base, CTL_MAX_RESPONSE, len);
}

Ntpmc__CtlRequest *ctlframe_unpack_request(const uint8_t *body, size_t len)
{
	Ntpmc__CtlRequest *req;

	if (len > CTL_MAX_REQUEST)
		return NULL;
	req = ntpmc__ctl_request__unpack(NULL, len, body);
	if (req && req->n_args > CTL_MAX_ARGS) {
		ntpmc__ctl_request__free_unpacked(req, NULL);
		return NULL;
	}
	return req;
}

Ntpmc__CtlResponse *ctlframe_unpack_response(const uint8_t *body, size_t len)
{
	if (len > CTL_MAX_RESPONSE)
		return NULL;
	return ntpmc__ctl_response__unpack(NULL, len, body);
}
