/* log: the two line formats (a UTC ISO 8601 time stamp, or "<N>" syslog
 * priorities when stderr is the journal), errno text, levels. stderr is
 * pointed at a file the test reads back. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/base/log.h"

static char path[64];
static int saved_fd = -1;

/* stderr -> a fresh file; returns its fd. */
static int capture(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_log.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	if (saved_fd < 0)
		saved_fd = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	return STDERR_FILENO;
}

/* stderr back; the captured text (static). */
static const char *release(void)
{
	static char buf[8192];
	FILE *f;
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	unlink(path);
	buf[n] = 0;
	return buf;
}

static void assert_match(const char *text, const char *re)
{
	regex_t r;
	int rc;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE), 0);
	rc = regexec(&r, text, 0, NULL, 0);
	regfree(&r);
	if (rc != 0)
		fail_msg("'%s' does not match /%s/", text, re);
}

/* "YYYY-MM-DD" of now, UTC. */
static void today(char out[16])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static void plain(void **state)
{
	const char *out;
	char d0[16], d1[16];

	(void)state;
	unsetenv("JOURNAL_STREAM");
	capture();
	log_init("tlog", LOG_LVL_INFO);
	today(d0);
	log_debug("not shown");
	log_info("hello %d", 5);
	errno = ENOENT;
	log_warn("open %s", "x");
	assert_int_equal(errno, ENOENT);	/* untouched */
	log_warnx("careful");
	log_err("bad");
	today(d1);
	out = release();
	assert_null(strstr(out, "not shown"));
	assert_null(strchr(out, '<'));
	assert_match(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
		     "[0-9]{2}\\.[0-9]{3}Z tlog info: hello 5$");
	assert_match(out, "Z tlog warn: open x: No such file or directory$");
	assert_match(out, "Z tlog warn: careful$");
	assert_match(out, "Z tlog error: bad$");
	/* the date is today's (UTC), whole */
	if (strncmp(out, d0, 10) != 0)
		assert_memory_equal(out, d1, 10);
}

static void journal(void **state)
{
	struct stat st;
	char v[64];
	const char *out;

	(void)state;
	capture();
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	log_init("tlog", LOG_LVL_DEBUG);
	log_debug("d");
	log_info("i");
	errno = EACCES;
	log_warn("w");
	log_warnx("wx");
	log_err("e");
	out = release();
	assert_string_equal(out, "<7>tlog debug: d\n"
			    "<6>tlog info: i\n"
			    "<4>tlog warn: w: Permission denied\n"
			    "<4>tlog warn: wx\n"
			    "<3>tlog error: e\n");

	/* a JOURNAL_STREAM that names another file (inherited by a child
	 * whose stderr went elsewhere): time stamps */
	assert_int_equal(stat("/", &st), 0);
	capture();
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	log_init("tlog", LOG_LVL_INFO);
	log_info("elsewhere");
	out = release();
	assert_match(out, "^[0-9-]{10}T[0-9:.]{12}Z tlog info: elsewhere$");
	/* and one that is not DEV:INODE at all */
	capture();
	setenv("JOURNAL_STREAM", "12:x", 1);
	log_init("tlog", LOG_LVL_INFO);
	log_info("garbled");
	out = release();
	assert_match(out, "Z tlog info: garbled$");
	unsetenv("JOURNAL_STREAM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain),
		cmocka_unit_test(journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
