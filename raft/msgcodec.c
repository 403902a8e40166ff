#include "raft/msgcodec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/raftmsg.pb-c.h"

/*
 * protobuf-c allocator with a budget: a frame of many tiny repeated fields
 * would otherwise make unpack allocate far more than the frame's size.
 */
struct budget {
	size_t left;
};

struct budget_hdr {
	size_t size;
	max_align_t align;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	struct budget_hdr *h;

	if (size > b->left || size > SIZE_MAX - sizeof(*h))
		return NULL;
	h = malloc(sizeof(*h) + size);
	if (h == NULL)
		return NULL;
	b->left -= size;
	h->size = size;
	return h + 1;
}

static void budget_free(void *data, void *ptr)
{
	struct budget *b = data;
	struct budget_hdr *h;

	if (ptr == NULL)
		return;
	h = (struct budget_hdr *)ptr - 1;
	b->left += h->size;
	/* What unpack copied out of a record is plaintext: wiped. */
	sodium_memzero(ptr, h->size);
	free(h);
}


int msgcodec_encode(const struct raft_message *msg, raft_id sender,
		    size_t max, uint8_t **out, size_t *len)
{
	Ntpmc__RaftMsg m = NTPMC__RAFT_MSG__INIT;
	Ntpmc__RaftRequestVotePb rv = NTPMC__RAFT_REQUEST_VOTE_PB__INIT;
	Ntpmc__RaftRequestVoteResultPb rvr =
		NTPMC__RAFT_REQUEST_VOTE_RESULT_PB__INIT;
	Ntpmc__RaftAppendEntriesPb ae = NTPMC__RAFT_APPEND_ENTRIES_PB__INIT;
	Ntpmc__RaftAppendEntriesResultPb aer =
		NTPMC__RAFT_APPEND_ENTRIES_RESULT_PB__INIT;
	Ntpmc__RaftInstallSnapshotPb is = NTPMC__RAFT_INSTALL_SNAPSHOT_PB__INIT;
	Ntpmc__RaftTimeoutNowPb tn = NTPMC__RAFT_TIMEOUT_NOW_PB__INIT;
	Ntpmc__RaftEntryPb *ents = NULL, **entp = NULL;
	Ntpmc__RaftServerPb *srv = NULL, **srvp = NULL;
	uint8_t *buf;
	size_t n;
	unsigned i;
	int rc = -ENOMEM;

	*out = NULL;
	m.codec = MSGCODEC_VERSION;
	m.server_id = sender;
	switch (msg->type) {
	case RAFT_REQUEST_VOTE: {
		const struct raft_request_vote *p = &msg->request_vote;

		rv.version = p->version;
		rv.term = p->term;
		rv.candidate_id = p->candidate_id;
		rv.last_log_index = p->last_log_index;
		rv.last_log_term = p->last_log_term;
		rv.disrupt_leader = p->disrupt_leader;
		rv.pre_vote = p->pre_vote;
		m.body_case = NTPMC__RAFT_MSG__BODY_REQUEST_VOTE;
		m.request_vote = &rv;
		break;
	}
	case RAFT_REQUEST_VOTE_RESULT: {
		const struct raft_request_vote_result *p =
			&msg->request_vote_result;

		rvr.version = p->version;
		rvr.term = p->term;
		rvr.vote_granted = p->vote_granted;
		rvr.pre_vote = p->pre_vote;
		rvr.features = p->features;
		rvr.capacity = p->capacity;
		m.body_case = NTPMC__RAFT_MSG__BODY_REQUEST_VOTE_RESULT;
		m.request_vote_result = &rvr;
		break;
	}
	case RAFT_APPEND_ENTRIES: {
		const struct raft_append_entries *p = &msg->append_entries;

		ae.version = p->version;
		ae.term = p->term;
		ae.prev_log_index = p->prev_log_index;
		ae.prev_log_term = p->prev_log_term;
		ae.leader_commit = p->leader_commit;
		if (p->n_entries > 0) {
			ents = calloc(p->n_entries, sizeof(*ents));
			entp = calloc(p->n_entries, sizeof(*entp));
			if (ents == NULL || entp == NULL)
				goto out;
		}
		for (i = 0; i < p->n_entries; i++) {
			ntpmc__raft_entry_pb__init(&ents[i]);
			ents[i].term = p->entries[i].term;
			ents[i].type = p->entries[i].type;
			ents[i].data.data = p->entries[i].buf.base;
			ents[i].data.len = p->entries[i].buf.len;
			entp[i] = &ents[i];
		}
		ae.n_entries = p->n_entries;
		ae.entries = entp;
		m.body_case = NTPMC__RAFT_MSG__BODY_APPEND_ENTRIES;
		m.append_entries = &ae;
		break;
	}
	case RAFT_APPEND_ENTRIES_RESULT: {
		const struct raft_append_entries_result *p =
			&msg->append_entries_result;

		aer.version = p->version;
		aer.term = p->term;
		aer.rejected = p->rejected;
		aer.last_log_index = p->last_log_index;
		aer.features = p->features;
		aer.capacity = p->capacity;
		m.body_case = NTPMC__RAFT_MSG__BODY_APPEND_ENTRIES_RESULT;
		m.append_entries_result = &aer;
		break;
	}
	case RAFT_INSTALL_SNAPSHOT: {
		const struct raft_install_snapshot *p = &msg->install_snapshot;

		if (p->conf.n > MSGCODEC_MAX_SERVERS) {
			rc = -E2BIG;
			goto out;
		}
		is.version = p->version;
		is.term = p->term;
		is.last_index = p->last_index;
		is.last_term = p->last_term;
		is.conf_index = p->conf_index;
		if (p->conf.n > 0) {
			srv = calloc(p->conf.n, sizeof(*srv));
			srvp = calloc(p->conf.n, sizeof(*srvp));
			if (srv == NULL || srvp == NULL)
				goto out;
		}
		for (i = 0; i < p->conf.n; i++) {
			ntpmc__raft_server_pb__init(&srv[i]);
			srv[i].id = p->conf.servers[i].id;
			srv[i].address = p->conf.servers[i].address;
			srv[i].role = (uint32_t)p->conf.servers[i].role;
			srvp[i] = &srv[i];
		}
		is.n_conf = p->conf.n;
		is.conf = srvp;
		is.data.data = p->data.base;
		is.data.len = p->data.len;
		m.body_case = NTPMC__RAFT_MSG__BODY_INSTALL_SNAPSHOT;
		m.install_snapshot = &is;
		break;
	}
	case RAFT_TIMEOUT_NOW: {
		const struct raft_timeout_now *p = &msg->timeout_now;

		tn.version = p->version;
		tn.term = p->term;
		tn.last_log_index = p->last_log_index;
		tn.last_log_term = p->last_log_term;
		m.body_case = NTPMC__RAFT_MSG__BODY_TIMEOUT_NOW;
		m.timeout_now = &tn;
		break;
	}
	default:
		rc = -EINVAL;
		goto out;
	}
	n = ntpmc__raft_msg__get_packed_size(&m);
	if (n > max) {
		rc = -E2BIG;
		goto out;
	}
	buf = malloc(n ? n : 1);
	if (buf == NULL)
		goto out;
	ntpmc__raft_msg__pack(&m, buf);
	*out = buf;
	*len = n;
	rc = 0;
out:
	free(ents);
	free(entp);
	free(srv);
	free(srvp);
	return rc;
}

