/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the engines (libaio, io_uring, sync) end to end.
 *
 * Each engine, scalar and vectored (segments of several sizes), buffered
 * and O_DIRECT, writes a pattern at scattered offsets of a scratch file in
 * the current directory at depth 8 in batches of 4, reaps everything,
 * checks every result, checks the file with plain pread, then reads it
 * back through the same engine and compares the bytes.  The same with
 * libaio's user-space reaping, io_uring's registered files and buffers,
 * SQPOLL and IOPOLL (skipped with the kernel's reason when refused).
 * Then the engine contract: partial submission, idle reaping, refused
 * requests, ready(), option refusal, rw_flags_parse and io_req_bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine.h"
#include "unit.h"

#define BLOCK 4096
#define NR_REQS 16
#define REQ_BYTES 16384
#define REGION (4 * REQ_BYTES) /* memory per request, segments scattered */
#define ARENA (2 * NR_REQS * REGION) /* write regions, then read regions */
#define DEPTH 8
#define BATCH 4
#define MAX_SEGS 4
#define REAP_TIMEOUT_NS (10LL * 1000 * 1000 * 1000)

enum mode {
	M_VEC = 1 << 0,
	M_DIRECT = 1 << 1,
	M_USER_REAP = 1 << 2,
	M_FIXED_FILES = 1 << 3,
	M_FIXED_BUFS = 1 << 4,
	M_SQPOLL = 1 << 5,
	M_IOPOLL = 1 << 6,
	M_DSYNC = 1 << 7, /* writes with RWF_DSYNC */
};

#define M_OPTIONS \
	(M_USER_REAP | M_FIXED_FILES | M_FIXED_BUFS | M_SQPOLL | M_IOPOLL)

/* Segment sizes of a vectored request; each list sums to REQ_BYTES. */
static const size_t segs_buffered[] = { 1000, 3096, 7, 12281 };
static const size_t segs_direct[] = { 4096, 8192, 4096 };

static char skip_reason[256];

static void skip_because(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void skip_because(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
	unit_skip = skip_reason;
}

static const char *mode_name(unsigned int mode)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s,%s%s%s%s%s%s%s",
		 mode & M_VEC ? "vectored" : "scalar",
		 mode & M_DIRECT ? "direct" : "buffered",
		 mode & M_USER_REAP ? ",user_reap" : "",
		 mode & M_FIXED_FILES ? ",fixed_files" : "",
		 mode & M_FIXED_BUFS ? ",fixed_bufs" : "",
		 mode & M_SQPOLL ? ",sqpoll" : "",
		 mode & M_IOPOLL ? ",iopoll" : "",
		 mode & M_DSYNC ? ",dsync" : "");
	return buf;
}

/* The byte that belongs at file offset x. */
static inline uint8_t pattern(uint64_t x)
{
	return (uint8_t)(((uint32_t)x * 2654435761u) >> 24);
}

/* Where request i goes in the file: scattered, with holes between. */
static int64_t req_offset(int i, unsigned int mode)
{
	int64_t off = (int64_t)((i * 5) % NR_REQS) * (REQ_BYTES + BLOCK);

	return mode & M_DIRECT ? off : off + (i * 37) % 511;
}

/*
 * Request i of a phase (0 write, 1 read): its memory is region i of the
 * phase; vectored segments are laid out last to first with a block
 * between them (and, buffered, at odd addresses) so that a segment written
 * to the wrong place shows.
 */
static void build_req(struct io_req *r, struct iovec *iov, uint8_t *arena,
		      int phase, int i, int fd, unsigned int mode, int flags)
{
	uint8_t *region = arena + (size_t)(phase * NR_REQS + i) * REGION;
	const size_t *segs = mode & M_DIRECT ? segs_direct : segs_buffered;
	int nsegs = mode & M_DIRECT ? 3 : 4, k;
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	r->op = phase ? IO_OP_READ : IO_OP_WRITE;
	r->fd = fd;
	r->offset = req_offset(i, mode);
	r->rw_flags = phase ? 0 : flags;
	if (!(mode & M_VEC)) {
		r->buf = region + (mode & M_DIRECT ? 0 : (size_t)(i % 7) + 1);
		r->len = REQ_BYTES;
		return;
	}
	for (k = nsegs - 1; k >= 0; k--) {
		iov[k].iov_base =
			region + pos + (mode & M_DIRECT ? 0 : 13u * k + 1);
		iov[k].iov_len = segs[k];
		pos += (segs[k] + BLOCK - 1) / BLOCK * BLOCK + BLOCK;
	}
	r->vectored = true;
	r->iov = iov;
	r->nr_iov = nsegs;
}

