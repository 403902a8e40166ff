/*
 * rotation: scheduled rotation with quorum-safe failover (docs/rotation.md).
 * The leader's reconciler reads the replicated schedule, hours ledger and
 * each member's health, plans (rplan.h) and takes one safe step at a time,
 * committing each step and its reason to the replicated state before
 * acting on it, so that a new leader resumes a rotation half done. VMs
 * start and stop through provider hooks (rhook.h) that members run for
 * the providers they have one for. Every member answers its part: its
 * status (uptime, hooks) to the leader, and hook runs the leader asks of
 * it. Commands: rotation set|unset|status|plan|freeze|resume, and the
 * steps of ntpctl emergency-shutdown (rstop.c). While the replicated
 * state says frozen, the reconciler takes no step and runs no hook.
 *
 * Runs on the daemon's loop, on top of node/cluster (cluster.h's section
 * for the subsystems above).
 */
#ifndef NTPMC_ROTATION_H
#define NTPMC_ROTATION_H

#include <limits.h>
#include <stdint.h>
#include <uv.h>

#define ROT_MAX_HOOKS 8

struct cluster;
struct ctl;
struct rotation;

/* What the rotation needs of the config (docs/rotation.md). */
struct rot_conf {
	struct {
		char provider[16];
		char path[PATH_MAX];
	} hook[ROT_MAX_HOOKS];         /* provider-hook PROVIDER PATH */
	unsigned n_hooks;
	unsigned hook_timeout_ms;      /* provider-hook-timeout; 0: 120 s */
	/* rotation-test-clock (test-mode only): the scheduler's clock read
	 * clock_sched_ms at served time clock_real_ms and runs clock_speed
	 * times as fast; it drives the schedule and the hours ledger, never
	 * the served time. speed 0: the served time itself. */
	int64_t clock_real_ms, clock_sched_ms;
	unsigned clock_speed;
};

/* Starts on every member once the cluster is ready. -1 when out of
 * memory. */
int rotation_start(struct rotation **out, uv_loop_t *loop,
		   struct cluster *cl, const struct rot_conf *c);
/* The rotation commands on the control socket. */
int rotation_register(struct rotation *r, struct ctl *ctl);
/* Stops timers and hooks; safe before or after cluster_stop (it never
 * calls the cluster again); freed once the loop has closed its handles. */
void rotation_stop(struct rotation *r);

/* The health seam for the clock cross-check (node/crosscheck): fn(arg,
 * id) returns 1 when member id is suspect; a suspect member is not
 * counted among the serving members (an incoming one does not replace
 * an outgoing one, an outgoing one is held). NULL: nobody is. */
typedef int (*rotation_suspect_fn)(void *arg, uint64_t id);
void rotation_set_health(struct rotation *r, rotation_suspect_fn fn,
			 void *arg);

/* For metrics (ntpmc_rotation_planned{member}): fn(arg, name, on) for
 * every member, from this member's replicated state and clock. */
typedef void (*rotation_planned_fn)(void *arg, const char *member,
				    int planned_on);
void rotation_planned(struct rotation *r, rotation_planned_fn fn, void *arg);
/* For leader placement (cluster_set_placement): whether the plan keeps
 * member id on now; 1 when the plan cannot be read (placement then goes
 * by egress alone). */
int rotation_planned_on(struct rotation *r, uint64_t id);
/* For metrics (an alert count): the alerts the leader holds now (an
 * allowance kept from being kept, a hook that keeps failing); 0 on a
 * follower. */
unsigned rotation_alerts(struct rotation *r);

#endif
