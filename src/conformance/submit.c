/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_submit's argument checks and return value.  nr 0 is 0; a
 * bad context or negative nr is EINVAL; bad pointers are EFAULT; a bad
 * descriptor or the wrong open mode is EBADF; reserved fields, unknown
 * opcodes and negative offsets are EINVAL; an error at iocb k > 0 returns
 * k and the failed iocb gets no event; more iocbs than the ring holds give
 * a partial count or EAGAIN, never a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

/* A context, a 64 KiB file of pattern 1 opened mode, an aligned buffer. */
#define SUBMIT_NEEDS(mode) \
	.ctx = 64, .buf = 65536, .file = T_PATTERN_FILE("data", 65536, 1, mode)

static int test_nr_zero(struct tctx *t)
{
	struct iocb *cbs[1] = { NULL };
	int ret = T_PASS;

	CHECK_RET(sys_io_submit(t->ctx, 0, cbs), 0);
out:
	return ret;
}
CONFORM_TEST(test_nr_zero, "submit.nr_zero", 0, SUBMIT_NEEDS(O_RDONLY))

static int test_bad_ctx(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	char buf[16];
	int ret = T_PASS;

	prep_rw(&cb, IOCB_CMD_PREAD, 0, buf, sizeof(buf), 0);
	CHECK_ERR(sys_io_submit(0, 1, cbs), EINVAL);
	CHECK_ERR(sys_io_submit((aio_context_t)(uintptr_t)buf, 1, cbs), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_bad_ctx, "submit.bad_ctx", 0)

static int test_nr_negative(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 512, 0);
	CHECK_ERR(sys_io_submit(t->ctx, -1, cbs), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_nr_negative, "submit.nr_negative", 0, SUBMIT_NEEDS(O_RDONLY))

static int test_bad_iocbpp(struct tctx *t)
{
	int ret = T_PASS;

	CHECK_ERR(sys_io_submit(t->ctx, 1, NULL), EFAULT);
	CHECK_ERR(sys_io_submit(t->ctx, 1, KERNEL_ADDR), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_bad_iocbpp, "submit.bad_iocbpp", 0, SUBMIT_NEEDS(O_RDONLY))

static int test_null_entry(struct tctx *t)
{
	struct iocb *cbs[1] = { NULL };
	int ret = T_PASS;

	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_null_entry, "submit.null_entry", 0, SUBMIT_NEEDS(O_RDONLY))

static int test_bad_iocb(struct tctx *t)
{
	struct iocb *cbs[1] = { KERNEL_ADDR };
	int ret = T_PASS;

	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EFAULT);
	cbs[0] = (struct iocb *)(uintptr_t)8;
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_bad_iocb, "submit.bad_iocb", 0, SUBMIT_NEEDS(O_RDONLY))

/* The kernel writes aio_key back into the iocb: read-only is EFAULT. */
static int test_iocb_readonly(struct tctx *t)
{
	struct iocb *cb = MAP_FAILED, *cbs[1];
	int ret = T_PASS;

	cb = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(cb != MAP_FAILED, "mmap: %s", errno_name(errno));
	prep_rw(cb, IOCB_CMD_PREAD, t->fd, t->buf, 512, 0);
	CHECK(!mprotect(cb, 4096, PROT_READ), "mprotect: %s",
	      errno_name(errno));
	cbs[0] = cb;
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EFAULT);
out:
	if (cb != MAP_FAILED)
		munmap(cb, 4096);
	return ret;
}
CONFORM_TEST(test_iocb_readonly, "submit.iocb_readonly", 0,
	     SUBMIT_NEEDS(O_RDONLY))

/* Submit one iocb expecting errno err at submit time. */
static int expect_submit_err(struct tctx *t, struct iocb *cb, int err)
{
	struct iocb *cbs[1] = { cb };
	struct io_event ev;
	struct timespec ts = { 0, 0 };
	int ret = T_PASS;

	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), err);
	CHECK_RET(sys_io_getevents(t->ctx, 0, 1, &ev, &ts), 0);
out:
	return ret;
}

static int test_bad_fd(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, -1, t->buf, 512, 0);
	if (expect_submit_err(t, &cb, EBADF))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PREAD, 1000000, t->buf, 512, 0);
	return expect_submit_err(t, &cb, EBADF);
}
CONFORM_TEST(test_bad_fd, "submit.bad_fd", 0, SUBMIT_NEEDS(O_RDONLY))

static int test_write_rdonly(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, t->buf, 512, 0);
	return expect_submit_err(t, &cb, EBADF);
}
CONFORM_TEST(test_write_rdonly, "submit.write_on_rdonly", 0,
	     SUBMIT_NEEDS(O_RDONLY))

static int test_read_wronly(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 512, 0);
	return expect_submit_err(t, &cb, EBADF);
}
CONFORM_TEST(test_read_wronly, "submit.read_on_wronly", 0,
	     SUBMIT_NEEDS(O_WRONLY))