/* Fill (phase 0) or check (phase 1) the memory of r against the pattern. */
static int req_pattern(struct io_req *r, bool check, int idx)
{
	struct iovec one = { .iov_base = r->buf, .iov_len = r->len };
	struct iovec *iov = r->vectored ? r->iov : &one;
	int nr = r->vectored ? r->nr_iov : 1, k;
	uint64_t off = (uint64_t)r->offset;
	size_t j;

	for (k = 0; k < nr; k++) {
		uint8_t *p = iov[k].iov_base;

		for (j = 0; j < iov[k].iov_len; j++, off++) {
			if (!check) {
				p[j] = pattern(off);
			} else if (p[j] != pattern(off)) {
				UNIT_FAIL(
					"request %d segment %d byte %zu (file offset %llu): expected 0x%02x, saw 0x%02x",
					idx, k, j, (unsigned long long)off,
					pattern(off), p[j]);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Prep, submit and reap nr requests with at most DEPTH in the engine,
 * prepping BATCH at a time and reaping sometimes one, sometimes all.
 * Every request must come back exactly once.  0 or -1 (failure recorded).
 */
static int run_all(struct engine *e, struct io_req *reqs, int nr)
{
	struct io_req *out[DEPTH];
	bool seen[64] = { false };
	int next = 0, done = 0, iter, ret, i, b;

	for (iter = 0; done < nr && iter < 100000; iter++) {
		for (b = 0;
		     b < BATCH && next < nr && e->queued + e->inflight < DEPTH;
		     b++) {
			ret = engine_prep(e, &reqs[next]);
			if (ret) {
				UNIT_FAIL("prep: %s", strerror(-ret));
				return -1;
			}
			next++;
		}
		if (e->queued) {
			ret = engine_submit(e);
			if (ret < 0 && ret != -EAGAIN) {
				UNIT_FAIL("submit: %s", strerror(-ret));
				return -1;
			}
		}
		if (!e->inflight)
			continue;
		ret = engine_reap(e, iter & 1 ? e->inflight : 1, DEPTH,
				  REAP_TIMEOUT_NS, out);
		if (ret < 0) {
			UNIT_FAIL("reap: %s", strerror(-ret));
			return -1;
		}
		if (!ret) {
			UNIT_FAIL("reap: nothing within 10 s, %u in flight",
				  e->inflight);
			return -1;
		}
		for (i = 0; i < ret; i++) {
			long idx = out[i] - reqs;

			if (idx < 0 || idx >= nr || seen[idx]) {
				UNIT_FAIL(
					"reap returned a request %s (index %ld)",
					idx < 0 || idx >= nr ? "not ours" :
							       "twice",
					idx);
				return -1;
			}
			seen[idx] = true;
			done++;
		}
	}
	if (done < nr) {
		UNIT_FAIL("only %d of %d requests completed", done, nr);
		return -1;
	}
	EXPECT_EQ(0, e->queued);
	EXPECT_EQ(0, e->inflight);
	return 0;
}

/* Every result is the full size; 0 or -1. */
static int check_res(struct io_req *reqs, int nr, const char *phase)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (reqs[i].res != (int64_t)io_req_bytes(&reqs[i])) {
			UNIT_FAIL("%s %d: res %lld (%s), expected %zu", phase,
				  i, (long long)reqs[i].res,
				  reqs[i].res < 0 ?
					  strerror((int)-reqs[i].res) :
					  "short",
				  io_req_bytes(&reqs[i]));
			return -1;
		}
	}
	return 0;
}

/* The file as plain pread sees it, through a buffered fd. */
static int check_file(int fd, unsigned int mode)
{
	static uint8_t buf[REQ_BYTES];
	struct io_req r = { .buf = buf, .len = REQ_BYTES };
	int i;

	for (i = 0; i < NR_REQS; i++) {
		r.offset = req_offset(i, mode);
		if (pread(fd, buf, REQ_BYTES, r.offset) != REQ_BYTES) {
			UNIT_FAIL("pread of request %d: %s", i,
				  strerror(errno));
			return -1;
		}
		if (req_pattern(&r, true, i))
			return -1;
	}
	return 0;
}

/*
 * IOPOLL rings are accepted everywhere, but a device without poll queues
 * (queue/io_poll 0) fails the I/O itself with EOPNOTSUPP: a skip.
 */
static bool iopoll_refused(const struct io_req *reqs, int nr, const char *op)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (reqs[i].res == -EOPNOTSUPP) {
			skip_because(
				"IOPOLL: polled %s refused by this device: %s",
				op, strerror(EOPNOTSUPP));
			return true;
		}
	}
	return false;
}

/* Whether init's refusal is the kernel or the setup saying no (a skip). */
static bool refusal_is_skip(const char *engine, unsigned int mode, int ret)
{
	if (ret == -EOPNOTSUPP || ret == -ENOSYS || ret == -EPERM)
		return true;
	if (!strcmp(engine, "io_uring"))
		return ret == -EINVAL ||
		       (ret == -ENOMEM && (mode & M_FIXED_BUFS));
	return !strcmp(engine, "libaio") && ret == -EAGAIN;
}

