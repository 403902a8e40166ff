/*
 * vmhours: a member's instance hours and public IPv4 address hours in a
 * month, actual and projected to the month's end, from the rotation's
 * hours ledger (raft/fsm.h struct fsm_hours). Pure, so that the
 * projection, month rollover and addresses of stopped members are
 * unit-tested.
 *
 * Instance hours: the ledger's running time of the month. The leader
 * commits it once an hour (node/rotation/rledger_run.c), so the actual
 * trails by up to an hour. Projected: the member's rate since it was
 * first seen in the month (or the month's start), measured up to the
 * ledger's latest count (asof), carried on to the month's end; before an
 * hour of the month has been counted, the actual alone.
 *
 * IPv4 hours: a member's address is billed while its VM runs; a static
 * one (an Elastic IP, a reserved GCP address) also while it is stopped,
 * so from when the member was first seen in the month to now, and
 * projected to the month's end. A removed member is projected no further
 * (its VM and address are assumed gone with it).
 */
#ifndef NTPMC_COST_VMHOURS_H
#define NTPMC_COST_VMHOURS_H

#include <stdint.h>

#include "raft/fsm.h"

#define VMHOURS_HOUR_MS 3600000ULL

struct vmhours_in {
	const struct fsm_hours *h;	/* the member's record; NULL none */
	uint32_t month;			/* YYYYMM */
	uint64_t start_ms, end_ms;	/* the month's bounds, unix ms */
	uint64_t now_ms;
	uint64_t asof_ms;		/* the ledger's latest count; 0 none */
	uint64_t first_ms;		/* member first seen; 0 unknown */
	int static_ip;			/* keeps its address while stopped */
	int removed;			/* no longer a member */
};

struct vmhours {
	uint64_t vm_ms, vm_proj_ms;	/* instance running time */
	uint64_t ip_ms, ip_proj_ms;	/* public IPv4 address time */
};

void vmhours_member(const struct vmhours_in *in, struct vmhours *out);

/* YYYYMM of "YYYY-MM"; 0 when malformed. */
uint32_t vmhours_month(const char *month);

#endif
