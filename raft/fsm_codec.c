/* fsm: canonical snapshot bytes, restore, state hash, command builders. */
#include "raft/fsm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/cluster_fsm.pb-c.h"

#define FSM_FORMAT 1

static void member_to_pb(const struct fsm_member *m, Ntpmc__Fsm__FsmMember *p)
{
	static const unsigned char zero[FSM_IDKEY_LEN];

	ntpmc__fsm__fsm_member__init(p);
	p->id = m->id;
	p->name = (char *)m->name;
	p->provider = (char *)m->provider;
	p->region = (char *)m->region;
	p->address = (char *)m->address;
	p->role = (uint32_t)m->role;
	p->cmd_version = m->cmd_version;
	if (memcmp(m->idkey, zero, FSM_IDKEY_LEN) != 0) {
		p->idkey.data = (uint8_t *)m->idkey;
		p->idkey.len = FSM_IDKEY_LEN;
	}
	/* Left empty when unknown: states without WireGuard data keep the
	 * bytes (and the hash) they had before these fields existed. */
	if (memcmp(m->wg_public, zero, FSM_WGKEY_LEN) != 0) {
		p->wg_public.data = (uint8_t *)m->wg_public;
		p->wg_public.len = FSM_WGKEY_LEN;
	}
	p->overlay = (char *)m->overlay;
	p->endpoint = (char *)m->endpoint;
	p->drained = m->drained != 0;	/* false is not encoded: old bytes */
	p->ntp_port = m->ntp_port;	/* 0 is not encoded either */
	p->suspect = m->suspect != 0;
	p->instance_id = (char *)m->instance_id;  /* "" is not encoded */
}

int fsm_snapshot(const struct fsm *f, void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmState st = NTPMC__FSM__FSM_STATE__INIT;
	Ntpmc__Fsm__FsmKv *kv = NULL, **kvp = NULL;
	Ntpmc__Fsm__FsmMember *mb = NULL, **mbp = NULL;
	Ntpmc__Fsm__FsmToken *tk = NULL, **tkp = NULL;
	Ntpmc__Fsm__FsmAudit *au = NULL, **aup = NULL;
	ProtobufCBinaryData *bound = NULL;
	unsigned i, j, nb = 0;
	int rc = -ENOMEM;

	*buf = NULL;
	*len = 0;
	for (i = 0; i < f->n_tokens; i++)
		nb += f->tokens[i].n_bound;
	kv = calloc(f->n_config + 1, sizeof(*kv));
	kvp = calloc(f->n_config + 1, sizeof(*kvp));
	mb = calloc(f->n_members + 1, sizeof(*mb));
	mbp = calloc(f->n_members + 1, sizeof(*mbp));
	tk = calloc(f->n_tokens + 1, sizeof(*tk));
	tkp = calloc(f->n_tokens + 1, sizeof(*tkp));
	au = calloc(f->audit_len + 1, sizeof(*au));
	aup = calloc(f->audit_len + 1, sizeof(*aup));
	bound = calloc(nb + 1, sizeof(*bound));
	if (!kv || !kvp || !mb || !mbp || !tk || !tkp || !au || !aup || !bound)
		goto out;
	st.format = FSM_FORMAT;
	for (i = 0; i < f->n_config; i++) {
		ntpmc__fsm__fsm_kv__init(&kv[i]);
		kv[i].key = (char *)f->config[i].key;
		kv[i].value = (char *)f->config[i].value;
		kvp[i] = &kv[i];
	}
	st.n_config = f->n_config;
	st.config = kvp;
	for (i = 0; i < f->n_members; i++) {
		member_to_pb(&f->members[i], &mb[i]);
		mbp[i] = &mb[i];
	}
	st.n_members = f->n_members;
	st.members = mbp;
	nb = 0;
	for (i = 0; i < f->n_tokens; i++) {
		const struct fsm_token *t = &f->tokens[i];

		ntpmc__fsm__fsm_token__init(&tk[i]);
		tk[i].id = t->id;
		if (t->has_pubkey) {
			tk[i].pubkey.data = (uint8_t *)t->pubkey;
			tk[i].pubkey.len = FSM_TOKEN_PK_LEN;
		} else {
			tk[i].hash.data = (uint8_t *)t->hash;
			tk[i].hash.len = FSM_TOKEN_HASH_LEN;
		}
		tk[i].revoked = t->revoked != 0;
		tk[i].uses_left = t->uses_left;
		tk[i].expires_ms = t->expires_ms;
		tk[i].bound = &bound[nb];
		tk[i].n_bound = t->n_bound;
		for (j = 0; j < t->n_bound; j++) {
			bound[nb].data = (uint8_t *)t->bound[j];
			bound[nb].len = FSM_IDKEY_LEN;
			nb++;
		}
		tkp[i] = &tk[i];
	}
	st.n_tokens = f->n_tokens;
	st.tokens = tkp;
	for (i = 0; i < f->audit_len; i++) {
		uint64_t t;

		ntpmc__fsm__fsm_audit__init(&au[i]);
		au[i].text = (char *)fsm_audit_at(f, i, &t);
		au[i].time_ms = t;
		aup[i] = &au[i];
	}
	st.n_audit = f->audit_len;
	st.audit = aup;
	st.audit_seq = f->audit_seq;
	if (fsm_rot_to_pb(f, &st) < 0 || fsm_ledger_to_pb(f, &st) < 0)
		goto out;
	*len = ntpmc__fsm__fsm_state__get_packed_size(&st);
	*buf = malloc(*len + 1);
	if (*buf == NULL) {
		*len = 0;
		goto out;
	}
	ntpmc__fsm__fsm_state__pack(&st, *buf);
	rc = 0;
out:
	fsm_rot_pb_free(&st);
	fsm_ledger_pb_free(&st);
	free(kv);
	free(kvp);
	free(mb);
	free(mbp);
	free(tk);
	free(tkp);
	free(au);
	free(aup);
	free(bound);
	return rc;
}

