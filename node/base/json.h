/*
 * A small JSON writer for control replies: keys and strings are escaped,
 * commas are placed for the caller, numbers that JSON cannot hold (NaN,
 * infinities) become null. Errors (out of memory, nesting deeper than
 * JSON_MAX_DEPTH, unbalanced ends) are sticky: json_finish() returns NULL.
 */
#ifndef NTPMC_JSON_H
#define NTPMC_JSON_H

#include <stdint.h>

#define JSON_MAX_DEPTH 32

struct json;

struct json *json_new(void);
void json_free(struct json *j);

/* key is NULL inside arrays and for the top-level value. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val); /* NULL: null */
void json_int(struct json *j, const char *key, int64_t val);
void json_uint(struct json *j, const char *key, uint64_t val);
void json_double(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, int val);
void json_null(struct json *j, const char *key);

/* The document (caller frees), or NULL on error or if not closed. */
char *json_finish(struct json *j);

#endif
