/* The offline commands' command lines (argv[0] = "restore" / "recover");
 * each returns the exit code. */
#ifndef NTPMC_OFFLINE_CMD_H
#define NTPMC_OFFLINE_CMD_H

int offline_restore_main(int argc, char **argv);
int offline_recover_main(int argc, char **argv);

#endif
