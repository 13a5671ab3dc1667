/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the meta group proves the harness.  The raw meta tests
 * (--meta-raw) pass, fail, skip, expect a failure, hang past their watchdog,
 * crash with SIGSEGV and SIGABRT, (only with --inject-warning, as root)
 * leave a WARNING line in the kernel log, hang with iocbs in flight, taint
 * the kernel (simulated: see raw_taint), call exit(), leave a grandchild
 * that escaped their process group, hit the open-file limit and
 * aio-max-nr, and need io_uring.  The meta group (--meta) runs them once
 * in an inner aio-conform, then checks, one test per path, that each was
 * reported as what it did: in the JSON results, in the exit status and in
 * the KTAP stream.  Some meta tests make their own inner run: a bail-out
 * on processes the kernel will not let die (made for real, in an
 * uninterruptible sleep on a FUSE request that is never answered), the
 * run's --deadline, SIGINT, and the runner as pid 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fuse_srv.h"
#include "harness.h"
#include "proc.h"
#include "target.h"
#include "util.h"

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif

/* Set for the inner runs: where to leave notes, and which special run. */
#define ENV_DIR "AIO_CONFORM_META_DIR"
#define ENV_RUN "AIO_CONFORM_META_RUN"

#define META_MSG "deliberate failure from meta.raw.fail"

static int raw_pass(struct tctx *t)
{
	return T_PASS;
}
CONFORM_TEST(raw_pass, "meta.raw.pass", T_META_RAW)

static int raw_fail(struct tctx *t)
{
	int ret = T_PASS;

	CHECK(1 + 1 == 3, META_MSG);
out:
	return ret;
}
CONFORM_TEST(raw_fail, "meta.raw.fail", T_META_RAW)

static int raw_skip(struct tctx *t)
{
	return t_skip(t, "deliberate skip from meta.raw.skip");
}
CONFORM_TEST(raw_skip, "meta.raw.skip", T_META_RAW)

static int raw_xfail(struct tctx *t)
{
	return t_xfail(t, "deliberate expected failure (meta.raw.xfail)");
}
CONFORM_TEST(raw_xfail, "meta.raw.xfail", T_META_RAW)

static int raw_hang(struct tctx *t)
{
	for (;;)
		pause();
	return T_PASS;
}
CONFORM_TEST_FULL(raw_hang, "meta.raw.timeout", T_META_RAW, 1)

static volatile uintptr_t segv_addr = 16;

static int raw_segv(struct tctx *t)
{
	volatile int *p = (volatile int *)segv_addr;

	signal(SIGSEGV, SIG_DFL);
	*p = 1;
	return T_PASS;
}
CONFORM_TEST(raw_segv, "meta.raw.segv", T_META_RAW)

static int raw_abort(struct tctx *t)
{
	abort();
	return T_PASS;
}
CONFORM_TEST(raw_abort, "meta.raw.abort", T_META_RAW)

/* Its grandchild hangs too: the whole process group must go. */
static int raw_grandchild(struct tctx *t)
{
	pid_t pid = fork();

	if (pid == 0)
		for (;;)
			pause();
	for (;;)
		pause();
	return T_PASS;
}
CONFORM_TEST_FULL(raw_grandchild, "meta.raw.grandchild_timeout", T_META_RAW, 1)

static int raw_dmesg(struct tctx *t)
{
	int fd, n, ret = T_PASS;
	char line[128];
	ssize_t w;

	if (!conform_opts.inject_warning)
		SKIP("kernel log injection not asked for (--inject-warning)");
	if (!is_root() || !kmsg_usable())
		SKIP("kernel log scan needs root and /dev/kmsg");
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open /dev/kmsg: %s", errno_name(errno));
	/* The run's pid: other runs scanning the log leave it alone. */
	n = snprintf(line, sizeof(line),
		     "<4>aio-conform meta (run %d): WARNING: "
		     "injected on request by --inject-warning\n",
		     (int)getppid());
	w = write(fd, line, (size_t)n);
	close(fd);
	CHECK(w == n, "write /dev/kmsg: %s", errno_name(errno));
out:
	return ret;
}
CONFORM_TEST(raw_dmesg, "meta.raw.dmesg_warning", T_META_RAW)

static int raw_variants(struct tctx *t)
{
	int fd = t_open(t, "f", O_RDWR | O_CREAT);

	if (fd < 0)
		return t_fail(t, __FILE__, __LINE__, "create: %s",
			      errno_name(-fd));
	close(fd);
	return T_PASS;
}
CONFORM_TEST(raw_variants, "meta.raw.variants", T_FILE | T_META_RAW)

/* Whether this inner run is the special run named: else a skip reason. */
static bool in_run(const char *name)
{
	const char *run = getenv(ENV_RUN);

	return run && !strcmp(run, name);
}

/*
 * A hang with iocbs in flight, for the watchdog's report: on context A a
 * read of /dev/zero at offset 8192 (complete, left in the ring) and a poll
 * that never completes; on context B a poll, waited for in io_getevents.
 */
static int raw_watchdog(struct tctx *t)
{
	struct iocb rd, pa, pb, *cbs[2] = { &rd, &pa }, *cbb[1] = { &pb };
	struct io_event ev;
	int ret = T_PASS;
	static char buf[4096];

	prep_rw(&rd, IOCB_CMD_PREAD, t->zfd, buf, sizeof(buf), 8192);
	prep_poll(&pa, t->pipe[0], POLLIN);
	prep_poll(&pb, t->pipe[0], POLLIN);
	CHECK_RET(sys_io_submit(t->ctx, 2, cbs), 2);
	CHECK_RET(sys_io_submit(t->ctx2, 1, cbb), 1);
	/* The watchdog (1 s) ends this. */
	sys_io_getevents(t->ctx2, 1, 1, &ev, NULL);
	FAIL("io_getevents returned: the poll completed");
out:
	return ret;
}
CONFORM_TEST_FULL(raw_watchdog, "meta.raw.watchdog", T_META_RAW | T_AIO, 1,
		  .ctx = 8, .ctx2 = 8, .dev_zero = true, .pipe = true)

/*
 * One read of /dev/zero submitted and reaped every 50 ms, for ms in all
 * (0: for ever): a test that is slow but moving.
 */
static int read_zero_for(struct tctx *t, unsigned int ms)
{
	static char buf[512];
	struct iocb cb, *cbs[1] = { &cb };
	struct timespec nap = { 0, 50000000 };
	struct io_event ev;
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	int ret = T_PASS;

	while (!ms || now_ns() < end) {
		prep_rw(&cb, IOCB_CMD_PREAD, t->zfd, buf, sizeof(buf), 0);
		CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
		CHECK_RET(sys_io_getevents(t->ctx, 1, 1, &ev, NULL), 1);
		nanosleep(&nap, NULL);
	}
out:
	return ret;
}

/* 2.5 s with a 1 s watchdog, reading all along: it runs to its end. */
static int raw_slow_moving(struct tctx *t)
{
	return read_zero_for(t, 2500);
}
CONFORM_TEST_FULL(raw_slow_moving, "meta.raw.moving_slowly", T_META_RAW | T_AIO,
		  1, .ctx = 8, .dev_zero = true)

/* Reads for ever: more time only up to the cap. */
static int raw_moving_forever(struct tctx *t)
{
	return read_zero_for(t, 0);
}
CONFORM_TEST_FULL(raw_moving_forever, "meta.raw.moving_forever",
		  T_META_RAW | T_AIO, 1, .ctx = 8, .dev_zero = true)

