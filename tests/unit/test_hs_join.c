/*
 * Joins through the handshake (raft/transport/hs.c) with key-pair tokens
 * (raft/transport/token.c): success, every refusal and who learns its
 * reason, the (id, fingerprint) pairs, and that what a backup holds of a
 * token cannot complete a join.
 */
#include "hs_fixture.h"

#include "node/ctl/backup.h"
#include "raft/fsm.h"

/* A token naming member (id, fingerprint of fp_of); the members know it. */
static void new_token(uint64_t id, int fp_of)
{
	struct token_member m;

	token_free(W.tok);
	memset(&m, 0, sizeof(m));
	m.id = id;
	strcpy(m.endpoint, "127.0.0.1:1");
	ident_fingerprint(ident_public(W.id[fp_of]), m.fp);
	assert_int_equal(token_create(W.cluster, &m, 1, 100, 0, &W.tok), 0);
	W.tstate = HS_TOKEN_LIVE;
}

/* Joiner 3 with token tok (the members' unless it is another) to member
 * 2; sp gets what the server learnt. */
static int join_with(const struct token *tok, tamper_fn t, struct run *r,
		     struct hs_peer *sp)
{
	struct hs_config jc = cfg_for(3), sc = cfg_for(2);
	struct hs *c, *s;
	int rc;

