/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_getevents and io_pgetevents.  min_nr > nr or negative is
 * EINVAL; a zero timeout is one non-blocking pass; NULL waits until min_nr
 * events; nr bounds what is returned; a signal with no events is EINTR;
 * io_pgetevents applies its signal mask while it waits (4.18; ENOSYS on a
 * probe means absent).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* n reads from /dev/zero on t->ctx: each completes at once with res 64. */
static int zero_reads(struct tctx *t, int n, struct iocb *cb, char *buf)
{
	struct iocb *cbs[64];
	int i;

	for (i = 0; i < n; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, t->zfd, buf + i * 64, 64, 0);
		cbs[i] = &cb[i];
	}
	if (sys_io_submit(t->ctx, n, cbs) != n)
		return t_fail(t, __FILE__, __LINE__, "io_submit of %d: %s", n,
			      errno_name(errno));
	return T_PASS;
}

static int test_min_nr(struct tctx *t)
{
	struct io_event ev[4];
	struct timespec ts = { 0, 0 };
	int ret = T_PASS;

	CHECK_ERR(sys_io_getevents(t->ctx, 3, 2, ev, &ts), EINVAL);
	CHECK_ERR(sys_io_getevents(t->ctx, -1, 2, ev, &ts), EINVAL);
	CHECK_ERR(sys_io_getevents(t->ctx, 0, -1, ev, &ts), EINVAL);
	CHECK_ERR(sys_io_getevents(0, 0, 1, ev, &ts), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_min_nr, "reap.bad_args", 0, .ctx = 8)

static int test_bad_pointers(struct tctx *t)
{
	struct iocb cb[2];
	char buf[128];
	struct io_event ev[2];
	int ret = T_PASS;

	/* A pending event must not be lost by a failed copy. */
	ret = zero_reads(t, 1, cb, buf);
	if (ret)
		goto out;
	CHECK_ERR(sys_io_getevents(t->ctx, 1, 1, KERNEL_ADDR, NULL), EFAULT);
	CHECK_ERR(sys_io_getevents(t->ctx, 1, 1, ev, KERNEL_ADDR), EFAULT);
	CHECK_RET(t_reap(t->ctx, 1, ev), 1);
	CHECK_RES(ev[0], 64);
out:
	return ret;
}
CONFORM_TEST(test_bad_pointers, "reap.bad_pointers", 0, .ctx = 8,
	     .dev_zero = true)

static int test_zero_timeout(struct tctx *t)
{
	struct timespec ts = { 0, 0 };
	struct io_event ev[8];
	struct iocb cb[8];
	char buf[8 * 64];
	int ret = T_PASS;

	CHECK_RET(sys_io_getevents(t->ctx, 1, 8, ev, &ts), 0);
	ret = zero_reads(t, 5, cb, buf);
	if (ret)
		goto out;
	CHECK_RET(sys_io_getevents(t->ctx, 0, 8, ev, &ts), 5);
	CHECK_RET(sys_io_getevents(t->ctx, 0, 8, ev, &ts), 0);
out:
	return ret;
}
CONFORM_TEST(test_zero_timeout, "reap.zero_timeout", 0, .ctx = 8,
	     .dev_zero = true)

static int test_nr_bound(struct tctx *t)
{
	struct io_event ev[8];
	struct iocb cb[8];
	char buf[8 * 64];
	int ret = T_PASS, i;
	bool seen[8] = { false };

	ret = zero_reads(t, 8, cb, buf);
	if (ret)
		goto out;
	CHECK_RET(sys_io_getevents(t->ctx, 1, 3, ev, NULL), 3);
	CHECK_RET(sys_io_getevents(t->ctx, 5, 8, ev + 3, NULL), 5);
	for (i = 0; i < 8; i++) {
		long k = (struct iocb *)(uintptr_t)ev[i].obj - cb;

		CHECK(k >= 0 && k < 8 && !seen[k], "event %d: bad obj", i);
		seen[k] = true;
	}
out:
	return ret;
}
CONFORM_TEST(test_nr_bound, "reap.nr_bound", 0, .ctx = 8, .dev_zero = true)

/* A timeout with nothing completing returns 0 (no time is measured). */
static int test_timeout_expires(struct tctx *t)
{
	struct timespec ts = { 0, 20000000 };
	int ret = T_PASS;
	struct iocb cb;
	struct io_event ev;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK_RET(sys_io_getevents(t->ctx, 1, 1, &ev, &ts), 0);
out:
	return ret;
}
CONFORM_TEST(test_timeout_expires, "reap.timeout_expires", 0, .ctx = 8,
	     .pipe = true)

static void *writer(void *arg)
{
	int fd = *(int *)arg;

	usleep(20000);
	if (write(fd, "x", 1) != 1)
		return (void *)1;
	return NULL;
}

/* NULL timeout: waits until min_nr events are there. */
static int test_null_timeout(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	struct io_event ev;
	pthread_t th;
	bool joined = true;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK(!pthread_create(&th, NULL, writer, &t->pipe[1]),
	      "pthread_create");
	joined = false;
	CHECK_RET(sys_io_getevents(t->ctx, 1, 1, &ev, NULL), 1);
	CHECK(ev.res & POLLIN, "res 0x%llx", (unsigned long long)ev.res);
out:
	if (!joined)
		pthread_join(th, NULL);
	return ret;
}
CONFORM_TEST(test_null_timeout, "reap.null_timeout_waits", 0, .ctx = 8,
	     .pipe = true)

static void on_sig(int sig)
{
}

static void *signaller(void *arg)
{
	pthread_t target = *(pthread_t *)arg;
	int i;

	/* Repeat: the first may arrive before the wait starts. */
	for (i = 0; i < 200; i++) {
		usleep(20000);
		pthread_kill(target, SIGUSR1);
	}
	return NULL;
}

static int test_eintr(struct tctx *t)
{
	int ret = T_PASS;
	struct iocb cb;
	struct sigaction sa = { .sa_handler = on_sig };
	pthread_t self = pthread_self(), th;
	struct io_event ev;

	sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART */
	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK(!pthread_create(&th, NULL, signaller, &self), "pthread_create");
	pthread_detach(th);
	CHECK_ERR(sys_io_getevents(t->ctx, 1, 1, &ev, NULL), EINTR);
out:
	return ret;
}
CONFORM_TEST(test_eintr, "reap.eintr", 0, .ctx = 8, .pipe = true)

static volatile sig_atomic_t got_usr1;

static void count_sig(int sig)
{
	got_usr1++;
}

/*
 * SIGUSR1 is blocked and pending.  With a mask that keeps it blocked,
 * io_pgetevents is not interrupted; with an empty mask it is delivered
 * during the call: EINTR, and the handler ran.
 */
static int test_pgetevents_mask(struct tctx *t)
{
	struct sigaction sa = { .sa_handler = count_sig };
	struct timespec ts = { 0, 10000000 };
	struct aio_sigset ss;
	sigset_t block, empty;
	struct io_event ev;
	int ret = T_PASS;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);
	ss.sigmask = &block;
	ss.sigsetsize = 8;
	CHECK_RET(sys_io_pgetevents(t->ctx, 1, 1, &ev, &ts, &ss), 0);
	CHECK(got_usr1 == 0, "handler ran with SIGUSR1 in the mask");
	ss.sigmask = &empty;
	CHECK_ERR(sys_io_pgetevents(t->ctx, 1, 1, &ev, &ts, &ss), EINTR);
	CHECK(got_usr1 == 1, "handler ran %d times", (int)got_usr1);
out:
	return ret;
}
CONFORM_TEST(test_pgetevents_mask, "reap.pgetevents_mask", 0, .ctx = 8,
	     .pgetevents = true)

static int test_pgetevents_args(struct tctx *t)
{
	struct timespec ts = { 0, 0 };
	struct iocb cb[2];
	char buf[128];
	struct aio_sigset ss;
	struct io_event ev[2];
	sigset_t empty;
	int ret = T_PASS;

	sigemptyset(&empty);
	ss.sigmask = &empty;
	ss.sigsetsize = 4; /* wrong size */
	CHECK_ERR(sys_io_pgetevents(t->ctx, 0, 1, ev, &ts, &ss), EINVAL);
	CHECK_ERR(sys_io_pgetevents(t->ctx, 0, 1, ev, &ts, KERNEL_ADDR),
		  EFAULT);
	ret = zero_reads(t, 2, cb, buf);
	if (ret)
		goto out;
	/* A NULL sigset behaves like io_getevents. */
	CHECK_RET(sys_io_pgetevents(t->ctx, 2, 2, ev, NULL, NULL), 2);
	CHECK_RES(ev[0], 64);
out:
	return ret;
}
CONFORM_TEST(test_pgetevents_args, "reap.pgetevents_args", 0, .ctx = 8,
	     .dev_zero = true, .pgetevents = true)
