/* Replicated config keys: refused before proposing, canonical values; the
 * cluster profiles' table. */
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
	/* the range of token create --ttl */
	assert_int_equal(chk("token-ttl", "1s", out), 0);
	assert_int_equal(chk("token-ttl", "30d", out), 0);
	assert_int_equal(chk("log-level", "debug", out), 0);
	assert_string_equal(out, "debug");
	assert_int_equal(chk("budget-usd", "12.5", out), 0);
	assert_string_equal(out, "12.50");
	assert_int_equal(chk("budget-usd", "7", out), 0);
	assert_string_equal(out, "7.00");
	assert_int_equal(chk("price-egress-gb-aws", "0.085", out), 0);
	assert_string_equal(out, "0.0850");
	assert_int_equal(chk("price-instance-hour-aws", "0.0104", out), 0);
	assert_string_equal(out, "0.0104");
	assert_int_equal(chk("price-instance-hour-other", "0.5", out), 0);
	assert_string_equal(out, "0.5000");
	assert_int_equal(chk("price-ipv4-hour-gcp", "1000", out), 0);
	assert_string_equal(out, "1000.0000");
	assert_int_equal(chk("price-ipv4-hour-aws", "0", out), 0);
	assert_string_equal(out, "0.0000");
	assert_int_equal(chk("ipv4-allowance-aws", "1500", out), 0);
	assert_string_equal(out, "1500");
	assert_int_equal(chk("ipv4-allowance-gcp", "month", out), 0);
	assert_int_equal(chk("ipv4-allowance-other", "none", out), 0);
	assert_int_equal(chk("ipv4-static-aws", "off", out), 0);
	assert_string_equal(out, "off");
	assert_int_equal(ckey_price_tenk("0.0850"), 850);
	assert_int_equal(ckey_price_tenk("x"), -1);
	assert_int_equal(chk("egress-allowance-other", "0", out), 0);
	assert_int_equal(chk("ledger-interval", "5m", out), 0);
	assert_string_equal(out, "300s");
	assert_int_equal(chk("overlay-subnet", "10.99.0.0/16", out), 0);
	assert_string_equal(out, "10.99.0.0/16");
	assert_int_equal(chk("crosscheck-interval", "1", out), 0);
	assert_int_equal(chk("crosscheck-interval", "1024", out), 0);
	assert_string_equal(out, "1024");
	assert_int_equal(chk("allowance-aws", "600", out), 0);
	assert_string_equal(out, "600");
	assert_int_equal(chk("allowance-gcp", "month", out), 0);
	assert_string_equal(out, "month");
	assert_int_equal(chk("allowance-aws", "none", out), 0);
	assert_int_equal(chk("rotation-start-timeout", "5m", out), 0);
	assert_string_equal(out, "300s");
	assert_int_equal(ckey_read_only("overlay-subnet"), 1);
	assert_int_equal(ckey_read_only("log-level"), 0);
	assert_int_equal(chk("cluster-profile", "wan", out), 0);
	assert_string_equal(out, "wan");
	assert_int_equal(chk("election-timeout", "600000", out), 0);
	assert_int_equal(chk("heartbeat-timeout", "300000", out), 0);
	assert_int_equal(chk("status-interval", "1m", out), 0);
	assert_string_equal(out, "60s");
	assert_int_equal(chk("status-interval", "100ms", out), 0);
	assert_string_equal(out, "100ms");
	/* keys that can be off take 0 in any unit */
	assert_int_equal(chk("transport-keepalive", "0", out), 0);
	assert_string_equal(out, "0s");
	assert_int_equal(chk("wg-keepalive", "0ms", out), 0);
	assert_string_equal(out, "0s");
	assert_int_equal(chk("wg-keepalive", "2m", out), 0);
	assert_string_equal(out, "120s");
	assert_int_equal(chk("transport-idle-close", "5m", out), 0);
	assert_string_equal(out, "300s");
	/* bytes: decimal units, the largest exact one */
	assert_int_equal(chk("egress-allowance-gcp", "1.5GB", out), 0);
	assert_string_equal(out, "1500MB");
	assert_int_equal(chk("egress-allowance-gcp", "1.025kB", out), 0);
	assert_string_equal(out, "1025B");
	assert_int_equal(chk("egress-allowance-gcp", "2.05MB", out), 0);
	assert_string_equal(out, "2050kB");
	assert_int_equal(chk("egress-allowance-aws", "100000000000", out), 0);
	assert_string_equal(out, "100GB");
	assert_int_equal(chk("egress-allowance-aws", "0", out), 0);
	assert_string_equal(out, "0B");
	assert_int_equal(chk("egress-allowance-aws", "1000TB", out), 0);
	assert_string_equal(out, "1000TB");
	assert_int_equal(chk("egress-allowance-gcp", "1234B", out), 0);
	assert_string_equal(out, "1234B");
}

