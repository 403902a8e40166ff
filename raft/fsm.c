/* fsm: the replicated state and the deterministic apply of commands. */
#include "raft/fsm_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cluster_fsm.pb-c.h"

/* Tokens expired this long ago are dropped at the next command. */
#define TOKEN_PURGE_MS (24ULL * 3600 * 1000)

struct fsm *fsm_new(void)
{
	return calloc(1, sizeof(struct fsm));
}

void fsm_free(struct fsm *f)
{
	free(f);
}

int fsm_strset(char *dst, size_t cap, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= cap)
		return -1;
	memcpy(dst, s != NULL ? s : "", n);
	dst[n] = '\0';
	return 0;
}

uint64_t fsm_applied(const struct fsm *f)
{
	return f->applied;
}

void fsm_audit(struct fsm *f, uint64_t time_ms, const char *fmt, ...)
{
	struct fsm_audit *a;
	va_list ap;

	if (f->audit_len < FSM_AUDIT_MAX) {
		a = &f->audit[(f->audit_head + f->audit_len) % FSM_AUDIT_MAX];
		f->audit_len++;
	} else {
		a = &f->audit[f->audit_head];
		f->audit_head = (f->audit_head + 1) % FSM_AUDIT_MAX;
	}
	a->time_ms = time_ms;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
	f->audit_seq++;
}

/* ---- config ---- */

int fsm_bsearch(const void *base, unsigned n, size_t size, const void *key,
		int (*cmp)(const void *key, const void *elem), unsigned *pos)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = cmp(key, (const char *)base + (size_t)mid * size);

		if (c == 0) {
			*pos = mid;
			return 1;
		}
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

static int config_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct fsm_kv *)elem)->key);
}

static int config_find(const struct fsm *f, const char *key, unsigned *pos)
{
	return fsm_bsearch(f->config, f->n_config, sizeof(f->config[0]), key,
			   config_cmp, pos);
}

const char *fsm_config_get(const struct fsm *f, const char *key)
{
	unsigned pos;

	return config_find(f, key, &pos) ? f->config[pos].value : NULL;
}

static int apply_config(struct fsm *f, const Ntpmc__Fsm__FsmConfigSet *c,
			uint64_t t)
{
	unsigned pos;
	int found;

	if (c->key == NULL || c->key[0] == '\0' ||
	    strlen(c->key) > FSM_KEY_MAX || c->value == NULL ||
	    strlen(c->value) > FSM_VALUE_MAX)
		return FSM_EINVAL;
	found = config_find(f, c->key, &pos);
	if (c->value[0] == '\0') {
		if (found) {
			memmove(&f->config[pos], &f->config[pos + 1],
				(f->n_config - pos - 1) * sizeof(f->config[0]));
			f->n_config--;
		}
		fsm_audit(f, t, "config unset %s", c->key);
		return FSM_OK;
	}
	if (!found) {
		if (f->n_config == FSM_CONFIG_MAX)
			return FSM_EFULL;
		memmove(&f->config[pos + 1], &f->config[pos],
			(f->n_config - pos) * sizeof(f->config[0]));
		f->n_config++;
		fsm_strset(f->config[pos].key, sizeof(f->config[pos].key),
			   c->key);
	}
	fsm_strset(f->config[pos].value, sizeof(f->config[pos].value),
		   c->value);
	fsm_audit(f, t, "config set %s=%s", c->key, c->value);
	return FSM_OK;
}

/* ---- members ---- */

static int member_find(const struct fsm *f, uint64_t id, unsigned *pos)
{
	unsigned i;

	for (i = 0; i < f->n_members && f->members[i].id < id; i++)
		;
	*pos = i;
	return i < f->n_members && f->members[i].id == id;
}

unsigned fsm_member_count(const struct fsm *f)
{
	return f->n_members;
}

const struct fsm_member *fsm_member_at(const struct fsm *f, unsigned i)
{
	return i < f->n_members ? &f->members[i] : NULL;
}

const struct fsm_member *fsm_member_find(const struct fsm *f, uint64_t id)
{
	unsigned pos;

	return member_find(f, id, &pos) ? &f->members[pos] : NULL;
}

const struct fsm_member *fsm_member_named(const struct fsm *f,
					  const char *name)
{
	unsigned i;

	for (i = 0; i < f->n_members; i++)
		if (strcmp(f->members[i].name, name) == 0)
			return &f->members[i];
	return NULL;
}

