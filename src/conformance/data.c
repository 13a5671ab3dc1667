/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: what reads and writes do to the data, on every variant.
 * Buffered and O_DIRECT round trips; O_APPEND writes land at the end;
 * a sub-block O_DIRECT read at EOF is short; i_size is right as soon as the
 * completion is seen; RLIMIT_FSIZE gives a short write then EFBIG (and 0
 * for zero bytes at the limit); a full
 * filesystem gives a partial write then ENOSPC; reads racing writes into
 * holes and extending writes see old or new data, never stale or
 * misplaced data; buffered reads from a cold cache (seed 000) are right.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define RT_BS 4096
#define RT_COUNT 64

/* RT_COUNT writes of RT_BS in reverse order, then reads of them back. */
static int roundtrip(struct tctx *t)
{
	size_t bytes = (size_t)RT_BS * RT_COUNT;
	int ret = T_PASS, i, n;

	pat_fill(t->buf, bytes, 0, 7);
	for (i = 0; i < RT_COUNT; i++) {
		/* Reverse order, so offsets are not merely sequential. */
		int k = RT_COUNT - 1 - i;

		prep_rw(&t->cb[i], IOCB_CMD_PWRITE, t->fd, t->buf + k * RT_BS,
			RT_BS, (int64_t)k * RT_BS);
	}
	n = sys_io_submit(t->ctx, RT_COUNT, t->cbs);
	CHECK(n == RT_COUNT, "io_submit writes: %d %s", n, errno_name(errno));
	CHECK_RET(t_reap(t->ctx, RT_COUNT, t->ev), RT_COUNT);
	for (i = 0; i < RT_COUNT; i++)
		CHECK_RES(t->ev[i], RT_BS);
	if (!t->direct)
		CHECK(!t_drop_cache(t->fd), "drop cache: %s",
		      errno_name(errno));
	memset(t->buf, 0, bytes);
	for (i = 0; i < RT_COUNT; i++) {
		t->cb[i].aio_lio_opcode = IOCB_CMD_PREAD;
		t->cb[i].aio_key = 0;
	}
	n = sys_io_submit(t->ctx, RT_COUNT, t->cbs);
	CHECK(n == RT_COUNT, "io_submit reads: %d %s", n, errno_name(errno));
	CHECK_RET(t_reap(t->ctx, RT_COUNT, t->ev), RT_COUNT);
	for (i = 0; i < RT_COUNT; i++)
		CHECK_RES(t->ev[i], RT_BS);
	n = (int)pat_check(t->buf, bytes, 0, 7);
	CHECK(n < 0, "wrong data read back at byte %d", n);
out:
	return ret;
}

#define RT_NEEDS(direct_)                                            \
	.ctx = RT_COUNT, .iocbs = RT_COUNT, .buf = RT_BS * RT_COUNT, \
	.file = { .name = "rt", .oflags = O_RDWR, .direct = direct_ }

static int test_buffered(struct tctx *t)
{
	return roundtrip(t);
}
CONFORM_TEST(test_buffered, "data.buffered_roundtrip", T_FILE,
	     RT_NEEDS(T_BUFFERED))

static int test_direct(struct tctx *t)
{
	return roundtrip(t);
}
CONFORM_TEST(test_direct, "data.direct_roundtrip", T_FILE, RT_NEEDS(T_DIRECT))

static int test_append(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS, i;
	char buf[3000];
	struct stat st;

	for (i = 0; i < 2; i++) {
		pat_fill(buf, 1000, 1000 + (uint64_t)i * 1000, 9);
		/* aio_offset is ignored for O_APPEND. */
		prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, 1000, 0);
		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
		CHECK_RES(ev, 1000);
	}
	CHECK(!fstat(t->fd, &st) && st.st_size == 3000, "size %lld, not 3000",
	      (long long)st.st_size);
	CHECK(pread(t->fd, buf, 3000, 0) == 3000, "pread");
	CHECK(pat_check(buf, 3000, 0, 9) < 0, "appended data misplaced");
out:
	return ret;
}
CONFORM_TEST(test_append, "data.append", T_FILE, .ctx = 4,
	     .file = T_PATTERN_FILE("app", 1000, 9, O_RDWR | O_APPEND))

