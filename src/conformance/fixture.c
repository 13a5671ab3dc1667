/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the fixtures a test declares with its registration (struct
 * t_needs in harness.h): made in the test's child before the test runs,
 * released after it returns.  What this target cannot provide (O_DIRECT on
 * this filesystem, a context under aio-max-nr, a descriptor under ulimit
 * -n, root, a system call or opcode of a later kernel) is a skip with its
 * reason; any other failure to make one is the test's failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"

#define FILL_CHUNK (1u << 20)

/* A failure to make a descriptor: a skip for EMFILE and ENFILE. */
static int fd_failed(struct tctx *t, int err, const char *what,
		     const char *name)
{
	if (t_fd_limit(t, err))
		return T_SKIP;
	return t_fail(t, __FILE__, __LINE__, "%s%s%s: %s", what,
		      name ? " " : "", name ? name : "", errno_name(err));
}

/* Write size bytes of f's fill into fd from offset 0: 0 or -errno. */
static int fill(int fd, const struct t_file *f)
{
	size_t done = 0, n;
	char *buf;
	int ret = 0;

	buf = malloc(FILL_CHUNK);
	if (!buf)
		return -ENOMEM;
	if (f->fill == T_ZEROS)
		memset(buf, 0, FILL_CHUNK);
	while (done < f->size) {
		n = f->size - done < FILL_CHUNK ? f->size - done : FILL_CHUNK;
		if (f->fill == T_PATTERN)
			pat_fill(buf, n, done, f->seed);
		if (pwrite(fd, buf, n, (off_t)done) != (ssize_t)n) {
			ret = errno ? -errno : -EIO;
			break;
		}
		done += n;
	}
	free(buf);
	if (!ret && fsync(fd))
		ret = -errno;
	return ret;
}

int t_fixture_file(struct tctx *t, const struct t_file *f)
{
	int oflags = f->oflags, fd, r;
	char why[PATH_MAX + 64];

	if (f->direct != T_BUFFERED) {
		t->direct = t_odirect_ok(t, why, sizeof(why));
		if (!t->direct && f->direct == T_DIRECT)
			return t_skip(t, "%s", why);
		if (t->direct)
			oflags |= O_DIRECT;
	}
	if (f->fill == T_EMPTY) {
		fd = t_open(t, f->name, oflags | O_CREAT | O_TRUNC);
		if (fd < 0)
			return fd_failed(t, -fd, "create", f->name);
		t->fd = fd;
		if (f->size && ftruncate(fd, (off_t)f->size))
			return t_fail(t, __FILE__, __LINE__,
				      "ftruncate %s to %zu: %s", f->name,
				      f->size, errno_name(errno));
	} else {
		/* Written through the page cache, then opened as asked. */
		fd = t_open(t, f->name, O_RDWR | O_CREAT | O_TRUNC);
		if (fd < 0)
			return fd_failed(t, -fd, "create", f->name);
		r = fill(fd, f);
		close(fd);
		if (r)
			return t_fail(t, __FILE__, __LINE__,
				      "write %zu bytes into %s: %s", f->size,
				      f->name, errno_name(-r));
		fd = t_open(t, f->name, oflags);
		if (fd < 0)
			return fd_failed(t, -fd, "open", f->name);
		t->fd = fd;
	}
	r = f->cold ? t_drop_cache(fd) : 0;
	if (r)
		return t_fail(t, __FILE__, __LINE__, "drop cache of %s: %s",
			      f->name, errno_name(-r));
	return T_PASS;
}

int t_fixture_pipe(struct tctx *t, int p[2])
{
	if (pipe(p)) {
		p[0] = p[1] = -1;
		return fd_failed(t, errno, "pipe", NULL);
	}
	return T_PASS;
}

/* A zeroed buffer aligned for O_DIRECT, in *p. */
static int alloc_buf(struct tctx *t, size_t len, char **p)
{
	*p = t_alloc(len);
	if (!*p)
		return t_fail(t, __FILE__, __LINE__,
			      "out of memory (%zu bytes)", len);
	memset(*p, 0, len);
	return T_PASS;
}