/*
 * A new kernel taint, simulated: the host kernel cannot be tainted safely,
 * so the inner run reads its taint flags from --taint-file, and this test
 * sets bit 9 (W, a kernel warning) in that file.  What is proven is the
 * runner's before/after comparison and its naming of the bits.
 */
static int raw_taint(struct tctx *t)
{
	long v = 0;
	int ret = T_PASS;

	if (!conform_opts.taint_file)
		SKIP("needs --taint-file (the meta group's simulated taint)");
	CHECK(!read_proc_long(conform_opts.taint_file, &v), "read %s",
	      conform_opts.taint_file);
	CHECK(!write_proc_long(conform_opts.taint_file, v | (1L << 9)),
	      "write %s", conform_opts.taint_file);
out:
	return ret;
}
CONFORM_TEST(raw_taint, "meta.raw.taint", T_META_RAW)

/* A test that calls exit(): atexit handlers run in the child. */
static int raw_exit(struct tctx *t)
{
	fflush(stdout);
	exit(0);
}
CONFORM_TEST(raw_exit, "meta.raw.calls_exit", T_FILE | T_META_RAW)

/* After raw_exit: the variants it ran on are still there. */
static int raw_after_exit(struct tctx *t)
{
	char fstype[32] = "";
	int ret = T_PASS;

	CHECK(!target_fstype(t->var->dir, fstype, sizeof(fstype)),
	      "statfs %s: %s", t->var->dir, errno_name(errno));
	if (!strcmp(t->var->name, "tmpfs"))
		CHECK(!strcmp(fstype, "tmpfs"),
		      "the tmpfs variant's %s is on %s now: unmounted",
		      t->var->dir, fstype);
out:
	return ret;
}
CONFORM_TEST(raw_after_exit, "meta.raw.variants_after_exit",
	     T_FILE | T_META_RAW)

/*
 * A grandchild that leaves the process group (setsid) and sleeps: the
 * runner, a child subreaper, must still kill it.  Its pid and start time
 * go to $AIO_CONFORM_META_DIR/escaped for the meta group to check.
 */
static int raw_escape(struct tctx *t)
{
	const char *dir = getenv(ENV_DIR);
	int ret = T_PASS, *sync = t->pipe;
	char c;
	pid_t pid;

	if (!dir)
		SKIP("needs the meta group (%s)", ENV_DIR);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", errno_name(errno));
	if (pid == 0) {
		unsigned long long start = 0;
		char path[PATH_MAX];
		FILE *f;

		setsid();
		proc_start_time(getpid(), &start);
		snprintf(path, sizeof(path), "%s/escaped", dir);
		f = fopen(path, "w");
		if (f) {
			fprintf(f, "%d %llu\n", (int)getpid(), start);
			fclose(f);
		}
		(void)!write(sync[1], "x", 1);
		for (;;)
			pause();
	}
	CHECK(read(sync[0], &c, 1) == 1, "the grandchild did not start");
out:
	return ret;
}
CONFORM_TEST(raw_escape, "meta.raw.escaped_grandchild", T_META_RAW,
	     .pipe = true)

/* Out of file descriptors: a skip naming the limit. */
static int raw_emfile(struct tctx *t)
{
	struct rlimit rl;
	int ret = T_PASS, p[2] = { -1, -1 };

	CHECK(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit: %s",
	      errno_name(errno));
	rl.rlim_cur = 3;
	CHECK(!setrlimit(RLIMIT_NOFILE, &rl), "setrlimit: %s",
	      errno_name(errno));
	CHECK_FDS(!pipe(p), "pipe with ulimit -n 3 worked");
out:
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(raw_emfile, "meta.raw.emfile", T_META_RAW)

/* Past aio-max-nr, for real: the kernel's EAGAIN is a skip. */
static int raw_aio_limit(struct tctx *t)
{
	aio_context_t ctx = 0;
	int ret = T_PASS;
	long max;

	CHECK(!read_proc_long("/proc/sys/fs/aio-max-nr", &max),
	      "read aio-max-nr");
	if (max + 1 > 0x10000000L / 64)
		SKIP("aio-max-nr %ld is above the ring size limit", max);
	if (!t_setup(t, (unsigned int)max + 1, &ctx))
		FAIL("io_setup(%ld) past aio-max-nr %ld worked", max + 1, max);
	ret = T_FAIL; /* a skip when t_setup() said so */
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(raw_aio_limit, "meta.raw.aio_limit", T_META_RAW | T_AIO)

/* Needs io_uring: a skip when this kernel (or a filter) refuses it. */
static int raw_uring(struct tctx *t)
{
	unsigned char params[128] = { 0 };
	int fd = (int)syscall(__NR_io_uring_setup, 1, params);

	if (fd < 0)
		return t_fail(t, __FILE__, __LINE__, "io_uring_setup: %s",
			      errno_name(errno));
	close(fd);
	return T_PASS;
}
CONFORM_TEST(raw_uring, "meta.raw.io_uring", T_META_RAW | T_URING)

/*
 * Every fixture, as declared: made before the test function (and before
 * its own setup(), which checks that), each as asked for.
 */
#define FX_SIZE (3 * 4096 + 100)
#define FX_SEED 31

static bool fx_setup_saw_all;

static int fx_setup(struct tctx *t)
{
	fx_setup_saw_all = t->ctx && t->ctx2 && t->fd >= 0 && t->buf &&
			   t->buf2 && t->cb && t->zfd >= 0 && t->pipe[0] >= 0 &&
			   t->efd >= 0;
	return T_PASS;
}

static bool all_zero(const char *p, size_t len)
{
	return !p[0] && !memcmp(p, p + 1, len - 1);
}

static int raw_fixtures(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	struct stat st;
	uint64_t count;
	int ret = T_PASS, fl, i;
	char c = 'x';

	CHECK(fx_setup_saw_all, "setup() ran before the other fixtures");
	CHECK(t->ctx && t->ctx2 && t->ctx != t->ctx2, "contexts %llx %llx",
	      (unsigned long long)t->ctx, (unsigned long long)t->ctx2);
	CHECK(aio_ring_of(t->ctx)->magic == AIO_RING_MAGIC &&
		      aio_ring_of(t->ctx)->nr >= 4 &&
		      aio_ring_of(t->ctx2)->nr >= 2,
	      "the contexts' rings are not io_setup's of 4 and 2");
	CHECK(!fstat(t->fd, &st) && st.st_size == FX_SIZE, "file size %lld",
	      (long long)st.st_size);
	fl = fcntl(t->fd, F_GETFL);
	CHECK((fl & O_ACCMODE) == O_RDONLY, "file opened 0%o", fl);
	CHECK(!!(fl & O_DIRECT) == t->direct, "O_DIRECT 0%o, t->direct %d",
	      fl & O_DIRECT, t->direct);
	CHECK(!((uintptr_t)t->buf % 4096) && all_zero(t->buf, 8192) &&
		      all_zero(t->buf2, 512),
	      "buffers not aligned or not zeroed");
	/* A short read at the end of the file: its size and contents. */
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 8192, 8192);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, FX_SIZE - 8192);
	CHECK(pat_check(t->buf, FX_SIZE - 8192, 8192, FX_SEED) < 0,
	      "the file is not the pattern of seed %d", FX_SEED);
	for (i = 0; i < 3; i++)
		CHECK(t->cbs[i] == &t->cb[i], "cbs[%d] is not &cb[%d]", i, i);
	CHECK(read(t->zfd, t->buf2, 512) == 512 && all_zero(t->buf2, 512),
	      "/dev/zero");
	CHECK(write(t->pipe[1], &c, 1) == 1 && read(t->pipe[0], &c, 1) == 1,
	      "the pipe");
	CHECK(read(t->efd, &count, 8) == -1 && errno == EAGAIN,
	      "the eventfd is not a non-blocking one at 0");
out:
	return ret;
}
CONFORM_TEST(raw_fixtures, "meta.raw.fixtures", T_FILE | T_META_RAW | T_AIO,
	     .ctx = 4, .ctx2 = 2, .buf = 8192, .buf2 = 512, .iocbs = 3,
	     .dev_zero = true, .pipe = true, .eventfd = T_EFD_NONBLOCK,
	     .aio_poll = true, .pgetevents = true, .setup = fx_setup,
	     .file = T_PATTERN_FILE("fx", FX_SIZE, FX_SEED, O_RDONLY,
				    .direct = T_DIRECT_IF_OK, .cold = true))

