/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-conform's test harness: registration, verdicts, assertions and the
 * helpers every behaviour group shares.
 *
 * A test is a static function registered by name with CONFORM_TEST().  The
 * runner forks a child per test (and per variant, for tests that do file
 * I/O), runs the function there with a watchdog, and reports KTAP.  The
 * function returns its verdict: T_PASS, T_FAIL, T_SKIP or T_XFAIL, which
 * the child passes back as its exit status (liburing's 0/1/77 contract, and
 * 78 for an expected failure).
 *
 * Assertions follow kselftest_harness: (expected, seen) in messages, and
 * the first failure ends the test through the function's one cleanup
 * label.  They need `int ret = T_PASS;` and an `out:` label in scope.
 */
#ifndef AIO_CONFORM_HARNESS_H
#define AIO_CONFORM_HARNESS_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aio_sys.h"

enum t_verdict {
	T_PASS = 0,
	T_FAIL = 1,
	T_SKIP = 77,
	T_XFAIL = 78,
};

/* Test flags. */
#define T_FILE (1u << 0) /* does file I/O: runs once per variant */
#define T_META (1u << 1) /* the meta group: only with --meta */
#define T_META_RAW (1u << 2) /* raw meta tests: only with --meta-raw */

/* A target a T_FILE test runs on (variants.c). */
struct variant {
	const char *name; /* "scratch", "tmpfs", "ext4", "xfs", "btrfs" */
	char dir[PATH_MAX]; /* where its test directories go */
	char fstype[32];
	char skip[PATH_MAX + 160]; /* why this variant is unavailable, or "" */
	bool selected;
	/* private to variants.c */
	char image[PATH_MAX];
	char loopdev[64];
	bool mounted;
};

struct tctx {
	const struct conform_test *test;
	const struct variant *var; /* NULL for a test without file I/O */
	char dir[PATH_MAX]; /* a fresh directory, the child's cwd */
	char *reason; /* shared with the parent: the first reason */
	size_t reason_len;
	bool failed;
};

struct conform_test {
	const char *name;
	int (*fn)(struct tctx *t);
	unsigned int flags;
	unsigned int timeout_s; /* 0: the run's --timeout */
	struct conform_test *next;
};

void conform_register(struct conform_test *ct);