static int alloc_iocbs(struct tctx *t, unsigned int n)
{
	unsigned int i;

	t->cb = calloc(n, sizeof(*t->cb));
	t->cbs = calloc(n, sizeof(*t->cbs));
	t->ev = calloc(n, sizeof(*t->ev));
	if (!t->cb || !t->cbs || !t->ev)
		return t_fail(t, __FILE__, __LINE__, "out of memory (%u iocbs)",
			      n);
	for (i = 0; i < n; i++)
		t->cbs[i] = &t->cb[i];
	return T_PASS;
}

/* io_pgetevents absent: the skip's reason. */
static bool no_pgetevents(char *why, size_t len)
{
	errno = 0;
	if (sys_io_pgetevents(0, 0, 0, NULL, NULL, NULL) == -1 &&
	    errno == ENOSYS) {
		snprintf(why, len, "io_pgetevents absent (ENOSYS)");
		return true;
	}
	return false;
}

/* IOCB_CMD_POLL absent from ctx's kernel: the skip's reason. */
static bool no_aio_poll(aio_context_t ctx, char *why, size_t len)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	bool absent = false;
	int p[2];

	/* Undecided (no pipe): the test finds out itself. */
	if (pipe(p))
		return false;
	if (write(p[1], "x", 1) == 1) {
		prep_poll(&cb, p[0], POLLIN);
		errno = 0;
		if (sys_io_submit(ctx, 1, cbs) == -1 && errno == EINVAL) {
			snprintf(why, len,
				 "IOCB_CMD_POLL absent (EINVAL on a probe)");
			absent = true;
		} else {
			t_reap(ctx, 1, &ev);
		}
	}
	close(p[0]);
	close(p[1]);
	return absent;
}

int t_fixtures_setup(struct tctx *t, const struct t_needs *n)
{
	char why[128];
	int ret = T_PASS;

	if (n->root && !is_root())
		return t_skip(t, "not root: %s", n->root);
	if (n->pgetevents && no_pgetevents(why, sizeof(why)))
		return t_skip(t, "%s", why);
	if (n->file.name)
		ret = t_fixture_file(t, &n->file);
	if (!ret && n->buf)
		ret = alloc_buf(t, n->buf, &t->buf);
	if (!ret && n->buf2)
		ret = alloc_buf(t, n->buf2, &t->buf2);
	if (!ret && n->iocbs)
		ret = alloc_iocbs(t, n->iocbs);
	if (!ret && n->dev_zero) {
		t->zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		if (t->zfd < 0)
			ret = fd_failed(t, errno, "open", "/dev/zero");
	}
	if (!ret && n->pipe)
		ret = t_fixture_pipe(t, t->pipe);
	if (!ret && n->eventfd) {
		t->efd =
			eventfd(0, EFD_CLOEXEC | (n->eventfd == T_EFD_NONBLOCK ?
							  EFD_NONBLOCK :
							  0));
		if (t->efd < 0)
			ret = fd_failed(t, errno, "eventfd", NULL);
	}
	/* t_setup(): an EAGAIN that aio-max-nr explains is a skip. */
	if (!ret && n->ctx && t_setup(t, n->ctx, &t->ctx))
		ret = T_FAIL;
	if (!ret && n->ctx2 && t_setup(t, n->ctx2, &t->ctx2))
		ret = T_FAIL;
	if (!ret && n->aio_poll && t->ctx &&
	    no_aio_poll(t->ctx, why, sizeof(why)))
		ret = t_skip(t, "%s", why);
	if (!ret && n->setup)
		ret = n->setup(t);
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void t_fixtures_teardown(struct tctx *t, const struct t_needs *n)
{
	if (n->cleanup)
		n->cleanup(t);
	/* io_destroy waits for the I/O in flight: before the buffers go. */
	if (t->ctx2)
		sys_io_destroy(t->ctx2);
	if (t->ctx)
		sys_io_destroy(t->ctx);
	t->ctx = t->ctx2 = 0;
	close_fd(&t->efd);
	close_fd(&t->pipe[1]);
	close_fd(&t->pipe[0]);
	close_fd(&t->zfd);
	free(t->ev);
	free(t->cbs);
	free(t->cb);
	free(t->buf2);
	free(t->buf);
	t->ev = NULL;
	t->cbs = NULL;
	t->cb = NULL;
	t->buf = t->buf2 = NULL;
	close_fd(&t->fd);
}
