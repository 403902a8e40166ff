/*
 * Leap-second application state (see leapsec.h). Days are identified by
 * the midnight that ends them, in Unix seconds (UTC has no leap seconds
 * in Unix time: every day is 86400 s long).
 */
#include "node/time/leapsec.h"

#include <stdlib.h>

#define NS 1000000000LL

struct leapsec {
	int64_t pend_end;  /* midnight ending the pending leap's day, 0 */
	int pend_li;
	int64_t done_end;  /* ... of the last applied leap, 0 */
	int done_li;
	uint64_t inserted, deleted;
};

/* Midnight ending the UTC day that contains served time now (ns). */
static int64_t day_end(int64_t now)
{
	int64_t s = now / NS - (now % NS < 0);

	return s - (((s % 86400) + 86400) % 86400) + 86400;
}

struct leapsec *leapsec_new(void)
{
	return calloc(1, sizeof(struct leapsec));
}

void leapsec_free(struct leapsec *l)
{
	free(l);
}

void leapsec_announce(struct leapsec *l, int64_t now, int li)
{
	int64_t end = day_end(now);

	if (end == l->done_end)
		return;
	if (li == 1 || li == 2) {
		l->pend_end = end;
		l->pend_li = li;
	} else if (end == l->pend_end) {
		l->pend_end = 0;
		l->pend_li = 0;
	}
}

int64_t leapsec_moment(const struct leapsec *l, int *li)
{
	if (li)
		*li = l->pend_li;
	if (!l->pend_end)
		return 0;
	return l->pend_end * NS - (l->pend_li == 2 ? NS : 0);
}

int leapsec_due(const struct leapsec *l, int64_t now)
{
	int li;
	int64_t m = leapsec_moment(l, &li);

	return m && now >= m ? li : 0;
}

static void done(struct leapsec *l)
{
	l->done_end = l->pend_end;
	l->done_li = l->pend_li;
	l->pend_end = 0;
	l->pend_li = 0;
}

void leapsec_applied(struct leapsec *l)
{
	if (!l->pend_end)
		return;
	if (l->pend_li == 1)
		l->inserted++;
	else
		l->deleted++;
	done(l);
}

void leapsec_skipped(struct leapsec *l)
{
	if (l->pend_end)
		done(l);
}

int leapsec_li(const struct leapsec *l, int64_t now, int li)
{
	int64_t end = day_end(now);

	if (l->done_end && end == l->done_end)
		return 0;
	return l->pend_end == end ? l->pend_li : li;
}

static int near(int64_t end, int64_t now)
{
	int64_t d = now - end * NS;

	return end && d >= -LEAPSEC_SMEAR_NS && d < LEAPSEC_SMEAR_NS;
}

int leapsec_window(const struct leapsec *l, int64_t now)
{
	return near(l->pend_end, now) || near(l->done_end, now);
}

uint64_t leapsec_count(const struct leapsec *l, int li)
{
	return li == 1 ? l->inserted : li == 2 ? l->deleted : 0;
}

int64_t leapsec_last(const struct leapsec *l, int *li)
{
	if (li)
		*li = l->done_li;
	return l->done_end;
}
