/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: helpers shared by the behaviour groups: iocb preparation,
 * reaping with a bound, the offset-derived data pattern, scratch files and
 * the page cache, /proc numbers, and waiting for a child with a watchdog.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "compat.h"
#include "harness.h"
#include "proc.h"
#include "verify.h"

int t_setup(struct tctx *t, unsigned int nr, aio_context_t *ctx)
{
	*ctx = 0;
	if (sys_io_setup(nr, ctx)) {
		int err = errno;

		if (err != EAGAIN || !t_aio_limit(t, nr))
			t_fail(t, __FILE__, __LINE__, "io_setup(%u): %s", nr,
			       errno_name(err));
		return -err;
	}
	return 0;
}

int t_reap(aio_context_t ctx, int n, struct io_event *ev)
{
	uint64_t deadline = now_ns() + 20000000000ull;
	int got = 0, r;

	while (got < n) {
		struct timespec ts = { 0, 100000000 };

		r = sys_io_getevents(ctx, n - got, n - got, ev + got, &ts);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += r;
		if (got < n && now_ns() > deadline)
			return -ETIMEDOUT;
	}
	return got;
}

int t_submit_wait(aio_context_t ctx, struct iocb *cb, struct io_event *ev)
{
	struct iocb *cbs[1] = { cb };
	int r;

	r = sys_io_submit(ctx, 1, cbs);
	if (r < 0)
		return -errno;
	if (r != 1)
		return -EIO;
	r = t_reap(ctx, 1, ev);
	return r < 0 ? r : 0;
}

long t_result(aio_context_t ctx, struct iocb *cb)
{
	struct io_event ev;
	int r = t_submit_wait(ctx, cb, &ev);

	return r ? r : (long)ev.res;
}

int t_submit_poll(struct tctx *t, struct iocb *cb)
{
	struct iocb *cbs[1] = { cb };

	prep_poll(cb, t->pipe[0], POLLIN);
	return sys_io_submit(t->ctx, 1, cbs);
}

int t_pipe_poll(struct tctx *t, aio_context_t ctx, int p[2], struct iocb *cb)
{
	struct iocb *cbs[1] = { cb };
	int ret = T_PASS;

	CHECK_FDS(!pipe(p), "pipe: %s", errno_name(errno));
	prep_poll(cb, p[0], POLLIN);
	CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
out:
	return ret;
}

void t_close_pipe(int p[2])
{
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
}

void prep_poll(struct iocb *cb, int fd, short events)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = IOCB_CMD_POLL;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uint16_t)events;
	cb->aio_data = (uint64_t)(uintptr_t)cb;
}

void prep_fsync(struct iocb *cb, int fd, bool data_only)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = data_only ? IOCB_CMD_FDSYNC : IOCB_CMD_FSYNC;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_data = (uint64_t)(uintptr_t)cb;
}

/*
 * The pattern is the suite's one block format (src/lib/verify.h) over
 * blocks of PAT_BLOCK bytes from offset 0, file id seed, generation 1:
 * every byte derives from its offset and the seed, so misplaced data and
 * data of another seed never match, and the comparison is byte-exact.
 */
void pat_fill(void *buf, size_t len, uint64_t off, uint32_t seed)
{
	verify_stream_fill(buf, len, off, PAT_BLOCK, seed, 1);
}

long pat_check(const void *buf, size_t len, uint64_t off, uint32_t seed)
{
	return verify_stream_check(buf, len, off, PAT_BLOCK, seed, 1);
}

int t_open(struct tctx *t, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", t->dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

int t_drop_cache(int fd)
{
	int ret;

	if (fsync(fd))
		return -errno;
	ret = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return -ret;
}

void *t_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 1))
		return NULL;
	return p;
}

bool t_odirect_ok(struct tctx *t, char *why, size_t len)
{
	int fd = t_open(t, ".odirect-probe", O_RDWR | O_CREAT | O_DIRECT);

	if (fd < 0) {
		snprintf(why, len, "O_DIRECT unsupported on %s (open: %s)",
			 t->var && t->var->fstype[0] ? t->var->fstype :
						       "this filesystem",
			 errno_name(-fd));
		return false;
	}
	close(fd);
	return true;
}

unsigned int conform_scale(void)
{
	return conform_opts.scale ? conform_opts.scale : 1;
}

unsigned int t_scaled(unsigned int default_n, unsigned int full_n)
{
	uint64_t n = conform_opts.long_counts ? full_n : default_n;

	n *= conform_scale();
	if (n > UINT_MAX)
		n = UINT_MAX;
	return n ? (unsigned int)n : 1;
}

int read_proc_long(const char *path, long *val)
{
	char buf[64];
	ssize_t n = read_text(path, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 ? (int)n : -EIO;
	*val = strtol(buf, NULL, 10);
	return 0;
}

int write_proc_long(const char *path, long val)
{
	char buf[32];
	int fd, n, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

bool is_root(void)
{
	return geteuid() == 0;
}

bool wait_child(pid_t pid, int *status, unsigned int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			r = -1;
			break;
		}
		if (now_ns() >= deadline) {
			r = 0;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };
			uint64_t left = (deadline - now_ns()) / 1000000ull;

			poll(&p, 1, (int)(left > 100 ? 100 : left + 1));
		} else {
			usleep(2000);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return r == pid;
}