/* A file of zeros, written (blocks allocated), and one of a hole. */
#define FX_ZEROS_SIZE (8192 + 5)
#define FX_HOLE_SIZE (1 << 20)

static int raw_fixture_zeros(struct tctx *t)
{
	char buf[FX_ZEROS_SIZE + 1];
	struct stat st;
	int ret = T_PASS;

	CHECK(!fstat(t->fd, &st) && st.st_size == FX_ZEROS_SIZE &&
		      st.st_blocks > 0,
	      "size %lld, %lld blocks", (long long)st.st_size,
	      (long long)st.st_blocks);
	CHECK(pread(t->fd, buf, sizeof(buf), 0) == FX_ZEROS_SIZE &&
		      all_zero(buf, FX_ZEROS_SIZE),
	      "not %d bytes of zeros", FX_ZEROS_SIZE);
out:
	return ret;
}
CONFORM_TEST(raw_fixture_zeros, "meta.raw.fixture_zeros", T_FILE | T_META_RAW,
	     .file = { .name = "z",
		       .size = FX_ZEROS_SIZE,
		       .fill = T_ZEROS,
		       .oflags = O_RDWR })

static int raw_fixture_hole(struct tctx *t)
{
	struct stat st;
	int ret = T_PASS;

	CHECK(!fstat(t->fd, &st) && st.st_size == FX_HOLE_SIZE &&
		      st.st_blocks == 0,
	      "size %lld, %lld blocks: not a hole of %d bytes",
	      (long long)st.st_size, (long long)st.st_blocks, FX_HOLE_SIZE);
	CHECK((fcntl(t->fd, F_GETFL) & O_ACCMODE) == O_WRONLY,
	      "not opened write-only");
out:
	return ret;
}
CONFORM_TEST(raw_fixture_hole, "meta.raw.fixture_hole", T_FILE | T_META_RAW,
	     .file = { .name = "h", .size = FX_HOLE_SIZE, .oflags = O_WRONLY })

/*
 * The test's cleanup() runs after a failure, with the fixtures still
 * there; it says so in $AIO_CONFORM_META_DIR/fixture_cleanup.
 */
static void fx_cleanup(struct tctx *t)
{
	const char *dir = getenv(ENV_DIR);
	struct timespec ts = { 0, 0 };
	char path[PATH_MAX];
	struct io_event ev;
	FILE *f;

	if (!dir || snprintf(path, sizeof(path), "%s/fixture_cleanup", dir) >=
			    (int)sizeof(path))
		return;
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "failed %d ctx %s pipe %s\n", t->failed,
		sys_io_getevents(t->ctx, 0, 1, &ev, &ts) == 0 ? "live" : "gone",
		fcntl(t->pipe[1], F_GETFD) >= 0 ? "open" : "closed");
	fclose(f);
}

static int raw_fixture_cleanup(struct tctx *t)
{
	int ret = T_PASS;

	CHECK(t->ctx == 0, "deliberate failure with fixtures (meta)");
out:
	return ret;
}
CONFORM_TEST(raw_fixture_cleanup, "meta.raw.fixture_cleanup",
	     T_META_RAW | T_AIO, .ctx = 1, .pipe = true, .cleanup = fx_cleanup)

/* Fixtures made on demand: EMFILE from t_fixture_pipe() is a skip. */
static int raw_fixture_emfile(struct tctx *t)
{
	struct rlimit rl = { 3, 3 };
	int p[2] = { -1, -1 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		return t_fail(t, __FILE__, __LINE__, "setrlimit: %s",
			      errno_name(errno));
	if (t_fixture_pipe(t, p) == T_PASS)
		return t_fail(t, __FILE__, __LINE__,
			      "pipe with ulimit -n 3 worked");
	return T_FAIL; /* a skip when t_fixture_pipe() said so */
}
CONFORM_TEST(raw_fixture_emfile, "meta.raw.fixture_emfile", T_META_RAW)

/* A skip on one variant only: the totals count it (meta.totals_*). */
static int raw_variant_skip(struct tctx *t)
{
	if (t->var && !strcmp(t->var->name, "tmpfs"))
		return t_skip(t, "deliberate skip on tmpfs (meta)");
	return T_PASS;
}
CONFORM_TEST(raw_variant_skip, "meta.raw.variant_skip", T_FILE | T_META_RAW)

/*
 * The bail-out run: each stuck test looks up its own name in the meta
 * group's FUSE mount, whose daemon never answers.  After the watchdog's
 * SIGKILL the request is already with the daemon, so the kernel waits for
 * the answer in an uninterruptible sleep: a process SIGKILL cannot end,
 * until the meta group aborts the connection.
 */
static int stuck_lookup(struct tctx *t, int k)
{
	const char *dir = getenv(ENV_DIR);
	char path[PATH_MAX];
	struct stat st;

	if (!in_run("bail") || !dir)
		return t_skip(t, "only in the meta group's bail-out run");
	snprintf(path, sizeof(path), "%s/fuse/hang%d", dir, k);
	stat(path, &st);
	return t_fail(t, __FILE__, __LINE__, "stat %s returned", path);
}

static int raw_stuck_1(struct tctx *t)
{
	return stuck_lookup(t, 1);
}
CONFORM_TEST_FULL(raw_stuck_1, "meta.raw.stuck_1", T_META_RAW, 1)

static int raw_stuck_2(struct tctx *t)
{
	return stuck_lookup(t, 2);
}
CONFORM_TEST_FULL(raw_stuck_2, "meta.raw.stuck_2", T_META_RAW, 1)

/*
 * The third leaves it to a grandchild that left the process group: the
 * test passes, and the runner, a subreaper, finds a process it cannot kill
 * among the test's orphans.  The test waits until the grandchild sleeps in
 * the FUSE request, so that the SIGKILL finds it there.
 */
static int raw_stuck_3(struct tctx *t)
{
	char path[64], wchan[64] = "";
	int i;
	pid_t pid;

	if (!in_run("bail") || !getenv(ENV_DIR))
		return t_skip(t, "only in the meta group's bail-out run");
	pid = fork();
	if (pid < 0)
		return t_fail(t, __FILE__, __LINE__, "fork: %s",
			      errno_name(errno));
	if (pid == 0) {
		setsid();
		stuck_lookup(t, 3);
		_exit(1);
	}
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	for (i = 0; i < 1000 && strcmp(wchan, "request_wait_answer"); i++) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
		read_text(path, wchan, sizeof(wchan));
	}
	if (strcmp(wchan, "request_wait_answer"))
		return t_fail(t, __FILE__, __LINE__,
			      "the grandchild is in \"%s\", not in the FUSE "
			      "request",
			      wchan);
	return T_PASS;
}
CONFORM_TEST_FULL(raw_stuck_3, "meta.raw.stuck_3", T_META_RAW, 1)

