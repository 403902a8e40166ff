/*
 * bkfile: the client half of `ntpctl backup [--force] FILE`:
 * taking the file out of the daemon's reply and writing it safely.
 */
#ifndef NTPMC_BKFILE_H
#define NTPMC_BKFILE_H

#include <stddef.h>

/* The base64 "backup" string of the reply's JSON, decoded (malloc()ed).
 * -EINVAL when absent or not base64. */
int bkfile_extract(const char *json, void **out, size_t *len);

/* Writes buf to path atomically: a temporary file in the same directory,
 * mode 0600, fsync, then link (refusing an existing path: -EEXIST) or,
 * with force, rename over it; then the directory is fsynced. -errno. */
int bkfile_write(const char *path, const void *buf, size_t len, int force);

#endif