	assert_int_equal(hs_client_new_join(&jc, tok, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	run_hs(c, s, t, r);
	rc = r->client_rc ? r->client_rc : r->server_rc;
	if (rc == 0) {
		struct hs_peer cp;

		assert_true(hs_done(c) && hs_done(s));
		hs_peer_info(s, sp);
		hs_peer_info(c, &cp);
		assert_int_equal(cp.id, 2);
		check_chans(c, s);
	}
	hs_free(c);
	hs_free(s);
	return rc;
}

static int join(tamper_fn t, struct run *r, struct hs_peer *sp)
{
	return join_with(W.tok, t, r, sp);
}

static void join_success(void **state)
{
	struct hs_peer p;
	struct run r;

	new_token(2, 2);
	W.admit_calls = 0;
	assert_int_equal(join(NULL, &r, &p), 0);
	assert_true(p.join);
	assert_int_equal(p.id, 3);
	assert_memory_equal(p.key, ident_public(W.id[3]), IDENT_PK_LEN);
	assert_memory_equal(p.token_id, W.tok->id, TOKEN_ID_LEN);
	/* Admission saw a join hello with its token id. */
	assert_int_equal(W.admit_calls, 1);
	assert_true(W.last_hello.join);
	assert_int_equal(W.last_hello.client_id, 3);
	assert_memory_equal(W.last_token_id, W.tok->id, TOKEN_ID_LEN);
}

/* Used, expired, revoked: refused at the hello, before the server signs
 * or makes a key for it, and the holder is told which. */
static void join_token_states(void **state)
{
	static const struct {
		enum hs_token_state st;
		int err;
	} cases[] = {
		{ HS_TOKEN_USED, HS_ERR_TOKEN_USED },
		{ HS_TOKEN_EXPIRED, HS_ERR_TOKEN_EXPIRED },
		{ HS_TOKEN_REVOKED, HS_ERR_TOKEN_REVOKED },
	};
	struct hs_peer p;
	struct run r;
	size_t i;

	new_token(2, 2);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		W.tstate = cases[i].st;
		assert_int_equal(join(NULL, &r, &p), -cases[i].err);
		assert_int_equal(r.fail_at, 0);
		assert_int_equal(refusal_of(&r), (unsigned)cases[i].err);
		assert_true(r.client_refused);
	}
	/* Unknown to the members. */
	W.tstate = HS_TOKEN_UNKNOWN;
	assert_int_equal(join(NULL, &r, &p), -HS_ERR_TOKEN);
	assert_int_equal(refusal_of(&r), HS_ERR_TOKEN);
	assert_string_equal(hs_strerror(-HS_ERR_TOKEN_USED),
			    "the join token was already used");
}

/* Someone who knows a token's id (it is public) but not its key learns
 * nothing of its state: the same answer as an unknown token. */
static void join_stranger_learns_nothing(void **state)
{
	struct token *forged;
	struct token_member m;
	struct hs_peer p;
	struct run r;

	new_token(2, 2);
	memset(&m, 0, sizeof(m));
	m = W.tok->members[0];
	assert_int_equal(token_create(W.cluster, &m, 1, 100, 0, &forged), 0);
	memcpy(forged->id, W.tok->id, TOKEN_ID_LEN);
	W.tstate = HS_TOKEN_REVOKED;
	assert_int_equal(join_with(forged, NULL, &r, &p), -HS_ERR_TOKEN);
	assert_int_equal(refusal_of(&r), HS_ERR_TOKEN);
	W.tstate = HS_TOKEN_LIVE;
	assert_int_equal(join_with(forged, NULL, &r, &p), -HS_ERR_TOKEN);
	assert_int_equal(r.fail_at, 0);
	token_free(forged);
}

static void tamper_join_sig(int idx, uint8_t *msg, size_t *len)
{
	if (idx == 2)
		REPACK(Ntpmc__HsProof, ntpmc__hs_proof, msg, len,
		       flip_field(&m_->join_sig, 9));
}

/* The older format's proof: a 32-byte MAC in field 2, no signature. */
static void old_format_proof(int idx, uint8_t *msg, size_t *len)
{
	if (idx != 2)
		return;
	REPACK(Ntpmc__HsProof, ntpmc__hs_proof, msg, len,
	       m_->join_sig.len = 0);
	msg[(*len)++] = 0x12; /* field 2, length-delimited */
	msg[(*len)++] = 32;
	memset(msg + *len, 0x5a, 32);
	*len += 32;
}

static void join_bad_proofs(void **state)
{
	struct hs_peer p;
	struct run r;

	new_token(2, 2);
	assert_int_equal(join(tamper_join_sig, &r, &p), -HS_ERR_TOKEN);
	assert_int_equal(r.fail_at, 2);
	assert_int_equal(join(old_format_proof, &r, &p), -HS_ERR_MALFORMED);
	assert_int_equal(r.fail_at, 2);
}

/* The joiner checks the member it reached against the token's (id,
 * fingerprint) pairs. */
static void join_fingerprint_pairs(void **state)
{
	struct hs_peer p;
	struct run r;

	/* The token names member 1 only: member 2 answered. */
	new_token(1, 1);
	assert_int_equal(join(NULL, &r, &p), -HS_ERR_FINGERPRINT);
	assert_int_equal(r.fail_at, 1);
	/* Member 2's fingerprint, paired with id 1: member 2 cannot answer
	 * as itself under a pairing the token does not make, and no member
	 * can claim another member's id. */
	new_token(1, 2);
	assert_int_equal(join(NULL, &r, &p), -HS_ERR_PEER_ID);
	assert_int_equal(r.fail_at, 1);
}

static void join_ids(void **state)
{
	struct hs_config jc = cfg_for(3), sc = cfg_for(2);
	struct hs *c, *s;
	struct run r;

	/* A token of another cluster is refused before dialing. */
	new_token(2, 2);
	W.tok->cluster_id[0] ^= 1;
	assert_int_equal(hs_client_new_join(&jc, W.tok, &c), -HS_ERR_CLUSTER);
	W.tok->cluster_id[0] ^= 1;
	/* A joiner claiming a member's id with another key. */
	jc.self_id = 1;
	assert_int_equal(hs_client_new_join(&jc, W.tok, &c), 0);
	assert_int_equal(hs_server_new(&sc, &s), 0);
	W.token_lookups = 0;
	run_hs(c, s, NULL, &r);
	assert_int_equal(r.server_rc, -HS_ERR_ID_TAKEN);
	assert_int_equal(refusal_of(&r), HS_ERR_ID_TAKEN);
	assert_int_equal(W.token_lookups, 0);
	hs_free(c);
	hs_free(s);
	/* Admission (the transport: caps, an id in flight with another key)
	 * comes before the token is even looked up. */
	W.admit_rc = -HS_ERR_ID_TAKEN;
	W.token_lookups = 0;
	assert_int_equal(join(NULL, &r, &(struct hs_peer){ 0 }),
			 -HS_ERR_ID_TAKEN);
	assert_int_equal(W.token_lookups, 0);
	W.admit_rc = 0;
}

/*
 * The value the replicated state keeps for a token, read back from a
 * backup file, does not complete a join: neither as the token's secret
 * nor beside the public key. (Before key pairs it did: it was the MAC
 * key the handshake verified with.)
 */
static void join_backup_value_useless(void **state)
{
	struct fsm *f = fsm_new(), *g = fsm_new();
	struct bk_meta meta;
	const struct fsm_token *ft;
	struct token *thief;
	struct hs_peer p;
	struct run r;
	const void *st;
	const char *why;
	void *b, *file;
	size_t n, flen, sl;
	int res;

	new_token(2, 2);
	/* What `ntpctl token create` commits, and what a backup holds. */
	assert_int_equal(fsm_cmd_token_add(token_id_u64(W.tok->id), W.tok->pk,
					   1, 200000, 10, &b, &n),
			 0);
	assert_int_equal(fsm_apply(f, 1, b, n, &res), 0);
	free(b);
	assert_int_equal(res, FSM_OK);
	assert_int_equal(fsm_snapshot(f, &b, &n), 0);
	memset(&meta, 0, sizeof(meta));
	strcpy(meta.cluster_id, "c1");
	meta.index = 1;
	assert_int_equal(bk_encode(&meta, b, n, &file, &flen), 0);
	free(b);
	/* The thief reads the file. */
	assert_int_equal(bk_decode(file, flen, &meta, &st, &sl, &why), 0);
	assert_int_equal(fsm_restore(g, 1, st, sl), 0);
	ft = fsm_token_at(g, 0);
	assert_non_null(ft);
	assert_true(ft->has_pubkey);
	assert_int_equal(ft->id, token_id_u64(W.tok->id));

	/* The stored value used as the token's secret: another key. */
	assert_int_equal(token_create(W.cluster, W.tok->members, 1, 100, 0,
				      &thief),
			 0);
	crypto_sign_seed_keypair(thief->pk, thief->sk, ft->pubkey);
	memcpy(thief->id, W.tok->id, TOKEN_ID_LEN);
	assert_int_equal(join_with(thief, NULL, &r, &p), -HS_ERR_TOKEN);
	assert_int_equal(r.fail_at, 0);
	/* The real public key beside a secret half it does not have. */
	memcpy(thief->pk, ft->pubkey, TOKEN_PK_LEN);
	memcpy(thief->sk, ft->pubkey, TOKEN_PK_LEN);
	memcpy(thief->sk + 32, ft->pubkey, TOKEN_PK_LEN);
	assert_int_equal(join_with(thief, NULL, &r, &p), -HS_ERR_TOKEN);
	assert_int_equal(r.fail_at, 0);
	/* The token itself still joins. */
	assert_int_equal(join(NULL, &r, &p), 0);
	token_free(thief);
	free(file);
	fsm_free(f);
	fsm_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_success),
		cmocka_unit_test(join_token_states),
		cmocka_unit_test(join_stranger_learns_nothing),
		cmocka_unit_test(join_bad_proofs),
		cmocka_unit_test(join_fingerprint_pairs),
		cmocka_unit_test(join_ids),
		cmocka_unit_test(join_backup_value_useless),
	};

	return cmocka_run_group_tests(tests, hs_setup, hs_teardown);
}