int fsm_version_ok(const struct fsm *f, uint32_t version)
{
	unsigned i;

	if (version == 0 || version > FSM_CMD_VERSION)
		return 0;
	/* Every member, not only the voters: spares apply every command
	 * too (the record's role is the one at join, not raft's). */
	for (i = 0; i < f->n_members; i++)
		if (f->members[i].cmd_version < version)
			return 0;
	return 1;
}

static int apply_member_put(struct fsm *f, const Ntpmc__Fsm__FsmMember *m,
			    uint64_t t)
{
	struct fsm_member n;
	unsigned pos;

	memset(&n, 0, sizeof(n));
	if (m->id == 0 || m->role > FSM_ROLE_SPARE ||
	    (m->idkey.len != 0 && m->idkey.len != FSM_IDKEY_LEN) ||
	    fsm_strset(n.name, sizeof(n.name), m->name) != 0 ||
	    fsm_strset(n.provider, sizeof(n.provider), m->provider) != 0 ||
	    fsm_strset(n.region, sizeof(n.region), m->region) != 0 ||
	    fsm_strset(n.address, sizeof(n.address), m->address) != 0 ||
	    (m->wg_public.len != 0 && m->wg_public.len != FSM_WGKEY_LEN) ||
	    fsm_strset(n.overlay, sizeof(n.overlay), m->overlay) != 0 ||
	    fsm_strset(n.endpoint, sizeof(n.endpoint), m->endpoint) != 0 ||
	    fsm_strset(n.instance_id, sizeof(n.instance_id),
		       m->instance_id) != 0)
		return FSM_EINVAL;
	n.id = m->id;
	n.role = (int)m->role;
	n.cmd_version = m->cmd_version;
	n.drained = m->drained;
	n.ntp_port = m->ntp_port <= 65535 ? m->ntp_port : 0;
	if (m->idkey.len == FSM_IDKEY_LEN)
		memcpy(n.idkey, m->idkey.data, FSM_IDKEY_LEN);
	if (m->wg_public.len == FSM_WGKEY_LEN)
		memcpy(n.wg_public, m->wg_public.data, FSM_WGKEY_LEN);
	if (!member_find(f, m->id, &pos)) {
		if (f->n_members == FSM_MEMBERS_MAX)
			return FSM_EFULL;
		memmove(&f->members[pos + 1], &f->members[pos],
			(f->n_members - pos) * sizeof(f->members[0]));
		f->n_members++;
	} else {
		n.suspect = f->members[pos].suspect;  /* fsm_cmd_check's */
	}
	f->members[pos] = n;
	fsm_audit(f, t, "member %llu (%s) %s at %s%s", (unsigned long long)n.id,
	      n.name, n.role == FSM_ROLE_VOTER ? "voter" :
	      n.role == FSM_ROLE_STANDBY ? "standby" : "spare", n.address,
	      n.drained ? " (drained)" : "");
	return FSM_OK;
}

static int apply_member_del(struct fsm *f, uint64_t id, uint64_t t)
{
	unsigned pos;

	if (!member_find(f, id, &pos))
		return FSM_ENOKEY;
	memmove(&f->members[pos], &f->members[pos + 1],
		(f->n_members - pos - 1) * sizeof(f->members[0]));
	f->n_members--;
	fsm_rot_member_gone(f, id);
	fsm_audit(f, t, "member %llu removed", (unsigned long long)id);
	return FSM_OK;
}

static int apply_check(struct fsm *f, const Ntpmc__Fsm__FsmCheck *c,
		       uint64_t t)
{
	struct fsm_member *m;
	unsigned pos;

	if (c->text == NULL || strlen(c->text) > FSM_CHECK_TEXT_MAX)
		return FSM_EINVAL;
	if (!member_find(f, c->id, &pos))
		return FSM_ENOKEY;
	m = &f->members[pos];
	if (m->suspect == (int)c->suspect)
		return FSM_OK;
	m->suspect = c->suspect;
	fsm_audit(f, t, "member %llu (%s) cross-check %s: %s",
	      (unsigned long long)m->id, m->name,
	      c->suspect ? "suspect" : "cleared", c->text);
	return FSM_OK;
}

/* ---- tokens ---- */

unsigned fsm_token_count(const struct fsm *f)
{
	return f->n_tokens;
}

