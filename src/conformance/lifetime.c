/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: contexts and the life of processes (seed 004).  A process
 * that exits, is killed, exits from a thread other than the submitter, or
 * execs with I/O in flight (including more iocbs than the ring holds, the
 * path where 3.2 hung: "aio: wake up waiters when freeing unused kiocbs",
 * 880641bb9da2, after kiocb batching, 080d676de095) must be reaped; each
 * such grandchild has its own watchdog here, besides the harness's; once
 * it is reaped, /proc/sys/fs/aio-nr is back to what it was before it made
 * its context (judged in spite of other processes: peers.h).  After fork
 * the child cannot use the parent's context (EINVAL) and the parent's
 * context is unaffected.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peers.h"

#define GRANDCHILD_MS 15000
#define NREAD 64
#define READ_BYTES (64 << 10)
/* The grandchild's exit status when io_setup said EAGAIN. */
#define SETUP_EAGAIN 5

enum how { EXIT_NORMAL, EXIT_KILL, EXIT_OTHER_THREAD, EXIT_EXEC };

struct inflight {
	aio_context_t ctx;
	int fd, pipe_rd, ready_wr;
	bool overfill;
	int submitted;
	int done, failed; /* set by the submitting thread */
};

/* Polls that never complete and O_DIRECT (or buffered) reads. */
static int submit_inflight(struct inflight *in)
{
	int nr = (int)aio_ring_of(in->ctx)->nr, total, i, r;
	struct iocb *cb, **cbs;
	char *buf;

	total = in->overfill ? nr * 2 + NREAD : NREAD + 16;
	cb = calloc((size_t)total, sizeof(*cb));
	cbs = calloc((size_t)total, sizeof(*cbs));
	buf = t_alloc((size_t)NREAD * READ_BYTES);
	if (!cb || !cbs || !buf)
		return -ENOMEM;
	for (i = 0; i < total; i++) {
		if (i % 4 == 0 && i / 4 < NREAD)
			prep_rw(&cb[i], IOCB_CMD_PREAD, in->fd,
				buf + (size_t)(i / 4) * READ_BYTES, READ_BYTES,
				(int64_t)(i / 4) * READ_BYTES);
		else
			prep_poll(&cb[i], in->pipe_rd, POLLIN);
		cbs[i] = &cb[i];
	}
	/* Past the ring's room io_submit stops short or says EAGAIN. */
	r = sys_io_submit(in->ctx, total, cbs);
	if (r < 0)
		return -errno;
	in->submitted = r;
	if (in->overfill)
		sys_io_submit(in->ctx, total - r, cbs + r);
	return 0; /* buffers stay allocated: they are in flight */
}