static void bad_values(void **state)
{
	char out[CKEY_VALUE_MAX], err[256];
	static const char *bad[][2] = {
		{ "election-timeout", "99" },
		{ "election-timeout", "600001" },
		{ "heartbeat-timeout", "9" },
		{ "heartbeat-timeout", "300001" },
		{ "cluster-profile", "WAN" },
		{ "cluster-profile", "wan " },
		{ "cluster-profile", "" },
		{ "status-interval", "0s" },
		{ "status-interval", "99ms" },
		{ "status-interval", "2h" },
		{ "transport-keepalive", "500ms" },
		{ "transport-idle-close", "0s" },
		{ "transport-user-timeout", "0" },
		{ "wg-keepalive", "1500ms" },
		{ "wg-keepalive", "65536s" },
		{ "wg-keepalive", "-1" },
		{ "egress-allowance-gcp", "-1GB" },
		{ "egress-allowance-gcp", "1GiB" },
		{ "egress-allowance-gcp", "1001TB" },
		{ "egress-allowance-gcp", "1.5B" },
		{ "egress-allowance-gcp", "1.2345GB" },
		{ "egress-allowance-gcp", "GB" },
		{ "egress-allowance-gcp", "99999999999999999999" },
		{ "election-timeout", "-5" },
		{ "election-timeout", " 500" },
		{ "election-timeout", "500x" },
		{ "election-timeout", "" },
		{ "election-timeout", "99999999999999999999999" },
		{ "token-ttl", "999ms" },
		{ "token-ttl", "31d" },
		{ "token-ttl", "m" },
		{ "token-ttl", "5w" },
		{ "log-level", "inf" },
		{ "log-level", "info " },
		{ "budget-usd", "1.234" },
		{ "budget-usd", "1." },
		{ "budget-usd", "1000001" },
		{ "budget-usd", "-5" },
		{ "budget-usd", "NaN" },
		{ "price-egress-gb-gcp", "-0.12" },
		{ "price-egress-gb-gcp", "0.12345" },
		{ "price-egress-gb-gcp", "inf" },
		{ "price-egress-gb-gcp", "2000000" },
		{ "price-egress-gb-gcp", "1000.0001" },
		/* hour prices: negative, not a number, absurd */
		{ "price-instance-hour-aws", "-0.0104" },
		{ "price-instance-hour-aws", "NaN" },
		{ "price-instance-hour-aws", "nan" },
		{ "price-instance-hour-gcp", "inf" },
		{ "price-instance-hour-gcp", "1e3" },
		{ "price-instance-hour-gcp", "0x10" },
		{ "price-instance-hour-other", "1001" },
		{ "price-instance-hour-other", "99999999999999999999" },
		{ "price-ipv4-hour-aws", "-0.005" },
		{ "price-ipv4-hour-aws", "NaN" },
		{ "price-ipv4-hour-gcp", "0.00501" },
		{ "price-ipv4-hour-gcp", "5000" },
		{ "price-ipv4-hour-other", "" },
		{ "price-ipv4-hour-other", " 0.005" },
		{ "ipv4-allowance-aws", "-1" },
		{ "ipv4-allowance-aws", "100001" },
		{ "ipv4-allowance-gcp", "NaN" },
		{ "ipv4-static-aws", "yes" },
		{ "ipv4-static-gcp", "" },
		{ "egress-allowance-other", "-1" },
		{ "egress-allowance-other", "1X" },
		{ "egress-allowance-other", "1e9" },
		{ "ledger-interval", "1s" },
		{ "ledger-interval", "2h" },
		{ "nope", "1" },
		{ "overlay-subnet", "192.168.10.1/24" },
		{ "overlay-subnet", "10.0.0.0/8" },
		{ "overlay-subnet", "10.0.0.0/31" },
		{ "overlay-subnet", "10.0.0.0/024x" },
		{ "crosscheck-interval", "0" },
		{ "crosscheck-interval", "1025" },
		{ "crosscheck-interval", "16s" },
		{ "allowance-aws", "-1" },
		{ "allowance-aws", "100001" },
		{ "allowance-aws", "months" },
		{ "allowance-gcp", "750h" },
		{ "rotation-start-timeout", "10s" },
		{ "rotation-start-timeout", "2d" },
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
	/* an absurd price says the range */
	assert_int_equal(ckey_check("price-instance-hour-aws", "1001", out,
				    sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0..1000"));
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

/* Every row of the profile table names a key, every value is valid and
 * canonical, and the lan column is the built-in defaults. */
static void profiles(void **state)
{
	char out[CKEY_VALUE_MAX], err[256];
	size_t i;
	int p;

	(void)state;
	assert_int_equal(ckey_profile_index("lan"), 0);
	assert_int_equal(ckey_profile_index("wan"), 1);
	assert_int_equal(ckey_profile_index("wlan"), -1);
	assert_int_equal(ckey_profile_index(NULL), -1);
	assert_null(ckey_profile_name(CKEY_N_PROFILES));
	assert_true(ckey_profile_row_count() >= 7);
	assert_null(ckey_profile_row_key(ckey_profile_row_count()));
	for (i = 0; i < ckey_profile_row_count(); i++) {
		const char *k = ckey_profile_row_key(i);
		const struct ckey_info *info = ckey_find(k);

		assert_non_null(info);
		assert_string_equal(ckey_profile_value("lan", k), info->def);
		for (p = 0; p < CKEY_N_PROFILES; p++) {
			const char *v =
				ckey_profile_value(ckey_profile_name(p), k);

			assert_non_null(v);
			assert_int_equal(ckey_check(k, v, out, sizeof(out),
						    err, sizeof(err)), 0);
			assert_string_equal(out, v);
		}
	}
	assert_string_equal(ckey_profile_value("wan", "heartbeat-timeout"),
			    "30000");
	assert_string_equal(ckey_profile_value("wan", "crosscheck-interval"),
			    "128");
	assert_null(ckey_profile_value("wan", "log-level"));
	assert_null(ckey_profile_value("nope", "election-timeout"));
	/* the valid names are in the refusal */
	assert_int_equal(ckey_check("cluster-profile", "fast", out,
				    sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "lan wan"));
	assert_string_equal(ckey_source_name(CKEY_PROFILE), "profile");
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
		cmocka_unit_test(profiles),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
