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
 *
 * What a test needs (a context, a scratch file, a pipe, buffers...) it
 * declares with its registration as a fixture (struct t_needs, below): the
 * harness makes it before the function runs and releases it afterwards,
 * so `out:` is left with only what the test made itself.
 */
#ifndef AIO_CONFORM_HARNESS_H
#define AIO_CONFORM_HARNESS_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
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

/*
 * Test flags.  Every test but the meta ones needs native AIO: on a kernel
 * without it (io_setup ENOSYS) they are skipped, not run.  A meta test that
 * uses AIO says so with T_AIO; a test that needs io_uring, with T_URING.
 */
#define T_FILE (1u << 0) /* does file I/O: runs once per variant */
#define T_META (1u << 1) /* the meta group: only with --meta */
#define T_META_RAW (1u << 2) /* raw meta tests: only with --meta-raw */
#define T_AIO (1u << 3) /* a meta test that needs native AIO */
#define T_URING (1u << 4) /* needs io_uring */

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

struct tctx;

/*
 * Fixtures: what a test needs, declared with its registration in the manner
 * of LTP's struct tst_test (.needs_*, .setup, .cleanup) and kselftest's
 * FIXTURE_SETUP/FIXTURE_TEARDOWN.  The harness makes them in the test's
 * child, in the test's directory (on its variant for a T_FILE test), before
 * the test function runs, and releases them when it returns, whatever its
 * verdict: the test finds them in struct tctx.  A fixture that cannot be
 * made ends the test before it runs: a skip with the reason when this
 * target cannot have it (O_DIRECT refused by the variant's filesystem,
 * io_setup EAGAIN from /proc/sys/fs/aio-max-nr, EMFILE or ENFILE, not root,
 * IOCB_CMD_POLL or io_pgetevents absent), else a failure naming the call.
 *
 * A worked example: a read through a context of 8 events from a 64 KiB
 * file of the suite's verify pattern (seed 1), opened O_DIRECT on the
 * variants that take it, buffered on the others, into an aligned buffer:
 *
 *	static int test_example(struct tctx *t)
 *	{
 *		struct io_event ev;
 *		struct iocb cb;
 *		int ret = T_PASS;
 *
 *		prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 4096, 8192);
 *		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
 *		CHECK_RES(ev, 4096);
 *		CHECK(pat_check(t->buf, 4096, 8192, 1) < 0, "wrong data");
 *	out:
 *		return ret;
 *	}
 *	CONFORM_TEST(test_example, "group.example", T_FILE, .ctx = 8,
 *		     .buf = 4096,
 *		     .file = T_PATTERN_FILE("data", 65536, 1, O_RDONLY,
 *					    .direct = T_DIRECT_IF_OK))
 *
 * Made in this order, released in the reverse one: system_wide, root,
 * pgetevents, file,
 * buf, buf2, iocbs, dev_zero, pipe, eventfd, ctx, ctx2, aio_poll, then the
 * test's own setup(); its cleanup() runs first.  A test that has to make
 * one later (after a mount, say) calls the t_fixture_*() function itself;
 * what it leaves in the tctx fields is released all the same.  A test that
 * destroys or moves a fixture itself (io_destroy, mremap of the ring) says
 * so in its field (t->ctx = 0, or the new handle).
 */
enum t_fill {
	T_EMPTY = 0, /* nothing written: size bytes of hole (ftruncate) */
	T_PATTERN, /* the verify pattern of seed (pat_fill()) */
	T_ZEROS, /* zeros, written */
};

enum t_direct {
	T_BUFFERED = 0,
	T_DIRECT, /* O_DIRECT, or a skip where the filesystem refuses it */
	T_DIRECT_IF_OK, /* O_DIRECT where taken, else buffered: t->direct */
};

struct t_file {
	const char *name; /* in the test's directory; NULL: no file */
	size_t size;
	enum t_fill fill;
	uint32_t seed; /* T_PATTERN's */
	int oflags; /* t->fd's: O_RDONLY, O_WRONLY or O_RDWR, O_APPEND... */
	enum t_direct direct;
	bool cold; /* dropped from the page cache once written */
};

