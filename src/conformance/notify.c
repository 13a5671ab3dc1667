/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: completion notification.  IOCB_FLAG_RESFD signals an eventfd
 * once per completed iocb, before the event can be reaped; a descriptor
 * that is not an eventfd is refused at submit.  IOCB_CMD_POLL (4.18)
 * completes with the ready mask when its file becomes ready; fields it does
 * not use must be zero.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "harness.h"

static int test_resfd(struct tctx *t)
{
	struct iocb cb[5], *cbs[5];
	struct io_event ev[5];
	int ret = T_PASS, i;
	char buf[5][64];
	uint64_t count = 0;

	prep_rw(&cb[0], IOCB_CMD_PREAD, t->zfd, buf[0], 64, 0);
	cb[0].aio_flags = IOCB_FLAG_RESFD;
	cb[0].aio_resfd = (uint32_t)t->efd;
	cbs[0] = &cb[0];
	CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
	CHECK(read(t->efd, &count, 8) == 8, "eventfd not signalled: %s",
	      errno_name(errno));
	CHECK(count == 1, "eventfd count %llu, expected 1",
	      (unsigned long long)count);
	CHECK_RET(t_reap(t->ctx, 1, ev), 1);
	CHECK_RES(ev[0], 64);
	for (i = 0; i < 5; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, t->zfd, buf[i], 64, 0);
		cb[i].aio_flags = IOCB_FLAG_RESFD;
		cb[i].aio_resfd = (uint32_t)t->efd;
		cbs[i] = &cb[i];
	}
	CHECK_RET(sys_io_submit(t->ctx, 5, cbs), 5);
	CHECK(read(t->efd, &count, 8) == 8, "eventfd not signalled");
	CHECK(count == 5, "eventfd count %llu, expected 5",
	      (unsigned long long)count);
	CHECK_RET(t_reap(t->ctx, 5, ev), 5);
out:
	return ret;
}
CONFORM_TEST(test_resfd, "notify.resfd_eventfd", 0, .ctx = 8, .dev_zero = true,
	     .eventfd = T_EFD_NONBLOCK)

static int test_resfd_bad(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct timespec ts = { 0, 0 };
	struct io_event ev;
	int ret = T_PASS;
	char buf[64];

	prep_rw(&cb, IOCB_CMD_PREAD, t->zfd, buf, 64, 0);
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (uint32_t)t->pipe[1];
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EINVAL);
	cb.aio_resfd = (uint32_t)-1;
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EBADF);
	CHECK_RET(sys_io_getevents(t->ctx, 0, 1, &ev, &ts), 0);
out:
	return ret;
}
CONFORM_TEST(test_resfd_bad, "notify.resfd_not_eventfd", 0, .ctx = 8,
	     .dev_zero = true, .pipe = true)

static int test_poll_pipe(struct tctx *t)
{
	struct timespec ts = { 0, 0 };
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK_RET(sys_io_getevents(t->ctx, 0, 1, &ev, &ts), 0);
	CHECK(write(t->pipe[1], "x", 1) == 1, "write pipe");
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
	CHECK(ev.res & POLLIN, "res 0x%llx without POLLIN",
	      (unsigned long long)ev.res);
	/* Already ready: completes at once; POLLOUT on the write end. */
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK(ev.res & POLLIN, "ready pipe: res 0x%llx",
	      (unsigned long long)ev.res);
	prep_poll(&cb, t->pipe[1], POLLOUT);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK(ev.res & POLLOUT, "write end: res 0x%llx",
	      (unsigned long long)ev.res);
out:
	return ret;
}
CONFORM_TEST(test_poll_pipe, "notify.poll_pipe", 0, .ctx = 8, .pipe = true,
	     .aio_poll = true)

static int test_poll_fields(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, i;

	for (i = 0; i < 4; i++) {
		prep_poll(&cb, t->pipe[0], POLLIN);
		switch (i) {
		case 0:
			cb.aio_offset = 1;
			break;
		case 1:
			cb.aio_nbytes = 1;
			break;
		case 2:
			cb.aio_rw_flags = 1;
			break;
		case 3:
			cb.aio_buf = 0x10000 | POLLIN; /* events are 16 bits */
			break;
		}
		errno = 0;
		if (sys_io_submit(t->ctx, 1, cbs) != -1 || errno != EINVAL)
			FAIL("poll with field %d non-zero: expected EINVAL, got %s",
			     i, errno_name(errno));
	}
out:
	return ret;
}
CONFORM_TEST(test_poll_fields, "notify.poll_nonzero_fields", 0, .ctx = 8,
	     .pipe = true, .aio_poll = true)

/* RESFD together with POLL: the eventfd counts the poll's completion. */
static int test_poll_resfd(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct pollfd pfd;
	struct io_event ev;
	uint64_t count = 0;
	int ret = T_PASS;

	prep_poll(&cb, t->pipe[0], POLLIN);
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (uint32_t)t->efd;
	CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
	pfd.fd = t->efd;
	pfd.events = POLLIN;
	CHECK_RET(poll(&pfd, 1, 0), 0);
	CHECK(write(t->pipe[1], "x", 1) == 1, "write pipe");
	CHECK(read(t->efd, &count, 8) == 8 && count == 1,
	      "eventfd count %llu after the poll completed",
	      (unsigned long long)count);
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
out:
	return ret;
}
CONFORM_TEST(test_poll_resfd, "notify.poll_with_resfd", 0, .ctx = 8,
	     .pipe = true, .eventfd = T_EFD_BLOCKING, .aio_poll = true)
