/* Replicated config keys: refused before proposing, canonical values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/cluster/ckey.h"

static int chk(const char *k, const char *v, char *out)
{
	char err[256];

	err[0] = 0;
	return ckey_check(k, v, out, CKEY_VALUE_MAX, err, sizeof(err));
}

static void good_values(void **state)
{
	char out[CKEY_VALUE_MAX];

	(void)state;
	assert_int_equal(chk("election-timeout", "500", out), 0);
	assert_string_equal(out, "500");
	assert_int_equal(chk("token-ttl", "15m", out), 0);
	assert_string_equal(out, "900s");
	assert_int_equal(chk("token-ttl", "1d", out), 0);
	assert_string_equal(out, "86400s");
	assert_int_equal(chk("token-ttl", "90500ms", out), 0);
	assert_string_equal(out, "90500ms");
	assert_int_equal(chk("log-level", "debug", out), 0);
	assert_string_equal(out, "debug");
	assert_int_equal(chk("budget-usd", "12.5", out), 0);
	assert_string_equal(out, "12.50");
	assert_int_equal(chk("budget-usd", "7", out), 0);
	assert_string_equal(out, "7.00");
	assert_int_equal(chk("overlay-subnet", "10.99.0.0/16", out), 0);
	assert_string_equal(out, "10.99.0.0/16");
	assert_int_equal(chk("crosscheck-interval", "1", out), 0);
	assert_int_equal(chk("crosscheck-interval", "1024", out), 0);
	assert_string_equal(out, "1024");
	assert_int_equal(ckey_read_only("overlay-subnet"), 1);
	assert_int_equal(ckey_read_only("log-level"), 0);
}

static void bad_values(void **state)
{
	char out[CKEY_VALUE_MAX], err[256];
	static const char *bad[][2] = {
		{ "election-timeout", "99" },
		{ "election-timeout", "60001" },
		{ "election-timeout", "-5" },
		{ "election-timeout", " 500" },
		{ "election-timeout", "500x" },
		{ "election-timeout", "" },
		{ "election-timeout", "99999999999999999999999" },
		{ "token-ttl", "59s" },
		{ "token-ttl", "31d" },
		{ "token-ttl", "m" },
		{ "token-ttl", "5w" },
		{ "log-level", "inf" },
		{ "log-level", "info " },
		{ "budget-usd", "1.234" },
		{ "budget-usd", "1." },
		{ "budget-usd", "1000001" },
		{ "nope", "1" },
		{ "overlay-subnet", "192.168.10.1/24" },
		{ "overlay-subnet", "10.0.0.0/8" },
		{ "overlay-subnet", "10.0.0.0/31" },
		{ "overlay-subnet", "10.0.0.0/024x" },
		{ "crosscheck-interval", "0" },
		{ "crosscheck-interval", "1025" },
		{ "crosscheck-interval", "16s" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(ckey_check(bad[i][0], bad[i][1], out,
					    sizeof(out), err, sizeof(err)),
				 -1);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(ckey_check("nope", "1", out, sizeof(out), err,
				    sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key"));
	/* the range is in the message */
	assert_int_equal(ckey_check("crosscheck-interval", "0", out,
				    sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "crosscheck-interval: '0' is not an integer "
			    "in 1..1024");
	assert_int_equal(ckey_check(NULL, NULL, out, sizeof(out), err,
				    sizeof(err)), -1);
}

static void defaults_are_valid(void **state)
{
	char out[CKEY_VALUE_MAX];
	size_t i;

	(void)state;
	assert_true(ckey_count() >= 5);
	assert_null(ckey_at(ckey_count()));
	for (i = 0; i < ckey_count(); i++) {
		const struct ckey_info *k = ckey_at(i);

		assert_int_equal(chk(k->name, k->def, out), 0);
		assert_string_equal(out, k->def);  /* defaults are canonical */
		assert_ptr_equal(ckey_find(k->name), k);
	}
}

static void durations(void **state)
{
	(void)state;
	assert_int_equal(ckey_parse_duration_ms("250ms"), 250);
	assert_int_equal(ckey_parse_duration_ms("90"), 90000);
	assert_int_equal(ckey_parse_duration_ms("2h"), 7200000);
	assert_int_equal(ckey_parse_duration_ms("0s"), -1);
	assert_int_equal(ckey_parse_duration_ms("367d"), -1);
	assert_int_equal(ckey_parse_duration_ms(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_values),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(defaults_are_valid),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
