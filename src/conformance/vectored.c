/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: IOCB_CMD_PREADV and IOCB_CMD_PWRITEV (seed 002).  With 1, 10
 * and IOV_MAX segments, zero-length segments, an unaligned start and odd
 * segment sizes for buffered I/O, from a cold and a warm page cache, and
 * with O_DIRECT: every segment gets exactly the bytes at its own offset
 * and nothing past its end is touched.  IOV_MAX + 1 segments is EINVAL and
 * a bad iovec pointer is EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"

#define GUARD 16
#define GUARD_BYTE 0xee
#define FILE_BYTES (4 << 20)

/* Cold or warm, O_DIRECT or not: as the test's file fixture says. */
enum vflags {
	V_DIRECT = 1 << 1, /* set by vec_io() for an O_DIRECT file */
	V_ZEROS = 1 << 2, /* every third segment is empty */
	V_ODD = 1 << 3, /* odd sizes, odd buffer addresses, odd start */
	V_WRITE = 1 << 4,
};

static size_t seg_len(int i, int flags)
{
	if ((flags & V_ZEROS) && i % 3 == 1)
		return 0;
	if (flags & V_DIRECT)
		return 4096 * (size_t)(1 + i % 3);
	if (flags & V_ODD)
		return 1 + (size_t)((i * 37) % 700);
	return 512 + (size_t)(i % 4) * 512;
}

static int vec_io(struct tctx *t, int nseg, int64_t start, int flags)
{
	struct iovec *iov = NULL;
	size_t total = 0, area_len = 0, pos, step;
	struct io_event ev;
	int ret = T_PASS, i;
	char *area = NULL;
	struct iocb cb;
	long bad;

	if (t->direct)
		flags |= V_DIRECT;
	iov = calloc((size_t)nseg, sizeof(*iov));
	CHECK(iov, "out of memory");
	for (i = 0; i < nseg; i++)
		area_len += (seg_len(i, flags) + GUARD + 4095) & ~(size_t)4095;
	area = t_alloc(area_len + 4096);
	CHECK(area, "out of memory");
	memset(area, GUARD_BYTE, area_len + 4096);
	pos = (flags & V_ODD) ? 3 : 0;
	for (i = 0; i < nseg; i++) {
		iov[i].iov_base = area + pos;
		iov[i].iov_len = seg_len(i, flags);
		total += iov[i].iov_len;
		step = (iov[i].iov_len + GUARD + 4095) & ~(size_t)4095;
		pos += step;
	}
	CHECK(start + (int64_t)total <= FILE_BYTES, "test too big");
	if (flags & V_WRITE) {
		pos = 0;
		for (i = 0; i < nseg; i++) {
			pat_fill(iov[i].iov_base, iov[i].iov_len,
				 (uint64_t)start + pos, 12);
			pos += iov[i].iov_len;
		}
	} else {
		if (!t->test->needs.file.cold)
			CHECK(pread(t->fd, area, 4096, 0) >= 0, "warm read");
		memset(area, GUARD_BYTE, area_len + 4096);
	}
	prep_rw(&cb, (flags & V_WRITE) ? IOCB_CMD_PWRITEV : IOCB_CMD_PREADV,
		t->fd, iov, (size_t)nseg, start);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, total);
	if (flags & V_WRITE) {
		char *back = t_alloc(total);

		CHECK(back, "out of memory");
		if (pread(t->fd, back, total, start) != (ssize_t)total) {
			free(back);
			FAIL("pread back: %s", errno_name(errno));
		}
		bad = pat_check(back, total, (uint64_t)start, 12);
		free(back);
		CHECK(bad < 0, "written data wrong at file offset %lld",
		      (long long)(start + bad));
		goto out;
	}
	pos = 0;
	for (i = 0; i < nseg; i++) {
		const unsigned char *g =
			(unsigned char *)iov[i].iov_base + iov[i].iov_len;
		int k;

		bad = pat_check(iov[i].iov_base, iov[i].iov_len,
				(uint64_t)start + pos, 12);
		CHECK(bad < 0,
		      "segment %d of %d (%zu bytes at file offset %lld): "
		      "wrong byte %ld",
		      i, nseg, iov[i].iov_len, (long long)(start + pos), bad);
		for (k = 0; k < GUARD; k++)
			CHECK(g[k] == GUARD_BYTE,
			      "segment %d: written past its end", i);
		pos += iov[i].iov_len;
	}
out:
	free(area);
	free(iov);
	return ret;
}

/* The file a vec_io() reads (cold or warm) or writes, and a context. */
#define VEC_READ(cold_, direct_)                                          \
	.ctx = 4, .file = T_PATTERN_FILE("vec", FILE_BYTES, 12, O_RDONLY, \
					 .direct = direct_, .cold = cold_)