static int open_scratch(unsigned int mode, int *fd, int *check_fd)
{
	char name[] = "engine-test.XXXXXX";
	int ret = 0;

	*check_fd = -1;
	*fd = mkostemp(name, mode & M_DIRECT ? O_DIRECT : 0);
	if (*fd < 0) {
		ret = -errno;
		if (ret == -EINVAL)
			skip_because(
				"O_DIRECT refused in the current directory: %s",
				strerror(-ret));
		else
			UNIT_FAIL("cannot create %s: %s", name, strerror(-ret));
		return ret;
	}
	*check_fd = open(name, O_RDONLY);
	if (*check_fd < 0) {
		ret = -errno;
		UNIT_FAIL("cannot open %s: %s", name, strerror(-ret));
	}
	unlink(name);
	return ret;
}

static void check_rw(const char *engine, unsigned int mode)
{
	const struct engine_ops *ops = engine_find(engine);
	struct io_req wr[NR_REQS], rd[NR_REQS], sync_reqs[2];
	struct iovec wr_iov[NR_REQS][MAX_SEGS], rd_iov[NR_REQS][MAX_SEGS];
	struct engine e = { 0 };
	struct engine_opts o = { .depth = DEPTH };
	uint8_t *arena = NULL;
	int fd = -1, check_fd = -1, flags = 0, ret, i;
	bool up = false;

	printf("# engine=%s mode=%s\n", engine, mode_name(mode));
	if (!ops) {
		skip_because("engine %s is not in this build", engine);
		return;
	}
	if ((mode & M_DSYNC) && rw_flags_parse("dsync", &flags, NULL)) {
		UNIT_FAIL("rw_flags_parse(\"dsync\") failed");
		return;
	}
	if (posix_memalign((void **)&arena, BLOCK, ARENA)) {
		UNIT_FAIL("posix_memalign failed");
		return;
	}
	memset(arena, 0xee, ARENA);
	if (open_scratch(mode, &fd, &check_fd))
		goto out;

	o.user_reap = mode & M_USER_REAP;
	o.fixed_files = mode & M_FIXED_FILES;
	o.fixed_bufs = mode & M_FIXED_BUFS;
	o.sqpoll = mode & M_SQPOLL;
	o.iopoll = mode & M_IOPOLL;
	o.fds = &fd;
	o.nr_fds = 1;
	o.buf_base = arena;
	o.buf_len = ARENA;
	ret = engine_init(&e, ops, &o);
	if (ret) {
		if (!e.reason[0])
			UNIT_FAIL("init failed without a reason");
		if (refusal_is_skip(engine, mode, ret))
			skip_because("%s", e.reason);
		else
			UNIT_FAIL("init: %s", e.reason);
		goto out;
	}
	up = true;

	for (i = 0; i < NR_REQS; i++) {
		build_req(&wr[i], wr_iov[i], arena, 0, i, fd, mode, flags);
		req_pattern(&wr[i], false, i);
		build_req(&rd[i], rd_iov[i], arena, 1, i, fd, mode, flags);
	}
	if (run_all(&e, wr, NR_REQS))
		goto out;
	if ((mode & M_IOPOLL) && iopoll_refused(wr, NR_REQS, "write"))
		goto out;
	if (check_res(wr, NR_REQS, "write"))
		goto out;
	if (!(mode & M_IOPOLL)) {
		memset(sync_reqs, 0, sizeof(sync_reqs));
		sync_reqs[0].op = IO_OP_FSYNC;
		sync_reqs[1].op = IO_OP_FDSYNC;
		sync_reqs[0].fd = sync_reqs[1].fd = fd;
		if (run_all(&e, sync_reqs, 2))
			goto out;
		EXPECT_EQ(0, sync_reqs[0].res);
		EXPECT_EQ(0, sync_reqs[1].res);
	}
	if (check_file(check_fd, mode))
		goto out;
	if (run_all(&e, rd, NR_REQS))
		goto out;
	if ((mode & M_IOPOLL) && iopoll_refused(rd, NR_REQS, "read"))
		goto out;
	if (check_res(rd, NR_REQS, "read"))
		goto out;
	for (i = 0; i < NR_REQS; i++)
		if (req_pattern(&rd[i], true, i))
			goto out;
out:
	if (up)
		engine_cleanup(&e);
	if (fd >= 0)
		close(fd);
	if (check_fd >= 0)
		close(check_fd);
	free(arena);
}

#define RW_TEST(name, engine, mode)     \
	UNIT_TEST(name)                 \
	{                               \
		check_rw(engine, mode); \
	}

RW_TEST(libaio_scalar_buffered, "libaio", 0)
RW_TEST(libaio_scalar_direct, "libaio", M_DIRECT)
RW_TEST(libaio_vectored_buffered, "libaio", M_VEC)
RW_TEST(libaio_vectored_direct, "libaio", M_VEC | M_DIRECT)
RW_TEST(libaio_scalar_buffered_dsync, "libaio", M_DSYNC)
RW_TEST(libaio_user_reap_scalar_buffered, "libaio", M_USER_REAP)
RW_TEST(libaio_user_reap_scalar_direct, "libaio", M_USER_REAP | M_DIRECT)
RW_TEST(libaio_user_reap_vectored_buffered, "libaio", M_USER_REAP | M_VEC)
RW_TEST(libaio_user_reap_vectored_direct, "libaio",
	M_USER_REAP | M_VEC | M_DIRECT)