/* O_DIRECT read of whole blocks over EOF: short count, then 0 past it. */
static int test_direct_eof(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 8192, 4096);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 904);
	CHECK(pat_check(t->buf, 904, 4096, 4) < 0, "wrong data before EOF");
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 4096, 8192);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 0);
out:
	return ret;
}
CONFORM_TEST(test_direct_eof, "data.direct_short_read_at_eof", T_FILE, .ctx = 4,
	     .buf = 8192,
	     .file = T_PATTERN_FILE("eof", 5000, 4, O_RDONLY,
				    .direct = T_DIRECT))

static int test_read_past_eof(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS;
	char buf[4096];

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, 4096, 4096);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 904);
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, 4096, 1 << 20);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 0);
out:
	return ret;
}
CONFORM_TEST(test_read_past_eof, "data.buffered_read_past_eof", T_FILE,
	     .ctx = 4, .file = T_PATTERN_FILE("eof", 5000, 4, O_RDONLY))

/* An extending write: st_size is the new size once the event is seen. */
static int test_isize(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS, fd = -1, pass;
	char why[256];
	struct stat st;

	for (pass = 0; pass < 2; pass++) {
		int flags = O_RDWR | O_CREAT | O_TRUNC;

		if (pass == 1) {
			if (!t_odirect_ok(t, why, sizeof(why))) {
				t_diag(t, "O_DIRECT part skipped: %s", why);
				break;
			}
			flags |= O_DIRECT;
		}
		fd = t_open(t, "isize", flags);
		CHECK(fd >= 0, "open: %s", errno_name(-fd));
		pat_fill(t->buf, 65536, 1 << 20, 5);
		prep_rw(&cb, IOCB_CMD_PWRITE, fd, t->buf, 65536, 1 << 20);
		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
		CHECK_RES(ev, 65536);
		CHECK(!fstat(fd, &st), "fstat");
		CHECK(st.st_size == (1 << 20) + 65536,
		      "%s: size %lld right after the completion",
		      pass ? "O_DIRECT" : "buffered", (long long)st.st_size);
		close(fd);
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
CONFORM_TEST(test_isize, "data.isize_after_completion", T_FILE, .ctx = 4,
	     .buf = 65536)

/* A write's result, from io_submit or the event: count or -errno. */
static long write_result(aio_context_t ctx, int fd, void *buf, size_t len,
			 int64_t off)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PWRITE, fd, buf, len, off);
	return t_result(ctx, &cb);
}

static int test_rlimit_fsize(struct tctx *t)
{
	struct rlimit rl = { 10000, 10000 };
	int ret = T_PASS;
	char buf[8192];
	long r;

	signal(SIGXFSZ, SIG_IGN);
	CHECK(!setrlimit(RLIMIT_FSIZE, &rl), "setrlimit: %s",
	      errno_name(errno));
	pat_fill(buf, sizeof(buf), 4096, 6);
	r = write_result(t->ctx, t->fd, buf, 8192, 4096);
	CHECK(r == 10000 - 4096, "crossing the limit: expected %d, got %ld",
	      10000 - 4096, r);
	r = write_result(t->ctx, t->fd, buf, 100, 10000);
	CHECK(r == -EFBIG, "at the limit: expected -EFBIG, got %ld", r);
	r = write_result(t->ctx, t->fd, buf, 100, 20000);
	CHECK(r == -EFBIG, "past the limit: expected -EFBIG, got %ld", r);
	/* Zero bytes at or past the limit is not an error (libaio's 7.t). */
	r = write_result(t->ctx, t->fd, buf, 0, 10000);
	CHECK(r == 0, "zero bytes at the limit: expected 0, got %ld", r);
	r = write_result(t->ctx, t->fd, buf, 0, 20000);
	CHECK(r == 0, "zero bytes past the limit: expected 0, got %ld", r);
out:
	return ret;
}
CONFORM_TEST(test_rlimit_fsize, "data.rlimit_fsize", T_FILE, .ctx = 4,
	     .file = { .name = "fsize", .oflags = O_RDWR })

/*
 * ENOSPC on a small tmpfs mounted in a private mount namespace (root, or
 * an unprivileged user namespace), so it vanishes with the test's process.
 */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int map_ids(uid_t uid, gid_t gid)
{
	char line[64];

	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)uid,
		 (unsigned int)uid);
	if (write_file("/proc/self/uid_map", line))
		return -1;
	write_file("/proc/self/setgroups", "deny");
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)gid,
		 (unsigned int)gid);
	return write_file("/proc/self/gid_map", line) ? -1 : 0;
}

