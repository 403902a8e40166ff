/*
 * bkfile: the client half of `ntpctl backup [--force] FILE`: writing the
 * file from the daemon's reply safely.
 */
#ifndef NTPMC_BKFILE_H
#define NTPMC_BKFILE_H

#include <stddef.h>

/* Writes buf to path atomically: a temporary file in the same directory,
 * mode 0600, fsync, then link (refusing an existing path: -EEXIST) or,
 * with force, rename over it; then the directory is fsynced. -errno. */
int bkfile_write(const char *path, const void *buf, size_t len, int force);

#endif