static int raw_after_bail(struct tctx *t)
{
	return T_PASS;
}
CONFORM_TEST(raw_after_bail, "meta.raw.after_bail", T_META_RAW)

/* The deadline run: three tests of 1.5 s each under --deadline 2. */
static int slow(struct tctx *t)
{
	struct timespec ts = { 1, 500000000 };

	if (!in_run("deadline"))
		return t_skip(t, "only in the meta group's deadline run");
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return T_PASS;
}

static int raw_slow_1(struct tctx *t)
{
	return slow(t);
}
CONFORM_TEST(raw_slow_1, "meta.raw.slow_1", T_META_RAW)

static int raw_slow_2(struct tctx *t)
{
	return slow(t);
}
CONFORM_TEST(raw_slow_2, "meta.raw.slow_2", T_META_RAW)

static int raw_slow_3(struct tctx *t)
{
	return slow(t);
}
CONFORM_TEST(raw_slow_3, "meta.raw.slow_3", T_META_RAW)

/* The signal run: SIGINT to the runner while this test runs. */
static int raw_sigint(struct tctx *t)
{
	if (!in_run("signal"))
		return t_skip(t, "only in the meta group's signal run");
	kill(getppid(), SIGINT);
	for (;;)
		pause();
	return T_PASS;
}
CONFORM_TEST(raw_sigint, "meta.raw.sigint", T_META_RAW)

/* An inner aio-conform --meta-raw: its JSON, its KTAP and its status. */
struct inner {
	char json[PATH_MAX], out[PATH_MAX];
	int status; /* exit status, or -1 when it did not exit */
};

/*
 * Run aio-conform --meta-raw ARGS in dir, with $AIO_CONFORM_META_DIR set to
 * dir and $AIO_CONFORM_META_RUN to run (or unset), for up to timeout_s.
 * With pidns, as pid 1 of a new pid namespace.  0 or -errno.
 */
