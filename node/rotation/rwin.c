/* rwin: schedule windows (rwin.h). */
#include "node/rotation/rwin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MIN_MS 60000LL
#define WEEK_MS (RWIN_MINUTES * MIN_MS)

static const char *const days[7] = { "mon", "tue", "wed", "thu", "fri",
				     "sat", "sun" };

/* Floor division: times before 1970 stay on the right side. */
static int64_t fdiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int rwin_minute(int64_t t)
{
	/* 1970-01-01 was a thursday: minute 3 * 1440 of its week */
	int64_t m = fdiv(t, MIN_MS) + 3 * 1440;

	m %= RWIN_MINUTES;
	return (int)(m < 0 ? m + RWIN_MINUTES : m);
}

void rwin_fmt(int64_t t, char *out, size_t len)
{
	int m = rwin_minute(t);

	snprintf(out, len, "%s %02d:%02d", days[m / 1440], m % 1440 / 60,
		 m % 60);
}

static int bit(const struct rwin *w, int m)
{
	return (w->on[m / 8] >> (m % 8)) & 1;
}

static void set_range(struct rwin *w, int from, int len)
{
	int i;

	for (i = 0; i < len; i++) {
		int m = (from + i) % RWIN_MINUTES;

		w->on[m / 8] |= (uint8_t)(1u << (m % 8));
	}
}

/* The edges, from the bitmap: minute e where bit(e - 1) != bit(e). */
static void find_edges(struct rwin *w)
{
	int m;

	w->n_edge = 0;
	for (m = 0; m < RWIN_MINUTES; m++)
		if (bit(w, (m + RWIN_MINUTES - 1) % RWIN_MINUTES) != bit(w, m) &&
		    w->n_edge < RWIN_EDGES_MAX)
			w->edge[w->n_edge++] = (uint16_t)m;
	w->always_on = bit(w, 0);
}

/* ---- parsing ---- */

struct lex {
	const char *p;
	char *err;
	size_t errlen;
	const char *win;     /* the window being read, for messages */
	size_t win_len;
};

static void skip_blanks(struct lex *x)
{
	while (*x->p == ' ' || *x->p == '\t')
		x->p++;
}

static int fail(struct lex *x, const char *why)
{
	snprintf(x->err, x->errlen, "'%.*s': %s", (int)(x->win_len > 60 ?
		 60 : x->win_len), x->win, why);
	return -1;
}

/* A day name at x->p: its index, or -1 (not a day: maybe a time). */
static int day_at(const char *p)
{
	int d;

	for (d = 0; d < 7; d++)
		if (tolower((unsigned char)p[0]) == days[d][0] &&
		    tolower((unsigned char)p[1]) == days[d][1] &&
		    tolower((unsigned char)p[2]) == days[d][2] &&
		    !isalpha((unsigned char)p[3]))
			return d;
	return -1;
}

/* HH:MM; 24:00 when end. Minutes of the day, or -1. */
static int time_at(struct lex *x, int end)
{
	const char *p = x->p;
	int h, m;

	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    p[2] != ':' || !isdigit((unsigned char)p[3]) ||
	    !isdigit((unsigned char)p[4]) || isdigit((unsigned char)p[5]))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	m = (p[3] - '0') * 10 + (p[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end)))
		return -1;
	x->p += 5;
	return h * 60 + m;
}

static int dash(struct lex *x)
{
	skip_blanks(x);
	if (*x->p != '-')
		return 0;
	x->p++;
	skip_blanks(x);
	return 1;
}

/* One window, up to ',' or the end; marks it in w, writes its canonical
 * form to out. */
