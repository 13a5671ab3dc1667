/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: per-iocb flags.  aio_rw_flags (RWF_*): NOWAIT gives -EAGAIN
 * where the I/O would block (an O_DIRECT read over cached pages, an empty
 * pipe); unknown bits are EOPNOTSUPP; HIPRI, DSYNC and SYNC are accepted;
 * APPEND and NOAPPEND move the write.  IOCB_FLAG_IOPRIO: a valid priority
 * is accepted, an invalid class is EINVAL, the RT class needs privilege.
 * A flag the kernel does not know is judged from its own answer (EINVAL or
 * EOPNOTSUPP on a probe) and skipped with that reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#endif
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x2
#endif
#ifndef RWF_SYNC
#define RWF_SYNC 0x4
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x8
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#define AIO_RWF_NOAPPEND 0x20
#define AIO_RWF_DONTCACHE 0x80

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO(class, level) (((class) << IOPRIO_CLASS_SHIFT) | (level))

/*
 * An O_DIRECT read with RWF_NOWAIT over dirty cached pages would have to
 * wait for their writeback: -EAGAIN.  (Over clean cached pages current
 * kernels read without waiting; older ones said -EAGAIN there too, so that
 * case is only reported.)
 */
static int test_nowait_direct(struct tctx *t)
{
	int ret = T_PASS, bfd;
	char *buf = t->buf;
	struct iocb cb;
	long r;

	/* The same file, buffered, to fill and dirty its cached pages. */
	bfd = t_open(t, "nw", O_RDWR);
	CHECK(bfd >= 0, "open: %s", errno_name(-bfd));
	/* Clean cached pages: reported, not judged. */
	CHECK(pread(bfd, buf, 65536, 0) == 65536, "buffered read");
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, 65536, 0);
	cb.aio_rw_flags = RWF_NOWAIT;
	r = t_result(t->ctx, &cb);
	if (r == -EOPNOTSUPP)
		SKIP("%s does not take RWF_NOWAIT with O_DIRECT (EOPNOTSUPP)",
		     t->var ? t->var->fstype : "this filesystem");
	t_diag(t, "O_DIRECT NOWAIT read over clean cached pages: %ld", r);
	/* Dirty them (no fsync): the read must not wait for writeback. */
	pat_fill(buf, 65536, 0, 13);
	CHECK(pwrite(bfd, buf, 65536, 0) == 65536, "buffered write");
	memset(buf, 0, 65536);
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, 65536, 0);
	cb.aio_rw_flags = RWF_NOWAIT;
	r = t_result(t->ctx, &cb);
	if (r == 65536 && pat_check(buf, 65536, 0, 13) < 0)
		SKIP("the dirty pages were written back before the read "
		     "(it returned the data without waiting)");
	CHECK(r == -EAGAIN,
	      "O_DIRECT NOWAIT read over dirty cached pages: "
	      "expected -EAGAIN, got %ld",
	      r);
out:
	if (bfd >= 0)
		close(bfd);
	return ret;
}
CONFORM_TEST(test_nowait_direct, "flags.nowait_direct_over_dirty_cache", T_FILE,
	     .ctx = 4, .buf = 65536,
	     .file = T_PATTERN_FILE("nw", 65536, 13, O_RDONLY,
				    .direct = T_DIRECT))

static int test_nowait_pipe(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	char buf[16];
	long r;

	prep_rw(&cb, IOCB_CMD_PREAD, t->pipe[0], buf, sizeof(buf), 0);
	cb.aio_rw_flags = RWF_NOWAIT;
	r = t_result(t->ctx, &cb);
	if (r == -EOPNOTSUPP)
		SKIP("pipes do not take RWF_NOWAIT on this kernel (EOPNOTSUPP)");
	CHECK(r == -EAGAIN, "empty pipe: expected -EAGAIN, got %ld", r);
	CHECK(write(t->pipe[1], "abc", 3) == 3, "write pipe");
	r = t_result(t->ctx, &cb);
	CHECK(r == 3, "pipe with data: expected 3, got %ld", r);
out:
	return ret;
}
CONFORM_TEST(test_nowait_pipe, "flags.nowait_empty_pipe", 0, .ctx = 4,
	     .pipe = true)

static int test_unknown(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	char buf[512];
	long r;

	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, sizeof(buf), 0);
	cb.aio_rw_flags = 0x40000000;
	r = t_result(t->ctx, &cb);
	if (r == -EINVAL)
		XFAIL("unknown RWF_* bits give EINVAL: kernels before 4.13 "
		      "answer so (aio_rw_flags arrived with \"fs: Introduce "
		      "RWF_NOWAIT and FMODE_AIO_NOWAIT\")");
	CHECK(r == -EOPNOTSUPP,
	      "unknown RWF bit: expected -EOPNOTSUPP, got %ld", r);
out:
	return ret;
}
CONFORM_TEST(test_unknown, "flags.unknown_rw_flags", 0, .ctx = 4,
	     .file = T_PATTERN_FILE("f", 4096, 1, O_RDWR))

/* Writes with HIPRI, DSYNC and SYNC: accepted, and the data is there. */
static int test_sync_flags(struct tctx *t)
{
	static const int fl[] = { RWF_HIPRI, RWF_DSYNC, RWF_SYNC,
				  RWF_DSYNC | RWF_SYNC };
	int ret = T_PASS;
	struct iocb cb;
	char buf[4096];
	size_t i;
	long r;

	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		pat_fill(buf, 4096, i * 4096, 14);
		prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, 4096,
			(int64_t)i * 4096);
		cb.aio_rw_flags = fl[i];
		r = t_result(t->ctx, &cb);
		CHECK(r == 4096, "write with rw_flags 0x%x: %ld", fl[i], r);
		CHECK(pread(t->fd, buf, 4096, (off_t)i * 4096) == 4096,
		      "pread");
		CHECK(pat_check(buf, 4096, i * 4096, 14) < 0,
		      "data of the write with rw_flags 0x%x wrong", fl[i]);
	}
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, 4096, 0);
	cb.aio_rw_flags = RWF_HIPRI;
	r = t_result(t->ctx, &cb);
	CHECK(r == 4096, "read with RWF_HIPRI: %ld", r);