static int inner_run(struct inner *in, const char *dir, const char *run,
		     const char *const *args, unsigned int timeout_s,
		     bool pidns)
{
	char *argv[32];
	int status, fd, n = 0;
	pid_t pid;

	in->status = -1;
	if (snprintf(in->json, sizeof(in->json), "%s/%s.json", dir,
		     run ? run : "meta") >= (int)sizeof(in->json) ||
	    snprintf(in->out, sizeof(in->out), "%s/%s.ktap", dir,
		     run ? run : "meta") >= (int)sizeof(in->out))
		return -ENAMETOOLONG;
	argv[n++] = "aio-conform";
	argv[n++] = "--meta-raw";
	argv[n++] = "--json";
	argv[n++] = in->json;
	argv[n++] = "-d";
	argv[n++] = (char *)dir;
	for (; *args && n < (int)ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	fflush(stdout);
	if (pidns && unshare(CLONE_NEWPID))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(in->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		setenv(ENV_DIR, dir, 1);
		if (run)
			setenv(ENV_RUN, run, 1);
		else
			unsetenv(ENV_RUN);
		execv(conform_opts.self, argv);
		_exit(127);
	}
	if (!wait_child(pid, &status, timeout_s * 1000)) {
		kill(pid, SIGKILL);
		wait_child(pid, &status, 5000);
		return -ETIMEDOUT;
	}
	if (WIFEXITED(status))
		in->status = WEXITSTATUS(status);
	return 0;
}

/* The main inner run, made once by meta_prepare() in the parent. */
static struct inner meta;
static int meta_status = -1;
static bool meta_injected;

void meta_prepare(void)
{
	const char *args[12];
	char taint[PATH_MAX + 32];
	int n = 0, fd;

	meta_injected = is_root() && kmsg_usable();
	/* The simulated taint flags of the inner run (raw_taint). */
	snprintf(taint, sizeof(taint), "--taint-file=%s/taint",
		 conform_opts.scratch);
	fd = open(taint + 13, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "0\n", 2) != 2) {
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	args[n++] = "--timeout=2";
	args[n++] = "--variant";
	args[n++] = "scratch,tmpfs";
	args[n++] = taint;
	if (meta_injected)
		args[n++] = "--inject-warning";
	args[n] = NULL;
	if (!inner_run(&meta, conform_opts.scratch, NULL, args, 60, false))
		meta_status = meta.status;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	ssize_t n;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	if (buf) {
		n = (ssize_t)fread(buf, 1, (1 << 20) - 1, f);
		len = n > 0 ? (size_t)n : 0;
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Copy the JSON string starting at s (after its quote), unescaped. */
static void json_string(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && *s != '"' && n + 1 < len; s++) {
		if (*s == '\\' && s[1])
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
}

/*
 * The inner result of a raw test (and variant, or NULL) from the JSON file
 * json: its "result" and "reason" strings.  0 or -ENOENT.
 */
static int result_in(const char *json_path, const char *name,
		     const char *variant, char *res, size_t rlen, char *reason,
		     size_t slen)
{
	char key[128], *json = slurp(json_path), *p, *q;
	int ret = -ENOENT;

	if (!json)
		return -ENOENT;
	snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
	for (p = strstr(json, key); p; p = strstr(p + 1, key)) {
		char *end = strchr(p, '}');

		if (!end)
			break;
		*end = '\0';
		if (variant) {
			char vkey[64];

			snprintf(vkey, sizeof(vkey), "\"variant\":\"%s\"",
				 variant);
			if (!strstr(p, vkey)) {
				*end = '}';
				continue;
			}
		}
		q = strstr(p, "\"result\":\"");
		if (q)
			json_string(q + 10, res, rlen);
		q = strstr(p, "\"reason\":\"");
		if (q)
			json_string(q + 10, reason, slen);
		ret = 0;
		break;
	}
	free(json);
	return ret;
}

static int inner_result(const char *name, const char *variant, char *res,
			size_t rlen, char *reason, size_t slen)
{
	return result_in(meta.json, name, variant, res, rlen, reason, slen);
}

static int expect_inner(struct tctx *t, const char *name, const char *want,
			const char *reason_has)
{
	char res[32] = "", reason[512] = "";
	int ret = T_PASS;

	CHECK(meta_status >= 0,
	      "the inner aio-conform --meta-raw did not finish");
	CHECK(!inner_result(name, NULL, res, sizeof(res), reason,
			    sizeof(reason)),
	      "%s is missing from the inner JSON results", name);
	CHECK(!strcmp(res, want), "%s: expected result %s, got %s (%s)", name,
	      want, res, reason);
	if (reason_has)
		CHECK(strstr(reason, reason_has),
		      "%s: reason \"%s\" does not mention \"%s\"", name, reason,
		      reason_has);
out:
	return ret;
}

static int meta_pass(struct tctx *t)
{
	return expect_inner(t, "meta.raw.pass", "pass", NULL);
}
CONFORM_TEST(meta_pass, "meta.pass_is_reported", T_META)

static int meta_fail(struct tctx *t)
{
	return expect_inner(t, "meta.raw.fail", "fail", META_MSG);
}
CONFORM_TEST(meta_fail, "meta.fail_is_reported", T_META)

static int meta_skip(struct tctx *t)
{
	return expect_inner(t, "meta.raw.skip", "skip", "deliberate skip");
}
CONFORM_TEST(meta_skip, "meta.skip_is_reported", T_META)

static int meta_xfail(struct tctx *t)
{
	return expect_inner(t, "meta.raw.xfail", "xfail", "deliberate");
}
CONFORM_TEST(meta_xfail, "meta.xfail_is_reported", T_META)

static int meta_timeout(struct tctx *t)
{
	return expect_inner(t, "meta.raw.timeout", "timeout", "killed");
}
CONFORM_TEST(meta_timeout, "meta.timeout_is_reported", T_META)

static int meta_grandchild(struct tctx *t)
{
	return expect_inner(t, "meta.raw.grandchild_timeout", "timeout",
			    "killed");
}
CONFORM_TEST(meta_grandchild, "meta.grandchild_timeout_is_reported", T_META)

static int meta_segv(struct tctx *t)
{
	return expect_inner(t, "meta.raw.segv", "crash", "SIGSEGV");
}
CONFORM_TEST(meta_segv, "meta.segv_is_reported", T_META)

static int meta_abort(struct tctx *t)
{
	return expect_inner(t, "meta.raw.abort", "crash", "SIGABRT");
}
CONFORM_TEST(meta_abort, "meta.abort_is_reported", T_META)

static int meta_dmesg(struct tctx *t)
{
	if (!meta_injected)
		return t_skip(t, "kernel log scan needs root and /dev/kmsg");
	return expect_inner(t, "meta.raw.dmesg_warning", "fail", "WARNING");
}
CONFORM_TEST(meta_dmesg, "meta.dmesg_warning_is_reported", T_META)

static int meta_variants(struct tctx *t)
{
	char res[32] = "", reason[512] = "";
	int ret = T_PASS;

	CHECK(!inner_result("meta.raw.variants", "scratch", res, sizeof(res),
			    reason, sizeof(reason)),
	      "no result for variant scratch");
	CHECK(!strcmp(res, "pass"), "scratch: expected pass, got %s", res);
	CHECK(!inner_result("meta.raw.variants", "tmpfs", res, sizeof(res),
			    reason, sizeof(reason)),
	      "no result for variant tmpfs");
	CHECK(is_root() ? !strcmp(res, "pass") :
			  !strcmp(res, "skip") && strstr(reason, "not root"),
	      "tmpfs: unexpected %s (%s)", res, reason);
out:
	return ret;
}
CONFORM_TEST(meta_variants, "meta.variants_are_reported", T_META)

static int meta_exit(struct tctx *t)
{
	int ret = T_PASS;

	CHECK(meta_status == 1, "inner run: expected exit status 1, got %d",
	      meta_status);
out:
	return ret;
}
CONFORM_TEST(meta_exit, "meta.exit_status_on_failure", T_META)

/* Counts of KTAP result lines: ok, not ok, ok # SKIP. */
struct ktap_count {
	int ok, notok, skip;
};

/* Count line into c when it is a result line ("ok" or "not ok" first). */
static bool ktap_result(const char *line, struct ktap_count *c)
{
	if (!strncmp(line, "ok ", 3)) {
		if (strstr(line, " # SKIP "))
			c->skip++;
		else
			c->ok++;
	} else if (!strncmp(line, "not ok ", 7)) {
		c->notok++;
	} else {
		return false;
	}
	return true;
}

/*
 * The KTAP stream: version, a plan matching the top-level results, and
 * totals (the summary line, "# Totals:" and the JSON's) that count every
 * result: a test's, or for a test with variants its subtests' instead,
 * so that a skip on one variant (meta.raw.variant_skip on tmpfs) is a
 * skip in the totals, not a part of its parent's ok.
 */
static int meta_ktap(struct tctx *t)
{
	struct ktap_count top = { 0 }, leaf = { 0 }, sub = { 0 };
	int ret = T_PASS, plan = -1, n = 0, passed = -1, failed = -1;
	int skipped = -1, tp = -1, tf = -1, tx = -1, ts = -1, te = -1;
	char *out = slurp(meta.out), *json = NULL, *line, *save, want[128];

	CHECK(out, "cannot read the inner KTAP output");
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0)
			CHECK(!strcmp(line, "KTAP version 1"),
			      "first line: \"%s\"", line);
		if (plan < 0 && sscanf(line, "1..%d", &plan) == 1)
			continue;
		if (!strncmp(line, "    ", 4)) {
			ktap_result(line + 4, &sub);
		} else if (ktap_result(line, &top)) {
			/* A parent counts as its subtests, if it has any. */
			if (sub.ok + sub.notok + sub.skip == 0)
				ktap_result(line, &sub);
			leaf.ok += sub.ok;
			leaf.notok += sub.notok;
			leaf.skip += sub.skip;
			memset(&sub, 0, sizeof(sub));
		}
		sscanf(line, "%d passed, %d failed, %d skipped", &passed,
		       &failed, &skipped);
		sscanf(line,
		       "# Totals: pass:%d fail:%d xfail:%d xpass:0 skip:%d error:%d",
		       &tp, &tf, &tx, &ts, &te);
	}
	CHECK(plan > 0 && plan == top.ok + top.notok + top.skip,
	      "plan 1..%d but %d results", plan, top.ok + top.notok + top.skip);
	CHECK(passed == leaf.ok && failed == leaf.notok && skipped == leaf.skip,
	      "summary %d/%d/%d but the lines say %d/%d/%d", passed, failed,
	      skipped, leaf.ok, leaf.notok, leaf.skip);
	CHECK(tp + tx == passed && tf + te == failed && ts == skipped,
	      "# Totals: pass:%d fail:%d xfail:%d skip:%d error:%d, but the "
	      "summary says %d/%d/%d",
	      tp, tf, tx, ts, te, passed, failed, skipped);
	json = slurp(meta.json);
	CHECK(json, "cannot read the inner JSON");
	snprintf(want, sizeof(want),
		 "\"totals\":{\"passed\":%d,\"failed\":%d,\"skipped\":%d}",
		 passed, failed, skipped);
	CHECK(strstr(json, want), "the inner JSON lacks %s", want);
	if (is_root())
		CHECK(strstr(json, "deliberate skip on tmpfs"),
		      "meta.raw.variant_skip did not skip on tmpfs");
out:
	free(out);
	free(json);
	return ret;
}
CONFORM_TEST(meta_ktap, "meta.ktap_is_well_formed", T_META)

/* Usage errors: exit status 2 and one line naming the bad argument. */
static int meta_usage(struct tctx *t)
{
	char *argv[] = { "aio-conform", "--no-such-option", NULL };
	char path[PATH_MAX], *err = NULL;
	int ret = T_PASS, status = 0, fd;
	pid_t pid;

	CHECK(snprintf(path, sizeof(path), "%s/stderr", t->dir) <
		      (int)sizeof(path),
	      "path too long");
	pid = fork();
	CHECK(pid >= 0, "fork: %s", errno_name(errno));
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(conform_opts.self, argv);
		_exit(127);
	}
	CHECK(wait_child(pid, &status, 10000), "aio-conform did not exit");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2,
	      "expected exit status 2, got 0x%x", status);
	err = slurp(path);
	CHECK(err && !strcmp(err, "aio-conform: unknown option "
				  "'--no-such-option'\n"),
	      "unexpected message: \"%s\"", err ? err : "");
