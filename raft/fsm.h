/*
 * fsm: the replicated state, in memory on every member, changed only by
 * committed raft entries (commands) and snapshotted through raft.
 *
 * Contents: replicated config (key -> canonical value; the closed key set
 * and value checks are node/cluster/ckey.h, applied BEFORE proposing, so apply
 * itself never depends on a table that could differ between builds),
 * membership metadata (with each member's cross-check verdict), join tokens
 * (public values only, below), an audit trail capped at FSM_AUDIT_MAX
 * events.
 *
 * What the state holds of a join token, and so what a reader of the raft
 * log, a snapshot or a backup learns: its id, its Ed25519 public key
 * (raft/transport/token.h), uses left, expiry, whether it was revoked and
 * the identities that used it. None of it proves the token: a join needs a
 * signature by the token's secret key, which only the token string holds.
 * Tokens of the older format (version 1 commands) stored a MAC key that
 * WAS enough to join; this release never accepts them (fsm_token.pubkey
 * unset), and its leader revokes them.
 *
 * Commands are proto/cluster_fsm.proto FsmCommand messages carrying a
 * format version. This build applies versions 1..FSM_CMD_VERSION; a member
 * advertises that number in its membership record, and the leader proposes
 * a version only if every member advertises at least it
 * (fsm_version_ok()). A committed command this member cannot decode, or of
 * a newer version, makes fsm_apply() return FSM_HALT: the caller must
 * stop applying (and exit non-zero) instead of skipping it, or members
 * would silently diverge.
 *
 * Apply is deterministic: no clock, no randomness, no iteration over hash
 * order; time comes inside the command (the proposer's clock).
 *
 * Version 2 adds key-pair join tokens and the cross-check's verdict
 * (FsmCheck); version 3 a member's instance id and the rotation's state (node/rotation): the
 * schedule, a rotation record per member the reconciler touched (its
 * state, the step it is at, whether the role policy must keep it out of
 * the voter target) and the hours ledger; version 4 the egress ledger;
 * version 5 the rotation's freeze (fsm_frozen). A command is encoded with the
 * lowest version that carries it: a member_put without an instance id
 * stays version 1.
 */
#ifndef NTPMC_RAFT_FSM_H
#define NTPMC_RAFT_FSM_H

#include <stddef.h>
#include <stdint.h>

/* Highest command version this build applies. 2: key-pair join tokens
 * (FsmTokenAdd/FsmTokenUse by public key, FsmTokenRevoke keeping a revoked
 * token) and FsmCheck (a member's cross-check verdict). 3: a member's
 * instance id and the rotation's state. Each command carries the lowest
 * version that knows it (fsm_cmd_*), so members of an older build apply
 * the rest. 4: FsmLedger (a member's monthly egress). 5: FsmFreeze (the
 * rotation frozen or resumed). */
#define FSM_CMD_VERSION 5
#define FSM_CHECK_TEXT_MAX 120	/* FsmCheck.text */
#define FSM_AUDIT_MAX 1000
#define FSM_HASH_LEN 32
#define FSM_KEY_MAX 64
#define FSM_VALUE_MAX 256
#define FSM_NAME_MAX 64
#define FSM_TOKEN_HASH_LEN 32	/* older format: a MAC key */
#define FSM_TOKEN_PK_LEN 32	/* Ed25519 public key */
#define FSM_IDKEY_LEN 32	/* Ed25519 public key */
#define FSM_WGKEY_LEN 32	/* WireGuard (Curve25519) public key */
#define FSM_OVERLAY_MAX 45	/* an IP address in text */
#define FSM_INSTANCE_MAX 64	/* a cloud's instance id */
#define FSM_TARGET_MAX 80	/* "member:NAME" | "provider:NAME" */
#define FSM_WINDOWS_MAX 256
#define FSM_REASON_MAX 120
#define FSM_SCHED_MAX 64
#define FSM_HOURS_MAX 128
#define FSM_HOURS_ITEMS_MAX 128	/* per hours_add command */
#define FSM_ROT_PHASE_MAX 15