/*
 * .file = T_PATTERN_FILE("data", 65536, 1, O_RDONLY): size bytes of the
 * verify pattern of seed; more fields may follow (.direct = T_DIRECT).
 */
#define T_PATTERN_FILE(name_, size_, seed_, oflags_, ...)        \
	{                                                        \
		.name = name_, .size = size_, .fill = T_PATTERN, \
		.seed = seed_, .oflags = oflags_, __VA_ARGS__    \
	}

enum t_efd {
	T_EFD_NONE = 0,
	T_EFD_BLOCKING, /* eventfd(0, EFD_CLOEXEC) */
	T_EFD_NONBLOCK, /* eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) */
};

struct t_needs {
	/*
	 * Changes what other processes on the machine see: what ("changes
	 * /proc/sys/fs/aio-max-nr machine-wide"); runs only with
	 * --system-wide, else a skip with that reason.  See t_sysctl_write().
	 */
	const char *system_wide;
	const char *root; /* needs root: why ("not root: <root>") */
	bool pgetevents; /* io_pgetevents (4.18): ENOSYS is a skip */
	struct t_file file; /* t->fd */
	size_t buf, buf2; /* t->buf, t->buf2: 4096-aligned, zeroed */
	unsigned int iocbs; /* t->cb[n], t->cbs[i] = &t->cb[i], t->ev[n] */
	bool dev_zero; /* t->zfd: /dev/zero, read-only (reads complete) */
	bool pipe; /* t->pipe[2] */
	enum t_efd eventfd; /* t->efd */
	unsigned int ctx, ctx2; /* io_setup(ctx) into t->ctx, t->ctx2 */
	bool aio_poll; /* IOCB_CMD_POLL (4.18), probed on t->ctx (.ctx) */
	/* The test's own fixture: a verdict (T_PASS goes on), and its undo. */
	int (*setup)(struct tctx *t);
	void (*cleanup)(struct tctx *t);
};

struct tctx {
	const struct conform_test *test;
	const struct variant *var; /* NULL for a test without file I/O */
	char dir[PATH_MAX]; /* a fresh directory, the child's cwd */
	char *reason; /* shared with the parent: the first reason */
	size_t reason_len;
	bool failed;
	bool limited; /* a low limit stopped it: a skip (t_aio_limit()) */
	/* The fixtures (struct t_needs); -1 or 0 for those not asked for. */
	aio_context_t ctx, ctx2;
	int fd; /* the scratch file */
	bool direct; /* fd is O_DIRECT */
	int pipe[2];
	int efd;
	int zfd;
	char *buf, *buf2;
	struct iocb *cb, **cbs;
	struct io_event *ev;
};

struct conform_test {
	const char *name;
	int (*fn)(struct tctx *t);
	unsigned int flags;
	unsigned int timeout_s; /* 0: the run's --timeout */
	struct t_needs needs;
	struct conform_test *next;
};

void conform_register(struct conform_test *ct);

/*
 * CONFORM_TEST(fn, name, flags, needs...): the needs are designated
 * initializers of struct t_needs (none for a test that needs nothing).
 */
