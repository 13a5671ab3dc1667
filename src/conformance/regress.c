/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: regressions from the known history that no other group
 * covers on its own.
 *
 *  - regress.poll_wakeups: IOCB_CMD_POLL missed wake-ups (5.16,
 *    363bee27e258): many polls on many pipes, woken from another thread in
 *    a scrambled order, round after round: every poll completes.
 *  - regress.ring_reap_concurrent: user-space reaping while completions
 *    arrive from another CPU never sees a zeroed or torn event (the missing
 *    read barrier of 2ff396be602f, ppc64; on x86 this guards the pattern).
 *  - regress.loop_dio_backing (seed 001, root): data written with AIO and
 *    O_DIRECT through a loop device with direct-io on reaches the backing
 *    file, checked after the device is detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "target.h"

#define NPIPES 64
#define ROUNDS 50

struct waker {
	int wr[NPIPES];
	int round;
};

static void *wake_all(void *arg)
{
	struct waker *w = arg;
	int i;

	for (i = 0; i < NPIPES; i++) {
		int k = (i * 37 + w->round * 11) % NPIPES;

		if (write(w->wr[k], "x", 1) != 1)
			return (void *)1;
	}
	return NULL;
}

static int test_poll_wakeups(struct tctx *t)
{
	int ret = T_PASS, rd[NPIPES], i, round, p[2], opened = 0;
	struct iocb cb[NPIPES], *cbs[NPIPES];
	struct io_event ev[NPIPES];
	struct waker w;
	aio_context_t ctx = t->ctx;
	pthread_t th;
	char c;

	for (i = 0; i < NPIPES; i++) {
		CHECK_FDS(!pipe(p), "pipe: %s", errno_name(errno));
		rd[i] = p[0];
		w.wr[i] = p[1];
		opened++;
	}
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < NPIPES; i++) {
			prep_poll(&cb[i], rd[i], POLLIN);
			cbs[i] = &cb[i];
		}
		CHECK_RET(sys_io_submit(ctx, NPIPES, cbs), NPIPES);
		w.round = round;
		CHECK(!pthread_create(&th, NULL, wake_all, &w),
		      "pthread_create");
		i = t_reap(ctx, NPIPES, ev);
		pthread_join(th, NULL);
		CHECK(i == NPIPES, "round %d: %d of %d polls completed", round,
		      i < 0 ? 0 : i, NPIPES);
		for (i = 0; i < NPIPES; i++) {
			CHECK(ev[i].res & POLLIN, "round %d: res 0x%llx", round,
			      (unsigned long long)ev[i].res);
			CHECK(read(rd[i], &c, 1) == 1, "drain pipe");
		}
	}
out:
	for (i = 0; i < opened; i++) {
		close(rd[i]);
		close(w.wr[i]);
	}
	return ret;
}
CONFORM_TEST(test_poll_wakeups, "regress.poll_wakeups", 0, .ctx = NPIPES)

struct producer {
	int wr[NPIPES];
	volatile int stop;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	int i = 0;

	while (!p->stop) {
		/* Non-blocking: a full pipe is skipped, not waited on. */
		if (write(p->wr[i % NPIPES], "x", 1) != 1 && errno != EAGAIN)
			break;
		i++;
		if (i % NPIPES == 0)
			usleep(100);
	}
	return NULL;
}

static int test_ring_concurrent(struct tctx *t)
{
	int ret = T_PASS, rd[NPIPES], i, p[2], opened = 0, got = 0, total;
	struct iocb cb[NPIPES], *cbs[1];
	struct producer pr = { .stop = 0 };
	aio_context_t ctx = t->ctx;
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	bool running = false;
	char buf[4096];
	pthread_t th;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NPIPES; i++) {
		CHECK_FDS(!pipe2(p, O_NONBLOCK), "pipe: %s", errno_name(errno));
		rd[i] = p[0];
		pr.wr[i] = p[1];
		opened++;
	}
	for (i = 0; i < NPIPES; i++) {
		prep_poll(&cb[i], rd[i], POLLIN);
		cb[i].aio_data = 0x1000 + (uint64_t)i;
		cbs[0] = &cb[i];
		CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
	}
	CHECK(!pthread_create(&th, NULL, produce, &pr), "pthread_create");
	running = true;
	total = 20000;
	while (got < total) {
		unsigned int head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		unsigned int tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

		while (head != tail && got < total) {
			struct io_event e = r->io_events[head];
			uint64_t k = e.data - 0x1000;

			CHECK(k < NPIPES &&
				      e.obj == (uint64_t)(uintptr_t)&cb[k],
			      "event %d read from the ring is torn: data 0x%llx "
			      "obj 0x%llx",
			      got, (unsigned long long)e.data,
			      (unsigned long long)e.obj);
			CHECK(e.res & POLLIN, "event %d: res 0x%llx", got,
			      (unsigned long long)e.res);
			head = (head + 1) % r->nr;
			__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
			got++;
			/* Drain that pipe and poll it again. */
			while (read(rd[k], buf, sizeof(buf)) > 0)
				;
			cbs[0] = &cb[k];
			CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
		}
		sched_yield();
	}