#define CONFORM_TEST_FULL(fn_, name_, flags_, timeout_)             \
	static struct conform_test ct_##fn_ = {                     \
		.name = name_,                                      \
		.fn = fn_,                                          \
		.flags = flags_,                                    \
		.timeout_s = timeout_,                              \
	};                                                          \
	__attribute__((constructor)) static void ct_reg_##fn_(void) \
	{                                                           \
		conform_register(&ct_##fn_);                        \
	}
#define CONFORM_TEST(fn_, name_, flags_) \
	CONFORM_TEST_FULL(fn_, name_, flags_, 0)

/* Verdicts with a reason; each returns the verdict. */
int t_fail(struct tctx *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int t_skip(struct tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int t_xfail(struct tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A "# " diagnostic line, indented to the test's level. */
void t_diag(struct tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "EINVAL" for EINVAL; a number for an unknown value. */
const char *errno_name(int err);

#define FAIL(...)                                                 \
	do {                                                      \
		ret = t_fail(t, __FILE__, __LINE__, __VA_ARGS__); \
		goto out;                                         \
	} while (0)
#define SKIP(...)                             \
	do {                                  \
		ret = t_skip(t, __VA_ARGS__); \
		goto out;                     \
	} while (0)
#define XFAIL(...)                             \
	do {                                   \
		ret = t_xfail(t, __VA_ARGS__); \
		goto out;                      \
	} while (0)
#define CHECK(cond, ...)                   \
	do {                               \
		if (!(cond))               \
			FAIL(__VA_ARGS__); \
	} while (0)

/* call must fail with -1 and errno err. */
#define CHECK_ERR(call, err)                                          \
	do {                                                          \
		long r_;                                              \
		int e_;                                               \
		errno = 0;                                            \
		r_ = (long)(call);                                    \
		e_ = errno;                                           \
		if (r_ != -1 || e_ != (err))                          \
			FAIL("%s: expected -1 %s, got %ld %s", #call, \
			     errno_name(err), r_,                     \
			     r_ == -1 ? errno_name(e_) : "");         \
	} while (0)

/* call must return exactly expected. */
#define CHECK_RET(call, expected)                                   \
	do {                                                        \
		long r_;                                            \
		int e_;                                             \
		errno = 0;                                          \
		r_ = (long)(call);                                  \
		e_ = errno;                                         \
		if (r_ != (long)(expected))                         \
			FAIL("%s: expected %ld, got %ld %s", #call, \
			     (long)(expected), r_,                  \
			     r_ == -1 ? errno_name(e_) : "");       \
	} while (0)

/* An io_event's res must be expected (a count, or -errno). */
#define CHECK_RES(ev, expected)                                               \
	do {                                                                  \
		if ((ev).res != (int64_t)(expected))                          \
			FAIL("event res: expected %lld, got %lld%s%s",        \
			     (long long)(expected), (long long)(ev).res,      \
			     (ev).res < 0 ? " " : "",                         \
			     (ev).res < 0 ? errno_name((int)-(ev).res) : ""); \
	} while (0)

/* A kernel address: user pointers to it must be EFAULT. */
#define KERNEL_ADDR ((void *)(uintptr_t)0xffffffff81000000ull)

/* Shared helpers (common.c).  Actions return 0 or -errno. */

/* io_setup with a message on failure. */
int t_setup(struct tctx *t, unsigned int nr, aio_context_t *ctx);
/* Reap exactly n events, waiting at most 20 s: n or -errno/-ETIMEDOUT. */
int t_reap(aio_context_t ctx, int n, struct io_event *ev);
/* Submit one iocb and reap its event: 0, or -errno from io_submit. */
int t_submit_wait(aio_context_t ctx, struct iocb *cb, struct io_event *ev);
/* One iocb's result: -errno from io_submit, or the event's res. */
long t_result(aio_context_t ctx, struct iocb *cb);
/*
 * A new pipe p and a POLLIN poll (cb) on its read end, submitted to ctx;
 * it completes when p[1] is written.  T_PASS or a recorded failure.
 */
int t_pipe_poll(struct tctx *t, aio_context_t ctx, int p[2], struct iocb *cb);
/* Close both ends of pipe p, unless p[0] < 0 (none was made). */
void t_close_pipe(int p[2]);

/* prep_rw() is in aio_sys.h: the tools use it too. */
void prep_poll(struct iocb *cb, int fd, short events);
void prep_fsync(struct iocb *cb, int fd, bool data_only);

/*
 * The bytes [off, off + len) of a file written with pattern seed: the
 * self-describing blocks of src/lib/verify.h, PAT_BLOCK bytes each.
 */
#define PAT_BLOCK 512
void pat_fill(void *buf, size_t len, uint64_t off, uint32_t seed);
/* Index of the first wrong byte, or -1 when all match. */
long pat_check(const void *buf, size_t len, uint64_t off, uint32_t seed);

/* Open name in the test's directory: fd or -errno. */
int t_open(struct tctx *t, const char *name, int flags);
/* A file of size bytes of pattern seed, opened with flags: fd or -errno. */
int t_pattern_file(struct tctx *t, const char *name, size_t size, uint32_t seed,
		   int flags);
/* fsync then drop the file's pages from the page cache: 0 or -errno. */
int t_drop_cache(int fd);
/* An aligned buffer (4096), or NULL; free with free(). */
void *t_alloc(size_t len);
/* Whether this variant takes O_DIRECT for a new file; else the reason. */
bool t_odirect_ok(struct tctx *t, char *why, size_t len);

/* Read a number from a /proc file: 0 or -errno. */
int read_proc_long(const char *path, long *val);
int write_proc_long(const char *path, long val);

bool is_root(void);
/* Poll for a child's exit for up to timeout_ms: true when reaped. */
bool wait_child(pid_t pid, int *status, unsigned int timeout_ms);

#endif

/* The runner (harness.c, main.c, variants.c, meta.c). */

struct conform_opts {
	const char *include[16];
	int nr_include;
	const char *exclude[16];
	int nr_exclude;
	unsigned int timeout_s;
	const char *json_path;
	char scratch[PATH_MAX];
	const char *self; /* this program, for meta's inner run */
	bool meta;
	bool meta_raw;
	bool inject_warning;
};

extern struct conform_opts conform_opts;

/* Run the selected tests and report: the exit status (0 or 1). */
int conform_run(void);
/* Print the selected tests' names. */
void conform_list(void);
bool conform_selected(const struct conform_test *ct);
bool conform_stopped(void);
/* Root and /dev/kmsg open: the kernel log is scanned. */
bool kmsg_usable(void);

/* The variant table. */
int variants_count(void);
struct variant *variant_at(int i);
/* Select by comma-separated names: 0, or -EINVAL with *bad set. */
int variants_select(const char *names, const char **bad);
/* Prepare the selected variants under scratch (images, mounts). */
void variants_setup(const char *scratch);
void variants_teardown(void);

/* meta.c: run the inner raw meta tests once, before the meta group. */
void meta_prepare(void);

/* Remove a directory tree: 0 or -errno. */
int rm_tree(const char *path);