static int test_reserved2(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 512, 0);
	cb.aio_reserved2 = 1;
	return expect_submit_err(t, &cb, EINVAL);
}
CONFORM_TEST(test_reserved2, "submit.reserved2", 0, SUBMIT_NEEDS(O_RDONLY))

static int test_bad_opcode(struct tctx *t)
{
	static const int ops[] = { 4, 6, 9, 100, 0xffff };
	struct iocb cb;
	size_t i;
	int ret = T_PASS;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		prep_rw(&cb, ops[i], t->fd, t->buf, 512, 0);
		ret = expect_submit_err(t, &cb, EINVAL);
		if (ret) {
			t_diag(t, "opcode %d", ops[i]);
			goto out;
		}
	}
out:
	return ret;
}
CONFORM_TEST(test_bad_opcode, "submit.bad_opcode", 0, SUBMIT_NEEDS(O_RDWR))

static int test_negative_offset(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 512, -512);
	if (expect_submit_err(t, &cb, EINVAL))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, t->buf, 512, -1);
	return expect_submit_err(t, &cb, EINVAL);
}
CONFORM_TEST(test_negative_offset, "submit.negative_offset", 0,
	     SUBMIT_NEEDS(O_RDWR))

static int test_nbytes_overflow(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 512, 0);
	cb.aio_nbytes = (uint64_t)1 << 63;
	return expect_submit_err(t, &cb, EINVAL);
}
CONFORM_TEST(test_nbytes_overflow, "submit.nbytes_overflow", 0,
	     SUBMIT_NEEDS(O_RDWR))

/* EFAULT either from io_submit or as the event's res. */
static int expect_efault(struct tctx *t, struct iocb *cb)
{
	struct iocb *cbs[1] = { cb };
	struct io_event ev;
	int ret = T_PASS, r;

	errno = 0;
	r = sys_io_submit(t->ctx, 1, cbs);
	if (r == -1) {
		CHECK(errno == EFAULT, "io_submit: expected EFAULT, got %s",
		      errno_name(errno));
		goto out;
	}
	CHECK(r == 1, "io_submit returned %d", r);
	CHECK(t_reap(t->ctx, 1, &ev) == 1, "no event");
	CHECK_RES(ev, -EFAULT);
out:
	return ret;
}

static int test_null_buffer(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, NULL, 4096, 0);
	if (expect_efault(t, &cb))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, NULL, 4096, 0);
	return expect_efault(t, &cb);
}
CONFORM_TEST(test_null_buffer, "submit.null_buffer", 0, SUBMIT_NEEDS(O_RDWR))

static int test_kernel_buffer(struct tctx *t)
{
	struct iocb cb;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, KERNEL_ADDR, 4096, 0);
	if (expect_efault(t, &cb))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, KERNEL_ADDR, 4096, 0);
	return expect_efault(t, &cb);
}
CONFORM_TEST(test_kernel_buffer, "submit.kernel_buffer", 0,
	     SUBMIT_NEEDS(O_RDWR))

/* A read into memory the process may not write: EFAULT. */
static int test_readonly_buffer(struct tctx *t)
{
	struct iocb cb;
	void *ro = MAP_FAILED;
	int ret = T_PASS;

	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED, "mmap: %s", errno_name(errno));
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, ro, 4096, 0);
	ret = expect_efault(t, &cb);
out:
	if (ro != MAP_FAILED)
		munmap(ro, 4096);
	return ret;
}
CONFORM_TEST(test_readonly_buffer, "submit.read_into_readonly_buffer", 0,
	     SUBMIT_NEEDS(O_RDWR))

static int test_zero_length(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 0, 0);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 0);
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, t->buf, 0, 100000);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 0);
out:
	return ret;
}
CONFORM_TEST(test_zero_length, "submit.zero_length", 0, SUBMIT_NEEDS(O_RDWR))

/* data and obj come back as submitted. */
static int test_event_fields(struct tctx *t)
{
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, 4096, 4096);
	cb.aio_data = 0xfeedfacecafebeefull;
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK(ev.data == 0xfeedfacecafebeefull, "data 0x%llx",
	      (unsigned long long)ev.data);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&cb, "obj 0x%llx, iocb %p",
	      (unsigned long long)ev.obj, (void *)&cb);
	CHECK_RES(ev, 4096);
	CHECK(ev.res2 == 0, "res2 %lld", (long long)ev.res2);
	CHECK(pat_check(t->buf, 4096, 4096, 1) < 0, "wrong data");
out:
	return ret;
}
CONFORM_TEST(test_event_fields, "submit.event_fields", 0, SUBMIT_NEEDS(O_RDWR))

