/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the shared helpers.  parse_size() with its suffixes, bare
 * units, errors and overflow; parse_long() and parse_seconds() accepting
 * only a whole, well-formed string; msg() writing "prog: message".
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)

#define SENTINEL 0x5a5a5a5aull

/* parse_size(s, unit) == want, or the error err, leaving *out alone. */
static void size_is(const char *s, uint64_t unit, int err, uint64_t want)
{
	uint64_t v = SENTINEL;
	int ret = parse_size(s, unit, &v);

	if (ret != err)
		UNIT_FAIL("parse_size(\"%s\", %llu) returned %d, not %d",
			  s ? s : "(null)", (unsigned long long)unit, ret, err);
	else if (!err && v != want)
		UNIT_FAIL("parse_size(\"%s\", %llu) gave %llu, not %llu", s,
			  (unsigned long long)unit, (unsigned long long)v,
			  (unsigned long long)want);
	else if (err && v != SENTINEL)
		UNIT_FAIL("parse_size(\"%s\") wrote its output on error",
			  s ? s : "(null)");
}

UNIT_TEST(parse_size_suffixes)
{
	size_is("0", 1, 0, 0);
	size_is("512b", KIB, 0, 512);
	size_is("512B", MIB, 0, 512);
	size_is("4k", 1, 0, 4 * KIB);
	size_is("4K", MIB, 0, 4 * KIB);
	size_is("3m", 1, 0, 3 * MIB);
	size_is("3M", 1, 0, 3 * MIB);
	size_is("2g", 1, 0, 2 * GIB);
	size_is("2G", 1, 0, 2 * GIB);
	size_is("1t", 1, 0, TIB);
	size_is("1T", 1, 0, TIB);
	size_is("0k", 1, 0, 0);
	size_is("007k", 1, 0, 7 * KIB);
	/* The usual spellings of binary units. */
	size_is("4kb", 1, 0, 4 * KIB);
	size_is("4KiB", 1, 0, 4 * KIB);
	size_is("16MiB", 1, 0, 16 * MIB);
}

UNIT_TEST(parse_size_bare_number_uses_unit)
{
	size_is("4096", 1, 0, 4096);
	size_is("8", KIB, 0, 8 * KIB); /* aio-stress -r */
	size_is("1024", MIB, 0, GIB); /* aio-stress -s */
	size_is("0", MIB, 0, 0);
}

UNIT_TEST(parse_size_rejects_garbage)
{
	static const char *const bad[] = {
		"",	 "k",	 "-1",	 "+1", " 4",  "4 ",  "4x", "4kk", "4bb",
		"4kib4", "1.5k", "0x10", "4i", "4ki", "4 k", "k4", "--",  "\t",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		size_is(bad[i], 1, -EINVAL, 0);
	size_is(NULL, 1, -EINVAL, 0);
	size_is("4", 0, -EINVAL, 0); /* a unit of zero is a caller bug */
}

UNIT_TEST(parse_size_overflow)
{
	size_is("18446744073709551615", 1, 0, UINT64_MAX);
	size_is("18446744073709551616", 1, -ERANGE, 0);
	size_is("99999999999999999999999999", 1, -ERANGE, 0);
	size_is("16777215t", 1, 0, 16777215 * TIB);
	size_is("16777216t", 1, -ERANGE, 0); /* 2^64 */
	size_is("17179869184g", 1, -ERANGE, 0);
	size_is("17592186044416", MIB, -ERANGE, 0);
	size_is("17592186044415", MIB, 0, 17592186044415ull * MIB);
	/* Garbage is garbage even when the digits overflow too. */
	size_is("99999999999999999999999999x", 1, -EINVAL, 0);
}

static void long_is(const char *s, long min, long max, int err, long want)
{
	long v = (long)SENTINEL;
	int ret = parse_long(s, min, max, &v);

	if (ret != err)
		UNIT_FAIL("parse_long(\"%s\", %ld, %ld) returned %d, not %d",
			  s ? s : "(null)", min, max, ret, err);
	else if (!err && v != want)
		UNIT_FAIL("parse_long(\"%s\") gave %ld, not %ld", s, v, want);
	else if (err && v != (long)SENTINEL)
		UNIT_FAIL("parse_long(\"%s\") wrote its output on error",
			  s ? s : "(null)");
}

UNIT_TEST(parse_long_whole_string_in_range)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "1x", "0x10", "1.0", "--1", "+", "-", "1e3",
	};
	char buf[32];
	size_t i;

	long_is("42", 0, 100, 0, 42);
	long_is("-5", -10, 10, 0, -5);
	long_is("+7", 0, 10, 0, 7);
	long_is("010", 0, 100, 0, 10); /* decimal, not octal */
	long_is("0", 0, 0, 0, 0);
	long_is("100", 0, 100, 0, 100);
	long_is("101", 0, 100, -ERANGE, 0);
	long_is("-1", 0, 100, -ERANGE, 0);
	snprintf(buf, sizeof(buf), "%ld", LONG_MAX);
	long_is(buf, LONG_MIN, LONG_MAX, 0, LONG_MAX);
	snprintf(buf, sizeof(buf), "%ld", LONG_MIN);
	long_is(buf, LONG_MIN, LONG_MAX, 0, LONG_MIN);
	long_is("9223372036854775808", LONG_MIN, LONG_MAX, -ERANGE, 0);
	long_is("-9223372036854775809", LONG_MIN, LONG_MAX, -ERANGE, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		long_is(bad[i], LONG_MIN, LONG_MAX, -EINVAL, 0);
	long_is(NULL, 0, 1, -EINVAL, 0);
}