/* Results of a command (deterministic, same on every member). */
enum fsm_result {
	FSM_OK = 0,
	FSM_ENOKEY,		/* unknown config key / member / token */
	FSM_EINVAL,		/* bad value in the command */
	FSM_EEXPIRED,		/* token expired */
	FSM_EUSED,		/* token has no use left */
	FSM_EFULL,		/* too many members / tokens */
	FSM_EREVOKED,		/* token revoked (kept, version 2) */
};

#define FSM_HALT (-1000)	/* fsm_apply: stop the apply loop */

enum fsm_role { FSM_ROLE_VOTER, FSM_ROLE_STANDBY, FSM_ROLE_SPARE };

struct fsm_member {
	uint64_t id;
	char name[FSM_NAME_MAX + 1];
	char provider[16];
	char region[FSM_NAME_MAX + 1];
	char address[FSM_VALUE_MAX + 1];
	int role;			/* enum fsm_role */
	uint32_t cmd_version;		/* highest FSM_CMD_VERSION it applies */
	unsigned char idkey[FSM_IDKEY_LEN];	/* identity public key */
	/* WireGuard mesh (node/cluster/wg/wgmesh.h); all-zero / "" until known. A
	 * member_put replaces the whole record: copy these along. */
	unsigned char wg_public[FSM_WGKEY_LEN];
	char overlay[FSM_OVERLAY_MAX + 1];	/* overlay address */
	char endpoint[FSM_VALUE_MAX + 1];	/* public "IP:PORT" */
	int drained;			/* ntpctl node drain: never promoted */
	uint32_t ntp_port;		/* NTP port for members, 0 unknown */
	/* Set only by a check command (fsm_cmd_check); a member_put keeps
	 * the value it finds, whatever the record it carries says. */
	int suspect;
	char instance_id[FSM_INSTANCE_MAX + 1];	/* version 3; "" unknown */
};

/* ---- version 3: the rotation's state (node/rotation) ---- */

/* A schedule entry (sorted by target). */
struct fsm_sched {
	char target[FSM_TARGET_MAX + 1];
	char windows[FSM_WINDOWS_MAX + 1];
	int conflict;			/* stored with --force */
};

enum fsm_rot_state {
	FSM_ROT_RUNNING, FSM_ROT_STARTING, FSM_ROT_STOPPING, FSM_ROT_STOPPED,
};

/* A member's rotation record; a member without one is running as far as
 * the rotation knows. Removed with the member. */
struct fsm_rot {
	uint64_t id;
	int state;			/* enum fsm_rot_state */
	int phase;			/* 0..FSM_ROT_PHASE_MAX, the reconciler's */
	int parked;			/* the role policy keeps it out: never
					 * promoted, vote and leadership moved
					 * away (not the operator's `drained`) */
	uint64_t since_ms;		/* command time the state was entered */
	uint64_t sched_ms;		/* scheduler's clock at the last step */
	char reason[FSM_REASON_MAX + 1];
};

/* A member's running time in the latest two UTC months it was counted in. */
struct fsm_hours {
	uint64_t id;
	uint32_t month, prev_month;	/* YYYYMM; 0 none */
	uint64_t ms, prev_ms;
	uint64_t counted_to;		/* scheduler ms counted up to */
};

struct fsm_hours_item {
	uint64_t id;
	uint32_t month;
	uint64_t add_ms, counted_to;
};

struct fsm_token {
	uint64_t id;
	/* Key-pair tokens: has_pubkey and the public key, hash all-zero.
	 * The older format: the MAC key in hash, never accepted. */
	int has_pubkey;
	unsigned char pubkey[FSM_TOKEN_PK_LEN];
	unsigned char hash[FSM_TOKEN_HASH_LEN];
	int revoked;			/* kept until purged, refuses uses */
	uint32_t uses_left;
	uint64_t expires_ms;		/* unix ms */
	unsigned n_bound;		/* identities that consumed it */
	unsigned char bound[8][FSM_IDKEY_LEN];
};

