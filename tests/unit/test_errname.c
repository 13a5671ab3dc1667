/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the errno and signal names of src/lib/errname.c.  Known
 * names, NULL for what has none, and, where the C library has
 * strerrorname_np() and sigabbrev_np() (glibc 2.32 and later), the same
 * answer as the C library for every value.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "errname.h"
#include "unit.h"

/*
 * Weak: NULL when the C library lacks them (glibc before 2.32), so the
 * same test binary builds and runs on Debian 11 and on newer systems.
 */
extern const char *strerrorname_np(int err) __attribute__((weak));
extern const char *sigabbrev_np(int sig) __attribute__((weak));

#define EXPECT_NAME(want, seen)                                               \
	do {                                                                  \
		const char *s_ = (seen);                                      \
		if (!s_ || strcmp(want, s_))                                  \
			UNIT_FAIL("expected %s == \"%s\", saw %s%s%s", #seen, \
				  want, s_ ? "\"" : "", s_ ? s_ : "NULL",     \
				  s_ ? "\"" : "");                            \
	} while (0)

UNIT_TEST(errno_abbrev_names_common_values)
{
	EXPECT_NAME("EINVAL", errno_abbrev(EINVAL));
	EXPECT_NAME("ENOSYS", errno_abbrev(ENOSYS));
	EXPECT_NAME("EPERM", errno_abbrev(EPERM));
	EXPECT_NAME("EAGAIN", errno_abbrev(EWOULDBLOCK));
	EXPECT_NAME("EOPNOTSUPP", errno_abbrev(EOPNOTSUPP));
	EXPECT_NAME("EHWPOISON", errno_abbrev(EHWPOISON));
}

UNIT_TEST(errno_abbrev_names_kernel_internal_values)
{
	EXPECT_NAME("ERESTARTSYS", errno_abbrev(512));
	EXPECT_NAME("ENOTSUPP", errno_abbrev(524));
	EXPECT_NAME("EIOCBQUEUED", errno_abbrev(529));
}

UNIT_TEST(errno_abbrev_has_no_name_for_zero_negative_or_unknown)
{
	EXPECT_TRUE(errno_abbrev(0) == NULL);
	EXPECT_TRUE(errno_abbrev(-EINVAL) == NULL);
	EXPECT_TRUE(errno_abbrev(520) == NULL);
	EXPECT_TRUE(errno_abbrev(4095) == NULL);
	EXPECT_TRUE(errno_abbrev(INT_MAX) == NULL);
	EXPECT_TRUE(errno_abbrev(INT_MIN) == NULL);
}

/*
 * ours(v) and libc(v) name every v in [1, end) alike; from internal_from
 * on, ours may name what the C library does not (the kernel's own errnos).
 */
static void agrees(const char *what, const char *(*ours)(int),
		   const char *(*libc)(int), int end, int internal_from)
{
	const char *o, *l;
	int v;

	for (v = 1; v < end; v++) {
		o = ours(v);
		l = libc(v);
		if (!l && o && v >= internal_from)
			continue;
		if (!l != !o || (l && strcmp(l, o)))
			UNIT_FAIL("%s %d: the C library says %s, ours %s", what,
				  v, l ? l : "NULL", o ? o : "NULL");
	}
}

UNIT_TEST(errno_abbrev_agrees_with_the_c_library)
{
	if (!strerrorname_np)
		UNIT_SKIP(
			"the C library has no strerrorname_np (glibc before 2.32)");
	agrees("errno", errno_abbrev, strerrorname_np, 4096, 512);
}

UNIT_TEST(signal_abbrev_names_common_signals)
{
	EXPECT_NAME("SEGV", signal_abbrev(SIGSEGV));
	EXPECT_NAME("KILL", signal_abbrev(SIGKILL));
	EXPECT_NAME("BUS", signal_abbrev(SIGBUS));
	EXPECT_NAME("TERM", signal_abbrev(SIGTERM));
	EXPECT_TRUE(signal_abbrev(0) == NULL);
	EXPECT_TRUE(signal_abbrev(-SIGKILL) == NULL);
	EXPECT_TRUE(signal_abbrev(SIGRTMIN) == NULL);
	EXPECT_TRUE(signal_abbrev(1000) == NULL);
}

UNIT_TEST(signal_abbrev_agrees_with_the_c_library)
{
	if (!sigabbrev_np)
		UNIT_SKIP(
			"the C library has no sigabbrev_np (glibc before 2.32)");
	agrees("signal", signal_abbrev, sigabbrev_np, 128, 128);
}

UNIT_MAIN()
