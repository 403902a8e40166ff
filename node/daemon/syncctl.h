/* `ntpctl sources` and `ntpctl tracking`: the time engine's control
 * commands (text and -o json), with the cross-check's line. */
#ifndef NTPMC_SYNCCTL_H
#define NTPMC_SYNCCTL_H

struct ctl;
struct sync;
struct crosscheck;

/* sy NULL (no upstream or pool lines, or `local stratum`): both commands
 * still answer, tracking from the published time state, saying what the
 * node serves. xc NULL: no cross-check (a node outside a cluster). */
int syncctl_register(struct ctl *ctl, struct sync *sy,
		     const struct crosscheck *xc);
/* The egress governor's line in tracking: a cluster member's cost guard
 * (NULL: none, the JSON says null). */
struct cost;
void syncctl_set_cost(const struct cost *c);

#endif