out:
	return ret;
}
CONFORM_TEST(test_sync_flags, "flags.hipri_dsync_sync", T_FILE, .ctx = 4,
	     .file = { .name = "f", .oflags = O_RDWR })

static int test_append(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	char buf[2000];
	struct stat st;
	long r;

	pat_fill(buf, 1000, 1000, 15);
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, 1000, 0);
	cb.aio_rw_flags = RWF_APPEND;
	r = t_result(t->ctx, &cb);
	if (r == -EOPNOTSUPP)
		SKIP("RWF_APPEND absent (EOPNOTSUPP)");
	CHECK(r == 1000, "RWF_APPEND write: %ld", r);
	CHECK(!fstat(t->fd, &st) && st.st_size == 2000, "size %lld, not 2000",
	      (long long)st.st_size);
	CHECK(pread(t->fd, buf, 2000, 0) == 2000, "pread");
	CHECK(pat_check(buf, 2000, 0, 15) < 0, "RWF_APPEND data misplaced");
out:
	return ret;
}
CONFORM_TEST(test_append, "flags.rwf_append", T_FILE, .ctx = 4,
	     .file = T_PATTERN_FILE("f", 1000, 15, O_RDWR))

static int test_noappend(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	char buf[1000];
	struct stat st;
	long r;

	pat_fill(buf, 1000, 1000, 16);
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, 1000, 1000);
	cb.aio_rw_flags = AIO_RWF_NOAPPEND;
	r = t_result(t->ctx, &cb);
	if (r == -EOPNOTSUPP || r == -EINVAL)
		SKIP("RWF_NOAPPEND absent (%s)", errno_name((int)-r));
	CHECK(r == 1000, "RWF_NOAPPEND write: %ld", r);
	CHECK(!fstat(t->fd, &st) && st.st_size == 3000,
	      "size %lld: the write was appended", (long long)st.st_size);
out:
	return ret;
}
CONFORM_TEST(test_noappend, "flags.rwf_noappend", T_FILE, .ctx = 4,
	     .file = T_PATTERN_FILE("f", 3000, 16, O_RDWR | O_APPEND))

static int test_dontcache(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	char buf[8192];
	long r;

	pat_fill(buf, sizeof(buf), 0, 17);
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, sizeof(buf), 0);
	cb.aio_rw_flags = AIO_RWF_DONTCACHE;
	r = t_result(t->ctx, &cb);
	if (r == -EOPNOTSUPP)
		SKIP("RWF_DONTCACHE not supported on %s (EOPNOTSUPP)",
		     t->var ? t->var->fstype : "this filesystem");
	CHECK(r == (long)sizeof(buf), "RWF_DONTCACHE write: %ld", r);
	memset(buf, 0, sizeof(buf));
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, sizeof(buf), 0);
	cb.aio_rw_flags = AIO_RWF_DONTCACHE;
	r = t_result(t->ctx, &cb);
	CHECK(r == (long)sizeof(buf), "RWF_DONTCACHE read: %ld", r);
	CHECK(pat_check(buf, sizeof(buf), 0, 17) < 0, "wrong data");
out:
	return ret;
}
CONFORM_TEST(test_dontcache, "flags.rwf_dontcache", T_FILE, .ctx = 4,
	     .file = { .name = "f", .oflags = O_RDWR })

static long ioprio_read(aio_context_t ctx, int fd, int prio)
{
	struct iocb cb;
	static char buf[512];

	prep_rw(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0);
	cb.aio_flags = IOCB_FLAG_IOPRIO;
	cb.aio_reqprio = (int16_t)prio;
	return t_result(ctx, &cb);
}

static int test_ioprio(struct tctx *t)
{
	int ret = T_PASS;
	long r;

	r = ioprio_read(t->ctx, t->fd, IOPRIO(5, 0));
	if (r == 512)
		SKIP("IOCB_FLAG_IOPRIO not checked by this kernel (an invalid "
		     "class was accepted)");
	CHECK(r == -EINVAL, "invalid class 5: expected -EINVAL, got %ld", r);
	r = ioprio_read(t->ctx, t->fd, IOPRIO(7, 0));
	CHECK(r == -EINVAL, "invalid class 7: expected -EINVAL, got %ld", r);
	r = ioprio_read(t->ctx, t->fd, IOPRIO(2, 4)); /* best effort, level 4 */
	CHECK(r == 512, "best effort level 4: expected 512, got %ld", r);
	r = ioprio_read(t->ctx, t->fd, IOPRIO(3, 0)); /* idle */
	CHECK(r == 512, "idle class: expected 512, got %ld", r);
	r = ioprio_read(t->ctx, t->fd, IOPRIO(1, 0)); /* real time */
	if (is_root())
		CHECK(r == 512, "real time as root: expected 512, got %ld", r);
	else
		CHECK(r == -EPERM,
		      "real time unprivileged: expected -EPERM, "
		      "got %ld",
		      r);
out:
	return ret;
}
CONFORM_TEST(test_ioprio, "flags.ioprio", 0, .ctx = 4,
	     .file = T_PATTERN_FILE("f", 4096, 1, O_RDONLY))
