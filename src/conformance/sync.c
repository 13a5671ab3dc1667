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

/* An empty file to write and sync, and a context. */
#define SYNC_NEEDS                \
	.ctx = 4, .file = {       \
		.name = "f",      \
		.oflags = O_RDWR, \
	}

static int do_sync(struct tctx *t, bool data_only)
{
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS, i;
	char buf[4096];

	for (i = 0; i < 4; i++) {
		pat_fill(buf, sizeof(buf), (uint64_t)i * 4096, 18);
		prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, sizeof(buf),
			(int64_t)i * 4096);
		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
		CHECK_RES(ev, 4096);
	}
	prep_fsync(&cb, t->fd, data_only);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 0);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&cb, "event for another iocb");
out:
	return ret;
}

static int test_fsync(struct tctx *t)
{
	return do_sync(t, false);
}
CONFORM_TEST(test_fsync, "sync.fsync", T_FILE, SYNC_NEEDS)

static int test_fdsync(struct tctx *t)
{
	return do_sync(t, true);
}
CONFORM_TEST(test_fdsync, "sync.fdsync", T_FILE, SYNC_NEEDS)

static int test_fields(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, i, op;
	char buf[16];

	for (op = 0; op < 2; op++) {
		for (i = 0; i < 4; i++) {
			prep_fsync(&cb, t->fd, op);
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
			if (sys_io_submit(t->ctx, 1, cbs) != -1 ||
			    errno != EINVAL)
				FAIL("%s with field %d non-zero: expected "
				     "EINVAL, got %s",
				     op ? "FDSYNC" : "FSYNC", i,
				     errno_name(errno));
		}
	}
out:
	return ret;
}
CONFORM_TEST(test_fields, "sync.nonzero_fields", 0, SYNC_NEEDS)

static int test_pipe(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS;

	prep_fsync(&cb, t->pipe[1], false);
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_pipe, "sync.no_fsync_method", 0, .ctx = 4, .pipe = true)