out:
	if (running) {
		pr.stop = 1;
		/* Unblock a writer stuck on a full pipe. */
		for (i = 0; i < opened; i++)
			close(rd[i]);
		opened = -opened;
		pthread_join(th, NULL);
	}
	for (i = 0; i < (opened < 0 ? -opened : opened); i++) {
		if (opened > 0)
			close(rd[i]);
		close(pr.wr[i]);
	}
	return ret;
}
CONFORM_TEST(test_ring_concurrent, "regress.ring_reap_concurrent", 0,
	     .ctx = NPIPES)

#define LOOP_BYTES (16 << 20)
#define LOOP_IOS 64
#define LOOP_BS (64 << 10)

/* On fd, which stays open: the device goes when its last opener does. */
static bool loop_gone(const char *dev)
{
	char sys[128];
	struct stat st;
	int i;

	snprintf(sys, sizeof(sys), "/sys/block/%s/loop/backing_file",
		 strrchr(dev, '/') + 1);
	for (i = 0; i < 250; i++) {
		if (stat(sys, &st))
			return true;
		usleep(20000);
	}
	return false;
}

static int test_loop_dio(struct tctx *t)
{
	struct iocb *cb = t->cb, fs;
	struct io_event *ev = t->ev;
	char path[PATH_MAX], dev[64] = "", *buf = t->buf;
	int ret = T_PASS, bfd = t->fd, lfd = -1, i, n, r;
	bool dio = false;
	long bad;

	CHECK(snprintf(path, sizeof(path), "%s/backing", t->dir) <
		      (int)sizeof(path),
	      "path too long");
	r = target_loop_attach(path, true, dev, sizeof(dev), &dio);
	if (r == -ENOENT || r == -ENODEV)
		SKIP("no loop device support: %s", errno_name(-r));
	if (t_fd_limit(t, -r)) {
		ret = T_SKIP;
		goto out;
	}
	CHECK(!r, "attach a loop device: %s", errno_name(-r));
	if (!dio)
		t_diag(t, "%s: direct-io could not be set on %s", dev,
		       t->var ? t->var->fstype : "the scratch filesystem");
	lfd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	CHECK(lfd >= 0, "open %s: %s", dev, errno_name(errno));
	/* Should this process be killed, the device goes with its fd. */
	r = target_loop_autoclear(lfd);
	CHECK(!r, "set autoclear on %s: %s", dev, errno_name(-r));
	for (i = 0; i < LOOP_IOS; i++) {
		/* Spread over the device, out of order. */
		int64_t off =
			(int64_t)((i * 37) % (LOOP_BYTES / LOOP_BS)) * LOOP_BS;

		pat_fill(buf + (size_t)i * LOOP_BS, LOOP_BS, (uint64_t)off, 24);
		prep_rw(&cb[i], IOCB_CMD_PWRITE, lfd, buf + (size_t)i * LOOP_BS,
			LOOP_BS, off);
	}
	n = sys_io_submit(t->ctx, LOOP_IOS, t->cbs);
	CHECK(n == LOOP_IOS, "io_submit: %d %s", n, errno_name(errno));
	CHECK_RET(t_reap(t->ctx, LOOP_IOS, ev), LOOP_IOS);
	for (i = 0; i < LOOP_IOS; i++)
		CHECK_RES(ev[i], LOOP_BS);
	prep_fsync(&fs, lfd, false);
	CHECK_RET(t_submit_wait(t->ctx, &fs, ev), 0);
	CHECK_RES(ev[0], 0);
	/* Nothing of the device is in flight when it is detached. */
	sys_io_destroy(t->ctx);
	t->ctx = 0;
	close(lfd);
	lfd = -1;
	r = target_loop_detach(dev);
	CHECK(!r, "detach %s: %s", dev, errno_name(-r));
	CHECK(loop_gone(dev), "%s still attached after detach", dev);
	dev[0] = '\0';
	/* Read the backing file cold. */
	CHECK(!t_drop_cache(bfd), "drop cache");
	for (i = 0; i < LOOP_IOS; i++) {
		int64_t off =
			(int64_t)((i * 37) % (LOOP_BYTES / LOOP_BS)) * LOOP_BS;

		CHECK(pread(bfd, buf, LOOP_BS, off) == LOOP_BS, "pread: %s",
		      errno_name(errno));
		bad = pat_check(buf, LOOP_BS, (uint64_t)off, 24);
		CHECK(bad < 0,
		      "backing file wrong at %lld after detach (direct-io %s)",
		      (long long)(off + bad), dio ? "on" : "off");
	}
out:
	/* The I/O on the device ends before its descriptor and itself go. */
	if (t->ctx)
		sys_io_destroy(t->ctx);
	t->ctx = 0;
	if (lfd >= 0)
		close(lfd);
	if (dev[0])
		target_loop_detach(dev);
	return ret;
}
CONFORM_TEST(test_loop_dio, "regress.loop_dio_backing", T_FILE,
	     .root = "loop devices need root", .ctx = LOOP_IOS + 1,
	     .iocbs = LOOP_IOS, .buf = LOOP_IOS * LOOP_BS,
	     .file = { .name = "backing", .size = LOOP_BYTES, .oflags = O_RDWR })