static int restore_into(struct fsm *f, const Ntpmc__Fsm__FsmState *st)
{
	size_t i, j;

	if (st->format != FSM_FORMAT || st->n_config > FSM_CONFIG_MAX ||
	    st->n_members > FSM_MEMBERS_MAX || st->n_tokens > FSM_TOKENS_MAX ||
	    st->n_audit > FSM_AUDIT_MAX)
		return -EINVAL;
	for (i = 0; i < st->n_config; i++) {
		if (fsm_strset(f->config[i].key, sizeof(f->config[i].key),
			       st->config[i]->key) != 0 ||
		    fsm_strset(f->config[i].value, sizeof(f->config[i].value),
			       st->config[i]->value) != 0)
			return -EINVAL;
		if (i > 0 && strcmp(f->config[i - 1].key, f->config[i].key) >= 0)
			return -EINVAL;
	}
	f->n_config = (unsigned)st->n_config;
	for (i = 0; i < st->n_members; i++) {
		const Ntpmc__Fsm__FsmMember *p = st->members[i];
		struct fsm_member *m = &f->members[i];

		if (p->id == 0 || p->role > FSM_ROLE_SPARE ||
		    (p->idkey.len != 0 && p->idkey.len != FSM_IDKEY_LEN) ||
		    fsm_strset(m->name, sizeof(m->name), p->name) != 0 ||
		    fsm_strset(m->provider, sizeof(m->provider),
			       p->provider) != 0 ||
		    fsm_strset(m->region, sizeof(m->region), p->region) != 0 ||
		    fsm_strset(m->address, sizeof(m->address), p->address) != 0 ||
		    (p->wg_public.len != 0 &&
		     p->wg_public.len != FSM_WGKEY_LEN) ||
		    fsm_strset(m->overlay, sizeof(m->overlay), p->overlay) != 0 ||
		    fsm_strset(m->endpoint, sizeof(m->endpoint),
			       p->endpoint) != 0 ||
		    fsm_strset(m->instance_id, sizeof(m->instance_id),
			       p->instance_id) != 0)
			return -EINVAL;
		if (i > 0 && f->members[i - 1].id >= p->id)
			return -EINVAL;
		m->id = p->id;
		m->role = (int)p->role;
		m->cmd_version = p->cmd_version;
		m->drained = p->drained;
		if (p->ntp_port > 65535)
			return -EINVAL;
		m->ntp_port = p->ntp_port;
		m->suspect = p->suspect;
		if (p->idkey.len == FSM_IDKEY_LEN)
			memcpy(m->idkey, p->idkey.data, FSM_IDKEY_LEN);
		if (p->wg_public.len == FSM_WGKEY_LEN)
			memcpy(m->wg_public, p->wg_public.data, FSM_WGKEY_LEN);
	}
	f->n_members = (unsigned)st->n_members;
	for (i = 0; i < st->n_tokens; i++) {
		const Ntpmc__Fsm__FsmToken *p = st->tokens[i];
		struct fsm_token *t = &f->tokens[i];

		/* Exactly one of the two formats. */
		if ((p->pubkey.len == 0
			     ? p->hash.len != FSM_TOKEN_HASH_LEN || p->revoked
			     : p->pubkey.len != FSM_TOKEN_PK_LEN ||
				       p->hash.len != 0) ||
		    p->n_bound > FSM_BOUND_MAX ||
		    (i > 0 && f->tokens[i - 1].id >= p->id))
			return -EINVAL;
		memset(t, 0, sizeof(*t));
		t->id = p->id;
		t->has_pubkey = p->pubkey.len != 0;
		if (t->has_pubkey)
			memcpy(t->pubkey, p->pubkey.data, FSM_TOKEN_PK_LEN);
		else
			memcpy(t->hash, p->hash.data, FSM_TOKEN_HASH_LEN);
		t->revoked = p->revoked;
		t->uses_left = p->uses_left;
		t->expires_ms = p->expires_ms;
		t->n_bound = (unsigned)p->n_bound;
		for (j = 0; j < p->n_bound; j++) {
			if (p->bound[j].len != FSM_IDKEY_LEN)
				return -EINVAL;
			memcpy(t->bound[j], p->bound[j].data, FSM_IDKEY_LEN);
		}
	}
	f->n_tokens = (unsigned)st->n_tokens;
	for (i = 0; i < st->n_audit; i++) {
		if (fsm_strset(f->audit[i].text, sizeof(f->audit[i].text),
			       st->audit[i]->text) != 0)
			return -EINVAL;
		f->audit[i].time_ms = st->audit[i]->time_ms;
	}
	f->audit_head = 0;
	f->audit_len = (unsigned)st->n_audit;
	f->audit_seq = st->audit_seq;
	if (fsm_rot_from_pb(f, st) < 0)
		return -EINVAL;
	return fsm_ledger_restore(f, st);
}

