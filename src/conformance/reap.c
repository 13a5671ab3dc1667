/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_getevents and io_pgetevents.  min_nr > nr or negative is
 * EINVAL; a zero timeout is one non-blocking pass; NULL waits until min_nr
 * events; nr bounds what is returned; a signal with no events is EINTR;
 * io_pgetevents applies its signal mask while it waits and puts the
 * caller's back afterwards (4.18; ENOSYS on a probe means absent).  A
 * timeout is waited for in full.
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

#include "clock.h"
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

#define TIMEOUT_NS 20000000L

/*
 * A timeout with nothing completing returns 0, and not before the timeout
 * has passed on CLOCK_MONOTONIC, the clock of the kernel's timer: a lower
 * bound, which no load can break (a kernel that treats every timeout as
 * zero fails it).  misbehave "timeout-zero": a zero timeout is passed
 * instead, as such a kernel would act on it: it must fail.
 */
static int test_timeout_expires(struct tctx *t)
{
	struct timespec ts = { 0, TIMEOUT_NS };
	uint64_t start, waited;
	int ret = T_PASS;
	struct iocb cb;
	struct io_event ev;

	if (t_misbehave("timeout-zero"))
		ts.tv_nsec = 0;
	CHECK_RET(t_submit_poll(t, &cb), 1);
	start = now_ns();
	CHECK_RET(sys_io_getevents(t->ctx, 1, 1, &ev, &ts), 0);
	waited = now_ns() - start;
	CHECK(waited >= (uint64_t)TIMEOUT_NS,
	      "io_getevents returned after %llu ns, before its timeout of "
	      "%ld ns",
	      (unsigned long long)waited, TIMEOUT_NS);
out:
	return ret;
}
CONFORM_TEST(test_timeout_expires, "reap.timeout_expires", 0, .ctx = 8,
	     .pipe = true, .aio_poll = true)

/* NULL timeout: waits until min_nr events are there. */
static int test_null_timeout(struct tctx *t)
{
	struct t_late_write w = { .fd = t->pipe[1], .usec = 20000 };
	int ret = T_PASS;
	struct iocb cb;
	struct io_event ev;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK(!t_late_write_start(&w), "pthread_create");
	CHECK_RET(sys_io_getevents(t->ctx, 1, 1, &ev, NULL), 1);
	CHECK(ev.res & POLLIN, "res 0x%llx", (unsigned long long)ev.res);
	CHECK(!t_late_write_join(&w), "write pipe");
out:
	t_late_write_join(&w);
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

/* The caller's signal mask must be exactly want (SIGUSR1 and SIGUSR2). */
static int mask_is(struct tctx *t, const sigset_t *want, const char *when)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2 };
	sigset_t now;
	int ret = T_PASS, i;

	CHECK(!sigprocmask(SIG_SETMASK, NULL, &now), "sigprocmask: %s",
	      errno_name(errno));
	for (i = 0; i < 2; i++)
		CHECK(sigismember(&now, sigs[i]) == sigismember(want, sigs[i]),
		      "%s: the caller's mask %s %s, and it did not before",
		      when,
		      sigismember(&now, sigs[i]) ? "blocks" : "lets through",
		      i ? "SIGUSR2" : "SIGUSR1");
out:
	return ret;
}

/*
 * SIGUSR1 is blocked and pending.  With a mask that keeps it blocked,
 * io_pgetevents is not interrupted; with an empty mask it is delivered
 * during the call: EINTR, and the handler ran.  After each call the
 * caller's own mask is back (SIGUSR1 blocked, SIGUSR2 not), whether the
 * call timed out or was interrupted.  misbehave "pgetevents-keeps-mask":
 * the call's mask is left in place after it, as a kernel that does not
 * restore the caller's would: it must fail.
 */
static int test_pgetevents_mask(struct tctx *t)
{
	struct sigaction sa = { .sa_handler = count_sig };
	struct timespec ts = { 0, 10000000 };
	sigset_t block, both, empty;
	struct aio_sigset ss;
	struct io_event ev;
	int ret = T_PASS;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	both = block;
	sigaddset(&both, SIGUSR2);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &block, NULL);
	raise(SIGUSR1);
	ss.sigmask = &both;
	ss.sigsetsize = 8;
	CHECK_RET(sys_io_pgetevents(t->ctx, 1, 1, &ev, &ts, &ss), 0);
	if (t_misbehave("pgetevents-keeps-mask"))
		sigprocmask(SIG_SETMASK, &both, NULL);
	CHECK(got_usr1 == 0, "handler ran with SIGUSR1 in the mask");
	ret = mask_is(t, &block, "after io_pgetevents timed out");
	if (ret)
		goto out;
	ss.sigmask = &empty;
	CHECK_ERR(sys_io_pgetevents(t->ctx, 1, 1, &ev, &ts, &ss), EINTR);
	if (t_misbehave("pgetevents-keeps-mask"))
		sigprocmask(SIG_SETMASK, &empty, NULL);
	CHECK(got_usr1 == 1, "handler ran %d times", (int)got_usr1);
	ret = mask_is(t, &block, "after io_pgetevents was interrupted");
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
