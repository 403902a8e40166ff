/*
 * leap-seconds.list format: '#' comment lines, "#$ NTPSECONDS" (last
 * update), "#@ NTPSECONDS" (expiry), "#h HASH" (SHA-1 of the data; not
 * verified here: the file comes from the operator's own disk), and data
 * lines "NTPSECONDS TAI-UTC [# comment]" where NTPSECONDS is the first
 * instant with the new offset, i.e. the leap second ends the day before.
 */
#include "node/time/leap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEAP_NTP_UNIX 2208988800LL /* 1900-01-01 to 1970-01-01, s */
#define LEAP_MAX_ENTRIES 512
#define LEAP_MAX_FILE (256 * 1024)
#define DAY 86400

struct leap_entry {
	int64_t when; /* Unix seconds, midnight UTC */
	int offset;   /* TAI - UTC from then on */
};

struct leap_list {
	int64_t expiry;
	int n;
	struct leap_entry e[LEAP_MAX_ENTRIES];
};

/* Parses a decimal in [0, 10^12); *p advanced. */
static int parse_num(const char **p, const char *end, int64_t *v)
{
	const char *s = *p;
	int64_t x = 0;
	int digits = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (s < end && *s >= '0' && *s <= '9') {
		if (++digits > 12)
			return -1;
		x = x * 10 + (*s - '0');
		s++;
	}
	if (!digits)
		return -1;
	*p = s;
	*v = x;
	return 0;
}

static int only_space_or_comment(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s == end || *s == '#';
}

int leap_parse(const char *text, size_t len, struct leap_list **out,
	       char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	struct leap_list *l;
	int line = 0, have_expiry = 0;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p;
		int64_t t, off;

		if (!eol)
			eol = end;
		line++;
		if (memchr(p, '\0', (size_t)(eol - p))) {
			snprintf(err, errlen, "line %d: NUL byte", line);
			goto fail;
		}
		if (eol - p >= 2 && p[0] == '#' && p[1] == '@') {
			q = p + 2;
			if (parse_num(&q, eol, &t) ||
			    !only_space_or_comment(q, eol)) {
				snprintf(err, errlen,
					 "line %d: bad expiry line", line);
				goto fail;
			}
			l->expiry = t - LEAP_NTP_UNIX;
			have_expiry = 1;
		} else if (only_space_or_comment(p, eol)) {
			/* comment, #$, #h or blank */
		} else {
			if (parse_num(&q, eol, &t) || parse_num(&q, eol, &off) ||
			    !only_space_or_comment(q, eol)) {
				snprintf(err, errlen,
					 "line %d: expected NTPSECONDS OFFSET",
					 line);
				goto fail;
			}
			t -= LEAP_NTP_UNIX;
			if (t % DAY != 0) {
				snprintf(err, errlen,
					 "line %d: time is not midnight UTC",
					 line);
				goto fail;
			}
			if (l->n == LEAP_MAX_ENTRIES) {
				snprintf(err, errlen, "line %d: too many entries",
					 line);
				goto fail;
			}
			if (l->n && (t <= l->e[l->n - 1].when ||
				     labs((long)(off - l->e[l->n - 1].offset)) != 1)) {
				snprintf(err, errlen,
					 "line %d: entries must increase in time and change TAI-UTC by 1",
					 line);
				goto fail;
			}
			if (off > 1000) {
				snprintf(err, errlen, "line %d: absurd offset",
					 line);
				goto fail;
			}
			l->e[l->n].when = t;
			l->e[l->n].offset = (int)off;
			l->n++;
		}
		p = eol + 1;
	}
	if (!have_expiry) {
		snprintf(err, errlen, "no expiry line (#@)");
		goto fail;
	}
	if (!l->n) {
		snprintf(err, errlen, "no leap second entries");
		goto fail;
	}
	if (l->expiry <= l->e[l->n - 1].when - DAY) {
		snprintf(err, errlen, "expiry precedes the last entry");
		goto fail;
	}
	*out = l;
	return 0;
fail:
	free(l);
	return -1;
}

int leap_load(const char *path, struct leap_list **out, char *err,
	      size_t errlen)
{
	char *buf = NULL;
	struct stat stb;
	ssize_t n = 0;
	size_t len = 0;
	int fd, rc = -1;

	*out = NULL;
	/* Non-blocking and regular files only: a FIFO must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &stb) < 0 || !S_ISREG(stb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	buf = malloc(LEAP_MAX_FILE + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while ((n = read(fd, buf + len, LEAP_MAX_FILE + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > LEAP_MAX_FILE)
			break;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > LEAP_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 LEAP_MAX_FILE);
		goto out;
	}
	rc = leap_parse(buf, len, out, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

void leap_free(struct leap_list *l)
{
	free(l);
}

int64_t leap_expiry(const struct leap_list *l)
{
	return l->expiry;
}

int leap_indicator(const struct leap_list *l, int64_t now)
{
	int64_t day_end = now - (((now % DAY) + DAY) % DAY) + DAY;
	int i;

	if (now >= l->expiry)
		return -1;
	for (i = 1; i < l->n; i++) {
		if (l->e[i].when != day_end)
			continue;
		return l->e[i].offset > l->e[i - 1].offset ? 1 : 2;
	}
	return 0;
}

int leap_near(const struct leap_list *l, int64_t now, int64_t within)
{
	int i;

	if (now >= l->expiry)
		return 0;
	/* e[0] is where the table starts (1972), not a leap */
	for (i = 1; i < l->n; i++)
		if (l->e[i].when - within <= now && now < l->e[i].when + within)
			return 1;
	return 0;
}

int leap_tai_offset(const struct leap_list *l, int64_t now)
{
	int i;

	if (now >= l->expiry || now < l->e[0].when)
		return -1;
	for (i = l->n - 1; i > 0 && l->e[i].when > now; i--)
		;
	return l->e[i].offset;
}