out:
	free(err);
	return ret;
}
CONFORM_TEST(meta_usage, "meta.usage_error_exit_2", T_META)

/*
 * The text of the JSON result object of name, up to the next result (or
 * the end), or NULL; free it.
 */
static char *result_text(const char *json_path, const char *name)
{
	char key[160], *json = slurp(json_path), *p, *end, *out = NULL;

	if (!json)
		return NULL;
	snprintf(key, sizeof(key), "{\"name\":\"%s\"", name);
	p = strstr(json, key);
	if (p) {
		end = strstr(p + 1, "{\"name\":");
		if (end)
			*end = '\0';
		out = strdup(p);
	}
	free(json);
	return out;
}

/* A raw test skipped for want of native AIO: its reason, else NULL. */
static bool no_aio_skip(const char *name, char *reason, size_t len)
{
	char res[32] = "";

	return !inner_result(name, NULL, res, sizeof(res), reason, len) &&
	       !strcmp(res, "skip") && strstr(reason, "native AIO");
}

static int meta_watchdog(struct tctx *t)
{
	static const char *const want[] = {
		"\"iocbs_not_reaped\":3",   "\"opcode\":\"PREAD\"",
		"\"offset_bytes\":8192",    "\"opcode\":\"POLL\"",
		"\"head\":0,\"tail\":1",    "\"call\":\"io_getevents\"",
		"\"processes\":[{\"pid\":",
	};
	char *txt = NULL, *out = NULL, *p, reason[512];
	int ret = T_PASS;
	size_t i;

	if (no_aio_skip("meta.raw.watchdog", reason, sizeof(reason)))
		SKIP("%s", reason);
	ret = expect_inner(t, "meta.raw.watchdog", "timeout", "killed");
	if (ret != T_PASS)
		goto out;
	txt = result_text(meta.json, "meta.raw.watchdog");
	CHECK(txt && strstr(txt, "\"watchdog\":{"),
	      "no watchdog report in the inner JSON");
	for (i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(strstr(txt, want[i]), "the watchdog's JSON lacks %s: %s",
		      want[i], txt);
	p = strstr(txt, "\"aio_nr\":");
	CHECK(p && p[9] >= '0' && p[9] <= '9', "no aio_nr in %s", txt);
	if (is_root())
		CHECK(strstr(txt, "\"stack\":[\""),
		      "no kernel stack, as root: %s", txt);
	out = slurp(meta.out);
	CHECK(out && strstr(out, "# meta.raw.watchdog: watchdog: 3 iocbs "
				 "submitted and not reaped"),
	      "no watchdog diagnostic in the inner KTAP");
	CHECK(strstr(out, "# meta.raw.watchdog: tid ") &&
		      strstr(out, " in io_getevents(ctx 0x"),
	      "the call in progress is not in the inner KTAP");
out:
	free(txt);
	free(out);
	return ret;
}
CONFORM_TEST(meta_watchdog, "meta.watchdog_reports_what_was_in_flight", T_META)

/*
 * The watchdog tells slow from stuck: a test still taking and reaping
 * iocbs gets more windows (it passes after 2.5 windows), up to the cap of
 * 4 (a test that reads for ever is killed there, and says so); a test
 * that moves nothing is killed after one, and says that.
 */
static int meta_slow_moving(struct tctx *t)
{
	char reason[512];

	if (no_aio_skip("meta.raw.moving_slowly", reason, sizeof(reason)))
		return t_skip(t, "%s", reason);
	return expect_inner(t, "meta.raw.moving_slowly", "pass", NULL);
}
CONFORM_TEST(meta_slow_moving, "meta.slow_but_moving_is_not_a_timeout", T_META)

static int meta_moving_forever(struct tctx *t)
{
	char reason[512];

	if (no_aio_skip("meta.raw.moving_forever", reason, sizeof(reason)))
		return t_skip(t, "%s", reason);
	return expect_inner(
		t, "meta.raw.moving_forever", "timeout",
		"still taking or reaping iocbs at the cap of 4 x 1 s");
}
CONFORM_TEST(meta_moving_forever, "meta.moving_forever_stops_at_the_cap",
	     T_META)

static int meta_still(struct tctx *t)
{
	return expect_inner(t, "meta.raw.timeout", "timeout",
			    "no iocb taken or reaped in the last 1 s: killed");
}
CONFORM_TEST(meta_still, "meta.still_test_is_killed_after_one_window", T_META)

static int meta_taint(struct tctx *t)
{
	return expect_inner(t, "meta.raw.taint", "fail", "W (kernel warning)");
}
CONFORM_TEST(meta_taint, "meta.new_taint_fails_the_test", T_META)

/* name passed on the tmpfs variant: T_PASS or a recorded failure. */
static int passed_on_tmpfs(struct tctx *t, const char *name)
{
	char res[32] = "", reason[512] = "";
	int ret = T_PASS;

	CHECK(!inner_result(name, "tmpfs", res, sizeof(res), reason,
			    sizeof(reason)),
	      "no result for %s on tmpfs", name);
	CHECK(!strcmp(res, "pass"), "%s on tmpfs: %s (%s)", name, res, reason);
out:
	return ret;
}

static int meta_exit_keeps(struct tctx *t)
{
	if (!is_root())
		return t_skip(t, "not root: the tmpfs variant needs mount(2)");
	if (passed_on_tmpfs(t, "meta.raw.calls_exit") != T_PASS)
		return T_FAIL;
	return passed_on_tmpfs(t, "meta.raw.variants_after_exit");
}
CONFORM_TEST(meta_exit_keeps, "meta.exit_in_a_test_keeps_the_variants", T_META)

static int meta_escape(struct tctx *t)
{
	unsigned long long start = 0, now = 0;
	char path[PATH_MAX];
	int ret, pid = 0;
	FILE *f;

	ret = expect_inner(t, "meta.raw.escaped_grandchild", "pass", NULL);
	if (ret != T_PASS)
		goto out;
	CHECK(snprintf(path, sizeof(path), "%s/escaped", conform_opts.scratch) <
		      (int)sizeof(path),
	      "path too long");
	f = fopen(path, "r");
	CHECK(f, "no %s: the grandchild did not start", path);
	if (fscanf(f, "%d %llu", &pid, &start) != 2)
		pid = 0;
	fclose(f);
	CHECK(pid > 0, "%s does not parse", path);
	if (!proc_start_time(pid, &now) && now == start) {
		kill(pid, SIGKILL);
		FAIL("the grandchild %d that left its process group was still "
		     "alive after the run",
		     pid);
	}
out:
	return ret;
}
CONFORM_TEST(meta_escape, "meta.escaped_grandchild_is_killed", T_META)

static int meta_emfile(struct tctx *t)
{
	return expect_inner(t, "meta.raw.emfile", "skip", "EMFILE");
}
CONFORM_TEST(meta_emfile, "meta.emfile_is_a_skip", T_META)

static int meta_aio_limit(struct tctx *t)
{
	char res[32] = "", reason[512] = "";

	if (!inner_result("meta.raw.aio_limit", NULL, res, sizeof(res), reason,
			  sizeof(reason)) &&
	    !strcmp(res, "skip") && !strstr(reason, "a low limit"))
		return t_skip(t, "%s", reason);
	return expect_inner(t, "meta.raw.aio_limit", "skip", "aio-max-nr");
}
CONFORM_TEST(meta_aio_limit, "meta.aio_max_nr_is_a_skip", T_META)

static int meta_uring(struct tctx *t)
{
	unsigned char params[128] = { 0 };
	int fd = (int)syscall(__NR_io_uring_setup, 1, params);

	if (fd >= 0) {
		close(fd);
		return expect_inner(t, "meta.raw.io_uring", "pass", NULL);
	}
	return expect_inner(t, "meta.raw.io_uring", "skip",
			    "io_uring is not available");
}
CONFORM_TEST(meta_uring, "meta.io_uring_need_is_honoured", T_META)

/* Every fixture made as declared, on each variant (as root, tmpfs too). */
static int meta_fixtures(struct tctx *t)
{
	static const char *const vars[] = { "scratch", "tmpfs" };
	static const char *const raw[] = {
		"meta.raw.fixtures",
		"meta.raw.fixture_zeros",
		"meta.raw.fixture_hole",
	};
	char res[32], reason[512];
	int ret = T_PASS;
	size_t i, k;

	if (no_aio_skip("meta.raw.fixtures", reason, sizeof(reason)))
		SKIP("%s", reason);
	for (k = 0; k < ARRAY_SIZE(raw); k++) {
		for (i = 0; i < ARRAY_SIZE(vars); i++) {
			res[0] = reason[0] = '\0';
			CHECK(!inner_result(raw[k], vars[i], res, sizeof(res),
					    reason, sizeof(reason)),
			      "no result for %s on %s", raw[k], vars[i]);
			if (i && !is_root())
				CHECK(!strcmp(res, "skip") &&
					      strstr(reason, "not root"),
				      "%s on tmpfs without root: %s (%s)",
				      raw[k], res, reason);
			else
				CHECK(!strcmp(res, "pass"), "%s on %s: %s (%s)",
				      raw[k], vars[i], res, reason);
		}
	}
out:
	return ret;
}
CONFORM_TEST(meta_fixtures, "meta.fixtures_are_made_as_declared", T_META)

/* The test's cleanup() ran after its failure, the fixtures still there. */
static int meta_fixture_cleanup(struct tctx *t)
{
	char path[PATH_MAX], line[128] = "", reason[512];
	int ret = T_PASS;
	FILE *f;

	if (no_aio_skip("meta.raw.fixture_cleanup", reason, sizeof(reason)))
		SKIP("%s", reason);
	ret = expect_inner(t, "meta.raw.fixture_cleanup", "fail",
			   "deliberate failure with fixtures");
	if (ret != T_PASS)
		goto out;
	CHECK(snprintf(path, sizeof(path), "%s/fixture_cleanup",
		       conform_opts.scratch) < (int)sizeof(path),
	      "path too long");
	f = fopen(path, "r");
	CHECK(f, "no %s: cleanup() did not run", path);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	CHECK(!strcmp(line, "failed 1 ctx live pipe open\n"),
	      "cleanup() saw \"%s\", not the failure and its fixtures", line);
out:
	return ret;
}
CONFORM_TEST(meta_fixture_cleanup, "meta.fixture_cleanup_runs_after_a_failure",
	     T_META)

static int meta_fixture_emfile(struct tctx *t)
{
	return expect_inner(t, "meta.raw.fixture_emfile", "skip", "EMFILE");
}
CONFORM_TEST(meta_fixture_emfile, "meta.fixture_out_of_descriptors_is_a_skip",
	     T_META)

static int meta_complete(struct tctx *t)
{
	static const char *const want[] = {
		"\"complete\":true",
		"\"interrupted_by\":null",
		"\"bail_out\":null",
	};
	char *json = slurp(meta.json);
	int ret = T_PASS;
	size_t i;

	CHECK(json, "cannot read the inner JSON");
	for (i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(strstr(json, want[i]), "the inner JSON lacks %s",
		      want[i]);
out:
	free(json);
	return ret;
}
CONFORM_TEST(meta_complete, "meta.json_says_the_run_is_complete", T_META)

/*
 * A FUSE daemon that answers what the kernel asks of a mount (an empty
 * root directory) except a lookup of "hang*", which it never answers.
 */
struct fuse_srv {
	int fd;
	volatile int stop;
};

static void *fuse_serve(void *arg)
{
	struct fuse_srv *f = arg;
	size_t size = 1 << 17;
	char *buf = malloc(size);

	while (buf && !f->stop) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		struct fuse_in_header *h = (struct fuse_in_header *)buf;
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(f->fd, buf, size);
		if (n < (ssize_t)sizeof(*h)) {
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != ENOENT)
				break;
			continue;
		}
		switch (h->opcode) {
		case FUSE_INIT:
			t_fuse_init_reply(f->fd, h);
			break;
		case FUSE_LOOKUP:
			if (!strncmp((const char *)(h + 1), "hang", 4))
				break; /* never answered */
			t_fuse_reply(f->fd, h->unique, -ENOENT, NULL, 0);
			break;
		case FUSE_GETATTR: {
			struct fuse_attr_out out;

			memset(&out, 0, sizeof(out));
			out.attr_valid = 1;
			out.attr.ino = FUSE_ROOT_ID;
			out.attr.mode = S_IFDIR | 0755;
			out.attr.nlink = 2;
			t_fuse_reply(f->fd, h->unique, 0, &out, sizeof(out));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break; /* no answer expected (or wanted) */
		default:
			t_fuse_reply(f->fd, h->unique, -ENOSYS, NULL, 0);
		}
	}
	free(buf);
	return NULL;
}

/* Check the bail-out run's results; a "stack" line to t_diag. */
static int check_bail(struct tctx *t, const struct inner *in)
{
	char *json = slurp(in->json), *out = slurp(in->out), *txt = NULL;
	char name[64], res[32], reason[512], *p, *q;
	int ret = T_PASS, k;

	CHECK(json && out, "cannot read the inner run's results");
	CHECK(in->status == 1, "inner run: exit status %d, not 1", in->status);
	CHECK(strstr(json, "\"complete\":false"), "complete is not false");
	CHECK(strstr(json, "\"bail_out\":\"the kernel left 3 processes "
			   "unkillable"),
	      "no bail_out reason in the JSON");
	for (k = 1; k <= 3; k++) {
		snprintf(name, sizeof(name), "meta.raw.stuck_%d", k);
		CHECK(!result_in(in->json, name, NULL, res, sizeof(res), reason,
				 sizeof(reason)),
		      "%s is missing", name);
		CHECK(!strcmp(res, "stuck"), "%s: %s (%s)", name, res, reason);
		if (k == 3)
			CHECK(strstr(reason, "started by the test"),
			      "%s: the grandchild is not named: %s", name,
			      reason);
		free(txt);
		txt = result_text(in->json, name);
		p = txt ? strstr(txt, "\"left_behind\":[{") : NULL;
		CHECK(p && strstr(p, "\"state\":\"D\""),
		      "%s: no process left behind in state D", name);
		q = strstr(p, "\"stack\":[\"");
		if (k == 1 && q) {
			q += 10;
			p = strchr(q, '"');
			if (p)
				*p = '\0';
			t_diag(t, "%s: pid left in state D at %s", name, q);
		}
	}
	CHECK(result_in(in->json, "meta.raw.after_bail", NULL, res, sizeof(res),
			reason, sizeof(reason)) == -ENOENT,
	      "meta.raw.after_bail ran after the bail-out");
	p = strstr(out, "\nBail out! the kernel left 3 processes unkillable");
	CHECK(p, "no KTAP \"Bail out!\" line");
	q = strchr(p + 1, '\n');
	t_diag(t, "the inner run said: %.*s", q ? (int)(q - p - 1) : 200,
	       p + 1);
	CHECK(strstr(out, "\n0 passed, 3 failed, 0 skipped\n"),
	      "no totals after the bail-out");
out:
	free(txt);
	free(json);
	free(out);
	return ret;
}

/*
 * Three tests in a row leave a process SIGKILL cannot end: the run bails
 * out.  The processes are really unkillable: each sleeps uninterruptibly
 * in the kernel's FUSE request_wait_answer(), its lookup already read by
 * the daemon here, which never answers; closing the daemon's /dev/fuse
 * aborts the connection and lets them die.  The mount is made in a mount
 * namespace of this test's own, so that nothing else can look into it.
 */
static int meta_bail(struct tctx *t)
{
	static const char *const args[] = {
		"-t",	       "meta.raw.stuck_*",
		"-t",	       "meta.raw.after_bail",
		"--timeout",   "1",
		"--kill-wait", "1",
		NULL,
	};
	struct fuse_srv f = { .fd = -1 };
	struct t_fuse fm = { .fd = -1 };
	bool mounted = false, serving = false;
	int ret = T_PASS, reaped = 0, tries;
	struct inner in;
	pthread_t th;

	CHECK(!prctl(PR_SET_CHILD_SUBREAPER, 1), "PR_SET_CHILD_SUBREAPER: %s",
	      errno_name(errno));
	ret = t_fuse_mount(t, &fm, "aio-conform-meta",
			   "the unkillable processes are made in a FUSE mount");
	if (ret != T_PASS)
		goto out;
	mounted = true;
	f.fd = fm.fd;
	CHECK(!pthread_create(&th, NULL, fuse_serve, &f), "pthread_create");
	serving = true;
	CHECK(!inner_run(&in, t->dir, "bail", args, 120, false),
	      "the inner run did not finish");
	ret = check_bail(t, &in);
out:
	if (serving) {
		f.stop = 1;
		pthread_join(th, NULL);
	}
	t_fuse_unmount(&fm);
	/* The stuck processes came here, a subreaper, with the run's end. */
	for (tries = 0; mounted && tries < 500; tries++) {
		struct timespec ts = { 0, 20000000 };
		pid_t r = waitpid(-1, NULL, WNOHANG);

		if (r > 0)
			reaped++;
		else if (r < 0 && errno == ECHILD)
			break;
		else
			nanosleep(&ts, NULL);
	}
	if (ret == T_PASS && mounted && reaped < 3)
		ret = t_fail(t, __FILE__, __LINE__,
			     "%d of the 3 stuck processes ended when the FUSE "
			     "connection was aborted",
			     reaped);
	return ret;
}
CONFORM_TEST_FULL(meta_bail, "meta.bail_out_after_unkillable_tests", T_META,
		  120)

static int meta_deadline(struct tctx *t)
{
	static const char *const args[] = { "-t", "meta.raw.slow_*",
					    "--deadline", "2", NULL };
	char name[64], res[32], reason[512], *json = NULL;
	int ret = T_PASS, k, stopped = 0;
	struct inner in;

	CHECK(!inner_run(&in, t->dir, "deadline", args, 60, false),
	      "the inner run did not finish");
	CHECK(in.status == 1, "inner run: exit status %d, not 1", in.status);
	json = slurp(in.json);
	CHECK(json && strstr(json, "\"complete\":false") &&
		      strstr(json, "\"deadline_reached\":true"),
	      "the JSON does not say the deadline ended the run");
	/* pass..., then at most one interrupted, then not run...: 4.5 s of
	 * tests cannot all fit in 2. */
	for (k = 1; k <= 3; k++) {
		snprintf(name, sizeof(name), "meta.raw.slow_%d", k);
		CHECK(!result_in(in.json, name, NULL, res, sizeof(res), reason,
				 sizeof(reason)),
		      "%s is missing from the results", name);
		if (!strcmp(res, "pass")) {
			CHECK(!stopped, "%s passed after the deadline", name);
		} else if (!strcmp(res, "interrupted")) {
			CHECK(!stopped && strstr(reason, "--deadline"),
			      "%s: interrupted (%s)", name, reason);
			stopped++;
		} else {
			CHECK(!strcmp(res, "skip") && strstr(reason, "not run"),
			      "%s: %s (%s)", name, res, reason);
			stopped++;
		}
	}
	CHECK(stopped, "every test passed: the deadline did not stop them");
out:
	free(json);
	return ret;
}
CONFORM_TEST_FULL(meta_deadline, "meta.deadline_stops_the_run", T_META, 60)

static int meta_signal(struct tctx *t)
{
	static const char *const args[] = { "-t", "meta.raw.sigint", NULL };
	char *json = NULL;
	int ret = T_PASS;
	struct inner in;

	CHECK(!inner_run(&in, t->dir, "signal", args, 60, false),
	      "the inner run did not finish");
	CHECK(in.status == 130, "inner run: exit status %d, not 130",
	      in.status);
	json = slurp(in.json);
	CHECK(json && strstr(json, "\"complete\":false") &&
		      strstr(json, "\"interrupted_by\":\"SIGINT\""),
	      "the JSON does not say SIGINT interrupted the run");
	CHECK(strstr(json, "\"result\":\"interrupted\",\"reason\":"
			   "\"interrupted by SIGINT\""),
	      "the running test is not \"interrupted\"");
out:
	free(json);
	return ret;
}
CONFORM_TEST(meta_signal, "meta.sigint_interrupts_the_run", T_META)

/* The runner as pid 1 (a container's or a guest's init). */
static int meta_pid1(struct tctx *t)
{
	static const char *const args[] = { "-t", "meta.raw.pass", NULL };
	char res[32] = "", reason[512] = "";
	int ret = T_PASS, r;
	struct inner in;

	if (!is_root())
		SKIP("not root: a pid namespace needs CAP_SYS_ADMIN");
	r = inner_run(&in, t->dir, "pid1", args, 60, true);
	if (r == -EPERM || r == -EINVAL || r == -ENOSPC)
		SKIP("no pid namespace: %s", errno_name(-r));
	CHECK(!r, "the inner run did not finish: %s", errno_name(-r));
	CHECK(!result_in(in.json, "meta.raw.pass", NULL, res, sizeof(res),
			 reason, sizeof(reason)),
	      "no result for meta.raw.pass");
	CHECK(!strcmp(res, "pass"), "meta.raw.pass under pid 1: %s (%s)", res,
	      reason);
	CHECK(in.status == 0, "inner run: exit status %d", in.status);
out:
	return ret;
}
CONFORM_TEST(meta_pid1, "meta.runner_as_pid_1", T_META)
