/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_cancel.  Only requests with a cancel method (IOCB_CMD_POLL)
 * can be cancelled: found, the call says EINPROGRESS and the event is still
 * delivered through the ring; a read or write (in flight or done) is
 * EINVAL; a NULL iocb is EFAULT; a bad context is EINVAL.  A cancel that
 * races the poll's wake-up either cancels it or finds it complete, and
 * its event is delivered once either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SLOW_BYTES (1 << 20)
#define SLOW_IOPS 10
#define SLOW_READS 2

/*
 * This process's reads from the disk under the scratch file throttled to
 * SLOW_IOPS a second: an O_DIRECT read of it stays in flight for 100 ms or
 * more (a loop device of the test's own would do as well, but would
 * outlive a runner that a second signal ends at once, for as long as its
 * read stays throttled).
 */
static int slow_setup(struct tctx *t)
{
	char why[PATH_MAX + 200];
	dev_t dev;

	if (t_disk_of(t, t->fd, &dev, why, sizeof(why)) ||
	    t_throttle_reads(t, dev, SLOW_IOPS, 0, why, sizeof(why)))
		return t_skip(t, "cannot keep a read in flight: %s", why);
	return T_PASS;
}

/*
 * A read in flight cannot be cancelled: EINVAL, and it completes in full,
 * once.  It is kept in flight by blk-throttle; its event is in the ring
 * neither before io_cancel nor after io_cancel returned, so the call met
 * it in flight (a read that completed during the call is tried again, and
 * one that is never caught in flight is a skip: nothing was tested).
 * misbehave "cancel-read-done": wait for the reads to complete first, as
 * the test once did on every filesystem: it must not pass.
 */
