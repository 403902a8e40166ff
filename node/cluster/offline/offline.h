/*
 * offline: what the commands that work on a stopped node's datadir share
 * (`ntpnode restore`, `ntpnode recover`): the datadir lock a running
 * daemon holds (node/daemon/main.c), reading a whole file with a bound, and the
 * node-local table's big-endian u64.
 */
#ifndef NTPMC_OFFLINE_H
#define NTPMC_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/st.h"

/* Takes DATADIR/lock (creating it) without waiting. Returns the open
 * descriptor (the lock goes with it), or -1 after printing why: a daemon
 * holds it ("ntpnode (pid N) is running on ...: stop it first"), or the
 * file cannot be opened. */
int off_lock(const char *cmd, const char *datadir);

/* Reads a whole file of at most max bytes into a malloc()ed buffer.
 * -EFBIG when larger; -errno otherwise. */
int off_read_file(const char *path, size_t max, void **buf, size_t *len);

int off_get_u64(struct st *st, const char *key, uint64_t *v);
int off_put_u64(struct st *st, const char *key, uint64_t v);

#endif