static void seconds_is(const char *s, int err, double want)
{
	double v = -1.0;
	int ret = parse_seconds(s, &v);

	if (ret != err)
		UNIT_FAIL("parse_seconds(\"%s\") returned %d, not %d",
			  s ? s : "(null)", ret, err);
	else if (!err && v != want)
		UNIT_FAIL("parse_seconds(\"%s\") gave %g, not %g", s, v, want);
	else if (err && v != -1.0)
		UNIT_FAIL("parse_seconds(\"%s\") wrote its output on error",
			  s ? s : "(null)");
}

UNIT_TEST(parse_seconds_decimals)
{
	static const char *const bad[] = {
		"",	"-1",	"-0",	 "-0.5", "+1",	"abc", "1s",
		" 1",	"1 ",	".",	 "1e",	 "1e+", "inf", "nan",
		"0x10", "1..2", "1e999", "e3",	 "1,5",
	};
	size_t i;

	seconds_is("0", 0, 0.0);
	seconds_is("10", 0, 10.0);
	seconds_is("0.5", 0, 0.5);
	seconds_is(".25", 0, 0.25);
	seconds_is("3.", 0, 3.0);
	seconds_is("1e-3", 0, 1e-3);
	seconds_is("2.5E2", 0, 250.0);
	seconds_is("0.000001", 0, 1e-6);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		seconds_is(bad[i], -EINVAL, 0);
	seconds_is(NULL, -EINVAL, 0);
}

/* msg() writes one "prog: message" line on stderr and keeps errno. */
UNIT_TEST(msg_prefixes_program_name)
{
	char path[] = "/tmp/test_util.XXXXXX", buf[4096], want[4096];
	char long_arg[2000];
	const char *saved_prog = prog_name;
	int fd, saved_stderr;
	ssize_t n;

	EXPECT_TRUE(!strcmp("aio-suite", prog_name));
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved_stderr = dup(2);
	ASSERT_TRUE(saved_stderr >= 0);
	dup2(fd, 2);

	prog_name = "aio-stress";
	errno = ENOENT;
	msg("cannot open %s: %m", "/dev/sdz");
	EXPECT_EQ(ENOENT, errno);
	memset(long_arg, 'x', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = '\0';
	msg("long %s end", long_arg);
	prog_name = saved_prog;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ASSERT_TRUE(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want),
		 "aio-stress: cannot open /dev/sdz: %s\n"
		 "aio-stress: long %s end\n",
		 strerror(ENOENT), long_arg);
	if (strcmp(buf, want))
		UNIT_FAIL("stderr was:\n%s", buf);
}

UNIT_MAIN()