static int test_read(struct tctx *t)
{
	struct timespec zero = { 0, 0 };
	struct io_event ev[SLOW_READS];
	int ret = T_PASS, i, k = -1, tries, r, e, waited;
	int64_t off = 0;
	long bad;

	for (tries = 0; tries < 3 && k < 0; tries++) {
		for (i = 0; i < SLOW_READS; i++, off += 4096)
			prep_rw(&t->cb[i], IOCB_CMD_PREAD, t->fd,
				t->buf + i * 4096, 4096, off);
		CHECK_RET(sys_io_submit(t->ctx, SLOW_READS, t->cbs),
			  SLOW_READS);
		for (waited = 0;
		     t_misbehave("cancel-read-done") &&
		     t_ring_pending(t->ctx) < SLOW_READS && waited < 1000;
		     waited++)
			usleep(10000);
		/* The last one whose event is not in the ring. */
		for (i = SLOW_READS - 1; i >= 0 && k < 0; i--)
			if (!t_ring_has(t->ctx, &t->cb[i]))
				k = i;
		if (k >= 0) {
			errno = 0;
			r = sys_io_cancel(t->ctx, &t->cb[k], &ev[0]);
			e = errno;
			CHECK(r == -1 && e == EINVAL,
			      "io_cancel of a read in flight: expected -1 "
			      "EINVAL, got %d %s",
			      r, r == -1 ? errno_name(e) : "");
			if (t_ring_has(t->ctx, &t->cb[k]))
				k = -1; /* complete by the time it returned */
		}
		CHECK_RET(t_reap(t->ctx, SLOW_READS, ev), SLOW_READS);
		for (i = 0; i < SLOW_READS; i++) {
			CHECK_RES(ev[i], 4096);
			CHECK(ev[i].obj == ev[i].data,
			      "event obj 0x%llx, data 0x%llx",
			      (unsigned long long)ev[i].obj,
			      (unsigned long long)ev[i].data);
		}
		CHECK(ev[0].obj != ev[1].obj, "two events for one read");
		CHECK_RET(sys_io_getevents(t->ctx, 0, 1, ev, &zero), 0);
	}
	if (k < 0)
		SKIP("the reads were complete before io_cancel returned, %d "
		     "times, even throttled to %d reads a second: none was "
		     "met in flight",
		     tries, SLOW_IOPS);
	for (i = 0; i < SLOW_READS; i++) {
		bad = pat_check(t->buf + i * 4096, 4096,
				(uint64_t)t->cb[i].aio_offset, 1);
		CHECK(bad < 0, "read %d: wrong data at byte %ld", i, bad);
	}
	/* Complete: not found any more. */
	CHECK_ERR(sys_io_cancel(t->ctx, &t->cb[k], &ev[0]), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_read, "cancel.read", 0, .root = "blk-throttle needs root",
	     .ctx = 8, .iocbs = SLOW_READS, .buf = SLOW_READS * 4096,
	     .file = T_PATTERN_FILE("data", SLOW_BYTES, 1, O_RDONLY,
				    .direct = T_DIRECT),
	     .setup = slow_setup)

static int test_null_iocb(struct tctx *t)
{
	struct io_event ev;
	int ret = T_PASS;

	CHECK_ERR(sys_io_cancel(t->ctx, NULL, &ev), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_null_iocb, "cancel.null_iocb", 0, .ctx = 8)

static int test_bad_ctx(struct tctx *t)
{
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	memset(&cb, 0, sizeof(cb));
	CHECK_ERR(sys_io_cancel(0, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_bad_ctx, "cancel.bad_ctx", 0)

static int test_not_submitted(struct tctx *t)
{
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	prep_poll(&cb, 0, POLLIN);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_not_submitted, "cancel.not_submitted", 0, .ctx = 8)

/* A poll is found: EINPROGRESS, then its event arrives; twice: EINVAL. */
static int test_poll(struct tctx *t)
{
	struct timespec ts = { 0, 0 };
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	CHECK_RET(sys_io_getevents(t->ctx, 0, 1, &ev, &ts), 0);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINPROGRESS);
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&cb, "event for another iocb");
	CHECK(!(ev.res & POLLIN), "cancelled poll reports POLLIN: 0x%llx",
	      (unsigned long long)ev.res);
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_poll, "cancel.poll", 0, .ctx = 8, .pipe = true)

#define RACE_ROUNDS 300

struct waker {
	int fd;
	pthread_barrier_t bar;
	volatile int stop;
};

/* Each round: meet the canceller, spin a little (the round's), write. */
static void *waker_fn(void *arg)
{
	struct waker *w = arg;
	volatile unsigned int spin;
	unsigned int round;

	for (round = 0;; round++) {
		pthread_barrier_wait(&w->bar);
		if (w->stop)
			break;
		for (spin = 0; spin < (round % 32) * 64; spin++)
			;
		if (write(w->fd, "x", 1) != 1)
			break;
	}
	return NULL;
}

/*
 * io_cancel of a poll while another thread makes the pipe readable: either
 * the cancel found it (EINPROGRESS) or it had completed (EINVAL, and then
 * its event says POLLIN), never anything else, and there is exactly one
 * event for it either way: none lost, none twice.  The rounds move the
 * write against the cancel; how many ended each way is only reported.
 * misbehave "poll-event-twice": a second event for a round's poll, as a
 * kernel that completes a poll both by the wake-up and by the cancel
 * would deliver: it must fail.
 */
static int test_poll_race(struct tctx *t)
{
	struct timespec zero = { 0, 0 }, wait = { 0, 50000000 };
	struct waker w = { .fd = t->pipe[1] };
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, round, r, e, n, found = 0, done = 0;
	struct io_event ev[2];
	bool started = false;
	pthread_t th;
	char c;

	CHECK(!pthread_barrier_init(&w.bar, NULL, 2), "pthread_barrier_init");
	CHECK(!pthread_create(&th, NULL, waker_fn, &w), "pthread_create");
	started = true;
	for (round = 0; round < RACE_ROUNDS; round++) {
		prep_poll(&cb, t->pipe[0], POLLIN);
		cb.aio_data = (uint64_t)round;
		CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
		pthread_barrier_wait(&w.bar);
		errno = 0;
		r = sys_io_cancel(t->ctx, &cb, &ev[0]);
		e = errno;
		/* The byte is there once written; the poll does not take it. */
		CHECK(read(t->pipe[0], &c, 1) == 1, "read pipe: %s",
		      errno_name(errno));
		CHECK_RET(t_reap(t->ctx, 1, ev), 1);
		if (t_misbehave("poll-event-twice")) {
			struct iocb z, *zs[1] = { &z };

			prep_rw(&z, IOCB_CMD_PREAD, t->zfd, &c, 1, 0);
			z.aio_data = (uint64_t)round;
			CHECK_RET(sys_io_submit(t->ctx, 1, zs), 1);
		}
		CHECK(ev[0].data == (uint64_t)round &&
			      ev[0].obj == (uint64_t)(uintptr_t)&cb,
		      "round %d: event of round %llu", round,
		      (unsigned long long)ev[0].data);
		if (r == -1 && e == EINPROGRESS) {
			found++;
		} else if (r == -1 && e == EINVAL) {
			done++;
			CHECK(ev[0].res & POLLIN,
			      "round %d: io_cancel found the poll complete, "
			      "but its event says 0x%llx, not POLLIN",
			      round, (unsigned long long)ev[0].res);
		} else {
			FAIL("round %d: io_cancel racing the wake-up: expected "
			     "EINPROGRESS or EINVAL, got %d %s",
			     round, r, r == -1 ? errno_name(e) : "");
		}
		/* No second event: now, or from the round before. */
		n = sys_io_getevents(t->ctx, 0, 1, &ev[1],
				     round == RACE_ROUNDS - 1 ? &wait : &zero);
		CHECK(n == 0,
		      "round %d: a second event (data %llu, res 0x%llx) for "
		      "one poll",
		      round, (unsigned long long)ev[1].data,
		      (unsigned long long)ev[1].res);
	}
	t_diag(t,
	       "%d rounds: the cancel found the poll %d times, found it "
	       "complete %d times",
	       RACE_ROUNDS, found, done);
out:
	if (started) {
		w.stop = 1;
		pthread_barrier_wait(&w.bar);
		pthread_join(th, NULL);
	}
	return ret;
}
CONFORM_TEST(test_poll_race, "cancel.poll_races_wakeup", 0, .ctx = 8,
	     .pipe = true, .dev_zero = true, .aio_poll = true)

/* The kernel keys iocbs with aio_key: a changed key is EINVAL. */
static int test_wrong_key(struct tctx *t)
{
	struct io_event ev;
	struct iocb cb;
	int ret = T_PASS;

	CHECK_RET(t_submit_poll(t, &cb), 1);
	cb.aio_key = 0x12345;
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINVAL);
	cb.aio_key = 0;
	CHECK_ERR(sys_io_cancel(t->ctx, &cb, &ev), EINPROGRESS);
	CHECK_RET(t_reap(t->ctx, 1, &ev), 1);
out:
	return ret;
}
CONFORM_TEST(test_wrong_key, "cancel.wrong_key", 0, .ctx = 8, .pipe = true)
