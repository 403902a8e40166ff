#include "raft/transport/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "raft/msgcodec.h"

const char *wire_drop_name(enum wire_drop d)
{
	static const char *const names[WIRE_DROP_COUNT] = {
		[WIRE_DROP_OVERSIZED] = "oversized",
		[WIRE_DROP_TRUNCATED] = "truncated",
		[WIRE_DROP_FORGED] = "forged",
		[WIRE_DROP_MALFORMED] = "malformed",
		[WIRE_DROP_WRONG_ID] = "wrong_id",
		[WIRE_DROP_QUEUE_FULL] = "queue_full",
		[WIRE_DROP_UNENCODABLE] = "unencodable",
		[WIRE_DROP_NO_ROUTE] = "no_route",
		[WIRE_DROP_NOT_MEMBER] = "not_member",
		[WIRE_DROP_NO_APP] = "no_app",
	};

	return (unsigned)d < WIRE_DROP_COUNT ? names[d] : "unknown";
}

void wire_plain_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	free(p);
}

const char *wire_refuse_name(enum wire_refuse r)
{
	static const char *const names[WIRE_REFUSE_COUNT] = {
		[WIRE_REFUSE_SOURCE] = "source",
		[WIRE_REFUSE_EVICTED] = "evicted",
		[WIRE_REFUSE_HELLO_TIMEOUT] = "hello_timeout",
		[WIRE_REFUSE_HS_TIMEOUT] = "hs_timeout",
		[WIRE_REFUSE_ACCEPT] = "accept",
	};

	return (unsigned)r < WIRE_REFUSE_COUNT ? names[r] : "unknown";
}

void wire_rx_init(struct wire_rx *rx, struct chan *chan, uint64_t peer_id,
		  bool joiner, struct wire_stats *stats)
{
	memset(rx, 0, sizeof(*rx));
	/* Checked before anything is allocated (frame.h). */
	frame_reader_init(&rx->fr, joiner ? WIRE_JOINER_RECORD_MAX
					  : CHAN_RECORD_MAX);
	rx->chan = chan;
	rx->peer_id = peer_id;
	rx->joiner = joiner;
	rx->stats = stats;
}

void wire_rx_free(struct wire_rx *rx)
{
	frame_reader_free(&rx->fr);
}

void wire_rx_eof(struct wire_rx *rx)
{
	if (frame_reader_pending(&rx->fr) > 0)
		rx->stats->drops[WIRE_DROP_TRUNCATED]++;
	frame_reader_free(&rx->fr);
}

/* The frame must come from the authenticated peer, in every id it names. */
static int sender_ok(const struct wire_rx *rx, const struct raft_message *m)
{
	if (m->server_id != rx->peer_id)
		return 0;
	if (m->type == RAFT_REQUEST_VOTE &&
	    m->request_vote.candidate_id != rx->peer_id)
		return 0;
	return 1;
}

static int one_record(struct wire_rx *rx, const uint8_t *rec, size_t len,
		      const struct wire_sink *sink)
{
	struct raft_message m;
	uint8_t *pt, *app = NULL;
	size_t n = 0, app_len = 0;
	int rc;

	if (len < CHAN_OVERHEAD) {
		rx->stats->drops[WIRE_DROP_FORGED]++;
		return -EBADMSG;
	}
	pt = malloc(len - CHAN_OVERHEAD + 1);
	if (pt == NULL)
		return -ENOMEM;
	if (chan_open(rx->chan, rec, len, pt, &n) != 0) {
		rx->stats->drops[WIRE_DROP_FORGED]++;
		rc = -EBADMSG;
		goto out;
	}
	rc = 0;
	if (n == 0)
		goto out; /* keepalive */
	if (msgcodec_decode_frame(pt, n, &m, &app, &app_len) != 0) {
		rx->stats->drops[WIRE_DROP_MALFORMED]++;
		goto out;
	}
	if (!sender_ok(rx, &m)) {
		msgcodec_release(&m);
		rx->stats->drops[WIRE_DROP_WRONG_ID]++;
		goto out;
	}
	if (app != NULL) {
		if (sink->app == NULL) {
			rx->stats->drops[WIRE_DROP_NO_APP]++;
			goto out;
		}
		rx->stats->frames_rx++;
		sink->app(sink->ctx, app, app_len);
		goto out;
	}
	if (rx->joiner) {
		/* Not a member yet: its votes and entries mean nothing. */
		msgcodec_release(&m);
		rx->stats->drops[WIRE_DROP_NOT_MEMBER]++;
		goto out;
	}
	rx->stats->frames_rx++;
	sink->raft(sink->ctx, &m);
out:
	wire_plain_free(app, app_len);
	wire_plain_free(pt, len - CHAN_OVERHEAD + 1);
	return rc;
}

int wire_rx_feed(struct wire_rx *rx, const uint8_t *data, size_t n,
		 const struct wire_sink *sink)
{
	const uint8_t *rec;
	size_t used, len;
	int rc;

	while (n > 0) {
		rc = frame_reader_feed(&rx->fr, data, n, &used, &rec, &len);
		if (rc == -E2BIG || rc == -EINVAL) {
			/* A stream cannot skip a record: close. */
			rx->stats->drops[rc == -E2BIG ? WIRE_DROP_OVERSIZED
						      : WIRE_DROP_FORGED]++;
			return rc;
		}
		if (rc < 0)
			return rc;
		data += used;
		n -= used;
		if (rc == 1) {
			rc = one_record(rx, rec, len, sink);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Seals pt (consumed). */
static int seal(struct chan *chan, uint8_t *pt, size_t n,
		struct wire_stats *stats, uint8_t **out, size_t *len)
{
	uint8_t *rec;
	int rc;

	rec = malloc(chan_sealed_len(n));
	if (rec == NULL) {
		wire_plain_free(pt, n);
		return -ENOMEM;
	}
	rc = chan_seal(chan, pt, n, rec, chan_sealed_len(n));
	wire_plain_free(pt, n);
	if (rc != 0) {
		free(rec);
		return rc;
	}
	if (stats != NULL)
		stats->frames_tx++;
	*out = rec;
	*len = chan_sealed_len(n);
	return 0;
}

int wire_tx_seal(struct chan *chan, const struct raft_message *msg,
		 uint64_t self, struct wire_stats *stats, uint8_t **out,
		 size_t *len)
{
	uint8_t *pt = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = msgcodec_encode(msg, self, CHAN_PLAIN_MAX, &pt, &n);
	if (rc != 0) {
		stats->drops[WIRE_DROP_UNENCODABLE]++;
		return rc;
	}
	return seal(chan, pt, n, stats, out, len);
}

int wire_tx_seal_app(struct chan *chan, const void *buf, size_t len,
		     uint64_t self, struct wire_stats *stats, uint8_t **out,
		     size_t *out_len)
{
	uint8_t *pt = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = msgcodec_encode_app(self, buf, len, CHAN_PLAIN_MAX, &pt, &n);
	if (rc != 0) {
		stats->drops[WIRE_DROP_UNENCODABLE]++;
		return rc;
	}
	return seal(chan, pt, n, stats, out, out_len);
}

int wire_tx_seal_ping(struct chan *chan, uint8_t **out, size_t *out_len)
{
	uint8_t *pt = malloc(1);

	if (pt == NULL)
		return -ENOMEM;
	return seal(chan, pt, 0, NULL, out, out_len);
}