RW_TEST(io_uring_scalar_buffered, "io_uring", 0)
RW_TEST(io_uring_scalar_direct, "io_uring", M_DIRECT)
RW_TEST(io_uring_vectored_buffered, "io_uring", M_VEC)
RW_TEST(io_uring_vectored_direct, "io_uring", M_VEC | M_DIRECT)
RW_TEST(io_uring_scalar_buffered_dsync, "io_uring", M_DSYNC)
RW_TEST(io_uring_fixed_files_bufs_buffered, "io_uring",
	M_FIXED_FILES | M_FIXED_BUFS)
RW_TEST(io_uring_fixed_files_bufs_direct, "io_uring",
	M_FIXED_FILES | M_FIXED_BUFS | M_DIRECT)
RW_TEST(io_uring_fixed_files_vectored, "io_uring", M_FIXED_FILES | M_VEC)
RW_TEST(io_uring_sqpoll_scalar_buffered, "io_uring", M_SQPOLL)
RW_TEST(io_uring_sqpoll_vectored_direct, "io_uring",
	M_SQPOLL | M_VEC | M_DIRECT)
RW_TEST(io_uring_iopoll_scalar_direct, "io_uring", M_IOPOLL | M_DIRECT)

RW_TEST(sync_scalar_buffered, "sync", 0)
RW_TEST(sync_scalar_direct, "sync", M_DIRECT)
RW_TEST(sync_vectored_buffered, "sync", M_VEC)
RW_TEST(sync_vectored_direct, "sync", M_VEC | M_DIRECT)
RW_TEST(sync_scalar_buffered_dsync, "sync", M_DSYNC)

/*
 * IOPOLL reaped the way aio-stress reaps: depth 32, batches of 8, each
 * reap waiting with no time limit for 8.  Every request comes back once,
 * done or with the error the target gave (EOPNOTSUPP where it cannot
 * poll), or the reap fails with a reason after a while without progress.
 * The kernel does not poll while the CQ holds a CQE, so a reap that waited
 * for more CQEs than were posted without taking them spun forever: an
 * alarm kills this test binary if that comes back.
 */
#define POLL_DEPTH 32
#define POLL_BATCH 8
#define POLL_REQS 128
#define POLL_ALARM_S 60

static void check_iopoll_no_time_limit(unsigned int mode)
{
	const struct engine_ops *ops = engine_find("io_uring");
	struct engine_opts o = { .depth = POLL_DEPTH,
				 .iopoll = true,
				 .sqpoll = mode & M_SQPOLL };
	struct io_req reqs[POLL_REQS], *out[POLL_DEPTH];
	bool seen[POLL_REQS] = { false };
	int fd = -1, check_fd = -1, next = 0, done = 0, ret, i, phase;
	struct engine e = { 0 };
	uint8_t *buf = NULL;
	bool up = false;

	printf("# engine=io_uring iopoll%s, reaps without a time limit\n",
	       mode & M_SQPOLL ? ",sqpoll" : "");
	if (!ops) {
		skip_because("engine io_uring is not in this build");
		return;
	}
	if (posix_memalign((void **)&buf, BLOCK, (size_t)POLL_REQS * BLOCK)) {
		UNIT_FAIL("posix_memalign failed");
		return;
	}
	memset(buf, 0x5a, (size_t)POLL_REQS * BLOCK);
	if (open_scratch(M_DIRECT, &fd, &check_fd))
		goto out;
	o.fds = &fd;
	o.nr_fds = 1;
	ret = engine_init(&e, ops, &o);
	if (ret) {
		if (refusal_is_skip("io_uring", mode, ret))
			skip_because("%s", e.reason);
		else
			UNIT_FAIL("init: %s", e.reason);
		goto out;
	}
	up = true;
	alarm(POLL_ALARM_S);
	for (phase = 0; phase < 2; phase++) {
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < POLL_REQS; i++)
			reqs[i] = (struct io_req){
				.op = phase ? IO_OP_READ : IO_OP_WRITE,
				.fd = fd,
				.buf = buf + (size_t)i * BLOCK,
				.len = BLOCK,
				.offset = (int64_t)i * BLOCK,
				.res = 1,
			};
		for (next = done = 0; done < POLL_REQS;) {
			for (i = 0; i < POLL_BATCH && next < POLL_REQS &&
				    e.queued + e.inflight < POLL_DEPTH;
			     i++) {
				ret = engine_prep(&e, &reqs[next++]);
				if (ret) {
					UNIT_FAIL("prep: %s", strerror(-ret));
					goto out;
				}
			}
			ret = engine_submit(&e);
			if (ret < 0 && ret != -EAGAIN) {
				UNIT_FAIL("submit: %s", strerror(-ret));
				goto out;
			}
			if (e.queued + e.inflight < POLL_DEPTH &&
			    next < POLL_REQS)
				continue;
			ret = engine_reap(&e, POLL_BATCH, POLL_DEPTH, -1, out);
			if (ret == -ETIMEDOUT && e.reason[0]) {
				skip_because("%s", e.reason);
				goto out;
			}
			if (ret <= 0) {
				UNIT_FAIL(
					"reap returned %d (%s) with %u in flight",
					ret, ret < 0 ? strerror(-ret) : "none",
					e.inflight);
				goto out;
			}
			for (i = 0; i < ret; i++) {
				long idx = out[i] - reqs;

				if (idx < 0 || idx >= POLL_REQS || seen[idx]) {
					UNIT_FAIL(
						"reap returned a bad request (%ld)",
						idx);
					goto out;
				}
				seen[idx] = true;
				done++;
			}
		}
		for (i = 0; i < POLL_REQS; i++)
			if (reqs[i].res != BLOCK && reqs[i].res != -EOPNOTSUPP)
				UNIT_FAIL("%s %d: res %lld, expected %d or %d",
					  phase ? "read" : "write", i,
					  (long long)reqs[i].res, BLOCK,
					  -EOPNOTSUPP);
	}
	EXPECT_EQ(0, e.queued);
	EXPECT_EQ(0, e.inflight);
