/*
 * cstat: renders `ntpctl cluster status` (table and JSON) from a plain
 * snapshot of what a member knows. Pure, so that its JSON contract
 * is unit-tested field by field.
 *
 * JSON: cluster_id, term, leader_id (raft id as a decimal string, null when
 * unknown), fault_tolerance (reachable voters minus quorum, >= 0), view
 * ("leader" | "local"), members[] with id (decimal string), name (verbatim),
 * role (voter|standby|spare), is_leader, reachable, drained (ntpctl node
 * drain: never promoted), and the extra columns:
 * provider, region, address, last_contact_ms, log_lag, sync, stratum,
 * offset (null when unknown), mesh (16 hex digits of the BLAKE2b-256 of
 * the WireGuard mesh that member applied, null when unknown or none),
 * crosscheck = {"verdict": "ok"|"suspect"|"unknown", "offset_ms": number
 * (that member minus the median of the others) or null, "peers": N}
 * (always there; "unknown", null, 0 when nothing is known), serving (it
 * serves NTP as far as this view knows: reachable, synchronized and not a
 * suspect). At the top: serving (how many members serve) and min_serving
 * (the replicated key).
 */
#ifndef NTPMC_CSTAT_H
#define NTPMC_CSTAT_H

#include <stddef.h>
#include <stdint.h>

#define CSTAT_NAME_MAX 72
#define CSTAT_ADDR_MAX 272

/* Why a member answered from its own view (text only; JSON says "local"):
 * no leader reachable, or this member is drained, hence a spare that hears
 * no raft traffic and may hold an old configuration. */
enum cstat_local { CSTAT_LOCAL_NO_LEADER = 1, CSTAT_LOCAL_DRAINED = 2 };

enum cstat_sync { CSTAT_SYNC_UNKNOWN = -1, CSTAT_UNSYNC = 0, CSTAT_SYNC = 1 };

struct cstat_member {
	uint64_t id;
	char name[CSTAT_NAME_MAX];
	char provider[16];
	char region[CSTAT_NAME_MAX];
	char address[CSTAT_ADDR_MAX];
	int role;                 /* RAFT_STANDBY / RAFT_VOTER / RAFT_SPARE */
	int is_leader;
	int reachable;
	int drained;              /* ntpctl node drain */
	int64_t last_contact_ms;  /* -1 unknown; 0 for self */
	int64_t log_lag;          /* entries behind the leader, -1 unknown */
	int sync;                 /* enum cstat_sync */
	int stratum;              /* -1 unknown */
	double offset;            /* seconds; NaN unknown */
	char mesh[17];            /* WireGuard mesh hash prefix, "" unknown */
	int check;                /* enum cstat_check */
	int check_peers;
	double check_offset;      /* seconds; NaN unknown */
	int serving;
};

enum cstat_check { CSTAT_CHECK_UNKNOWN, CSTAT_CHECK_OK, CSTAT_CHECK_SUSPECT };

struct cstat {
	char cluster_id[40];
	uint64_t term;
	uint64_t leader_id;       /* 0: none known */
	/* 0: the leader's view; CSTAT_LOCAL_*: this member's own view */
	int local;
	size_t n;
	struct cstat_member *m;
	int min_serving;          /* 0: not shown */
};

const char *cstat_role_name(int role);
const char *cstat_check_name(int check);
/* Members with serving set. */
int cstat_serving(const struct cstat *s);
/* Reachable voters minus the quorum of all voters, at least 0. */
int cstat_fault_tolerance(const struct cstat *s);

/* Both return a malloc()ed NUL-terminated string, NULL on ENOMEM. */
char *cstat_json(const struct cstat *s);
char *cstat_text(const struct cstat *s);

#endif
