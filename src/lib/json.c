/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The streaming JSON writer (see json.h).  Output goes straight to the
 * stream; the only state is the nesting depth and whether each open
 * container has a member yet.  Errors are sticky: the first one is kept
 * and returned by json_finish().
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void set_error(struct json *j, int err)
{
	if (!j->error)
		j->error = err;
}

static void check_stream(struct json *j)
{
	if (!j->error && ferror(j->f))
		j->error = errno ? -errno : -EIO;
}

/* The first[] slot of the current level; out-of-range depths share one. */
static bool *first_slot(struct json *j)
{
	int d = j->depth;

	if (d < 0)
		d = 0;
	if (d >= JSON_MAX_DEPTH)
		d = JSON_MAX_DEPTH - 1;
	return &j->first[d];
}

static void indent(struct json *j, int depth)
{
	int i;

	fputc('\n', j->f);
	for (i = 0; i < depth; i++)
		fputs("  ", j->f);
}

/*
 * A string body, escaped.  Valid UTF-8 passes through; a byte that does
 * not start a well-formed sequence (overlong, surrogate, beyond U+10FFFF,
 * truncated) is written as U+FFFD so that the document stays valid JSON
 * whatever bytes a file name holds.
 */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range excludes overlongs and surrogates. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void put_string(struct json *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	fputc('"', j->f);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", j->f);
			break;
		case '\\':
			fputs("\\\\", j->f);
			break;
		case '\b':
			fputs("\\b", j->f);
			break;
		case '\f':
			fputs("\\f", j->f);
			break;
		case '\n':
			fputs("\\n", j->f);
			break;
		case '\r':
			fputs("\\r", j->f);
			break;
		case '\t':
			fputs("\\t", j->f);
			break;
		default:
			if (*s < 0x20) {
				fprintf(j->f, "\\u%04x", *s);
				break;
			}
			n = utf8_seq_len(s);
			if (n == 0) {
				fputs("\\ufffd", j->f);
				break;
			}
			fwrite(s, 1, n, j->f);
			s += n - 1;
			break;
		}
		s++;
	}
	fputc('"', j->f);
}

/* Separator, indentation and key before any member or container. */
static void member_begin(struct json *j, const char *key)
{
	bool *first = first_slot(j);

	if (!*first)
		fputc(j->depth > 0 ? ',' : '\n', j->f);
	*first = false;
	if (j->pretty && j->depth > 0)
		indent(j, j->depth);
	if (key) {
		put_string(j, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void member_end(struct json *j)
{
	check_stream(j);
}

void json_init(struct json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

static void container_begin(struct json *j, const char *key, char open)
{
	member_begin(j, key);
	fputc(open, j->f);
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		set_error(j, -E2BIG);
	j->depth++;
	*first_slot(j) = true;
	member_end(j);
}

static void container_end(struct json *j, char close)
{
	bool empty = *first_slot(j);

	if (j->depth <= 0) {
		set_error(j, -EINVAL); /* more ends than begins */
		return;
	}
	j->depth--;
	if (j->pretty && !empty)
		indent(j, j->depth);
	fputc(close, j->f);
	member_end(j);
}

void json_obj_begin(struct json *j, const char *key)
{
	container_begin(j, key, '{');
}

void json_obj_end(struct json *j)
{
	container_end(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	container_begin(j, key, '[');
}

void json_arr_end(struct json *j)
{
	container_end(j, ']');
}

void json_str(struct json *j, const char *key, const char *val)
{
	member_begin(j, key);
	if (val)
		put_string(j, val);
	else
		fputs("null", j->f);
	member_end(j);
}

void json_int(struct json *j, const char *key, int64_t val)
{
	member_begin(j, key);
	fprintf(j->f, "%" PRId64, val);
	member_end(j);
}

void json_uint(struct json *j, const char *key, uint64_t val)
{
	member_begin(j, key);
	fprintf(j->f, "%" PRIu64, val);
	member_end(j);
}

/*
 * The shortest of %.15g, %.16g and %.17g that reads back as the same
 * double (%.17g always does), with ".0" added to a whole number.  The C locale is assumed (no one here calls
 * setlocale), so the decimal point is '.'.
 */
void json_double(struct json *j, const char *key, double val)
{
	char buf[32];
	int prec;

	member_begin(j, key);
	if (!isfinite(val)) {
		fputs("null", j->f);
	} else {
		for (prec = 15; prec < 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, val);
			if (strtod(buf, NULL) == val)
				break;
		}
		if (prec == 17)
			snprintf(buf, sizeof(buf), "%.17g", val);
		/* Keep it a double for readers that tell 3 from 3.0. */
		if (strspn(buf, "-0123456789") == strlen(buf))
			strcat(buf, ".0");
		fputs(buf, j->f);
	}
	member_end(j);
}

void json_bool(struct json *j, const char *key, bool val)
{
	member_begin(j, key);
	fputs(val ? "true" : "false", j->f);
	member_end(j);
}

void json_null(struct json *j, const char *key)
{
	member_begin(j, key);
	fputs("null", j->f);
	member_end(j);
}

int json_finish(struct json *j)
{
	if (j->depth != 0)
		set_error(j, -EINVAL); /* a container left open */
	fputc('\n', j->f);
	check_stream(j);
	if (fflush(j->f) != 0)
		set_error(j, errno ? -errno : -EIO);
	return j->error;
}