out:
	alarm(0);
	if (up)
		engine_cleanup(&e);
	if (fd >= 0)
		close(fd);
	if (check_fd >= 0)
		close(check_fd);
	free(buf);
}

UNIT_TEST(io_uring_iopoll_reaps_every_request_without_a_time_limit)
{
	check_iopoll_no_time_limit(0);
}

UNIT_TEST(io_uring_sqpoll_iopoll_reaps_every_request_without_a_time_limit)
{
	check_iopoll_no_time_limit(M_SQPOLL);
}

/* Start engine `name` on /dev/null; 0, or a skip/failure was recorded. */
static int start_devnull(struct engine *e, const char *name, unsigned int depth,
			 int *fd)
{
	const struct engine_ops *ops = engine_find(name);
	struct engine_opts o = { .depth = depth };
	int ret;

	memset(e, 0, sizeof(*e));
	if (!ops) {
		skip_because("engine %s is not in this build", name);
		return -ENOENT;
	}
	*fd = open("/dev/null", O_WRONLY);
	if (*fd < 0) {
		UNIT_FAIL("cannot open /dev/null: %s", strerror(errno));
		return -errno;
	}
	ret = engine_init(e, ops, &o);
	if (ret) {
		if (refusal_is_skip(name, 0, ret))
			skip_because("%s", e->reason);
		else
			UNIT_FAIL("init: %s", e->reason);
		close(*fd);
	}
	return ret;
}

/*
 * 32 requests queued on an engine of depth 4: submit takes 4 (the first
 * four, in order), refuses more with -EAGAIN while they are in flight,
 * and the rest go out with later submits until all 32 complete.
 */
static void check_partial_submit(const char *name)
{
	static char buf[512];
	struct io_req reqs[32], *out[32];
	bool seen[32] = { false };
	struct engine e;
	int fd, ret, i, done = 0, iter;

	printf("# engine=%s partial submit\n", name);
	if (start_devnull(&e, name, 4, &fd))
		return;
	for (i = 0; i < 32; i++) {
		reqs[i] = (struct io_req){ .op = IO_OP_WRITE,
					   .fd = fd,
					   .buf = buf,
					   .len = sizeof(buf) };
		ret = engine_prep(&e, &reqs[i]);
		if (ret) {
			UNIT_FAIL("prep %d: %s", i, strerror(-ret));
			goto out;
		}
	}
	EXPECT_EQ(32, e.queued);
	ret = engine_submit(&e);
	EXPECT_EQ(4, ret);
	EXPECT_EQ(28, e.queued);
	EXPECT_EQ(4, e.inflight);
	EXPECT_EQ(-EAGAIN, engine_submit(&e));
	ret = engine_reap(&e, 4, 32, REAP_TIMEOUT_NS, out);
	EXPECT_EQ(4, ret);
	for (i = 0; i < ret; i++) {
		long idx = out[i] - reqs;

		EXPECT_TRUE(idx >= 0 && idx < 4 && !seen[idx]);
		if (idx >= 0 && idx < 4 && !seen[idx]) {
			seen[idx] = true;
			done++;
		}
	}
	for (iter = 0; done < 32 && iter < 1000; iter++) {
		ret = engine_submit(&e);
		if (ret < 0 && ret != -EAGAIN) {
			UNIT_FAIL("submit: %s", strerror(-ret));
			goto out;
		}
		ret = engine_reap(&e, 1, 32, REAP_TIMEOUT_NS, out);
		if (ret <= 0) {
			UNIT_FAIL("reap returned %d with %u in flight", ret,
				  e.inflight);
			goto out;
		}
		for (i = 0; i < ret; i++) {
			long idx = out[i] - reqs;

			if (idx < 0 || idx >= 32 || seen[idx]) {
				UNIT_FAIL("reap returned a bad request (%ld)",
					  idx);
				goto out;
			}
			seen[idx] = true;
			done++;
		}
	}
	EXPECT_EQ(32, done);
	for (i = 0; i < 32; i++)
		EXPECT_EQ(512, reqs[i].res);
	EXPECT_EQ(0, e.queued);
	EXPECT_EQ(0, e.inflight);
out:
	engine_cleanup(&e);
	close(fd);
}