/* An error at iocb k > 0: io_submit returns k; no event for the failed. */
static int test_error_at_k(struct tctx *t)
{
	struct iocb cb[4], *cbs[4];
	struct io_event ev[4];
	struct timespec ts = { 0, 0 };
	int ret = T_PASS, i;

	for (i = 0; i < 4; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, t->fd, t->buf + i * 4096, 4096,
			i * 4096);
		cbs[i] = &cb[i];
	}
	cb[2].aio_fildes = (uint32_t)-1;
	CHECK_RET(sys_io_submit(t->ctx, 4, cbs), 2);
	CHECK_RET(t_reap(t->ctx, 2, ev), 2);
	for (i = 0; i < 2; i++) {
		CHECK(ev[i].obj == (uint64_t)(uintptr_t)&cb[0] ||
			      ev[i].obj == (uint64_t)(uintptr_t)&cb[1],
		      "event for an iocb not submitted");
		CHECK_RES(ev[i], 4096);
	}
	CHECK_RET(sys_io_getevents(t->ctx, 0, 4, ev, &ts), 0);
	/* The first iocb failing: the error itself. */
	CHECK_ERR(sys_io_submit(t->ctx, 2, &cbs[2]), EBADF);
out:
	return ret;
}
CONFORM_TEST(test_error_at_k, "submit.error_at_k", 0, SUBMIT_NEEDS(O_RDWR))

/*
 * More iocbs than the ring holds, none reaped: polls on an empty pipe stay
 * in flight, so io_submit stops at the ring's capacity (partial count),
 * then says EAGAIN; it never blocks.  Writing the pipe completes them all.
 */
static int test_ring_full(struct tctx *t)
{
	int ret = T_PASS, i, n, got = 0, nr;
	struct iocb *cb = NULL, **cbs = NULL;
	struct io_event *ev = NULL;
	aio_context_t ctx = t->ctx;

	nr = (int)aio_ring_of(ctx)->nr * 2 + 8;
	cb = calloc((size_t)nr, sizeof(*cb));
	cbs = calloc((size_t)nr, sizeof(*cbs));
	ev = calloc((size_t)nr, sizeof(*ev));
	CHECK(cb && cbs && ev, "out of memory");
	for (i = 0; i < nr; i++) {
		prep_poll(&cb[i], t->pipe[0], POLLIN);
		cbs[i] = &cb[i];
	}
	errno = 0;
	n = sys_io_submit(ctx, nr, cbs);
	CHECK(n > 0 && n < nr, "io_submit of %d into a ring of %u: %d %s", nr,
	      aio_ring_of(ctx)->nr, n, n < 0 ? errno_name(errno) : "");
	t_diag(t, "ring of %u events took %d in-flight iocbs",
	       aio_ring_of(ctx)->nr, n);
	CHECK_ERR(sys_io_submit(ctx, nr - n, cbs + n), EAGAIN);
	CHECK(write(t->pipe[1], "x", 1) == 1, "write pipe");
	while (got < n) {
		int r = t_reap(ctx, 1, ev);

		CHECK(r == 1, "reaped %d of %d: %s", got, n, errno_name(-r));
		CHECK(ev[0].res & POLLIN, "poll res 0x%llx",
		      (unsigned long long)ev[0].res);
		got++;
	}
out:
	free(cb);
	free(cbs);
	free(ev);
	return ret;
}
CONFORM_TEST(test_ring_full, "submit.ring_full", 0, .ctx = 8, .pipe = true)

/* More iocbs than the ring holds, reaping as they go: all complete. */
static int test_ring_full_reaping(struct tctx *t)
{
	int ret = T_PASS, i, total = 0, done = 0, want, r;
	struct iocb cb[64], *cbs[64];
	struct io_event ev[64];

	want = (int)aio_ring_of(t->ctx)->nr * 8;
	while (done < want) {
		int batch = want - total < 64 ? want - total : 64;

		for (i = 0; i < batch; i++) {
			prep_rw(&cb[i], IOCB_CMD_PREAD, t->fd,
				t->buf + (i % 16) * 4096, 512,
				(int64_t)((total + i) % 128) * 512);
			cbs[i] = &cb[i];
		}
		r = batch ? sys_io_submit(t->ctx, batch, cbs) : 0;
		CHECK(r >= 0 || errno == EAGAIN, "io_submit: %s",
		      errno_name(errno));
		if (r > 0)
			total += r;
		r = sys_io_getevents(t->ctx, 1, 64, ev, NULL);
		CHECK(r > 0, "io_getevents: %d %s", r, errno_name(errno));
		for (i = 0; i < r; i++)
			CHECK_RES(ev[i], 512);
		done += r;
		/* Reaped before submitting again: nothing in flight left. */
		if (done == total && total < want)
			continue;
		r = t_reap(t->ctx, total - done, ev);
		CHECK(r == total - done, "reap: %s", errno_name(-r));
		done = total;
	}
out:
	return ret;
}
CONFORM_TEST(test_ring_full_reaping, "submit.ring_full_reaping", 0,
	     SUBMIT_NEEDS(O_RDONLY))
