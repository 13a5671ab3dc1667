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
	int ret = T_PASS;
	char buf[512];

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, sizeof(buf), 0);
	CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
	CHECK_RES(ev, 512);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_read, "cancel.read", 0, .ctx = 8,
	     .file = T_PATTERN_FILE("data", 4096, 1, O_RDONLY))

static int test_null_iocb(struct tctx *t)
{
	struct io_event ev;
	int ret = T_PASS;

	CHECK_ERR(sys_io_cancel(t->ctx, NULL, &ev), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_null_iocb, "cancel.null_iocb", 0, .ctx = 8)

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
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	prep_poll(&cb, 0, POLLIN);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_not_submitted, "cancel.not_submitted", 0, .ctx = 8)

/* A poll is found: EINPROGRESS, then its event arrives; twice: EINVAL. */
static int test_poll(struct tctx *t)
{
	struct timespec ts = { 0, 0 };
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK_RET(sys_io_getevents(t->ctx, 0, 1, &ev, &ts), 0);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINPROGRESS);
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&cb, "event for another iocb");
	CHECK(!(ev.res & POLLIN), "cancelled poll reports POLLIN: 0x%llx",
	      (unsigned long long)ev.res);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_poll, "cancel.poll", 0, .ctx = 8, .pipe = true)

/* The kernel keys iocbs with aio_key: a changed key is EINVAL. */
static int test_wrong_key(struct tctx *t)
{
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	cb.aio_key = 0x12345;
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
	cb.aio_key = 0;
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINPROGRESS);
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
out:
	return ret;
}
CONFORM_TEST(test_wrong_key, "cancel.wrong_key", 0, .ctx = 8, .pipe = true)