UNIT_TEST(libaio_partial_submit)
{
	check_partial_submit("libaio");
}

UNIT_TEST(io_uring_partial_submit)
{
	check_partial_submit("io_uring");
}

UNIT_TEST(sync_partial_submit)
{
	check_partial_submit("sync");
}

/*
 * A request the kernel refuses at submission (fd -1 between two good
 * ones) completes with -EBADF; the good ones complete normally.
 */
static void check_bad_fd(const char *name)
{
	static char buf[512];
	struct io_req reqs[3], *out[3];
	struct engine e;
	int fd, ret, i, done = 0, iter;

	printf("# engine=%s bad fd\n", name);
	if (start_devnull(&e, name, 8, &fd))
		return;
	for (i = 0; i < 3; i++) {
		reqs[i] = (struct io_req){ .op = IO_OP_WRITE,
					   .fd = i == 1 ? -1 : fd,
					   .buf = buf,
					   .len = sizeof(buf) };
		EXPECT_EQ(0, engine_prep(&e, &reqs[i]));
	}
	for (iter = 0; e.queued && iter < 10; iter++) {
		ret = engine_submit(&e);
		if (ret <= 0) {
			UNIT_FAIL("submit: %d (%s)", ret, strerror(-ret));
			goto out;
		}
	}
	EXPECT_EQ(0, e.queued);
	EXPECT_EQ(3, e.inflight);
	for (iter = 0; done < 3 && iter < 10; iter++) {
		ret = engine_reap(&e, 1, 3, REAP_TIMEOUT_NS, out);
		if (ret <= 0) {
			UNIT_FAIL("reap: %d", ret);
			goto out;
		}
		done += ret;
	}
	EXPECT_EQ(3, done);
	EXPECT_EQ(512, reqs[0].res);
	EXPECT_EQ(-EBADF, reqs[1].res);
	EXPECT_EQ(512, reqs[2].res);
	EXPECT_EQ(0, e.inflight);
out:
	engine_cleanup(&e);
	close(fd);
}

UNIT_TEST(libaio_bad_fd_completes_with_ebadf)
{
	check_bad_fd("libaio");
}

UNIT_TEST(io_uring_bad_fd_completes_with_ebadf)
{
	check_bad_fd("io_uring");
}

UNIT_TEST(sync_bad_fd_completes_with_ebadf)
{
	check_bad_fd("sync");
}

/*
 * Engine ops at depth 8 over /dev/null; false (the reason printed, not a
 * skip: the next engine is tried) when it cannot start.
 */
static bool devnull_engine(struct engine *e, const struct engine_ops *ops,
			   int *fd)
{
	if (!start_devnull(e, ops->name, 8, fd))
		return true;
	printf("# engine=%s: %s\n", ops->name, e->reason);
	unit_skip = NULL;
	return false;
}

/*
 * Submit n writes of buf to fd (/dev/null) in one call and wait (up to a
 * second, for an engine that completes them elsewhere) until `ready`
 * completions are there.
 */
static void submit_devnull(struct engine *e, struct io_req *reqs, int n, int fd,
			   char *buf, size_t len, int ready)
{
	int i, spin;

	for (i = 0; i < n; i++) {
		reqs[i] = (struct io_req){
			.op = IO_OP_WRITE, .fd = fd, .buf = buf, .len = len
		};
		engine_prep(e, &reqs[i]);
	}
	EXPECT_EQ(n, engine_submit(e));
	for (spin = 0; engine_ready(e) < ready && spin < 1000; spin++)
		usleep(1000);
	if (engine_ready(e) != ready)
		printf("# engine=%s\n", e->ops->name);
}

/*
 * ready() counts completions that are there without blocking: writes to
 * /dev/null complete inside submit, so all 4 show (allow a second for an
 * engine that completes them elsewhere).
 */
UNIT_TEST(ready_counts_completions)
{
	const struct engine_ops *const *ops;
	static char buf[512];
	struct io_req reqs[4], *out[4];
	int fd;

	for (ops = engine_list; *ops; ops++) {
		struct engine e;

		if (!devnull_engine(&e, *ops, &fd))
			continue;
		EXPECT_EQ(0, engine_ready(&e));
		submit_devnull(&e, reqs, 4, fd, buf, sizeof(buf), 4);
		EXPECT_EQ(4, engine_ready(&e));
		EXPECT_EQ(4, engine_reap(&e, 0, 4, 0, out));
		EXPECT_EQ(0, engine_ready(&e));
		engine_cleanup(&e);
		close(fd);
	}
}

