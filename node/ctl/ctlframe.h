/*
 * Control socket framing, shared by ntpnode (ctl.c) and ntpctl: every frame
 * is a 4-byte big-endian length, then one protobuf message (proto/ctl.proto).
 * Frames are size-capped; the version field lets either side refuse a peer
 * it does not understand.
 */
#ifndef NTPMC_CTLFRAME_H
#define NTPMC_CTLFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ctl.pb-c.h"

/* 2: a reply's binary body travels in its data field (the backup file);
 * 1 had it base64 inside the JSON. Either end refuses the other version. */
#define CTL_VERSION 2
/* Where the daemon listens and ntpctl connects unless told otherwise. */
#define CTL_DEFAULT_SOCKET "/run/ntpnode/ctl.sock"
#define CTL_MAX_REQUEST (64 * 1024)
#define CTL_MAX_RESPONSE (4 * 1024 * 1024)
#define CTL_MAX_ARGS 64

/* Incremental reader: feed it whatever a stream read returned. */
struct ctlframe_rd {
	uint8_t hdr[4];
	size_t hdr_have;
	uint32_t len;
	uint8_t *body;
	size_t have;
	size_t max;
};

enum {
	CTLFRAME_MORE = 0,      /* need more bytes */
	CTLFRAME_DONE = 1,      /* body/len hold one frame until the next feed */
	CTLFRAME_TOOBIG = -1,   /* length above max: the stream is unusable */
	CTLFRAME_NOMEM = -2,
};

void ctlframe_rd_init(struct ctlframe_rd *r, size_t max);
/* Consumes at most n bytes (*used says how many), stops after one frame. */
int ctlframe_rd_feed(struct ctlframe_rd *r, const uint8_t *p, size_t n,
		     size_t *used);
void ctlframe_rd_free(struct ctlframe_rd *r);

/* A whole frame (header included) in a malloc'd buffer, or NULL. */
uint8_t *ctlframe_pack_request(const char *command, int argc,
			       char *const *argv, size_t *len);
uint8_t *ctlframe_pack_response(int status, const char *error,
				const char *text, const char *json,
				const void *data, size_t data_len, size_t *len);

/* NULL if the body is not a valid message (or has too many args). The
 * version is checked by the caller, which knows how to answer. */
Ntpmc__CtlRequest *ctlframe_unpack_request(const uint8_t *body, size_t len);
Ntpmc__CtlResponse *ctlframe_unpack_response(const uint8_t *body, size_t len);

#endif
