/* serverstats rendering: every counter lands in both text and JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "node/daemon/srvstats.h"

static void test_format(void **state)
{
	struct serve_stats s;
	char *text, *json;

	memset(&s, 0, sizeof(s));
	s.received = 1000;
	s.replied = 900;
	s.kod_sent = 7;
	s.rate_limited = 30;
	s.rl_leaked = 5;
	s.drop_short = 1;
	s.drop_version = 2;
	s.drop_mode = 3;
	s.drop_control = 4;
	s.drop_auth = 5;
	s.drop_denied = 6;
	s.drop_ratelimit = 18;
	s.drop_unanswerable = 10;
	s.send_errors = 9;
	s.drop_governor = 11;
	s.egress_limit = 760;
	s.reply_ns_hist[serve_hist_bucket(3000)] = 900;
	assert_int_equal(srvstats_format(&s, 12.5, 61.9, &text, &json), 0);
	assert_non_null(strstr(text, "Requests received      : 1000\n"));
	assert_non_null(strstr(text, "Replies sent           : 900\n"));
	assert_non_null(strstr(text, "KoD RATE sent          : 7\n"));
	assert_non_null(strstr(text, "Rate-limited           : 30 (KoD or "
				     "dropped)\n  answered by the leak : 5\n"));
	assert_non_null(strstr(text, "Dropped                : 60\n"));
	assert_non_null(strstr(text, "  egress governor      : 11\n"
				     "Egress limit           : 760 B/s "
				     "(governor limiting)\n"));
	assert_non_null(strstr(text, "  rate limit           : 18\n"));
	assert_non_null(strstr(text, "  unanswerable source  : 10\n"));
	assert_non_null(strstr(text, "Send errors            : 9\n"));
	assert_non_null(strstr(text, "Current rate           : 12.5 req/s\n"));
	assert_non_null(strstr(text, "Reply time p50 / p99   : <= "));
	assert_non_null(strstr(json, "\"received\":1000,\"replied\":900,"
				     "\"kod_sent\":7,\"rate_limited\":30,"
				     "\"rate_limited_answered\":5,"
				     "\"dropped\":{\"total\":60,\"short\":1,"
				     "\"version\":2,\"mode\":3,\"control\":4,"
				     "\"auth\":5,\"denied\":6,\"ratelimit\":18,"
				     "\"unanswerable\":10,\"governor\":11},"
				     "\"egress_limit_bps\":760,"
				     "\"send_errors\":9,"));
	assert_non_null(strstr(json, "\"rate_rps\":12.5,\"uptime_s\":61}"));
	/* 3 us lies in a 25 %-wide bucket: its upper bound is within that. */
	{
		const char *p = strstr(json, "\"p50\":");
		double v;

		assert_non_null(p);
		v = strtod(p + 6, NULL);
		assert_true(v >= 3.0 && v <= 3.0 * 1.26);
	}
	free(text);
	free(json);

	/* Nothing answered yet: no percentiles rather than zeros. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(srvstats_format(&s, 0, 0, &text, &json), 0);
	assert_non_null(strstr(text, "Reply time p50 / p99   : -\n"));
	assert_non_null(strstr(json, "\"reply_time_us\":{\"p50\":null,"
				     "\"p99\":null}"));
	free(text);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