/*
 * inline_done() counts the requests of the last submit only: 4 writes to
 * /dev/null, all complete when submit returns, then 2 more while the
 * first 4 are still unreaped: 4, then 2 (not 6).
 */
UNIT_TEST(inline_done_counts_the_last_submit_only)
{
	const struct engine_ops *const *ops;
	static char buf[512];
	struct io_req reqs[6], *out[6];
	int fd;

	for (ops = engine_list; *ops; ops++) {
		struct engine e;

		if (!devnull_engine(&e, *ops, &fd))
			continue;
		submit_devnull(&e, reqs, 4, fd, buf, sizeof(buf), 4);
		EXPECT_EQ(4, engine_inline_done(&e));
		submit_devnull(&e, reqs + 4, 2, fd, buf, sizeof(buf), 6);
		EXPECT_EQ(2, engine_inline_done(&e));
		EXPECT_EQ(6, engine_reap(&e, 6, 6, REAP_TIMEOUT_NS, out));
		EXPECT_EQ(0, engine_inline_done(&e));
		engine_cleanup(&e);
		close(fd);
	}
}

/*
 * An earlier request that completes during a later submit is not that
 * call's: io_uring, a read of an empty pipe waits; the next call carries
 * a read of a second empty pipe and a write to the first, which completes
 * at once and lets the first read complete in the same call.  Two
 * completions are ready after it (what counting the difference of ready()
 * around the call saw as two inline of two), one of them the call's own.
 */
