/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the JSON writer.  A document with every value type, nesting
 * and strings that need escaping is written compact and pretty; the bytes
 * are checked against exact snippets, and when python3 is on PATH its json
 * module must parse the file and read back the same values.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "unit.h"
#include "util.h"

struct tmp {
	char path[64];
	FILE *f;
};

static int tmp_open(struct tmp *t)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(t->path, sizeof(t->path), "%s/test_json.XXXXXX",
		 dir && strlen(dir) < 40 ? dir : "/tmp");
	fd = mkstemp(t->path);
	if (fd < 0)
		return -errno;
	t->f = fdopen(fd, "w+");
	if (!t->f) {
		close(fd);
		unlink(t->path);
		return -errno;
	}
	return 0;
}

static void tmp_close(struct tmp *t)
{
	fclose(t->f);
	unlink(t->path);
}

/* The whole file as a string (caller frees). */
static char *slurp(FILE *f)
{
	long len;
	char *buf;

	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		return NULL;
	buf = malloc((size_t)len + 1);
	if (!buf)
		return NULL;
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* U+00E9, U+2014, U+2713 and U+1D11E: two, three and four bytes. */
#define UTF8_TEXT "h\xc3\xa9llo \xe2\x80\x94 \xe2\x9c\x93 \xf0\x9d\x84\x9e"

static void write_doc(struct json *j)
{
	json_obj_begin(j, NULL);
	json_str(j, "quote", "say \"hi\"");
	json_str(j, "backslash", "C:\\dir\\");
	json_str(j, "ctl",
		 "line1\nline2\ttab\x01"
		 "end\r\b\f\x1f");
	json_str(j, "utf8", UTF8_TEXT);
	json_str(j, "bad_utf8",
		 "a\xff"
		 "b\xc0\xaf"
		 "c\xed\xa0\x80"
		 "d\xe2\x82");
	json_str(j, "null_str", NULL);
	json_int(j, "neg", -42);
	json_int(j, "i64_min", INT64_MIN);
	json_int(j, "i64_max", INT64_MAX);
	json_uint(j, "u64_max", UINT64_MAX);
	json_uint(j, "zero", 0);
	json_double(j, "tenth", 0.1);
	json_double(j, "third", 1.0 / 3.0);
	json_double(j, "big", 1e300);
	json_double(j, "dbl_max", DBL_MAX);
	json_double(j, "tiny", 5e-324);
	json_double(j, "neg_zero", -0.0);
	json_double(j, "whole", 3.0);
	json_double(j, "nan", NAN);
	json_double(j, "inf", INFINITY);
	json_double(j, "ninf", -INFINITY);
	json_bool(j, "yes", true);
	json_bool(j, "no", false);
	json_null(j, "nothing");
	json_obj_begin(j, "empty_obj");
	json_obj_end(j);
	json_arr_begin(j, "empty_arr");
	json_arr_end(j);
	json_obj_begin(j, "nested");
	json_arr_begin(j, "arr");
	json_int(j, NULL, 1);
	json_str(j, NULL, "two");
	json_double(j, NULL, 3.5);
	json_arr_begin(j, NULL);
	json_bool(j, NULL, true);
	json_null(j, NULL);
	json_arr_end(j);
	json_obj_begin(j, NULL);
	json_str(j, "k", "v");
	json_obj_end(j);
	json_arr_end(j);
	json_obj_begin(j, "obj");
	json_obj_begin(j, "deep");
	json_uint(j, "deeper", 1);
	json_obj_end(j);
	json_obj_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

static const char *const compact_snippets[] = {
	"{\"quote\":\"say \\\"hi\\\"\",",
	"\"backslash\":\"C:\\\\dir\\\\\"",
	"\"ctl\":\"line1\\nline2\\ttab\\u0001end\\r\\b\\f\\u001f\"",
	"\"utf8\":\"" UTF8_TEXT "\"",
	"\"bad_utf8\":\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd"
	"\\ufffd\"",
	"\"null_str\":null",
	"\"neg\":-42",
	"\"i64_min\":-9223372036854775808",
	"\"i64_max\":9223372036854775807",
	"\"u64_max\":18446744073709551615",
	"\"tenth\":0.1,",
	"\"neg_zero\":-0.0,\"whole\":3.0,",
	"\"third\":0.3333333333333333,",
	"\"nan\":null,\"inf\":null,\"ninf\":null",
	"\"yes\":true,\"no\":false,\"nothing\":null",
	"\"empty_obj\":{},\"empty_arr\":[]",
	"\"nested\":{\"arr\":[1,\"two\",3.5,[true,null],{\"k\":\"v\"}],"
	"\"obj\":{\"deep\":{\"deeper\":1}}}}\n",
};

/*
 * What python3 reads back, dumped canonically: sorted keys, ASCII only,
 * floats in Python's shortest round-trip form.
 */
static const char python_dump[] =
	"{\"backslash\": \"C:\\\\dir\\\\\", "
	"\"bad_utf8\": \"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd"
	"\\ufffd\\ufffd\", "
	"\"big\": 1e+300, "
	"\"ctl\": \"line1\\nline2\\ttab\\u0001end\\r\\b\\f\\u001f\", "
	"\"dbl_max\": 1.7976931348623157e+308, "
	"\"empty_arr\": [], \"empty_obj\": {}, "
	"\"i64_max\": 9223372036854775807, "
	"\"i64_min\": -9223372036854775808, "
	"\"inf\": null, \"nan\": null, \"neg\": -42, \"neg_zero\": -0.0, "
	"\"nested\": {\"arr\": [1, \"two\", 3.5, [true, null], {\"k\": \"v\"}], "
	"\"obj\": {\"deep\": {\"deeper\": 1}}}, "
	"\"ninf\": null, \"no\": false, \"nothing\": null, \"null_str\": null, "
	"\"quote\": \"say \\\"hi\\\"\", "
	"\"tenth\": 0.1, \"third\": 0.3333333333333333, \"tiny\": 5e-324, "
	"\"u64_max\": 18446744073709551615, "
	"\"utf8\": \"h\\u00e9llo \\u2014 \\u2713 \\ud834\\udd1e\", "
	"\"whole\": 3.0, \"yes\": true, \"zero\": 0}";

static bool have_python3(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* Runs python3 on a file; its stdout goes to out_path.  0 if it exited 0. */
static int run_python(const char *script, const char *path,
		      const char *out_path)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "python3 -c '%s' %s >%s", script, path,
		 out_path);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

UNIT_TEST(compact_bytes)
{
	struct json j;
	struct tmp t;
	char *doc;
	size_t i;

	ASSERT_EQ(0, tmp_open(&t));
	json_init(&j, t.f, false);
	write_doc(&j);
	EXPECT_EQ(0, json_finish(&j));
	doc = slurp(t.f);
	tmp_close(&t);
	ASSERT_TRUE(doc);
	for (i = 0; i < ARRAY_SIZE(compact_snippets); i++)
		if (!strstr(doc, compact_snippets[i]))
			UNIT_FAIL("missing %s", compact_snippets[i]);
	free(doc);
}

UNIT_TEST(pretty_bytes)
{
	static const char expect[] = "{\n"
				     "  \"a\": 1,\n"
				     "  \"list\": [\n"
				     "    true,\n"
				     "    {\n"
				     "      \"x\": null\n"
				     "    },\n"
				     "    []\n"
				     "  ],\n"
				     "  \"empty\": {}\n"
				     "}\n";
	struct json j;
	struct tmp t;
	char *doc;

	ASSERT_EQ(0, tmp_open(&t));
	json_init(&j, t.f, true);
	json_obj_begin(&j, NULL);
	json_int(&j, "a", 1);
	json_arr_begin(&j, "list");
	json_bool(&j, NULL, true);
	json_obj_begin(&j, NULL);
	json_null(&j, "x");
	json_obj_end(&j);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_obj_begin(&j, "empty");
	json_obj_end(&j);
	json_obj_end(&j);
	EXPECT_EQ(0, json_finish(&j));
	doc = slurp(t.f);
	tmp_close(&t);
	ASSERT_TRUE(doc);
	if (strcmp(doc, expect))
		UNIT_FAIL("pretty output differs:\n%s", doc);
	free(doc);
}

static void python_round_trip(bool pretty)
{
	static const char script[] =
		"import json, sys; "
		"d = json.load(open(sys.argv[1], encoding=\"utf-8\")); "
		"print(json.dumps(d, sort_keys=True, ensure_ascii=True))";
	struct tmp t, out;
	struct json j;
	char *dump;

	if (!have_python3())
		UNIT_SKIP("python3 not on PATH");
	ASSERT_EQ(0, tmp_open(&t));
	if (tmp_open(&out)) {
		tmp_close(&t);
		UNIT_FAIL("cannot create a temporary file");
		return;
	}
	json_init(&j, t.f, pretty);
	write_doc(&j);
	EXPECT_EQ(0, json_finish(&j));
	EXPECT_EQ(0, run_python("import json,sys; json.load(open(sys.argv[1]))",
				t.path, "/dev/null"));
	EXPECT_EQ(0, run_python(script, t.path, out.path));
	dump = slurp(out.f);
	tmp_close(&t);
	tmp_close(&out);
	ASSERT_TRUE(dump);
	dump[strcspn(dump, "\n")] = '\0';
	if (strcmp(dump, python_dump))
		UNIT_FAIL("python3 read back:\n# %s\n# expected:\n# %s", dump,
			  python_dump);
	free(dump);
}

UNIT_TEST(python_parses_compact)
{
	python_round_trip(false);
}

UNIT_TEST(python_parses_pretty)
{
	python_round_trip(true);
}

/* Every double prints so that it reads back as the same double. */
UNIT_TEST(doubles_round_trip)
{
	struct json j;
	struct tmp t;
	char *doc, *p, *end;
	double v[2000];
	int i, bad = 0;

	srand48(3);
	for (i = 0; i < 2000; i++) {
		v[i] = ldexp(drand48(), (int)(lrand48() % 200) - 100);
		if (i & 1)
			v[i] = -v[i];
	}
	ASSERT_EQ(0, tmp_open(&t));
	json_init(&j, t.f, false);
	json_arr_begin(&j, NULL);
	for (i = 0; i < 2000; i++)
		json_double(&j, NULL, v[i]);
	json_arr_end(&j);
	EXPECT_EQ(0, json_finish(&j));
	doc = slurp(t.f);
	tmp_close(&t);
	ASSERT_TRUE(doc && doc[0] == '[');
	p = doc + 1;
	for (i = 0; i < 2000; i++) {
		if (strtod(p, &end) != v[i])
			bad++;
		p = end + 1; /* the ',' or ']' */
	}
	EXPECT_EQ(0, bad);
	free(doc);
}

UNIT_TEST(write_error_is_reported)
{
	struct json j;
	FILE *f = fopen("/dev/full", "w");
	int i;

	if (!f)
		UNIT_SKIP("no /dev/full");
	json_init(&j, f, false);
	json_arr_begin(&j, NULL);
	for (i = 0; i < 10000; i++)
		json_str(&j, NULL, "filling the buffer");
	json_arr_end(&j);
	EXPECT_EQ(-ENOSPC, json_finish(&j));
	fclose(f);
}

UNIT_TEST(unbalanced_nesting_is_an_error)
{
	struct json j;
	struct tmp t;
	int i;

	ASSERT_EQ(0, tmp_open(&t));
	json_init(&j, t.f, false);
	json_obj_begin(&j, NULL);
	EXPECT_EQ(-EINVAL, json_finish(&j));

	json_init(&j, t.f, false);
	json_arr_end(&j);
	EXPECT_EQ(-EINVAL, json_finish(&j));

	json_init(&j, t.f, false);
	for (i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_arr_begin(&j, NULL);
	for (i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_arr_end(&j);
	EXPECT_EQ(0, json_finish(&j));

	json_init(&j, t.f, false);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_begin(&j, NULL);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_end(&j);
	EXPECT_EQ(-E2BIG, json_finish(&j));
	tmp_close(&t);
}

UNIT_MAIN()