#define CONFORM_TEST_FULL(fn_, name_, flags_, timeout_, ...)        \
	static struct conform_test ct_##fn_ = {                     \
		.name = name_,                                      \
		.fn = fn_,                                          \
		.flags = flags_,                                    \
		.timeout_s = timeout_,                              \
		.needs = { __VA_ARGS__ },                           \
	};                                                          \
	__attribute__((constructor)) static void ct_reg_##fn_(void) \
	{                                                           \
		conform_register(&ct_##fn_);                        \
	}
#define CONFORM_TEST(fn_, name_, flags_, ...) \
	CONFORM_TEST_FULL(fn_, name_, flags_, 0, __VA_ARGS__)

/*
 * Make the fixtures of needs, or say why not: T_PASS, T_SKIP or T_FAIL,
 * with the reason recorded.  Release them (what was made), in the child.
 */
int t_fixtures_setup(struct tctx *t, const struct t_needs *needs);
void t_fixtures_teardown(struct tctx *t, const struct t_needs *needs);
/* One fixture, made on demand: T_PASS, T_SKIP or T_FAIL, as above. */
int t_fixture_file(struct tctx *t, const struct t_file *f);
int t_fixture_pipe(struct tctx *t, int p[2]);

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

/*
 * Low limits are skips, not failures.  After io_setup(nr) failed with
 * EAGAIN: true, with the skip recorded, when /proc/sys/fs/aio-max-nr (and
 * what other processes use of it) leaves no room for nr.  After err from a
 * call that makes file descriptors: true, with the skip recorded, for
 * EMFILE or ENFILE (the open-file limit, ulimit -n).  Either way the test
 * ends as a skip even if it then returns T_FAIL.
 */
bool t_aio_limit(struct tctx *t, unsigned int nr);
bool t_fd_limit(struct tctx *t, int err);

/* cond must hold for a call that makes descriptors (errno on failure). */
#define CHECK_FDS(cond, ...)                        \
	do {                                        \
		if (!(cond)) {                      \
			if (t_fd_limit(t, errno)) { \
				ret = T_SKIP;       \
				goto out;           \
			}                           \
			FAIL(__VA_ARGS__);          \
		}                                   \
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

/*
 * System-wide changes, undone by the runner.  A test changes a /proc/sys
 * value with t_sysctl_write(), which records the old value in memory
 * shared with the runner before it writes: once the test's child is gone,
 * however it ended (its verdict, a crash, the watchdog's SIGKILL), the
 * runner puts the old value back, unless the value is neither the old one
 * nor the test's (then another process changed it since, and it is left).
 * A test that does so declares .system_wide.  t_undo_rmdir(),
 * t_undo_umount(): the runner removes an empty directory (a cgroup the
 * test made), detaches a mount, after the test.  Each 0 or -errno.
 */
int t_sysctl_write(struct tctx *t, const char *path, long val);
int t_undo_rmdir(struct tctx *t, const char *path);
int t_undo_umount(struct tctx *t, const char *path);

/*
 * Reads from block device dev kept in flight (inflight.c): the calling
 * test's process moves into a cgroup of its own that lets its reads from
 * dev through at iops per second and bps bytes per second (0: no limit)
 * with blk-throttle (cgroup v1 blkio.throttle.*, or v2 io.max), removed by
 * the runner after the test.  Only this process's I/O is slowed.  Where no
 * blkio or io controller is mounted, one is mounted for the test with
 * --system-wide only.  0, or -errno with the reason in why (for a skip).
 */
int t_throttle_reads(struct tctx *t, dev_t dev, unsigned int iops,
		     unsigned long long bps, char *why, size_t len);
/*
 * What the ring says, read as user-space reaping does (acquire): how many
 * events are in it, not yet reaped; whether one of them is cb's.  An iocb
 * submitted and not in the ring nor reaped is in flight.
 */
unsigned int t_ring_pending(aio_context_t ctx);
bool t_ring_has(aio_context_t ctx, const struct iocb *cb);

/*
 * A write that comes later, from another thread: one byte to fd (a pipe,
 * to complete a poll) after usec microseconds.  Start: 0 or -errno; the
 * test joins it on every path once started (started says so): 0, or -EIO
 * when the write failed.
 */
struct t_late_write {
	int fd;
	unsigned int usec;
	bool started;
	pthread_t th;
};
int t_late_write_start(struct t_late_write *w);
int t_late_write_join(struct t_late_write *w);
/*
 * The whole disk a file's I/O goes to: the variant's loop device, else the
 * disk of the file's st_dev.  0, or -ENODEV with the reason in why (tmpfs,
 * a filesystem without one block device).
 */
int t_disk_of(struct tctx *t, int fd, dev_t *dev, char *why, size_t len);

/*
 * How the tests prove that they can fail: run with AIO_CONFORM_MISBEHAVE
 * set to a comma-separated list of names, a test acts out the kernel bug
 * of each name it knows (it passes a zero timeout where the kernel should
 * wait, say): then it must fail, or skip where its precondition is gone.
 * Hidden: for tests/bats/conform-misbehave.bats.  True when asked for.
 */
bool t_misbehave(const char *name);

/* A kernel address: user pointers to it must be EFAULT. */
#define KERNEL_ADDR ((void *)(uintptr_t)0xffffffff81000000ull)

/*
 * The watchdog's view of a test (watchdog.c).  Every AIO system call a
 * test makes through aio_sys.h's sys_io_*() goes through these wrappers
 * instead: they record in a table shared with the runner the calls in
 * progress, the contexts made and the iocbs submitted and not yet reaped
 * (iocbs reaped from the ring in user space stay listed), so that a test
 * that times out can be described.  They return what the system call does.
 */
int t_io_setup(unsigned int nr, aio_context_t *ctxp);
int t_io_destroy(aio_context_t ctx);
int t_io_submit(aio_context_t ctx, long nr, struct iocb **cbs);
int t_io_getevents(aio_context_t ctx, long min_nr, long nr,
		   struct io_event *events, struct timespec *timeout);
int t_io_pgetevents(aio_context_t ctx, long min_nr, long nr,
		    struct io_event *events, struct timespec *timeout,
		    const struct aio_sigset *sig);
int t_io_cancel(aio_context_t ctx, struct iocb *iocb, struct io_event *result);

#ifndef WATCHDOG_NO_WRAP
#define sys_io_setup(...) t_io_setup(__VA_ARGS__)
#define sys_io_destroy(...) t_io_destroy(__VA_ARGS__)
#define sys_io_submit(...) t_io_submit(__VA_ARGS__)
#define sys_io_getevents(...) t_io_getevents(__VA_ARGS__)
#define sys_io_pgetevents(...) t_io_pgetevents(__VA_ARGS__)
#define sys_io_cancel(...) t_io_cancel(__VA_ARGS__)
#endif

/* Shared helpers (common.c).  Actions return 0 or -errno. */

/*
 * io_setup with a message on failure; an EAGAIN that aio-max-nr explains
 * is a skip (t_aio_limit()).
 */
int t_setup(struct tctx *t, unsigned int nr, aio_context_t *ctx);
/* Reap exactly n events, waiting at most 20 s: n or -errno/-ETIMEDOUT. */
int t_reap(aio_context_t ctx, int n, struct io_event *ev);
/* Submit one iocb and reap its event: 0, or -errno from io_submit. */
int t_submit_wait(aio_context_t ctx, struct iocb *cb, struct io_event *ev);
/* One iocb's result: -errno from io_submit, or the event's res. */
long t_result(aio_context_t ctx, struct iocb *cb);
/*
 * Submit to t->ctx a POLLIN poll (cb) on the read end of t->pipe (the
 * fixtures .ctx and .pipe): io_submit's return.  It completes when
 * t->pipe[1] is written.
 */
int t_submit_poll(struct tctx *t, struct iocb *cb);
/*
 * A new pipe p and a POLLIN poll (cb) on its read end, submitted to ctx
 * (a context of the test's own): T_PASS or a recorded failure.
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
/* fsync then drop the file's pages from the page cache: 0 or -errno. */
int t_drop_cache(int fd);
/* An aligned buffer (4096), or NULL; free with free(). */
void *t_alloc(size_t len);
/* Whether this variant takes O_DIRECT for a new file; else the reason. */
bool t_odirect_ok(struct tctx *t, char *why, size_t len);

/*
 * How big a test that repeats a race makes its loops: default_n at the
 * default size, full_n (the peers' own counts) with --long; either times
 * --scale N (default 1).  Never 0.
 */
unsigned int t_scaled(unsigned int default_n, unsigned int full_n);
/* --scale's N (1 unless given). */
unsigned int conform_scale(void);

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
	unsigned int deadline_s; /* the whole run; 0: none */
	unsigned int bail_after; /* stuck tests in a row that end the run */
	unsigned int kill_wait_s; /* how long a killed test may take to go */
	unsigned int scale; /* --scale: race loops' counts times this */
	bool long_counts; /* --long: the peers' full counts (t_scaled()) */
	const char *json_path;
	const char *taint_file; /* hidden: read instead of the kernel's */
	char scratch[PATH_MAX];
	const char *self; /* this program, for meta's inner run */
	bool meta;
	bool meta_raw;
	bool inject_warning;
	bool system_wide; /* --system-wide: run the .system_wide tests */
};

extern struct conform_opts conform_opts;

/*
 * Run the selected tests and report: the exit status (0, 1, or 128 + the
 * signal that interrupted the run).
 */
int conform_run(void);
/* Print the selected tests' names. */
void conform_list(void);
bool conform_selected(const struct conform_test *ct);
/* Stopped by a signal, the deadline or a bail-out. */
bool conform_stopped(void);
/* The -t pattern that selects no test, or NULL; or "" when none is. */
const char *conform_unmatched(void);
/*
 * Write the JSON file now, as an incomplete run with no results: whether
 * it can be written is known before the run.  0 or -errno.
 */
int conform_json_start(void);
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

/*
 * undo.c: the registry of system-wide changes, shared with every test
 * child: made once before the first fork (0 or -errno); undone after each
 * test, newest first, with a "# " line for what was put back (last: the
 * end of the run, when a directory still busy is given up).
 */
int undo_init(void);
void undo_run(const char *indent, const char *test, bool last);

/* meta.c: run the inner raw meta tests once, before the meta group. */
void meta_prepare(void);

/* Remove a directory tree: 0 or -errno. */
int rm_tree(const char *path);

/* The watchdog's report on a test that timed out (watchdog.c). */

#define WD_SHOW_IOCBS 16
#define WD_SHOW 8

struct wd_proc {
	int pid;
	char state; /* as in /proc/PID/stat; '?' when gone */
	char wchan[64];
	char stack[1536]; /* /proc/PID/stack, root only; lines */
};

struct wd_report {
	long aio_nr; /* -1 when unreadable */
	int nr_iocbs; /* submitted and not reaped, in the table */
	unsigned int untracked; /* more than the table holds */
	struct {
		int pid;
		uint64_t ctx, offset, nbytes, age_ns;
		unsigned int opcode, fd;
	} iocb[WD_SHOW_IOCBS];
	int nr_calls;
	struct {
		int tid;
		const char *call;
		uint64_t ctx, age_ns;
		long nr;
	} call[WD_SHOW];
	int nr_rings;
	struct {
		int pid;
		uint64_t ctx;
		bool read; /* false: the mapping could not be read */
		unsigned int nr, head, tail;
	} ring[WD_SHOW];
	int nr_procs;
	struct wd_proc proc[WD_SHOW];
	int nr_hung; /* hung-task lines from the kernel log */
	char hung[4][256];
	int nr_left; /* processes SIGKILL could not end */
	struct wd_proc left[WD_SHOW];
};

/* The table a test child shares with the runner. */
struct wd_table;
struct wd_table *wd_table_new(void);
void wd_table_free(struct wd_table *tab);
/* Where the child's first reason goes (REASON_LEN bytes). */
char *wd_reason(struct wd_table *tab);
size_t wd_reason_len(void);
/* In the child: make the wrappers record into tab. */
void wd_attach(struct wd_table *tab);
/* iocbs taken and events reaped so far by the child of tab. */
unsigned long wd_progress(struct wd_table *tab);
/* In the runner: describe the test whose child is pid. */
void wd_collect(struct wd_table *tab, pid_t pid, struct wd_report *rep);
/* One process's state, wchan and (as root) kernel stack. */
void wd_proc_read(pid_t pid, struct wd_proc *p);
/* KTAP diagnostics, each line "<indent># <name>: ...". */
void wd_print(const struct wd_report *rep, const char *indent,
	      const char *name);
struct json;
/* The report as a JSON object under key. */
void wd_json(struct json *j, const char *key, const struct wd_report *rep);
const char *wd_opcode_name(unsigned int opcode);