UNIT_TEST(io_uring_inline_done_leaves_out_earlier_requests)
{
	const struct engine_ops *ops = engine_find("io_uring");
	struct engine_opts o = { .depth = 8 };
	char b1[8], b2[8], msg8[8] = "abcdefg";
	struct io_req r1, r2, w, *out[3];
	int p1[2], p2[2], spin, ret;
	struct engine e;

	if (!ops)
		UNIT_SKIP("engine io_uring is not in this build");
	ret = engine_init(&e, ops, &o);
	if (ret) {
		if (e.absent) {
			skip_because("%s", e.reason);
			return;
		}
		UNIT_FAIL("init: %s", e.reason);
		return;
	}
	ASSERT_EQ(0, pipe(p1));
	ASSERT_EQ(0, pipe(p2));
	r1 = (struct io_req){
		.op = IO_OP_READ, .fd = p1[0], .buf = b1, .len = 8, .offset = -1
	};
	r2 = (struct io_req){
		.op = IO_OP_READ, .fd = p2[0], .buf = b2, .len = 8, .offset = -1
	};
	w = (struct io_req){ .op = IO_OP_WRITE,
			     .fd = p1[1],
			     .buf = msg8,
			     .len = 8,
			     .offset = -1 };
	engine_prep(&e, &r1);
	EXPECT_EQ(1, engine_submit(&e));
	EXPECT_EQ(0, engine_inline_done(&e));
	engine_prep(&e, &r2);
	engine_prep(&e, &w);
	EXPECT_EQ(2, engine_submit(&e));
	for (spin = 0; engine_ready(&e) < 2 && spin < 1000; spin++)
		usleep(1000);
	EXPECT_EQ(2, engine_ready(&e));
	EXPECT_EQ(1, engine_inline_done(&e));
	/* Let the second read finish, then take all three. */
	EXPECT_EQ(8, write(p2[1], msg8, 8));
	EXPECT_EQ(3, engine_reap(&e, 3, 3, REAP_TIMEOUT_NS, out));
	engine_cleanup(&e);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

/* Reaping an idle engine returns 0 at once, whatever min and timeout. */
UNIT_TEST(reap_idle_returns_0)
{
	const struct engine_ops *const *ops;
	struct io_req *out[8];
	int user_reap;

	for (ops = engine_list; *ops; ops++) {
		for (user_reap = 0; user_reap < 2; user_reap++) {
			struct engine_opts o = { .depth = 8,
						 .user_reap = user_reap };
			struct engine e;
			int ret;

			if (user_reap && !((*ops)->caps & ENG_CAP_USER_REAP))
				continue;
			ret = engine_init(&e, *ops, &o);
			if (ret) {
				printf("# engine=%s: %s\n", (*ops)->name,
				       e.reason);
				EXPECT_TRUE(
					refusal_is_skip((*ops)->name, 0, ret));
				continue;
			}
			EXPECT_EQ(0, engine_reap(&e, 0, 8, 0, out));
			EXPECT_EQ(0, engine_reap(&e, 1, 8, 0, out));
			EXPECT_EQ(0, engine_reap(&e, 1, 8, 1000000, out));
			EXPECT_EQ(0, engine_reap(&e, 1, 8, -1, out));
			EXPECT_EQ(0, engine_ready(&e));
			EXPECT_EQ(0, engine_submit(&e));
			engine_cleanup(&e);
		}
	}
}

UNIT_TEST(engine_find_by_name)
{
	const struct engine_ops *const *ops;
	int nr = 0;

	EXPECT_TRUE(engine_find("nope") == NULL);
	EXPECT_TRUE(engine_find("") == NULL);
	EXPECT_TRUE(engine_find(NULL) == NULL);
	EXPECT_TRUE(engine_find("libaio") != NULL);
	EXPECT_TRUE(engine_find("sync") != NULL);
	for (ops = engine_list; *ops; ops++, nr++) {
		EXPECT_TRUE(engine_find((*ops)->name) == *ops);
		EXPECT_TRUE((*ops)->help && (*ops)->help[0]);
		/* Each engine here has its tests above. */
		EXPECT_TRUE(!strcmp((*ops)->name, "libaio") ||
			    !strcmp((*ops)->name, "io_uring") ||
			    !strcmp((*ops)->name, "sync"));
	}
	EXPECT_TRUE(nr >= 2);
}

UNIT_TEST(engine_init_refuses_with_a_reason)
{
	struct engine_opts o = { .depth = 8, .sqpoll = true };
	struct engine e;

	EXPECT_EQ(-EOPNOTSUPP, engine_init(&e, engine_find("sync"), &o));
	EXPECT_TRUE(strstr(e.reason, "sqpoll") != NULL);
	engine_cleanup(&e);
	o.sqpoll = false;
	o.user_reap = true;
	EXPECT_EQ(-EOPNOTSUPP, engine_init(&e, engine_find("sync"), &o));
	EXPECT_TRUE(strstr(e.reason, "user_reap") != NULL);
	engine_cleanup(&e);
	o.user_reap = false;
	o.depth = 0;
	EXPECT_EQ(-EINVAL, engine_init(&e, engine_find("libaio"), &o));
	EXPECT_TRUE(e.reason[0] != '\0');
	engine_cleanup(&e);
}

/* An option the kernel refuses: its errno, and a reason naming it. */
UNIT_TEST(io_uring_refusal_names_the_option)
{
	const struct engine_ops *ops = engine_find("io_uring");
	int bad_fd = 1000000;
	struct engine_opts o = {
		.depth = 8, .fixed_files = true, .fds = &bad_fd, .nr_fds = 1
	};
	struct engine e;
	int ret;

	if (!ops)
		UNIT_SKIP("engine io_uring is not in this build");
	ret = engine_init(&e, ops, &o);
	if (ret && e.absent) {
		skip_because("%s", e.reason);
		return;
	}
	EXPECT_EQ(-EBADF, ret);
	if (!strstr(e.reason,
		    "registered files refused by the kernel: Bad file descriptor"))
		UNIT_FAIL("reason: %s", e.reason);
	engine_cleanup(&e);
}

UNIT_TEST(rw_flags_parse_names)
{
	const char *bad = NULL;
	int flags = -1;

	EXPECT_EQ(0, rw_flags_parse("", &flags, &bad));
	EXPECT_EQ(0, flags);
	flags = -1;
	EXPECT_EQ(0, rw_flags_parse("none", &flags, &bad));
	EXPECT_EQ(0, flags);
	EXPECT_EQ(0, rw_flags_parse("nowait", &flags, &bad));
	EXPECT_EQ(0x8, flags);
	EXPECT_EQ(0, rw_flags_parse("dsync,sync", &flags, &bad));
	EXPECT_EQ(0x6, flags);
	EXPECT_EQ(
		0,
		rw_flags_parse(
			"hipri,dsync,sync,nowait,append,noappend,atomic,dontcache",
			&flags, &bad));
	EXPECT_EQ(0xff, flags);
	EXPECT_EQ(0, rw_flags_parse("NoWait", &flags, NULL));
	EXPECT_EQ(0x8, flags);

	flags = 0x1234;
	EXPECT_EQ(-EINVAL, rw_flags_parse("nowait,bogus,dsync", &flags, &bad));
	EXPECT_EQ(0x1234, flags);
	EXPECT_TRUE(bad && !strcmp(bad, "bogus"));
	EXPECT_EQ(-EINVAL, rw_flags_parse("nowait,", &flags, &bad));
	EXPECT_TRUE(bad && !strcmp(bad, ""));
	EXPECT_EQ(-EINVAL, rw_flags_parse("syncx", &flags, &bad));
	EXPECT_EQ(-EINVAL, rw_flags_parse("sync ", &flags, NULL));
	EXPECT_EQ(-EINVAL, rw_flags_parse(",", &flags, NULL));
}

UNIT_TEST(io_req_bytes_sums_segments)
{
	char a[10], b[20];
	struct iovec iov[3] = { { a, 10 }, { b, 20 }, { a, 0 } };
	struct io_req r = { .op = IO_OP_READ, .buf = a, .len = 10 };

	EXPECT_EQ(10, io_req_bytes(&r));
	r.vectored = true;
	r.iov = iov;
	r.nr_iov = 3;
	EXPECT_EQ(30, io_req_bytes(&r));
	r.nr_iov = 0;
	EXPECT_EQ(0, io_req_bytes(&r));
	r.op = IO_OP_FSYNC;
	r.vectored = false;
	EXPECT_EQ(0, io_req_bytes(&r));
}

UNIT_MAIN()
