/* Internals shared by fsm.c (apply) and fsm_codec.c (bytes). */
#ifndef NTPMC_RAFT_FSM_INT_H
#define NTPMC_RAFT_FSM_INT_H

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
};

/* Copies s into a fixed field; -1 if it does not fit. */
int fsm_strset(char *dst, size_t cap, const char *s);

#endif
