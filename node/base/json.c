/* JSON writer (RFC 8259): a strbuf and a stack of "first" flags. */
#include "node/base/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/strbuf.h"

struct json {
	struct strbuf out;
	int depth;
	int err;
	int done;                       /* the top-level value is written */
	uint8_t first[JSON_MAX_DEPTH];  /* no member yet at this depth */
	uint8_t is_obj[JSON_MAX_DEPTH];
};

struct json *json_new(void)
{
	return calloc(1, sizeof(struct json));
}

void json_free(struct json *j)
{
	if (!j)
		return;
	strbuf_release(&j->out);
	free(j);
}

static void put(struct json *j, const char *s, size_t n)
{
	if (!j->err)
		strbuf_add(&j->out, s, n);
}

static void put_string(struct json *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	put(j, "\"", 1);
	for (; *p; p++) {
		const char *esc = NULL;
		char u[6];

		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			break;
		}
		if (esc) {
			put(j, esc, strlen(esc));
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(u, "\\u00", 4);
			u[4] = hex[*p >> 4];
			u[5] = hex[*p & 15];
			put(j, u, 6);
		} else {
			/* Bytes >= 0x80 pass as they are (UTF-8 in, UTF-8 out). */
			put(j, (const char *)p, 1);
		}
	}
	put(j, "\"", 1);
}

/* Comma and key before a value; checks the key matches the container. */
static void member(struct json *j, const char *key)
{
	if (j->err)
		return;
	if (j->depth == 0) {
		if (j->done || key)
			j->err = 1;
		j->done = 1;
		return;
	}
	if (!!key != j->is_obj[j->depth - 1]) {
		j->err = 1;
		return;
	}
	if (!j->first[j->depth - 1])
		put(j, ",", 1);
	j->first[j->depth - 1] = 0;
	if (key) {
		put_string(j, key);
		put(j, ":", 1);
	}
}

static void open_(struct json *j, const char *key, int obj)
{
	member(j, key);
	if (j->err)
		return;
	if (j->depth == JSON_MAX_DEPTH) {
		j->err = 1;
		return;
	}
	j->first[j->depth] = 1;
	j->is_obj[j->depth] = (uint8_t)obj;
	j->depth++;
	put(j, obj ? "{" : "[", 1);
}

static void close_(struct json *j, int obj)
{
	if (j->err)
		return;
	if (j->depth == 0 || j->is_obj[j->depth - 1] != obj) {
		j->err = 1;
		return;
	}
	j->depth--;
	put(j, obj ? "}" : "]", 1);
}

void json_obj_begin(struct json *j, const char *key) { open_(j, key, 1); }
void json_obj_end(struct json *j) { close_(j, 1); }
void json_arr_begin(struct json *j, const char *key) { open_(j, key, 0); }
void json_arr_end(struct json *j) { close_(j, 0); }

void json_str(struct json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		put_string(j, val);
	else
		put(j, "null", 4);
}

void json_int(struct json *j, const char *key, int64_t val)
{
	member(j, key);
	if (!j->err)
		strbuf_addf(&j->out, "%lld", (long long)val);
}

void json_uint(struct json *j, const char *key, uint64_t val)
{
	member(j, key);
	if (!j->err)
		strbuf_addf(&j->out, "%llu", (unsigned long long)val);
}

void json_double(struct json *j, const char *key, double val)
{
	member(j, key);
	if (!isfinite(val)) {
		put(j, "null", 4);
		return;
	}
	/* The shortest of 15..17 digits that reads back as the same double. */
	for (int prec = 15; prec <= 17; prec++) {
		char tmp[40];

		snprintf(tmp, sizeof(tmp), "%.*g", prec, val);
		if (prec == 17 || strtod(tmp, NULL) == val) {
			put(j, tmp, strlen(tmp));
			return;
		}
	}
}

void json_bool(struct json *j, const char *key, int val)
{
	member(j, key);
	put(j, val ? "true" : "false", val ? 4 : 5);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	put(j, "null", 4);
}

char *json_finish(struct json *j)
{
	if (j->err || j->depth != 0 || !j->done)
		return NULL;
	j->done = 0;
	return strbuf_finish(&j->out, NULL);
}
