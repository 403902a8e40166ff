/* fsm_ledger: members' monthly egress in the replicated state (apply,
 * snapshot, restore); the leader computes the entries (node/cost). */
#include "raft/fsm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int month_ok(const char *m)
{
	/* "YYYY-MM", month 01..12 */
	if (m == NULL || strlen(m) != 7 || m[4] != '-')
		return 0;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (m[i] < '0' || m[i] > '9'))
			return 0;
	return (m[5] == '0' && m[6] >= '1') ||
	       (m[5] == '1' && m[6] <= '2');
}

struct ledger_key {
	const char *month;
	uint64_t id;
};

static int ledger_cmp(const void *key, const void *elem)
{
	const struct ledger_key *k = key;
	const struct fsm_ledger *e = elem;
	int c = strcmp(k->month, e->month);

	if (c)
		return c;
	return k->id < e->id ? -1 : k->id > e->id;
}

/* Position of (month, id), or where it would go; 1 when found. */
static int find(const struct fsm *f, const char *month, uint64_t id,
		unsigned *pos)
{
	struct ledger_key k = { month, id };

	return fsm_bsearch(f->ledger, f->n_ledger, sizeof(f->ledger[0]), &k,
			   ledger_cmp, pos);
}

unsigned fsm_ledger_count(const struct fsm *f)
{
	return f->n_ledger;
}

const struct fsm_ledger *fsm_ledger_at(const struct fsm *f, unsigned i)
{
	return i < f->n_ledger ? &f->ledger[i] : NULL;
}

const struct fsm_ledger *fsm_ledger_find(const struct fsm *f,
					 const char *month, uint64_t id)
{
	unsigned pos;

	return find(f, month, id, &pos) ? &f->ledger[pos] : NULL;
}

/* Fills e from l; -1 on a malformed entry. */
static int from_pb(struct fsm_ledger *e, const Ntpmc__Fsm__FsmLedger *l)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	if (!month_ok(l->month) || l->id == 0 ||
	    l->n_bytes > FSM_LEDGER_CLASSES || l->n_seen > FSM_LEDGER_CLASSES ||
	    fsm_strset(e->month, sizeof(e->month), l->month) != 0 ||
	    fsm_strset(e->provider, sizeof(e->provider), l->provider) != 0)
		return -1;
	e->id = l->id;
	for (i = 0; i < l->n_bytes; i++)
		e->bytes[i] = l->bytes[i];
	for (i = 0; i < l->n_seen; i++)
		e->base[i] = l->seen[i];
	e->boot = l->boot;
	e->first_ms = l->first_ms;
	e->updated_ms = l->updated_ms;
	e->mark_ms = l->mark_ms;
	e->mark_total = l->mark_total;
	e->day_bytes = l->day_bytes;
	return 0;
}

int fsm_ledger_apply(struct fsm *f, const Ntpmc__Fsm__FsmLedger *l)
{
	struct fsm_ledger e;
	unsigned pos;

	if (from_pb(&e, l) < 0)
		return FSM_EINVAL;
	if (!find(f, e.month, e.id, &pos)) {
		if (f->n_ledger == FSM_LEDGER_MAX) {
			/* Full: the oldest month's first entry goes (a new
			 * entry older than all of them is not kept). */
			if (pos == 0)
				return FSM_EFULL;
			memmove(&f->ledger[0], &f->ledger[1],
				(f->n_ledger - 1) * sizeof(f->ledger[0]));
			f->n_ledger--;
			pos--;
		}
		memmove(&f->ledger[pos + 1], &f->ledger[pos],
			(f->n_ledger - pos) * sizeof(f->ledger[0]));
		f->n_ledger++;
	}
	f->ledger[pos] = e;
	return FSM_OK;
}

/* The pb structs and arrays live in one allocation per entry. */
struct pb_entry {
	Ntpmc__Fsm__FsmLedger pb;
	uint64_t bytes[FSM_LEDGER_CLASSES], base[FSM_LEDGER_CLASSES];
};

int fsm_ledger_to_pb(const struct fsm *f, Ntpmc__Fsm__FsmState *st)
{
	Ntpmc__Fsm__FsmLedger **pp;
	struct pb_entry *pe;
	unsigned i;

	st->n_ledger = 0;
	st->ledger = NULL;
	if (f->n_ledger == 0)
		return 0;
	pp = calloc(f->n_ledger, sizeof(*pp));
	pe = calloc(f->n_ledger, sizeof(*pe));
	if (!pp || !pe) {
		free(pp);
		free(pe);
		return -ENOMEM;
	}
	for (i = 0; i < f->n_ledger; i++) {
		const struct fsm_ledger *e = &f->ledger[i];
		Ntpmc__Fsm__FsmLedger *l = &pe[i].pb;

		ntpmc__fsm__fsm_ledger__init(l);
		l->month = (char *)e->month;
		l->id = e->id;
		l->provider = (char *)e->provider;
		memcpy(pe[i].bytes, e->bytes, sizeof(pe[i].bytes));
		memcpy(pe[i].base, e->base, sizeof(pe[i].base));
		l->bytes = pe[i].bytes;
		l->n_bytes = FSM_LEDGER_CLASSES;
		l->seen = pe[i].base;
		l->n_seen = FSM_LEDGER_CLASSES;
		l->boot = e->boot;
		l->first_ms = e->first_ms;
		l->updated_ms = e->updated_ms;
		l->mark_ms = e->mark_ms;
		l->mark_total = e->mark_total;
		l->day_bytes = e->day_bytes;
		pp[i] = l;
	}
	st->n_ledger = f->n_ledger;
	st->ledger = pp;
	return 0;
}

void fsm_ledger_pb_free(Ntpmc__Fsm__FsmState *st)
{
	/* pp[0] is the first pb_entry: one block for all. */
	if (st->n_ledger)
		free(st->ledger[0]);
	free(st->ledger);
	st->ledger = NULL;
	st->n_ledger = 0;
}

int fsm_ledger_restore(struct fsm *f, const Ntpmc__Fsm__FsmState *st)
{
	size_t i;

	if (st->n_ledger > FSM_LEDGER_MAX)
		return -EINVAL;
	for (i = 0; i < st->n_ledger; i++) {
		if (from_pb(&f->ledger[i], st->ledger[i]) < 0)
			return -EINVAL;
		struct ledger_key k = { f->ledger[i].month, f->ledger[i].id };

		if (i > 0 && ledger_cmp(&k, &f->ledger[i - 1]) <= 0)
			return -EINVAL;
	}
	f->n_ledger = (unsigned)st->n_ledger;
	return 0;
}
