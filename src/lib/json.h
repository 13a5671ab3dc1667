/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer.  Keys carry their unit (iops, bytes, ns).
 * Commas and nesting are tracked for the caller; strings are escaped;
 * non-finite doubles are written as null so that any JSON parser reads the
 * output.
 */
#ifndef AIO_SUITE_JSON_H
#define AIO_SUITE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no member written yet at this level */
	bool pretty;
	int error; /* first error seen (-errno), 0 if none */
};

void json_init(struct json *j, FILE *f, bool pretty);
/* Containers: key is NULL inside an array or at the top level. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
/* Members (key NULL inside an array). */
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, int64_t val);
void json_uint(struct json *j, const char *key, uint64_t val);
void json_double(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* Finish: newline, flush; returns 0 or the first error (-errno). */
int json_finish(struct json *j);

#endif