int fsm_restore(struct fsm *f, uint64_t index, const void *buf, size_t len)
{
	Ntpmc__Fsm__FsmState *st;
	struct fsm *tmp;
	int rc;

	st = ntpmc__fsm__fsm_state__unpack(NULL, len, buf);
	if (st == NULL)
		return -EINVAL;
	tmp = fsm_new();
	if (tmp == NULL) {
		ntpmc__fsm__fsm_state__free_unpacked(st, NULL);
		return -ENOMEM;
	}
	/* Into a scratch copy first: a bad snapshot leaves the state as is. */
	rc = restore_into(tmp, st);
	ntpmc__fsm__fsm_state__free_unpacked(st, NULL);
	if (rc == 0) {
		tmp->applied = index;
		memcpy(f, tmp, sizeof(*f));
	}
	fsm_free(tmp);
	return rc;
}

int fsm_hash(const struct fsm *f, unsigned char out[FSM_HASH_LEN])
{
	void *buf;
	size_t len;
	int rc;

	rc = fsm_snapshot(f, &buf, &len);
	if (rc != 0)
		return rc;
	crypto_generichash(out, FSM_HASH_LEN, buf, len, NULL, 0);
	free(buf);
	return 0;
}

/* ---- command builders ---- */

/* Each command carries the lowest version that knows it (the caller says
 * which): a member of an older build can still apply everything but the
 * newer operations. */
int fsm_pack(Ntpmc__Fsm__FsmCommand *c, uint32_t version, uint64_t time_ms,
	     void **buf, size_t *len)
{
	c->version = version;
	c->time_ms = time_ms;
	*len = ntpmc__fsm__fsm_command__get_packed_size(c);
	*buf = malloc(*len + 1);
	if (*buf == NULL)
		return -ENOMEM;
	ntpmc__fsm__fsm_command__pack(c, *buf);
	return 0;
}

int fsm_cmd_config_set(const char *key, const char *value, uint64_t time_ms,
		       void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmConfigSet s = NTPMC__FSM__FSM_CONFIG_SET__INIT;

	if (key == NULL || value == NULL || strlen(key) > FSM_KEY_MAX ||
	    strlen(value) > FSM_VALUE_MAX)
		return -EINVAL;
	s.key = (char *)key;
	s.value = (char *)value;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_CONFIG_SET;
	c.config_set = &s;
	return fsm_pack(&c, 1, time_ms, buf, len);
}

