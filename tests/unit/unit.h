/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny unit-test harness for src/lib: each test is a function registered
 * with UNIT_TEST(name); main() comes from UNIT_MAIN().  Output is TAP
 * (`ok N name`, `not ok N name`, `ok N name # SKIP reason`), counted by
 * tests/run-all.sh.  EXPECT_* records a failure and goes on; ASSERT_*
 * returns from the test.  Arguments are (expected, seen).
 */
#ifndef AIO_SUITE_UNIT_H
#define AIO_SUITE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_MAX_TESTS 128
extern struct unit_test unit_tests[UNIT_MAX_TESTS];
extern int unit_nr_tests;
extern int unit_failed; /* current test failed */
extern const char *unit_skip; /* current test skipped, with this reason */

#define UNIT_TEST(name_)                                                       \
	static void unit_fn_##name_(void);                                     \
	__attribute__((constructor)) static void unit_reg_##name_(void)        \
	{                                                                      \
		if (unit_nr_tests < UNIT_MAX_TESTS)                            \
			unit_tests[unit_nr_tests++] =                          \
				(struct unit_test){ #name_, unit_fn_##name_ }; \
	}                                                                      \
	static void unit_fn_##name_(void)

#define UNIT_FAIL(fmt, ...)                                      \
	do {                                                     \
		printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, \
		       ##__VA_ARGS__);                           \
		unit_failed = 1;                                 \
	} while (0)

#define EXPECT_EQ(exp, seen)                                                  \
	do {                                                                  \
		long long e_ = (long long)(exp), s_ = (long long)(seen);      \
		if (e_ != s_)                                                 \
			UNIT_FAIL("expected %s == %lld, saw %lld", #seen, e_, \
				  s_);                                        \
	} while (0)

#define EXPECT_TRUE(cond)                                \
	do {                                             \
		if (!(cond))                             \
			UNIT_FAIL("expected %s", #cond); \
	} while (0)

#define ASSERT_EQ(exp, seen)                                                  \
	do {                                                                  \
		long long e_ = (long long)(exp), s_ = (long long)(seen);      \
		if (e_ != s_) {                                               \
			UNIT_FAIL("expected %s == %lld, saw %lld", #seen, e_, \
				  s_);                                        \
			return;                                               \
		}                                                             \
	} while (0)

#define ASSERT_TRUE(cond)                                \
	do {                                             \
		if (!(cond)) {                           \
			UNIT_FAIL("expected %s", #cond); \
			return;                          \
		}                                        \
	} while (0)

#define UNIT_SKIP(reason)             \
	do {                          \
		unit_skip = (reason); \
		return;               \
	} while (0)

#define UNIT_MAIN()                                                      \
	struct unit_test unit_tests[UNIT_MAX_TESTS];                     \
	int unit_nr_tests;                                               \
	int unit_failed;                                                 \
	const char *unit_skip;                                           \
	int main(int argc, char **argv)                                  \
	{                                                                \
		int i, bad = 0;                                          \
		printf("TAP version 13\n1..%d\n", unit_nr_tests);        \
		for (i = 0; i < unit_nr_tests; i++) {                    \
			unit_failed = 0;                                 \
			unit_skip = NULL;                                \
			fflush(stdout);                                  \
			unit_tests[i].fn();                              \
			if (unit_skip && !unit_failed)                   \
				printf("ok %d %s # SKIP %s\n", i + 1,    \
				       unit_tests[i].name, unit_skip);   \
			else                                             \
				printf("%sok %d %s\n",                   \
				       unit_failed ? "not " : "", i + 1, \
				       unit_tests[i].name);              \
			bad |= unit_failed;                              \
		}                                                        \
		return bad;                                              \
	}

#endif
