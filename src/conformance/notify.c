/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: completion notification.  IOCB_FLAG_RESFD signals an eventfd
 * once per completed iocb, before the event can be reaped; a descriptor
 * that is not an eventfd is refused at submit.  IOCB_CMD_POLL (4.18)
 * completes with the ready mask when its file becomes ready; fields it does
 * not use must be zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"

static int test_resfd(struct tctx *t)
{
	struct iocb cb[5], *cbs[5];
	struct io_event ev[5];
	int ret = T_PASS, efd = -1, zfd = -1, i;
	aio_context_t ctx = 0;
	char buf[5][64];
	uint64_t count = 0;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(efd >= 0, "eventfd: %s", errno_name(errno));
	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK(zfd >= 0, "open /dev/zero: %s", errno_name(errno));
	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	prep_rw(&cb[0], IOCB_CMD_PREAD, zfd, buf[0], 64, 0);
	cb[0].aio_flags = IOCB_FLAG_RESFD;
	cb[0].aio_resfd = (uint32_t)efd;
	cbs[0] = &cb[0];
	CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
	CHECK(read(efd, &count, 8) == 8, "eventfd not signalled: %s",
	      errno_name(errno));
	CHECK(count == 1, "eventfd count %llu, expected 1",
	      (unsigned long long)count);
	CHECK_RET(t_reap(ctx, 1, ev), 1);
	CHECK_RES(ev[0], 64);
	for (i = 0; i < 5; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, zfd, buf[i], 64, 0);
		cb[i].aio_flags = IOCB_FLAG_RESFD;
		cb[i].aio_resfd = (uint32_t)efd;
		cbs[i] = &cb[i];
	}
	CHECK_RET(sys_io_submit(ctx, 5, cbs), 5);
	CHECK(read(efd, &count, 8) == 8, "eventfd not signalled");
	CHECK(count == 5, "eventfd count %llu, expected 5",
	      (unsigned long long)count);
	CHECK_RET(t_reap(ctx, 5, ev), 5);
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (efd >= 0)
		close(efd);
	if (zfd >= 0)
		close(zfd);
	return ret;
}
CONFORM_TEST(test_resfd, "notify.resfd_eventfd", 0)

static int test_resfd_bad(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, p[2] = { -1, -1 }, zfd = -1;
	aio_context_t ctx = 0;
	struct timespec ts = { 0, 0 };
	struct io_event ev;
	char buf[64];

	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK(zfd >= 0, "open /dev/zero: %s", errno_name(errno));
	CHECK(!pipe(p), "pipe: %s", errno_name(errno));
	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PREAD, zfd, buf, 64, 0);
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (uint32_t)p[1];
	CHECK_ERR(sys_io_submit(ctx, 1, cbs), EINVAL);
	cb.aio_resfd = (uint32_t)-1;
	CHECK_ERR(sys_io_submit(ctx, 1, cbs), EBADF);
	CHECK_RET(sys_io_getevents(ctx, 0, 1, &ev, &ts), 0);
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_resfd_bad, "notify.resfd_not_eventfd", 0)

static bool have_poll(aio_context_t ctx, char *why, size_t len)
{
	struct iocb cb, *cbs[1] = { &cb };
	int p[2];
	struct io_event ev;

	if (pipe(p))
		return true;
	if (write(p[1], "x", 1) != 1)
		return true;
	prep_poll(&cb, p[0], POLLIN);
	errno = 0;
	if (sys_io_submit(ctx, 1, cbs) == -1 && errno == EINVAL) {
		snprintf(why, len, "IOCB_CMD_POLL absent (EINVAL on a probe)");
		close(p[0]);
		close(p[1]);
		return false;
	}
	t_reap(ctx, 1, &ev);
	close(p[0]);
	close(p[1]);
	return true;
}

static int test_poll_pipe(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 };
	struct iocb cb;
	struct timespec ts = { 0, 0 };
	aio_context_t ctx = 0;
	struct io_event ev;
	char why[128];

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	if (!have_poll(ctx, why, sizeof(why)))
		SKIP("%s", why);
	ret = t_pipe_poll(t, ctx, p, &cb);
	if (ret)
		goto out;
	CHECK_RET(sys_io_getevents(ctx, 0, 1, &ev, &ts), 0);
	CHECK(write(p[1], "x", 1) == 1, "write pipe");
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
	CHECK(ev.res & POLLIN, "res 0x%llx without POLLIN",
	      (unsigned long long)ev.res);
	/* Already ready: completes at once; POLLOUT on the write end. */
	CHECK_RET(t_submit_wait(ctx, &cb, &ev), 0);
	CHECK(ev.res & POLLIN, "ready pipe: res 0x%llx",
	      (unsigned long long)ev.res);
	prep_poll(&cb, p[1], POLLOUT);
	CHECK_RET(t_submit_wait(ctx, &cb, &ev), 0);
	CHECK(ev.res & POLLOUT, "write end: res 0x%llx",
	      (unsigned long long)ev.res);
out:
	if (ctx)
		sys_io_destroy(ctx);
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(test_poll_pipe, "notify.poll_pipe", 0)

static int test_poll_fields(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 }, i;
	struct iocb cb, *cbs[1] = { &cb };
	aio_context_t ctx = 0;
	char why[128];

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	if (!have_poll(ctx, why, sizeof(why)))
		SKIP("%s", why);
	CHECK(!pipe(p), "pipe: %s", errno_name(errno));
	for (i = 0; i < 4; i++) {
		prep_poll(&cb, p[0], POLLIN);
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
		if (sys_io_submit(ctx, 1, cbs) != -1 || errno != EINVAL)
			FAIL("poll with field %d non-zero: expected EINVAL, got %s",
			     i, errno_name(errno));
	}
out:
	if (ctx)
		sys_io_destroy(ctx);
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(test_poll_fields, "notify.poll_nonzero_fields", 0)

/* RESFD together with POLL: the eventfd counts the poll's completion. */
static int test_poll_resfd(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 }, efd = -1;
	struct iocb cb, *cbs[1] = { &cb };
	aio_context_t ctx = 0;
	struct io_event ev;
	uint64_t count = 0;
	char why[128];
	struct pollfd pfd;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	if (!have_poll(ctx, why, sizeof(why)))
		SKIP("%s", why);
	CHECK(!pipe(p), "pipe: %s", errno_name(errno));
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0, "eventfd: %s", errno_name(errno));
	prep_poll(&cb, p[0], POLLIN);
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (uint32_t)efd;
	CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
	pfd.fd = efd;
	pfd.events = POLLIN;
	CHECK_RET(poll(&pfd, 1, 0), 0);
	CHECK(write(p[1], "x", 1) == 1, "write pipe");
	CHECK(read(efd, &count, 8) == 8 && count == 1,
	      "eventfd count %llu after the poll completed",
	      (unsigned long long)count);
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (efd >= 0)
		close(efd);
	return ret;
}
CONFORM_TEST(test_poll_resfd, "notify.poll_with_resfd", 0)
