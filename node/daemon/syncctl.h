/* `ntpctl sources` and `ntpctl tracking`: the time engine's control
 * commands (text and -o json). */
#ifndef NTPMC_SYNCCTL_H
#define NTPMC_SYNCCTL_H

struct ctl;
struct sync;

int syncctl_register(struct ctl *ctl, struct sync *sy);

#endif