#define VEC_WRITE(direct_) \
	.ctx = 4, .file = { .name = "vec", .oflags = O_RDWR, .direct = direct_ }

static int test_preadv_1(struct tctx *t)
{
	return vec_io(t, 1, 8192, 0);
}
CONFORM_TEST(test_preadv_1, "vectored.preadv_1_cold", T_FILE,
	     VEC_READ(true, T_BUFFERED))

static int test_preadv_10(struct tctx *t)
{
	return vec_io(t, 10, 4096 * 3, 0);
}
CONFORM_TEST(test_preadv_10, "vectored.preadv_10_cold", T_FILE,
	     VEC_READ(true, T_BUFFERED))

static int test_preadv_max(struct tctx *t)
{
	return vec_io(t, IOV_MAX, 4096, 0);
}
CONFORM_TEST(test_preadv_max, "vectored.preadv_iov_max_cold", T_FILE,
	     VEC_READ(true, T_BUFFERED))

static int test_preadv_warm(struct tctx *t)
{
	return vec_io(t, 10, 4096, 0);
}
CONFORM_TEST(test_preadv_warm, "vectored.preadv_10_warm", T_FILE,
	     VEC_READ(false, T_BUFFERED))

static int test_preadv_zeros(struct tctx *t)
{
	return vec_io(t, 30, 4096, V_ZEROS);
}
CONFORM_TEST(test_preadv_zeros, "vectored.preadv_zero_length_segments", T_FILE,
	     VEC_READ(true, T_BUFFERED))

static int test_preadv_odd(struct tctx *t)
{
	return vec_io(t, 64, 1234, V_ODD);
}
CONFORM_TEST(test_preadv_odd, "vectored.preadv_unaligned_buffered", T_FILE,
	     VEC_READ(true, T_BUFFERED))

static int test_preadv_direct(struct tctx *t)
{
	return vec_io(t, 10, 8192, 0);
}
CONFORM_TEST(test_preadv_direct, "vectored.preadv_direct_cold", T_FILE,
	     VEC_READ(true, T_DIRECT))

static int test_preadv_direct_max(struct tctx *t)
{
	return vec_io(t, 64, 4096, V_ZEROS);
}
CONFORM_TEST(test_preadv_direct_max, "vectored.preadv_direct_zero_length",
	     T_FILE, VEC_READ(true, T_DIRECT))

static int test_pwritev_1(struct tctx *t)
{
	return vec_io(t, 1, 4096, V_WRITE);
}
CONFORM_TEST(test_pwritev_1, "vectored.pwritev_1", T_FILE,
	     VEC_WRITE(T_BUFFERED))

static int test_pwritev_10(struct tctx *t)
{
	return vec_io(t, 10, 777, V_WRITE | V_ODD | V_ZEROS);
}
CONFORM_TEST(test_pwritev_10, "vectored.pwritev_10_unaligned", T_FILE,
	     VEC_WRITE(T_BUFFERED))

static int test_pwritev_max(struct tctx *t)
{
	return vec_io(t, IOV_MAX, 0, V_WRITE);
}
CONFORM_TEST(test_pwritev_max, "vectored.pwritev_iov_max", T_FILE,
	     VEC_WRITE(T_BUFFERED))

static int test_pwritev_direct(struct tctx *t)
{
	return vec_io(t, 10, 4096, V_WRITE);
}
CONFORM_TEST(test_pwritev_direct, "vectored.pwritev_direct", T_FILE,
	     VEC_WRITE(T_DIRECT))

static int test_too_many(struct tctx *t)
{
	struct iovec *iov = NULL;
	struct io_event ev;
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, i, r;
	char buf[16];

	iov = calloc(IOV_MAX + 1, sizeof(*iov));
	CHECK(iov, "out of memory");
	for (i = 0; i <= IOV_MAX; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = 1;
	}
	prep_rw(&cb, IOCB_CMD_PREADV, t->fd, iov, IOV_MAX + 1, 0);
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EINVAL);
	prep_rw(&cb, IOCB_CMD_PREADV, t->fd, (void *)(uintptr_t)8, 2, 0);
	errno = 0;
	r = sys_io_submit(t->ctx, 1, cbs);
	if (r == 1) {
		CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
		CHECK_RES(ev, -EFAULT);
	} else {
		CHECK(r == -1 && errno == EFAULT,
		      "bad iovec pointer: expected EFAULT, got %d %s", r,
		      errno_name(errno));
	}
out:
	free(iov);
	return ret;
}
CONFORM_TEST(test_too_many, "vectored.bad_iovec", 0, .ctx = 4,
	     .file = T_PATTERN_FILE("vec", 65536, 12, O_RDONLY))