static int version_ok(uint32_t v, unsigned char *out)
{
	if (v > 255)
		return -EINVAL;
	*out = (unsigned char)v;
	return 0;
}

static int decode_entries(const Ntpmc__RaftAppendEntriesPb *p,
			  struct raft_append_entries *a)
{
	size_t total = 0, off = 0, i;
	uint8_t *batch;

	a->entries = NULL;
	a->n_entries = 0;
	if (p->n_entries == 0)
		return 0;
	if (p->n_entries > UINT32_MAX)
		return -E2BIG;
	for (i = 0; i < p->n_entries; i++) {
		uint32_t t = p->entries[i]->type;

		if (t != RAFT_COMMAND && t != RAFT_BARRIER && t != RAFT_CHANGE)
			return -EINVAL;
		total += p->entries[i]->data.len; /* bounded by the input */
	}
	a->entries = raft_malloc(p->n_entries * sizeof(*a->entries));
	batch = raft_malloc(total ? total : 1);
	if (a->entries == NULL || batch == NULL) {
		raft_free(a->entries);
		raft_free(batch);
		a->entries = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < p->n_entries; i++) {
		struct raft_entry *e = &a->entries[i];
		const ProtobufCBinaryData *d = &p->entries[i]->data;

		e->term = p->entries[i]->term;
		e->type = (enum raft_entry_type)p->entries[i]->type;
		if (d->len > 0)
			memcpy(batch + off, d->data, d->len);
		e->buf.base = batch + off;
		e->buf.len = d->len;
		e->batch = batch;
		off += d->len;
	}
	a->n_entries = (unsigned)p->n_entries;
	return 0;
}

