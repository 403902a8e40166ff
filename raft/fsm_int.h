/* Internals shared by fsm.c (apply) and fsm_codec.c (bytes). */
#ifndef NTPMC_RAFT_FSM_INT_H
#define NTPMC_RAFT_FSM_INT_H

#include "proto/cluster_fsm.pb-c.h"
#include "raft/fsm.h"

#define FSM_CONFIG_MAX 128
#define FSM_MEMBERS_MAX 64
#define FSM_TOKENS_MAX 256
#define FSM_AUDIT_TEXT 256	/* room for a cross-check verdict's why */
#define FSM_BOUND_MAX 8

struct fsm_kv {
	char key[FSM_KEY_MAX + 1];
	char value[FSM_VALUE_MAX + 1];
};

struct fsm_audit {
	uint64_t time_ms;
	char text[FSM_AUDIT_TEXT];
};

struct fsm {
	uint64_t applied;
	unsigned n_config;
	struct fsm_kv config[FSM_CONFIG_MAX];		/* sorted by key */
	unsigned n_members;
	struct fsm_member members[FSM_MEMBERS_MAX];	/* sorted by id */
	unsigned n_tokens;
	struct fsm_token tokens[FSM_TOKENS_MAX];	/* sorted by id */
	struct fsm_audit audit[FSM_AUDIT_MAX];		/* ring */
	unsigned audit_head, audit_len;
	uint64_t audit_seq;
	/* version 3: the rotation (fsm_rot.c) */
	unsigned n_sched;
	struct fsm_sched sched[FSM_SCHED_MAX];		/* sorted by target */
	unsigned n_rot;
	struct fsm_rot rot[FSM_MEMBERS_MAX];		/* sorted by id */
	unsigned n_hours;
	struct fsm_hours hours[FSM_HOURS_MAX];		/* sorted by id */
	/* version 4: the egress ledger (fsm_ledger.c) */
	unsigned n_ledger;
	struct fsm_ledger ledger[FSM_LEDGER_MAX];	/* by month, id */
	/* version 5: the rotation's freeze (fsm_rot.c) */
	int frozen;
	uint64_t frozen_ms;
	char freeze_reason[FSM_REASON_MAX + 1];
};

/* Copies s into a fixed field; -1 if it does not fit. */
int fsm_strset(char *dst, size_t cap, const char *s);
void fsm_audit(struct fsm *f, uint64_t time_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Binary search of key in the n sorted elements of `size` bytes at base;
 * cmp orders key against an element like strcmp. 1 when found; *pos is
 * where it is or where it would go. */
int fsm_bsearch(const void *base, unsigned n, size_t size, const void *key,
		int (*cmp)(const void *key, const void *elem), unsigned *pos);
/* Packs c as version `version` with the proposer's time (malloc()ed). */
int fsm_pack(Ntpmc__Fsm__FsmCommand *c, uint32_t version, uint64_t time_ms,
	     void **buf, size_t *len);

/* fsm_rot.c: apply of the version 3 operations, and their part of the
 * snapshot (to_pb fills st from f with arrays it allocates; free them with
 * fsm_rot_pb_free; from_pb checks and copies, -EINVAL on bad input). */
int fsm_rot_apply(struct fsm *f, const Ntpmc__Fsm__FsmCommand *c,
		  uint64_t t);
void fsm_rot_member_gone(struct fsm *f, uint64_t id);
int fsm_rot_to_pb(const struct fsm *f, Ntpmc__Fsm__FsmState *st);
void fsm_rot_pb_free(Ntpmc__Fsm__FsmState *st);
int fsm_rot_from_pb(struct fsm *f, const Ntpmc__Fsm__FsmState *st);

/* fsm_ledger.c: apply, and the snapshot's part (the entries are pointed
 * into f, valid while f is unchanged; *out freed with
 * fsm_ledger_pb_free). */
int fsm_ledger_apply(struct fsm *f, const Ntpmc__Fsm__FsmLedger *l);
int fsm_ledger_to_pb(const struct fsm *f, Ntpmc__Fsm__FsmState *st);
void fsm_ledger_pb_free(Ntpmc__Fsm__FsmState *st);
int fsm_ledger_restore(struct fsm *f, const Ntpmc__Fsm__FsmState *st);

#endif