/* A member's egress in one calendar month (UTC), node/cost's classes.
 * Entries are kept sorted by (month, id), at most FSM_LEDGER_MAX: a new
 * entry beyond that drops the oldest month's first. */
#define FSM_LEDGER_CLASSES 4
#define FSM_LEDGER_MAX 256
struct fsm_ledger {
	char month[8];			/* "YYYY-MM" */
	uint64_t id;
	char provider[16];
	uint64_t bytes[FSM_LEDGER_CLASSES];
	uint64_t boot;			/* process whose counters are in */
	uint64_t base[FSM_LEDGER_CLASSES];	/* its readings then */
	uint64_t first_ms, updated_ms;
	uint64_t mark_ms, mark_total;	/* start of the day being measured */
	uint64_t day_bytes;		/* last full day's bytes, 0 none */
};

struct fsm;

struct fsm *fsm_new(void);
void fsm_free(struct fsm *f);

/* Applies the command committed at index. Returns FSM_HALT when it cannot
 * be applied at all (undecodable, unknown version); otherwise 0 and the
 * command's own outcome in *result (enum fsm_result). */
int fsm_apply(struct fsm *f, uint64_t index, const void *buf, size_t len,
	      int *result);
/* Index of the last applied command (or restored snapshot). */
uint64_t fsm_applied(const struct fsm *f);

/* Canonical bytes of the whole state (malloc()ed). Two members with the
 * same state produce the same bytes. */
int fsm_snapshot(const struct fsm *f, void **buf, size_t *len);
/* Replaces the state. -EINVAL on bytes that do not decode (state kept). */
int fsm_restore(struct fsm *f, uint64_t index, const void *buf, size_t len);
/* BLAKE2b-256 of the canonical bytes. */
int fsm_hash(const struct fsm *f, unsigned char out[FSM_HASH_LEN]);

/* Read access. */
const char *fsm_config_get(const struct fsm *f, const char *key);
unsigned fsm_member_count(const struct fsm *f);
const struct fsm_member *fsm_member_at(const struct fsm *f, unsigned i);
const struct fsm_member *fsm_member_find(const struct fsm *f, uint64_t id);
/* By node-name (names are unique among members); NULL when none. */
const struct fsm_member *fsm_member_named(const struct fsm *f,
					  const char *name);
unsigned fsm_token_count(const struct fsm *f);
const struct fsm_token *fsm_token_at(const struct fsm *f, unsigned i);
unsigned fsm_audit_count(const struct fsm *f);
/* i = 0 is the oldest kept event. */
const char *fsm_audit_at(const struct fsm *f, unsigned i, uint64_t *time_ms);
unsigned fsm_ledger_count(const struct fsm *f);
const struct fsm_ledger *fsm_ledger_at(const struct fsm *f, unsigned i);
const struct fsm_ledger *fsm_ledger_find(const struct fsm *f,
					 const char *month, uint64_t id);
/* 1 when every member advertises at least version (spares apply every
 * command too). */
int fsm_version_ok(const struct fsm *f, uint32_t version);
unsigned fsm_sched_count(const struct fsm *f);
const struct fsm_sched *fsm_sched_at(const struct fsm *f, unsigned i);
const struct fsm_sched *fsm_sched_find(const struct fsm *f,
				       const char *target);
unsigned fsm_rot_count(const struct fsm *f);
const struct fsm_rot *fsm_rot_at(const struct fsm *f, unsigned i);
const struct fsm_rot *fsm_rot_find(const struct fsm *f, uint64_t id);
unsigned fsm_hours_count(const struct fsm *f);
const struct fsm_hours *fsm_hours_at(const struct fsm *f, unsigned i);
const struct fsm_hours *fsm_hours_find(const struct fsm *f, uint64_t id);
/* Version 5: 1 while the rotation is frozen, with the command time it was
 * frozen at and the reason given (either pointer may be NULL). */
