/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: IOCB_CMD_FSYNC and IOCB_CMD_FDSYNC.  They complete with
 * vfs_fsync's result (0 on a healthy filesystem) after writes, on every
 * variant; buf, offset, nbytes and rw_flags must be zero (EINVAL); a file
 * without an fsync method (a pipe) is EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int do_sync(struct tctx *t, bool data_only)
{
	struct iocb cb;
	struct io_event ev;
	aio_context_t ctx = 0;
	int ret = T_PASS, fd = -1, i;
	char buf[4096];

	fd = t_open(t, "f", O_RDWR | O_CREAT | O_TRUNC);
	CHECK(fd >= 0, "open: %s", errno_name(-fd));
	if (t_setup(t, 4, &ctx))
		return T_FAIL;
	for (i = 0; i < 4; i++) {
		pat_fill(buf, sizeof(buf), (uint64_t)i * 4096, 18);
		prep_rw(&cb, IOCB_CMD_PWRITE, fd, buf, sizeof(buf),
			(int64_t)i * 4096);
		CHECK_RET(t_submit_wait(ctx, &cb, &ev), 0);
		CHECK_RES(ev, 4096);
	}
	prep_fsync(&cb, fd, data_only);
	CHECK_RET(t_submit_wait(ctx, &cb, &ev), 0);
	CHECK_RES(ev, 0);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&cb, "event for another iocb");
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int test_fsync(struct tctx *t)
{
	return do_sync(t, false);
}
CONFORM_TEST(test_fsync, "sync.fsync", T_FILE)

static int test_fdsync(struct tctx *t)
{
	return do_sync(t, true);
}
CONFORM_TEST(test_fdsync, "sync.fdsync", T_FILE)

static int test_fields(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	aio_context_t ctx = 0;
	int ret = T_PASS, fd = -1, i, op;
	char buf[16];

	fd = t_open(t, "f", O_RDWR | O_CREAT | O_TRUNC);
	CHECK(fd >= 0, "open: %s", errno_name(-fd));
	if (t_setup(t, 4, &ctx))
		return T_FAIL;
	for (op = 0; op < 2; op++) {
		for (i = 0; i < 4; i++) {
			prep_fsync(&cb, fd, op);
			switch (i) {
			case 0:
				cb.aio_buf = (uint64_t)(uintptr_t)buf;
				break;
			case 1:
				cb.aio_offset = 4096;
				break;
			case 2:
				cb.aio_nbytes = 16;
				break;
			case 3:
				cb.aio_rw_flags = 0x2;
				break;
			}
			errno = 0;
			if (sys_io_submit(ctx, 1, cbs) != -1 || errno != EINVAL)
				FAIL("%s with field %d non-zero: expected "
				     "EINVAL, got %s",
				     op ? "FDSYNC" : "FSYNC", i,
				     errno_name(errno));
		}
	}
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (fd >= 0)
		close(fd);
	return ret;
}
CONFORM_TEST(test_fields, "sync.nonzero_fields", 0)

static int test_pipe(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, p[2] = { -1, -1 };
	aio_context_t ctx = 0;

	CHECK(!pipe(p), "pipe: %s", errno_name(errno));
	if (t_setup(t, 4, &ctx))
		return T_FAIL;
	prep_fsync(&cb, p[1], false);
	CHECK_ERR(sys_io_submit(ctx, 1, cbs), EINVAL);
out:
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_pipe, "sync.no_fsync_method", 0)
