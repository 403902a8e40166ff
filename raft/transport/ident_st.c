/* ident's node-local store is storage/st.h's local table. */
#include "raft/transport/ident.h"

#include "storage/st.h"

static int st_get(void *ctx, const char *key, void **buf, size_t *len)
{
	return st_local_get(ctx, key, buf, len);
}

static int st_put(void *ctx, const char *key, const void *buf, size_t len)
{
	return st_local_put(ctx, key, buf, len);
}

int ident_load_st(struct st *st, struct ident **out)
{
	struct ident_store s = { st_get, st_put, st };

	return ident_load_or_create(&s, out);
}