const struct fsm_token *fsm_token_at(const struct fsm *f, unsigned i)
{
	return i < f->n_tokens ? &f->tokens[i] : NULL;
}

static void token_remove(struct fsm *f, unsigned i)
{
	memmove(&f->tokens[i], &f->tokens[i + 1],
		(f->n_tokens - i - 1) * sizeof(f->tokens[0]));
	f->n_tokens--;
}

static void tokens_purge(struct fsm *f, uint64_t t)
{
	unsigned i = 0;

	while (i < f->n_tokens) {
		if (f->tokens[i].expires_ms + TOKEN_PURGE_MS < t)
			token_remove(f, i);
		else
			i++;
	}
}

/* Version 1 added tokens of the older format (a MAC key in hash);
 * version 2 adds key-pair tokens (the public key). Replayed logs apply
 * both exactly as their proposers did. */
static int apply_token_add(struct fsm *f, const Ntpmc__Fsm__FsmTokenAdd *a,
			   uint32_t version, uint64_t t)
{
	struct fsm_token *k;
	int pk = version >= 2;
	unsigned i;

	if (a->id == 0 || a->uses == 0)
		return FSM_EINVAL;
	if (pk ? a->pubkey.len != FSM_TOKEN_PK_LEN || a->hash.len != 0
	       : a->hash.len != FSM_TOKEN_HASH_LEN)
		return FSM_EINVAL;
	for (i = 0; i < f->n_tokens && f->tokens[i].id < a->id; i++)
		;
	if (i < f->n_tokens && f->tokens[i].id == a->id)
		return FSM_EINVAL;
	if (f->n_tokens == FSM_TOKENS_MAX)
		return FSM_EFULL;
	memmove(&f->tokens[i + 1], &f->tokens[i],
		(f->n_tokens - i) * sizeof(f->tokens[0]));
	f->n_tokens++;
	k = &f->tokens[i];
	memset(k, 0, sizeof(*k));
	k->id = a->id;
	k->has_pubkey = pk;
	if (pk)
		memcpy(k->pubkey, a->pubkey.data, FSM_TOKEN_PK_LEN);
	else
		memcpy(k->hash, a->hash.data, FSM_TOKEN_HASH_LEN);
	k->uses_left = a->uses;
	k->expires_ms = a->expires_ms;
	fsm_audit(f, t, "token %llu created, %u use(s)",
	      (unsigned long long)a->id, a->uses);
	return FSM_OK;
}

static struct fsm_token *token_by_key(struct fsm *f,
				      const Ntpmc__Fsm__FsmTokenUse *u,
				      int pk)
{
	unsigned i;

	for (i = 0; i < f->n_tokens; i++) {
		struct fsm_token *k = &f->tokens[i];

		if (pk ? k->has_pubkey &&
				 memcmp(k->pubkey, u->pubkey.data,
					FSM_TOKEN_PK_LEN) == 0
		       : !k->has_pubkey &&
				 memcmp(k->hash, u->hash.data,
					FSM_TOKEN_HASH_LEN) == 0)
			return k;
	}
	return NULL;
}

/* A use is bound to the joiner's identity key, so that a retry by the
 * same joiner (lost reply) succeeds until the token expires. */
static int apply_token_use(struct fsm *f, const Ntpmc__Fsm__FsmTokenUse *u,
			   uint32_t version, uint64_t t)
{
	struct fsm_token *k;
	int pk = version >= 2;
	unsigned i;

	if (u->idkey.len != FSM_IDKEY_LEN ||
	    (pk ? u->pubkey.len != FSM_TOKEN_PK_LEN
		: u->hash.len != FSM_TOKEN_HASH_LEN))
		return FSM_EINVAL;
	k = token_by_key(f, u, pk);
	if (k == NULL) {
		fsm_audit(f, t, "token use refused: unknown token");
		return FSM_ENOKEY;
	}
	if (k->revoked) {
		fsm_audit(f, t, "token %llu use refused: revoked",
		      (unsigned long long)k->id);
		return FSM_EREVOKED;
	}
	if (t > k->expires_ms) {
		fsm_audit(f, t, "token %llu use refused: expired",
		      (unsigned long long)k->id);
		return FSM_EEXPIRED;
	}
	for (i = 0; i < k->n_bound; i++)
		if (memcmp(k->bound[i], u->idkey.data, FSM_IDKEY_LEN) == 0)
			return FSM_OK;
	if (k->uses_left == 0 || k->n_bound == FSM_BOUND_MAX) {
		fsm_audit(f, t, "token %llu use refused: no use left",
		      (unsigned long long)k->id);
		return FSM_EUSED;
	}
	k->uses_left--;
	memcpy(k->bound[k->n_bound++], u->idkey.data, FSM_IDKEY_LEN);
	fsm_audit(f, t, "token %llu used, %u left", (unsigned long long)k->id,
	      k->uses_left);
	return FSM_OK;
}

