/* backup: the backup file format (see backup.h). */
#include "node/ctl/backup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static const char magic[8] = { 'N', 'T', 'P', 'M', 'C', 'B', 'A', 'K' };

#define HASH_LEN 32

static void put_le(unsigned char *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int bk_encode(const struct bk_meta *meta, const void *state, size_t state_len,
	      void **out, size_t *out_len)
{
	size_t idl = strlen(meta->cluster_id), len, off = 0;
	unsigned char *b;

	if (idl == 0 || idl > BK_CLUSTER_ID_MAX || state_len > BK_MAX_STATE ||
	    (state_len && state == NULL))
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOMEM;
	len = 8 + 4 + 2 + idl + 3 * 8 + 8 + state_len + HASH_LEN;
	b = malloc(len);
	if (b == NULL)
		return -ENOMEM;
	memcpy(b, magic, 8);
	off = 8;
	put_le(b + off, BK_FORMAT, 4);
	off += 4;
	put_le(b + off, idl, 2);
	off += 2;
	memcpy(b + off, meta->cluster_id, idl);
	off += idl;
	put_le(b + off, meta->index, 8);
	put_le(b + off + 8, meta->term, 8);
	put_le(b + off + 16, meta->time_ms, 8);
	off += 24;
	put_le(b + off, state_len, 8);
	off += 8;
	if (state_len)
		memcpy(b + off, state, state_len);
	off += state_len;
	crypto_generichash(b + off, HASH_LEN, b, off, NULL, 0);
	*out = b;
	*out_len = len;
	return 0;
}

int bk_decode(const void *buf, size_t len, struct bk_meta *meta,
	      const void **state, size_t *state_len, const char **why)
{
	const unsigned char *b = buf;
	unsigned char h[HASH_LEN];
	size_t off, idl;
	uint64_t sl;
	uint32_t fmt;

	*why = "truncated: the file ends before its header does";
	if (sodium_init() < 0)
		return -ENOMEM;
	if (memcmp(b, magic, len < 8 ? len : 8) != 0 || len == 0) {
		*why = len ? "not an NTP-MC backup (bad magic)" : "empty file";
		return len ? -EINVAL : -EBADMSG;
	}
	if (len < 8 + 4)
		return -EBADMSG;
	if (memcmp(b, magic, 8) != 0) {
		*why = "not an NTP-MC backup (bad magic)";
		return -EINVAL;
	}
	fmt = (uint32_t)get_le(b + 8, 4);
	if (fmt == 0 || fmt > BK_FORMAT) {
		/* checked before anything else: a newer writer may have
		 * changed every field after this one */
		*why = "written by a newer version (format not supported "
		       "by this build)";
		return -ENOTSUP;
	}
	off = 12;
	if (len < off + 2)
		return -EBADMSG;
	idl = (size_t)get_le(b + off, 2);
	off += 2;
	if (idl == 0 || idl > BK_CLUSTER_ID_MAX) {
		*why = "damaged: bad cluster id length";
		return -EBADMSG;
	}
	if (len < off + idl + 32)
		return -EBADMSG;
	memset(meta, 0, sizeof(*meta));
	memcpy(meta->cluster_id, b + off, idl);
	off += idl;
	meta->format = fmt;
	meta->index = get_le(b + off, 8);
	meta->term = get_le(b + off + 8, 8);
	meta->time_ms = get_le(b + off + 16, 8);
	sl = get_le(b + off + 24, 8);
	off += 32;
	if (sl > BK_MAX_STATE) {
		*why = "damaged: state length out of range";
		return -EBADMSG;
	}
	if (len < off + sl + HASH_LEN) {
		*why = "truncated: the file is shorter than its header says";
		return -EBADMSG;
	}
	if (len > off + sl + HASH_LEN) {
		*why = "damaged: bytes after the checksum";
		return -EBADMSG;
	}
	crypto_generichash(h, HASH_LEN, b, off + sl, NULL, 0);
	if (sodium_memcmp(h, b + off + sl, HASH_LEN) != 0) {
		*why = "damaged: checksum mismatch";
		return -EBADMSG;
	}
	if (memchr(meta->cluster_id, '\0', idl) != NULL) {
		*why = "damaged: bad cluster id";
		return -EBADMSG;
	}
	*state = b + off;
	*state_len = (size_t)sl;
	*why = "ok";
	return 0;
}

int bk_check_cluster(const struct bk_meta *meta, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return 0;
	return strcmp(meta->cluster_id, id) == 0 ? 0 : -EXDEV;
}
