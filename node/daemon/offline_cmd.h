/* `ntpnode restore` and `ntpnode recover` with their command lines read
 * (node/daemon/cargs.h); each returns the exit code. */
#ifndef NTPMC_OFFLINE_CMD_H
#define NTPMC_OFFLINE_CMD_H

/* restore -c CONFIG --from BACKUP */
int offline_restore(const char *config, const char *from);
/* recover -c CONFIG (--check | --voters VOTERS [--at AT]); voters and at
 * may be NULL. */
int offline_recover(const char *config, int check, const char *voters,
		    const char *at);

#endif