static int parse_window(struct lex *x, struct rwin *w, char *out, size_t len)
{
	int d0 = -1, d1 = -1, t0 = -1, t1 = -1, d, n, have_days;
	char word[16];

	skip_blanks(x);
	x->win = x->p;
	x->win_len = strcspn(x->p, ",");
	while (x->win_len && (x->win[x->win_len - 1] == ' ' ||
			      x->win[x->win_len - 1] == '\t'))
		x->win_len--;
	if (!x->win_len)
		return fail(x, "empty window (two commas, or one at the end?)");
	if (isalpha((unsigned char)*x->p)) {
		d0 = day_at(x->p);
		if (d0 < 0) {
			snprintf(word, sizeof(word), "%.*s",
				 (int)strspn(x->p, "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), x->p);
			snprintf(out, len, "unknown day '%s' (mon tue wed thu "
				 "fri sat sun), or always, never", word);
			return fail(x, out);
		}
		x->p += 3;
		d1 = d0;
		if (dash(x)) {
			d1 = day_at(x->p);
			if (d1 < 0)
				return fail(x, "a day range is DAY-DAY, like "
					    "mon-wed or fri-mon");
			x->p += 3;
		}
		skip_blanks(x);
	}
	if (isdigit((unsigned char)*x->p)) {
		t0 = time_at(x, 0);
		if (t0 < 0)
			return fail(x, "a time is HH:MM from 00:00 to 23:59 "
				    "(24:00 only as an end)");
		if (!dash(x))
			return fail(x, "a time range is HH:MM-HH:MM");
		t1 = time_at(x, 1);
		if (t1 < 0)
			return fail(x, "a time is HH:MM from 00:00 to 24:00");
		if (t1 == t0)
			return fail(x, "an empty time range (start equals "
				    "end)");
		skip_blanks(x);
	}
	if (*x->p && *x->p != ',')
		return fail(x, "expected DAYS [HH:MM-HH:MM] or HH:MM-HH:MM");
	if (d0 < 0 && t0 < 0)
		return fail(x, "nothing to schedule");
	have_days = d0 >= 0;
	if (d0 < 0) {
		d0 = 0;
		d1 = 6;
	}
	/* the days, wrapping (fri-mon), each with its range */
	for (d = d0;; d = (d + 1) % 7) {
		if (t0 < 0)
			set_range(w, d * 1440, 1440);
		else if (t1 > t0)
			set_range(w, d * 1440 + t0, t1 - t0);
		else      /* crosses midnight into the next day */
			set_range(w, d * 1440 + t0, 1440 - t0 + t1);
		if (d == d1)
			break;
	}
	n = 0;
	if (have_days) {
		n = snprintf(out, len, "%s", days[d0]);
		if (d1 != d0)
			n += snprintf(out + n, len - (size_t)n, "-%s",
				      days[d1]);
	}
	if (t0 >= 0)
		snprintf(out + n, len - (size_t)n, "%s%02d:%02d-%02d:%02d",
			 n ? " " : "", t0 / 60, t0 % 60, t1 / 60, t1 % 60);
	return 0;
}

/* The whole text is one word (blanks around it allowed)? */
static int word_is(const char *text, const char *word)
{
	size_t n = strlen(word), i;

	while (*text == ' ' || *text == '\t')
		text++;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)text[i]) != word[i])
			return 0;
	text += n;
	while (*text == ' ' || *text == '\t')
		text++;
	return *text == 0;
}

int rwin_parse(const char *text, struct rwin *w, char *canon, char *err,
	       size_t errlen)
{
	struct lex x = { text, err, errlen, text, 0 };
	char one[96];
	size_t cl = 0;

	memset(w, 0, sizeof(*w));
	canon[0] = 0;
	if (!text || strlen(text) > 4 * RWIN_TEXT_MAX) {
		snprintf(err, errlen, "windows missing or too long");
		return -1;
	}
	if (word_is(text, "always") || word_is(text, "never")) {
		if (word_is(text, "always"))
			set_range(w, 0, RWIN_MINUTES);
		find_edges(w);
		strcpy(canon, word_is(text, "always") ? "always" : "never");
		return 0;
	}
	for (;;) {
		if (parse_window(&x, w, one, sizeof(one)) < 0)
			return -1;
		if (cl + strlen(one) + 2 > RWIN_TEXT_MAX) {
			snprintf(err, errlen, "more windows than fit in %d "
				 "characters", RWIN_TEXT_MAX);
			return -1;
		}
		cl += (size_t)sprintf(canon + cl, "%s%s", cl ? ", " : "", one);
		if (*x.p != ',')
			break;
		x.p++;
	}
	find_edges(w);
	if (w->n_edge == RWIN_EDGES_MAX) {
		snprintf(err, errlen, "too many changes in a week");
		return -1;
	}
	return 0;
}

/* ---- evaluation ---- */

int rwin_on(const struct rwin *w, int64_t t)
{
	return bit(w, rwin_minute(t));
}

/* Start (unix ms) of the week holding t. */
static int64_t week_start(int64_t t)
{
	return fdiv(t, MIN_MS) * MIN_MS - (int64_t)rwin_minute(t) * MIN_MS;
}

int64_t rwin_next(const struct rwin *w, int64_t t)
{
	int64_t ws = week_start(t);
	int m = rwin_minute(t);
	unsigned i;

	if (!w->n_edge)
		return INT64_MAX;
	for (i = 0; i < w->n_edge; i++)
		if (w->edge[i] > m)
			return ws + w->edge[i] * MIN_MS;
	return ws + WEEK_MS + w->edge[0] * MIN_MS;
}

int64_t rwin_since(const struct rwin *w, int64_t t)
{
	int64_t ws = week_start(t);
	int m = rwin_minute(t);
	unsigned i;

	if (!w->n_edge)
		return INT64_MIN;
	for (i = w->n_edge; i-- > 0;)
		if (w->edge[i] <= m)
			return ws + w->edge[i] * MIN_MS;
	return ws - WEEK_MS + w->edge[w->n_edge - 1] * MIN_MS;
}

int64_t rwin_on_ms(const struct rwin *w, int64_t a, int64_t b)
{
	int64_t sum = 0, t = a, next;

	if (b <= a)
		return 0;
	if (!w->n_edge)
		return w->always_on ? b - a : 0;
	while (t < b) {
		next = rwin_next(w, t);
		if (next > b)
			next = b;
		if (rwin_on(w, t))
			sum += next - t;
		t = next;
	}
	return sum;
}
