/* `ntpctl sources` and `ntpctl tracking`: the time engine's control
 * commands (text and -o json). */
#ifndef NTPMC_SYNCCTL_H
#define NTPMC_SYNCCTL_H

struct ctl;
struct sync;

/* sy NULL (no upstream or pool lines): both commands still answer, saying
 * that nothing is configured and what the node serves instead. */
int syncctl_register(struct ctl *ctl, struct sync *sy);

#endif