static void *submitter(void *arg)
{
	struct inflight *in = arg;

	in->failed = submit_inflight(in) != 0;
	__atomic_store_n(&in->done, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

/*
 * The context the grandchild makes.  Primes no other test asks for, so
 * that a context the exit did not give back shows in aio-nr as exactly
 * this much; the rings are the sizes of 16 and 256 (127 and 639 events).
 */
static unsigned int ring_nr(const struct inflight *in)
{
	return in->overfill ? 19 : 263;
}

/* The grandchild is reaped: its context's share of aio-nr is back. */
static int aio_nr_returned(struct tctx *t, const struct inflight *in, long base)
{
	long last = base;

	switch (aio_nr_settle(base, ring_nr(in), 200, &last)) {
	case AIO_NR_CLEAN:
		return T_PASS;
	case AIO_NR_LEAKED:
		return t_fail(t, __FILE__, __LINE__,
			      "aio-nr rested at %ld after the child was "
			      "reaped, %u above its %ld before: exactly the "
			      "child's context, not given back at its exit",
			      base + ring_nr(in), ring_nr(in), base);
	case AIO_NR_UNSURE:
		break;
	}
	t_diag(t,
	       "aio-nr %ld before the child, %ld after: other processes "
	       "moved it; not judged",
	       base, last);
	return T_PASS;
}

/* The grandchild's io_setup failed with EAGAIN: a skip when the limit says
 * so (T_SKIP), else a failure. */
static int setup_eagain(struct tctx *t, const struct inflight *in)
{
	if (t_aio_limit(t, ring_nr(in)))
		return T_SKIP;
	return t_fail(t, __FILE__, __LINE__,
		      "io_setup(%u) in the child: EAGAIN with room left under "
		      "aio-max-nr",
		      ring_nr(in));
}

static void grandchild(struct inflight *in, enum how how)
{
	pthread_t th;

	if (sys_io_setup(ring_nr(in), &in->ctx))
		_exit(errno == EAGAIN ? SETUP_EAGAIN : 3);
	if (how == EXIT_OTHER_THREAD) {
		struct timespec ts = { 0, 1000000 };

		if (pthread_create(&th, NULL, submitter, in))
			_exit(4);
		/* The main thread ends the process; the submitter sleeps. */
		while (!__atomic_load_n(&in->done, __ATOMIC_ACQUIRE))
			nanosleep(&ts, NULL);
		_exit(in->failed ? 6 : 0);
	}
	if (submit_inflight(in))
		_exit(6);
	if (how == EXIT_EXEC) {
		char *argv[] = { "true", NULL };

		execv("/bin/true", argv);
		execv("/usr/bin/true", argv);
		_exit(7);
	}
	if (how == EXIT_KILL) {
		(void)!write(in->ready_wr, "s", 1);
		for (;;)
			pause();
	}
	_exit(0);
}

static int exit_inflight(struct tctx *t, enum how how, bool overfill)
{
	struct inflight in = { .overfill = overfill,
			       .fd = t->fd,
			       .pipe_rd = t->pipe[0] };
	int ret = T_PASS, ready[2] = { -1, -1 }, status;
	long base = -1;
	pid_t pid;
	char c;

	CHECK_FDS(!pipe(ready), "pipe: %s", errno_name(errno));
	in.ready_wr = ready[1];
	CHECK(!read_proc_long(AIO_NR_PATH, &base), "read %s", AIO_NR_PATH);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", errno_name(errno));
	if (pid == 0)
		grandchild(&in, how);
	close(ready[1]);
	if (how == EXIT_KILL) {
		if (read(ready[0], &c, 1) != 1) {
			/* It exited before it submitted: why? */
			CHECK(wait_child(pid, &status, GRANDCHILD_MS),
			      "the child did not submit");
			if (WIFEXITED(status) &&
			    WEXITSTATUS(status) == SETUP_EAGAIN) {
				ret = setup_eagain(t, &in);
				goto out;
			}
			FAIL("the child did not submit (status 0x%x)", status);
		}
		kill(pid, SIGKILL);
	}
	if (!wait_child(pid, &status, GRANDCHILD_MS)) {
		kill(pid, SIGKILL);
		if (!wait_child(pid, &status, 2000))
			FAIL("child %d with I/O in flight not reaped after "
			     "SIGKILL (hung in exit_aio?)",
			     (int)pid);
		FAIL("child %d with I/O in flight did not exit within %d s",
		     (int)pid, GRANDCHILD_MS / 1000);
	}
	if (how != EXIT_KILL && WIFEXITED(status) &&
	    WEXITSTATUS(status) == SETUP_EAGAIN) {
		ret = setup_eagain(t, &in);
		goto out;
	}
	if (how == EXIT_KILL)
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child status 0x%x", status);
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status 0x%x (setup or submit failed)", status);
	ret = aio_nr_returned(t, &in, base);
out:
	return ret;
}

/* A cold file to read (O_DIRECT where taken), a pipe to poll forever. */
#define EXIT_NEEDS                                                       \
	.pipe = true,                                                    \
	.file = T_PATTERN_FILE("data", NREAD * READ_BYTES, 20, O_RDONLY, \
			       .direct = T_DIRECT_IF_OK, .cold = true)

static int test_exit(struct tctx *t)
{
	return exit_inflight(t, EXIT_NORMAL, false);
}
CONFORM_TEST(test_exit, "lifetime.exit_with_inflight", 0, EXIT_NEEDS)

static int test_exit_kill(struct tctx *t)
{
	return exit_inflight(t, EXIT_KILL, false);
}
CONFORM_TEST(test_exit_kill, "lifetime.exit_with_inflight_kill", 0, EXIT_NEEDS)

static int test_exit_thread(struct tctx *t)
{
	return exit_inflight(t, EXIT_OTHER_THREAD, false);
}
CONFORM_TEST(test_exit_thread, "lifetime.exit_from_other_thread", 0, EXIT_NEEDS)

static int test_exit_exec(struct tctx *t)
{
	return exit_inflight(t, EXIT_EXEC, false);
}
CONFORM_TEST(test_exit_exec, "lifetime.exec_with_inflight", 0, EXIT_NEEDS)

static int test_exit_overfill(struct tctx *t)
{
	return exit_inflight(t, EXIT_NORMAL, true);
}
CONFORM_TEST(test_exit_overfill, "lifetime.exit_more_than_ring", 0, EXIT_NEEDS)

static int test_kill_overfill(struct tctx *t)
{
	return exit_inflight(t, EXIT_KILL, true);
}
CONFORM_TEST(test_kill_overfill, "lifetime.exit_more_than_ring_kill", 0,
	     EXIT_NEEDS)

static int test_thread_overfill(struct tctx *t)
{
	return exit_inflight(t, EXIT_OTHER_THREAD, true);
}
CONFORM_TEST(test_thread_overfill, "lifetime.exit_more_than_ring_other_thread",
	     0, EXIT_NEEDS)

/* fork: the child gets EINVAL for the parent's context. */
static int test_fork(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	aio_context_t ctx = t->ctx;
	struct io_event ev;
	int ret = T_PASS, status;
	char buf[64];
	pid_t pid;

	prep_rw(&cb, IOCB_CMD_PREAD, t->zfd, buf, sizeof(buf), 0);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", errno_name(errno));
	if (pid == 0) {
		int r = 0;

		if (sys_io_submit(ctx, 1, cbs) != -1 || errno != EINVAL)
			r |= 1;
		if (sys_io_getevents(ctx, 0, 1, &ev, NULL) != -1 ||
		    errno != EINVAL)
			r |= 2;
		if (sys_io_destroy(ctx) != -1 || errno != EINVAL)
			r |= 4;
		_exit(r);
	}
	CHECK(wait_child(pid, &status, 10000), "the child did not exit");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "in the child: %s%s%s(status 0x%x)",
	      WEXITSTATUS(status) & 1 ? "io_submit not EINVAL " : "",
	      WEXITSTATUS(status) & 2 ? "io_getevents not EINVAL " : "",
	      WEXITSTATUS(status) & 4 ? "io_destroy not EINVAL " : "", status);
	/* The parent's context still works. */
	CHECK_RET(t_submit_wait(ctx, &cb, &ev), 0);
	CHECK_RES(ev, 64);
out:
	return ret;
}
CONFORM_TEST(test_fork, "lifetime.fork_child_gets_einval", 0, .ctx = 8,
	     .dev_zero = true)

struct shared {
	aio_context_t ctx;
	int zfd;
	int err;
};

static void *other_thread(void *arg)
{
	struct shared *s = arg;
	struct iocb cb[8], *cbs[8];
	static char buf[8 * 64];
	int i;

	for (i = 0; i < 8; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, s->zfd, buf + i * 64, 64, 0);
		cbs[i] = &cb[i];
	}
	if (sys_io_submit(s->ctx, 8, cbs) != 8)
		s->err = errno ? errno : EIO;
	return NULL;
}

/* A context is per process: another thread's submissions reap here. */
static int test_threads(struct tctx *t)
{
	struct shared s = { .ctx = t->ctx, .zfd = t->zfd };
	struct io_event ev[8];
	int ret = T_PASS;
	pthread_t th;

	CHECK(!pthread_create(&th, NULL, other_thread, &s), "pthread_create");
	pthread_join(th, NULL);
	CHECK(!s.err, "io_submit in the other thread: %s", errno_name(s.err));
	CHECK_RET(t_reap(s.ctx, 8, ev), 8);
out:
	return ret;
}
CONFORM_TEST(test_threads, "lifetime.context_shared_by_threads", 0, .ctx = 8,
	     .dev_zero = true)
