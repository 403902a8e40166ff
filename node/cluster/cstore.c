/* cstore: opening the store, with the operator's next step (cstore.h). */
#include "node/cluster/cstore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void explain(int rc, const char *datadir, const char *why, char *msg,
		    size_t len)
{
	/* The runbook steps live in docs/operations.md under these titles. */
	if (rc == -EUCLEAN)
		snprintf(msg, len, "store damaged: %s; nothing was changed. "
			 "This member's store cannot be trusted: restore it "
			 "from a backup if it was the last member "
			 "(docs/operations.md, \"Restore from backup\"), "
			 "otherwise move %s away and join this node again "
			 "with a new token (docs/operations.md, \"A damaged "
			 "store\")", why, datadir);
	else if (rc == -EACCES)
		snprintf(msg, len, "datadir permissions: %s; it holds the "
			 "node's private keys (docs/operations.md, \"Datadir "
			 "permissions\"); nothing was changed", why);
	else
		snprintf(msg, len, "cannot open the store in %s: %s", datadir,
			 why);
}

int cstore_check_perms(const char *datadir, char *msg, size_t len)
{
	char why[CSTORE_MSG_MAX / 2];
	int rc = st_check_perms(datadir, why, sizeof(why));

	if (rc != 0)
		explain(rc, datadir, why, msg, len);
	return rc;
}

int cstore_open(struct st **st, const char *datadir, size_t mapsize,
		char *msg, size_t len)
{
	char why[CSTORE_MSG_MAX / 2];
	int rc;

	*st = NULL;
	rc = st_check(datadir, why, sizeof(why));
	if (rc == 0) {
		why[0] = 0;
		rc = st_open(st, datadir, mapsize);
		if (rc != 0)
			snprintf(why, sizeof(why), "%s", strerror(-rc));
	}
	if (rc != 0)
		explain(rc, datadir, why, msg, len);
	return rc;
}
