/*
 * cstore: the node's store opened with the operator's next step. The store
 * itself (storage/st.h) says what is wrong; this adds what to do about it
 * (docs/operations.md, "A damaged store" and "Datadir permissions"), in
 * one message for the daemon's log and the offline commands' stderr.
 * Pure (formats, never logs): every caller prints msg itself.
 */
#ifndef NTPMC_CSTORE_H
#define NTPMC_CSTORE_H

#include <stddef.h>

#include "storage/st.h"

#define CSTORE_MSG_MAX 1024

/* 0, or -EACCES with msg: before the datadir lock is taken (nothing is
 * created while the datadir is open to other users). */
int cstore_check_perms(const char *datadir, char *msg, size_t len);
/* st_open; on failure msg says why: "store damaged: ..." with the
 * runbook step, "permissions: ..." with the chmod, or the error. */
int cstore_open(struct st **st, const char *datadir, size_t mapsize,
		char *msg, size_t len);

#endif
