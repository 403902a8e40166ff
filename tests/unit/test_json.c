/* JSON writer: escaping, nesting, commas, numbers, misuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/json.h"

static void test_document(void **state)
{
	struct json *j = json_new();
	char *s;

	json_obj_begin(j, NULL);
	json_str(j, "name", "a\"b\\c\n\t\x01\x7f\xc3\xa9");
	json_int(j, "neg", -42);
	json_uint(j, "big", UINT64_MAX);
	json_double(j, "d", 0.1);
	json_double(j, "nan", NAN);
	json_double(j, "inf", INFINITY);
	json_bool(j, "t", 1);
	json_bool(j, "f", 0);
	json_null(j, "n");
	json_str(j, "nullstr", NULL);
	json_arr_begin(j, "arr");
	json_int(j, NULL, 1);
	json_obj_begin(j, NULL);
	json_obj_end(j);
	json_arr_begin(j, NULL);
	json_arr_end(j);
	json_str(j, NULL, "x");
	json_arr_end(j);
	json_obj_end(j);
	s = json_finish(j);
	assert_non_null(s);
	assert_string_equal(s,
		"{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\","
		"\"neg\":-42,\"big\":18446744073709551615,\"d\":0.1,"
		"\"nan\":null,\"inf\":null,\"t\":true,\"f\":false,\"n\":null,"
		"\"nullstr\":null,\"arr\":[1,{},[],\"x\"]}");
	free(s);
	json_free(j);
}

static void test_doubles_round_trip(void **state)
{
	double v[] = { 1e-9, 123456.789012345, 1.0 / 3, -2.5e300, 0 };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct json *j = json_new();
		char *s;

		json_double(j, NULL, v[i]);
		s = json_finish(j);
		assert_non_null(s);
		assert_true(strtod(s, NULL) == v[i]);
		free(s);
		json_free(j);
	}
}

static void test_misuse(void **state)
{
	struct json *j;

	/* Unclosed. */
	j = json_new();
	json_obj_begin(j, NULL);
	assert_null(json_finish(j));
	json_free(j);
	/* Key inside an array, none inside an object. */
	j = json_new();
	json_arr_begin(j, NULL);
	json_int(j, "k", 1);
	json_arr_end(j);
	assert_null(json_finish(j));
	json_free(j);
	j = json_new();
	json_obj_begin(j, NULL);
	json_int(j, NULL, 1);
	json_obj_end(j);
	assert_null(json_finish(j));
	json_free(j);
	/* Mismatched end, two top-level values, empty. */
	j = json_new();
	json_obj_begin(j, NULL);
	json_arr_end(j);
	assert_null(json_finish(j));
	json_free(j);
	j = json_new();
	json_int(j, NULL, 1);
	json_int(j, NULL, 2);
	assert_null(json_finish(j));
	json_free(j);
	j = json_new();
	assert_null(json_finish(j));
	json_free(j);
	/* Too deep. */
	j = json_new();
	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
		json_arr_begin(j, NULL);
	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
		json_arr_end(j);
	assert_null(json_finish(j));
	json_free(j);
	json_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_doubles_round_trip),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