int fsm_cmd_member_put(const struct fsm_member *m, uint64_t time_ms,
		       void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmMember p;

	member_to_pb(m, &p);
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_MEMBER_PUT;
	c.member_put = &p;
	/* older members could not keep the instance id: 3 only then */
	return fsm_pack(&c, m->instance_id[0] ? 3 : 1, time_ms, buf, len);
}

int fsm_cmd_member_del(uint64_t id, uint64_t time_ms, void **buf,
		       size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmMemberDel d = NTPMC__FSM__FSM_MEMBER_DEL__INIT;

	d.id = id;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_MEMBER_DEL;
	c.member_del = &d;
	return fsm_pack(&c, 1, time_ms, buf, len);
}

int fsm_cmd_token_add(uint64_t id, const unsigned char pk[FSM_TOKEN_PK_LEN],
		      uint32_t uses, uint64_t expires_ms, uint64_t time_ms,
		      void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmTokenAdd a = NTPMC__FSM__FSM_TOKEN_ADD__INIT;

	a.id = id;
	a.pubkey.data = (uint8_t *)pk;
	a.pubkey.len = FSM_TOKEN_PK_LEN;
	a.uses = uses;
	a.expires_ms = expires_ms;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_TOKEN_ADD;
	c.token_add = &a;
	return fsm_pack(&c, 2, time_ms, buf, len);
}

int fsm_cmd_token_use(const unsigned char pk[FSM_TOKEN_PK_LEN],
		      const unsigned char idkey[FSM_IDKEY_LEN],
		      uint64_t time_ms, void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmTokenUse u = NTPMC__FSM__FSM_TOKEN_USE__INIT;

	u.pubkey.data = (uint8_t *)pk;
	u.pubkey.len = FSM_TOKEN_PK_LEN;
	u.idkey.data = (uint8_t *)idkey;
	u.idkey.len = FSM_IDKEY_LEN;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_TOKEN_USE;
	c.token_use = &u;
	return fsm_pack(&c, 2, time_ms, buf, len);
}

static int token_revoke(uint64_t id, int keep, uint64_t time_ms, void **buf,
			size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmTokenRevoke r = NTPMC__FSM__FSM_TOKEN_REVOKE__INIT;

	r.id = id;
	r.keep = keep != 0;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_TOKEN_REVOKE;
	c.token_revoke = &r;
	return fsm_pack(&c, keep ? 2 : 1, time_ms, buf, len);
}

int fsm_cmd_token_revoke(uint64_t id, uint64_t time_ms, void **buf,
			 size_t *len)
{
	return token_revoke(id, 0, time_ms, buf, len);
}

int fsm_cmd_token_revoke_keep(uint64_t id, uint64_t time_ms, void **buf,
			      size_t *len)
{
	return token_revoke(id, 1, time_ms, buf, len);
}

int fsm_cmd_check(uint64_t id, int suspect, const char *text,
		  uint64_t time_ms, void **buf, size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmCheck k = NTPMC__FSM__FSM_CHECK__INIT;

	if (text == NULL || strlen(text) > FSM_CHECK_TEXT_MAX)
		return -EINVAL;
	k.id = id;
	k.suspect = suspect != 0;
	k.text = (char *)text;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_CHECK;
	c.check = &k;
	return fsm_pack(&c, 2, time_ms, buf, len);
}

int fsm_cmd_ledger(const struct fsm_ledger *e, uint64_t time_ms, void **buf,
		   size_t *len)
{
	Ntpmc__Fsm__FsmCommand c = NTPMC__FSM__FSM_COMMAND__INIT;
	Ntpmc__Fsm__FsmLedger l = NTPMC__FSM__FSM_LEDGER__INIT;
	uint64_t bytes[FSM_LEDGER_CLASSES], base[FSM_LEDGER_CLASSES];

	memcpy(bytes, e->bytes, sizeof(bytes));
	memcpy(base, e->base, sizeof(base));
	l.month = (char *)e->month;
	l.id = e->id;
	l.provider = (char *)e->provider;
	l.bytes = bytes;
	l.n_bytes = FSM_LEDGER_CLASSES;
	l.seen = base;
	l.n_seen = FSM_LEDGER_CLASSES;
	l.boot = e->boot;
	l.first_ms = e->first_ms;
	l.updated_ms = e->updated_ms;
	l.mark_ms = e->mark_ms;
	l.mark_total = e->mark_total;
	l.day_bytes = e->day_bytes;
	c.op_case = NTPMC__FSM__FSM_COMMAND__OP_LEDGER;
	c.ledger = &l;
	return fsm_pack(&c, 4, time_ms, buf, len);
}