int fsm_frozen(const struct fsm *f, uint64_t *since_ms, const char **reason);
/* "running", "starting", "stopping", "stopped" */
const char *fsm_rot_state_name(int state);

/* Command builders (protobuf-encoded, malloc()ed, version FSM_CMD_VERSION).
 * Each returns 0 or -ENOMEM / -EINVAL (oversized field). */
int fsm_cmd_config_set(const char *key, const char *value, uint64_t time_ms,
		       void **buf, size_t *len);
int fsm_cmd_member_put(const struct fsm_member *m, uint64_t time_ms,
		       void **buf, size_t *len);
int fsm_cmd_member_del(uint64_t id, uint64_t time_ms, void **buf,
		       size_t *len);
/* Version 2 (propose only when fsm_version_ok(f, 2)): a key-pair token,
 * and a use of it bound to idkey. */
int fsm_cmd_token_add(uint64_t id, const unsigned char pk[FSM_TOKEN_PK_LEN],
		      uint32_t uses, uint64_t expires_ms, uint64_t time_ms,
		      void **buf, size_t *len);
int fsm_cmd_token_use(const unsigned char pk[FSM_TOKEN_PK_LEN],
		      const unsigned char idkey[FSM_IDKEY_LEN],
		      uint64_t time_ms, void **buf, size_t *len);
/* Version 1: removes the token. */
int fsm_cmd_token_revoke(uint64_t id, uint64_t time_ms, void **buf,
			 size_t *len);
/* Member id's cross-check verdict: suspect or cleared, with the audit's
 * text (at most FSM_CHECK_TEXT_MAX bytes). Version 2: propose it only
 * when fsm_version_ok(f, 2). Applied, it records the flag and one audit
 * event; a command that changes nothing is FSM_OK and records nothing. */
int fsm_cmd_check(uint64_t id, int suspect, const char *text,
		  uint64_t time_ms, void **buf, size_t *len);
/* Version 3: sets the ledger entry for (e->month, e->id); a month that
 * is not "YYYY-MM" or an id of 0 is FSM_EINVAL. */
int fsm_cmd_ledger(const struct fsm_ledger *e, uint64_t time_ms, void **buf,
		   size_t *len);
/* Version 2: keeps a key-pair token, revoked, until it is purged (a
 * token of the older format is removed all the same). */
int fsm_cmd_token_revoke_keep(uint64_t id, uint64_t time_ms, void **buf,
			      size_t *len);
/* Version 3 (propose only when fsm_version_ok(f, 3)). windows "": remove. */
int fsm_cmd_sched_set(const char *target, const char *windows, int conflict,
		      uint64_t time_ms, void **buf, size_t *len);
/* r's id, state, phase, parked, sched_ms and reason. */
int fsm_cmd_rot_set(const struct fsm_rot *r, uint64_t time_ms, void **buf,
		    size_t *len);
int fsm_cmd_hours_add(const struct fsm_hours_item *it, size_t n,
		      uint64_t time_ms, void **buf, size_t *len);
int fsm_cmd_note(const char *text, uint64_t time_ms, void **buf,
		 size_t *len);
/* Version 5 (propose only when fsm_version_ok(f, 5)): freezes (frozen 1)
 * or resumes (0) the rotation; reason at most FSM_REASON_MAX bytes.
 * Applied: a freeze while frozen keeps the first one's time and takes the
 * new reason; a resume while not frozen is FSM_ENOKEY; each change is one
 * audit event. */
int fsm_cmd_freeze(int frozen, const char *reason, uint64_t time_ms,
		   void **buf, size_t *len);

#endif