static int test_enospc(struct tctx *t)
{
	static const struct t_file full = { .name = "full", .oflags = O_RDWR };
	int ret = T_PASS, flags;
	char *buf = t->buf;
	long r, total = 0;

	uid_t uid = geteuid();
	gid_t gid = getegid();

	flags = CLONE_NEWNS | (uid ? CLONE_NEWUSER : 0);
	if (unshare(flags))
		SKIP("cannot make a private mount namespace (%s): %s",
		     uid ? "not root, and no user namespace" : "unshare",
		     errno_name(errno));
	if (uid && map_ids(uid, gid))
		SKIP("cannot map ids in a user namespace: %s",
		     errno_name(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		SKIP("cannot make mounts private: %s", errno_name(errno));
	if (mount("tmpfs", t->dir, "tmpfs", 0, "size=256k"))
		SKIP("cannot mount a small tmpfs: %s", errno_name(errno));
	/* The file, made on the small tmpfs. */
	ret = t_fixture_file(t, &full);
	if (ret)
		goto out;
	pat_fill(buf, 1 << 20, 0, 2);
	r = write_result(t->ctx, t->fd, buf, 1 << 20, 0);
	CHECK(r > 0 && r < (1 << 20),
	      "1 MiB into a 256 KiB filesystem: expected a partial write, "
	      "got %ld",
	      r);
	total = r;
	r = write_result(t->ctx, t->fd, buf + total, (1 << 20) - (size_t)total,
			 total);
	CHECK(r == -ENOSPC, "the rest: expected -ENOSPC, got %ld", r);
	CHECK(pread(t->fd, buf, (size_t)total, 0) == total, "pread");
	CHECK(pat_check(buf, (size_t)total, 0, 2) < 0,
	      "data of the partial write wrong");
out:
	return ret;
}
CONFORM_TEST(test_enospc, "data.enospc", 0, .ctx = 4, .buf = 1 << 20)

/*
 * Writes into the holes of a sparse file and past its end, with reads of
 * the same ranges in flight at the same time: every 512-byte sector read
 * is either zero (not written yet) or exactly the new data for that offset.
 */
#define HOLE_BLOCKS 64
#define HOLE_BS 4096

static int check_sectors(struct tctx *t, const char *buf, size_t len,
			 uint64_t off)
{
	static const char zero[512];
	size_t s;

	for (s = 0; s + 512 <= len; s += 512)
		if (memcmp(buf + s, zero, 512) &&
		    pat_check(buf + s, 512, off + s, 8) >= 0)
			return t_fail(t, __FILE__, __LINE__,
				      "sector at %llu is neither zero nor its "
				      "new data",
				      (unsigned long long)(off + s));
	return T_PASS;
}

static int test_holes_race(struct tctx *t)
{
	struct iocb *cb = t->cb, **cbs = t->cbs;
	struct io_event *ev = t->ev;
	char *wbuf = t->buf, *rbuf = t->buf2, why[256];
	int ret = T_PASS, fd = -1, i, n, oflags = 0, round;
	aio_context_t ctx = t->ctx;

	if (t_odirect_ok(t, why, sizeof(why)))
		oflags = O_DIRECT;
	pat_fill(wbuf, HOLE_BLOCKS * HOLE_BS, 0, 8);
	for (round = 0; round < 4; round++) {
		fd = t_open(t, "holes", O_RDWR | O_CREAT | O_TRUNC | oflags);
		CHECK(fd >= 0, "open: %s", errno_name(-fd));
		/* Rounds 0, 1: holes inside i_size; 2, 3: extending. */
		if (round < 2)
			CHECK(!ftruncate(fd, HOLE_BLOCKS * HOLE_BS),
			      "ftruncate");
		memset(rbuf, 0xee, HOLE_BLOCKS * HOLE_BS);
		for (i = 0; i < HOLE_BLOCKS; i++) {
			int64_t off = (int64_t)i * HOLE_BS;

			prep_rw(&cb[2 * i], IOCB_CMD_PWRITE, fd, wbuf + off,
				HOLE_BS, off);
			prep_rw(&cb[2 * i + 1], IOCB_CMD_PREAD, fd, rbuf + off,
				HOLE_BS, off);
			cbs[2 * i] = &cb[2 * i + (round & 1)];
			cbs[2 * i + 1] = &cb[2 * i + 1 - (round & 1)];
		}
		n = sys_io_submit(ctx, 2 * HOLE_BLOCKS, cbs);
		CHECK(n == 2 * HOLE_BLOCKS, "io_submit: %d %s", n,
		      errno_name(errno));
		CHECK_RET(t_reap(ctx, n, ev), n);
		for (i = 0; i < n; i++) {
			struct iocb *c = (struct iocb *)(uintptr_t)ev[i].obj;

			if (c->aio_lio_opcode == IOCB_CMD_PWRITE) {
				CHECK_RES(ev[i], HOLE_BS);
				continue;
			}
			CHECK(ev[i].res >= 0 && ev[i].res <= HOLE_BS,
			      "read res %lld", (long long)ev[i].res);
			ret = check_sectors(t, (char *)(uintptr_t)c->aio_buf,
					    (size_t)ev[i].res,
					    (uint64_t)c->aio_offset);
			if (ret)
				goto out;
		}
		CHECK(pread(fd, rbuf, HOLE_BLOCKS * HOLE_BS, 0) ==
			      HOLE_BLOCKS * HOLE_BS,
		      "pread");
		n = (int)pat_check(rbuf, HOLE_BLOCKS * HOLE_BS, 0, 8);
		CHECK(n < 0, "round %d: final data wrong at byte %d", round, n);
		close(fd);
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
CONFORM_TEST(test_holes_race, "data.holes_and_extending_race", T_FILE,
	     .ctx = 2 * HOLE_BLOCKS, .iocbs = 2 * HOLE_BLOCKS,
	     .buf = HOLE_BLOCKS * HOLE_BS, .buf2 = HOLE_BLOCKS * HOLE_BS)

/* Seed 000: buffered reads from a cold page cache: data and count. */
static int test_cold_buffered(struct tctx *t)
{
	int ret = T_PASS, i, n;

	for (i = 0; i < 32; i++)
		/* Odd offsets and lengths: the buffered path takes them. */
		prep_rw(&t->cb[i], IOCB_CMD_PREAD, t->fd, t->buf + i * 65536,
			65536, (int64_t)i * 65536 + 100);
	n = sys_io_submit(t->ctx, 32, t->cbs);
	CHECK(n == 32, "io_submit: %d %s", n, errno_name(errno));
	CHECK_RET(t_reap(t->ctx, 32, t->ev), 32);
	for (i = 0; i < 32; i++) {
		struct iocb *c = (struct iocb *)(uintptr_t)t->ev[i].obj;

		CHECK_RES(t->ev[i], 65536);
		CHECK(pat_check((char *)(uintptr_t)c->aio_buf, 65536,
				(uint64_t)c->aio_offset, 10) < 0,
		      "wrong data at offset %lld", (long long)c->aio_offset);
	}
out:
	return ret;
}
CONFORM_TEST(test_cold_buffered, "data.cold_cache_buffered_read", T_FILE,
	     .ctx = 32, .iocbs = 32, .buf = 32 * 65536,
	     .file = T_PATTERN_FILE("cold", 32 * 65536 + 100, 10, O_RDONLY,
				    .cold = true))

/* O_DIRECT with a misaligned buffer: EINVAL, or (tmpfs) the right data. */
static int test_direct_unaligned(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS, r;
	char *buf = t->buf;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf + 1, 4096, 4096);
	r = t_submit_wait(t->ctx, &cb, &ev);
	if (r == -EINVAL || (!r && ev.res == -EINVAL))
		goto out;
	CHECK(!r, "io_submit: %s", errno_name(-r));
	CHECK_RES(ev, 4096);
	CHECK(pat_check(buf + 1, 4096, 4096, 11) < 0,
	      "misaligned O_DIRECT read accepted with wrong data");
	t_diag(t, "%s accepts misaligned O_DIRECT buffers",
	       t->var ? t->var->name : "this filesystem");
out:
	return ret;
}
CONFORM_TEST(test_direct_unaligned, "data.direct_misaligned", T_FILE, .ctx = 4,
	     .buf = 8192,
	     .file = T_PATTERN_FILE("ua", 65536, 11, O_RDONLY,
				    .direct = T_DIRECT))