static int decode_snapshot(const Ntpmc__RaftInstallSnapshotPb *p,
			   struct raft_install_snapshot *s)
{
	size_t i;
	int rc;

	raft_configuration_init(&s->conf);
	s->data.base = NULL;
	s->data.len = 0;
	if (p->n_conf > MSGCODEC_MAX_SERVERS)
		return -E2BIG;
	for (i = 0; i < p->n_conf; i++) {
		const Ntpmc__RaftServerPb *v = p->conf[i];

		if ((v->role != RAFT_STANDBY && v->role != RAFT_VOTER &&
		     v->role != RAFT_SPARE) ||
		    v->id == 0 || v->address == NULL ||
		    v->address[0] == '\0') {
			rc = -EINVAL;
			goto err;
		}
		/* Refuses duplicate ids or addresses. */
		rc = raft_configuration_add(&s->conf, v->id, v->address,
					    (int)v->role);
		if (rc != 0) {
			rc = rc == RAFT_NOMEM ? -ENOMEM : -EINVAL;
			goto err;
		}
	}
	s->data.base = raft_malloc(p->data.len ? p->data.len : 1);
	if (s->data.base == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	if (p->data.len > 0)
		memcpy(s->data.base, p->data.data, p->data.len);
	s->data.len = p->data.len;
	return 0;
err:
	raft_configuration_close(&s->conf);
	raft_configuration_init(&s->conf);
	return rc;
}

int msgcodec_encode_app(raft_id sender, const void *buf, size_t len,
			size_t max, uint8_t **out, size_t *out_len)
{
	Ntpmc__RaftMsg m = NTPMC__RAFT_MSG__INIT;
	uint8_t *b;
	size_t n;

	m.codec = MSGCODEC_VERSION;
	m.server_id = sender;
	m.body_case = NTPMC__RAFT_MSG__BODY_APP;
	m.app.data = (uint8_t *)buf;
	m.app.len = len;
	n = ntpmc__raft_msg__get_packed_size(&m);
	if (n > max)
		return -E2BIG;
	b = malloc(n);
	if (b == NULL)
		return -ENOMEM;
	ntpmc__raft_msg__pack(&m, b);
	*out = b;
	*out_len = n;
	return 0;
}

int msgcodec_decode(const uint8_t *buf, size_t len, struct raft_message *msg)
{
	uint8_t *app = NULL;
	size_t app_len = 0;
	int rc;

	rc = msgcodec_decode_frame(buf, len, msg, &app, &app_len);
	if (rc == 0 && app != NULL) {
		sodium_memzero(app, app_len);
		free(app);
		memset(msg, 0, sizeof(*msg));
		rc = -EINVAL;
	}
	return rc;
}

int msgcodec_decode_frame(const uint8_t *buf, size_t len,
			  struct raft_message *msg, uint8_t **app,
			  size_t *app_len)
{
	struct budget b;
	ProtobufCAllocator alloc = { budget_alloc, budget_free, &b };
	Ntpmc__RaftMsg *m;
	int rc = -EINVAL;

	memset(msg, 0, sizeof(*msg));
	*app = NULL;
	*app_len = 0;
	/* Enough for the structures of any honest message of this size
	 * (an entry is at least 6 bytes on the wire and ~56 in memory). */
	b.left = 16 * len + 65536;
	m = ntpmc__raft_msg__unpack(&alloc, len, buf);
	if (m == NULL)
		return -EINVAL;
	if (m->codec != MSGCODEC_VERSION || m->server_id == 0)
		goto out;
	msg->server_id = m->server_id;
	switch (m->body_case) {
	case NTPMC__RAFT_MSG__BODY_REQUEST_VOTE: {
		const Ntpmc__RaftRequestVotePb *p = m->request_vote;
		struct raft_request_vote *q = &msg->request_vote;

		msg->type = RAFT_REQUEST_VOTE;
		if (version_ok(p->version, &q->version) != 0)
			goto out;
		q->term = p->term;
		q->candidate_id = p->candidate_id;
		q->last_log_index = p->last_log_index;
		q->last_log_term = p->last_log_term;
		q->disrupt_leader = p->disrupt_leader;
		q->pre_vote = p->pre_vote;
		break;
	}
	case NTPMC__RAFT_MSG__BODY_REQUEST_VOTE_RESULT: {
		const Ntpmc__RaftRequestVoteResultPb *p = m->request_vote_result;
		struct raft_request_vote_result *q = &msg->request_vote_result;

		msg->type = RAFT_REQUEST_VOTE_RESULT;
		if (version_ok(p->version, &q->version) != 0 ||
		    p->features > 0xffff || p->capacity > 0xffff)
			goto out;
		q->term = p->term;
		q->vote_granted = p->vote_granted;
		q->pre_vote = p->pre_vote;
		q->features = (unsigned short)p->features;
		q->capacity = (unsigned short)p->capacity;
		break;
	}
	case NTPMC__RAFT_MSG__BODY_APPEND_ENTRIES: {
		const Ntpmc__RaftAppendEntriesPb *p = m->append_entries;
		struct raft_append_entries *q = &msg->append_entries;

		msg->type = RAFT_APPEND_ENTRIES;
		if (version_ok(p->version, &q->version) != 0)
			goto out;
		q->term = p->term;
		q->prev_log_index = p->prev_log_index;
		q->prev_log_term = p->prev_log_term;
		q->leader_commit = p->leader_commit;
		rc = decode_entries(p, q);
		if (rc != 0)
			goto out;
		break;
	}
	case NTPMC__RAFT_MSG__BODY_APPEND_ENTRIES_RESULT: {
		const Ntpmc__RaftAppendEntriesResultPb *p =
			m->append_entries_result;
		struct raft_append_entries_result *q =
			&msg->append_entries_result;

		msg->type = RAFT_APPEND_ENTRIES_RESULT;
		if (version_ok(p->version, &q->version) != 0 ||
		    p->features > 0xffff || p->capacity > 0xffff)
			goto out;
		q->term = p->term;
		q->rejected = p->rejected;
		q->last_log_index = p->last_log_index;
		q->features = (unsigned short)p->features;
		q->capacity = (unsigned short)p->capacity;
		break;
	}
	case NTPMC__RAFT_MSG__BODY_INSTALL_SNAPSHOT: {
		const Ntpmc__RaftInstallSnapshotPb *p = m->install_snapshot;
		struct raft_install_snapshot *q = &msg->install_snapshot;

		msg->type = RAFT_INSTALL_SNAPSHOT;
		if (version_ok(p->version, &q->version) != 0)
			goto out;
		q->term = p->term;
		q->last_index = p->last_index;
		q->last_term = p->last_term;
		q->conf_index = p->conf_index;
		rc = decode_snapshot(p, q);
		if (rc != 0)
			goto out;
		break;
	}
	case NTPMC__RAFT_MSG__BODY_TIMEOUT_NOW: {
		const Ntpmc__RaftTimeoutNowPb *p = m->timeout_now;
		struct raft_timeout_now *q = &msg->timeout_now;

		msg->type = RAFT_TIMEOUT_NOW;
		if (version_ok(p->version, &q->version) != 0)
			goto out;
		q->term = p->term;
		q->last_log_index = p->last_log_index;
		q->last_log_term = p->last_log_term;
		break;
	}
	case NTPMC__RAFT_MSG__BODY_APP:
		*app = malloc(m->app.len ? m->app.len : 1);
		if (*app == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if (m->app.len > 0)
			memcpy(*app, m->app.data, m->app.len);
		*app_len = m->app.len;
		break;
	default:
		goto out;
	}
	rc = 0;
out:
	ntpmc__raft_msg__free_unpacked(m, &alloc);
	if (rc != 0) {
		memset(msg, 0, sizeof(*msg));
		rc = rc == -ENOMEM || rc == -E2BIG ? rc : -EINVAL;
	}
	return rc;
}

void msgcodec_release(struct raft_message *msg)
{
	switch (msg->type) {
	case RAFT_APPEND_ENTRIES:
		if (msg->append_entries.n_entries > 0)
			raft_free(msg->append_entries.entries[0].batch);
		raft_free(msg->append_entries.entries);
		msg->append_entries.entries = NULL;
		msg->append_entries.n_entries = 0;
		break;
	case RAFT_INSTALL_SNAPSHOT:
		raft_configuration_close(&msg->install_snapshot.conf);
		raft_free(msg->install_snapshot.data.base);
		msg->install_snapshot.data.base = NULL;
		break;
	default:
		break;
	}
}
