/* `ntpctl sources` and `ntpctl tracking`: the time engine's control
 * commands (text and -o json), with the cross-check's line. */
#ifndef NTPMC_SYNCCTL_H
#define NTPMC_SYNCCTL_H

struct ctl;
struct sync;
struct crosscheck;

/* sy NULL: no engine (`local stratum`, or no source): tracking answers
 * from the published time state and sources is not registered. xc NULL:
 * no cross-check (a node outside a cluster). Nothing is registered when
 * both are NULL. */
int syncctl_register(struct ctl *ctl, struct sync *sy,
		     const struct crosscheck *xc);

#endif