/* Version 1 removes the token (a revoked one too: the restore clean-up
 * empties the table); version 2 with keep marks a key-pair token revoked
 * (a token of the older format goes all the same: its stored value must
 * leave the state). */
static int apply_token_revoke(struct fsm *f,
			      const Ntpmc__Fsm__FsmTokenRevoke *r,
			      uint32_t version, uint64_t t)
{
	unsigned i;

	for (i = 0; i < f->n_tokens; i++) {
		struct fsm_token *k = &f->tokens[i];

		if (k->id != r->id)
			continue;
		if (version >= 2 && r->keep && k->has_pubkey) {
			if (k->revoked)
				return FSM_ENOKEY;
			k->revoked = 1;
			k->uses_left = 0;
			k->n_bound = 0;
			memset(k->bound, 0, sizeof(k->bound));
		} else {
			token_remove(f, i);
		}
		fsm_audit(f, t, "token %llu revoked", (unsigned long long)r->id);
		return FSM_OK;
	}
	return FSM_ENOKEY;
}

/* ---- apply ---- */

int fsm_apply(struct fsm *f, uint64_t index, const void *buf, size_t len,
	      int *result)
{
	Ntpmc__Fsm__FsmCommand *c;
	uint64_t t;
	int r;

	*result = FSM_EINVAL;
	c = ntpmc__fsm__fsm_command__unpack(NULL, len, buf);
	if (c == NULL)
		return FSM_HALT;
	if (c->version == 0 || c->version > FSM_CMD_VERSION) {
		ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
		return FSM_HALT;
	}
	t = c->time_ms;
	switch (c->op_case) {
	case NTPMC__FSM__FSM_COMMAND__OP_CONFIG_SET:
		r = apply_config(f, c->config_set, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_MEMBER_PUT:
		r = apply_member_put(f, c->member_put, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_MEMBER_DEL:
		r = apply_member_del(f, c->member_del->id, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_TOKEN_ADD:
		r = apply_token_add(f, c->token_add, c->version, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_TOKEN_USE:
		r = apply_token_use(f, c->token_use, c->version, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_TOKEN_REVOKE:
		r = apply_token_revoke(f, c->token_revoke, c->version, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_CHECK:
		r = apply_check(f, c->check, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_SCHED_SET:
	case NTPMC__FSM__FSM_COMMAND__OP_ROT_SET:
	case NTPMC__FSM__FSM_COMMAND__OP_HOURS_ADD:
	case NTPMC__FSM__FSM_COMMAND__OP_NOTE:
		/* a version 3 operation in a command that says less is
		 * refused, the same way on every member */
		r = c->version < 3 ? FSM_EINVAL : fsm_rot_apply(f, c, t);
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_FREEZE:
		/* a version 4 proposer never sends one */
		r = c->version >= 5 ? fsm_rot_apply(f, c, t) : FSM_EINVAL;
		break;
	case NTPMC__FSM__FSM_COMMAND__OP_LEDGER:
		/* a version 3 proposer never sends one */
		r = c->version >= 4 ? fsm_ledger_apply(f, c->ledger) :
				      FSM_EINVAL;
		break;
	default:
		/* An operation this build does not know, sent as our own
		 * version: not skippable. */
		ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
		return FSM_HALT;
	}
	tokens_purge(f, t);
	ntpmc__fsm__fsm_command__free_unpacked(c, NULL);
	f->applied = index;
	*result = r;
	return 0;
}

unsigned fsm_audit_count(const struct fsm *f)
{
	return f->audit_len;
}

const char *fsm_audit_at(const struct fsm *f, unsigned i, uint64_t *time_ms)
{
	const struct fsm_audit *a;

	if (i >= f->audit_len)
		return NULL;
	a = &f->audit[(f->audit_head + i) % FSM_AUDIT_MAX];
	if (time_ms != NULL)
		*time_ms = a->time_ms;
	return a->text;
}
