/*
 * chaosdump: what a backup file (ntpctl backup, node/ctl/backup.h) holds,
 * for the chaos suite's checks: its index and the FSM state hash, then
 * every event of the audit trail, one per line.
 *   chaosdump FILE
 *     index N
 *     hash HEX
 *     audit TEXT            (oldest first)
 * Exit 0, or 1 with the reason on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/ctl/backup.h"
#include "raft/fsm.h"

static int read_all(const char *path, void **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *b;
	size_t cap = 0, n = 0, r;

	if (!f)
		return -errno;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = b;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char h[FSM_HASH_LEN];
	char hex[2 * FSM_HASH_LEN + 1];
	const void *state;
	const char *why = "";
	struct bk_meta m;
	struct fsm *f = NULL;
	void *file = NULL;
	size_t len = 0, slen = 0;
	unsigned i;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: chaosdump BACKUP-FILE\n");
		return 2;
	}
	if (sodium_init() < 0 || read_all(argv[1], &file, &len) < 0) {
		fprintf(stderr, "chaosdump: cannot read %s\n", argv[1]);
		return 1;
	}
	if (bk_decode(file, len, &m, &state, &slen, &why) != 0) {
		fprintf(stderr, "chaosdump: %s: %s\n", argv[1], why);
		goto out;
	}
	f = fsm_new();
	if (!f || fsm_restore(f, m.index, state, slen) != 0 ||
	    fsm_hash(f, h) != 0) {
		fprintf(stderr, "chaosdump: %s: the state does not decode\n",
			argv[1]);
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	printf("index %" PRIu64 "\nhash %s\n", m.index, hex);
	for (i = 0; i < fsm_audit_count(f); i++) {
		uint64_t t;

		printf("audit %s\n", fsm_audit_at(f, i, &t));
	}
	rc = 0;
out:
	fsm_free(f);
	free(file);
	return rc;
}
