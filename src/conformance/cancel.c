/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_cancel.  Only requests with a cancel method (IOCB_CMD_POLL)
 * can be cancelled: found, the call says EINPROGRESS and the event is still
 * delivered through the ring; a read or write (in flight or done) is
 * EINVAL; a NULL iocb is EFAULT; a bad context is EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int test_read(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	aio_context_t ctx = 0;
	int ret = T_PASS, fd;
	char buf[512];

	fd = t_pattern_file(t, "data", 4096, 1, O_RDONLY);
	CHECK(fd >= 0, "create data file: %s", errno_name(-fd));
	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0);
	CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINVAL);
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
	CHECK_RES(ev, 512);
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINVAL);
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_read, "cancel.read", 0)

static int test_null_iocb(struct tctx *t)
{
	aio_context_t ctx = 0;
	struct io_event ev;
	int ret = T_PASS;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	CHECK_ERR(sys_io_cancel(ctx, NULL, &ev), EFAULT);
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_null_iocb, "cancel.null_iocb", 0)

static int test_bad_ctx(struct tctx *t)
{
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	memset(&cb, 0, sizeof(cb));
	CHECK_ERR(sys_io_cancel(0, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_bad_ctx, "cancel.bad_ctx", 0)

static int test_not_submitted(struct tctx *t)
{
	aio_context_t ctx = 0;
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	prep_poll(&cb, 0, POLLIN);
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINVAL);
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_not_submitted, "cancel.not_submitted", 0)

/* A poll is found: EINPROGRESS, then its event arrives; twice: EINVAL. */
static int test_poll(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 };
	struct iocb cb;
	struct timespec ts = { 0, 0 };
	aio_context_t ctx = 0;
	struct io_event ev;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	ret = t_pipe_poll(t, ctx, p, &cb);
	if (ret)
		goto out;
	CHECK_RET(sys_io_getevents(ctx, 0, 1, &ev, &ts), 0);
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINPROGRESS);
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&cb, "event for another iocb");
	CHECK(!(ev.res & POLLIN), "cancelled poll reports POLLIN: 0x%llx",
	      (unsigned long long)ev.res);
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINVAL);
out:
	if (ctx)
		sys_io_destroy(ctx);
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(test_poll, "cancel.poll", 0)

/* The kernel keys iocbs with aio_key: a changed key is EINVAL. */
static int test_wrong_key(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 };
	struct iocb cb;
	aio_context_t ctx = 0;
	struct io_event ev;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	ret = t_pipe_poll(t, ctx, p, &cb);
	if (ret)
		goto out;
	cb.aio_key = 0x12345;
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINVAL);
	cb.aio_key = 0;
	CHECK_ERR(sys_io_cancel(ctx, &cb, &ev), EINPROGRESS);
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_wrong_key, "cancel.wrong_key", 0)
