/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: tests written for the kernel mutants that survived the rest
 * of the suite (ci/mutants/, make mutants).  Each names the mutant it
 * kills; each checks a promise of the ABI, not the mutant's code:
 *
 *   submit.failed_iocbs_return_slots (022-failed-submit-leaks-slot): an
 *       iocb that io_submit rejects gives its ring slot back, so a
 *       context takes a valid iocb after more rejected ones than its
 *       ring has slots
 *   setup.ctx_id_is_the_ring (030-lookup-trusts-id): a context is named
 *       by its ring's address alone: another user address whose first
 *       word is the ring's id is not a context (EINVAL)
 *   setup.nr_in_flight_from_every_cpu (004-ring-not-doubled): io_setup(nr)
 *       takes nr requests in flight when two CPUs take turns submitting
 *   submit.ring_never_overwritten (003-ring-overcommitted): a context
 *       filled until EAGAIN, half reaped, filled again, round after round,
 *       gives back every event it accepted
 *   notify.resfd_wakes_a_blocked_reader (033-eventfd-no-wakeup): a
 *       completion signals its eventfd so that a reader already asleep in
 *       read() on it wakes (on a kernel that does not, the test's
 *       watchdog ends it)
 *   data.bdev_direct_misaligned (035-bdev-unaligned-accepted): O_DIRECT on
 *       the block device under the variant (a node made in the test's
 *       directory; reads only) at an offset that is not a multiple of its
 *       logical block is EINVAL (a misaligned buffer may be taken: newer
 *       kernels accept what the device's DMA can do)
 *   notify.poll_hup_unasked (028-poll-no-hup): a poll for POLLIN alone on a
 *       pipe completes with POLLHUP when the write end closes
 *   reap.timeout_is_waited (014-getevents-timeout-as-zero): io_getevents
 *       with a timeout and nothing to reap returns no sooner than the
 *       timeout (a lower bound: a slow machine only waits longer)
 *   ring.user_reap_returns_slots (032-no-user-refill): a context filled
 *       until EAGAIN and emptied from user space (the ring's head moved
 *       to its tail) takes iocbs again, with nothing else completing
 *   notify.resfd_signalled_after_its_event (025-eventfd-before-ring): an
 *       iocb's eventfd is signalled once its event is in the ring, so a
 *       poll on that eventfd, in the same context, completes after it:
 *       its event comes second in the ring
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"

static int test_failed_iocbs_return_slots(struct tctx *t)
{
	const struct aio_ring_hdr *ring;
	struct iocb bad, good, *cbs[1];
	aio_context_t ctx = 0;
	char buf[64];
	int ret = T_PASS, zfd = -1;
	unsigned int i, n;

	if (t_setup(t, 1, &ctx))
		return T_FAIL;
	ring = aio_ring_of(ctx);
	CHECK(ring->magic == AIO_RING_MAGIC, "ring magic %#x", ring->magic);
	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK_FDS(zfd >= 0, "open /dev/zero: %s", errno_name(errno));
	/* A descriptor that is not open: EBADF once the slot is taken. */
	prep_rw(&bad, IOCB_CMD_PREAD, 1000000, buf, sizeof(buf), 0);
	cbs[0] = &bad;
	n = 2 * ring->nr + 16;
	for (i = 0; i < n; i++) {
		errno = 0;
		if (sys_io_submit(ctx, 1, cbs) != -1 || errno != EBADF)
			FAIL("rejected iocb %u of %u (ring of %u): expected "
			     "EBADF, got %s",
			     i + 1, n, ring->nr, errno_name(errno));
	}
	prep_rw(&good, IOCB_CMD_PREAD, zfd, buf, sizeof(buf), 0);
	CHECK_RET(t_result(ctx, &good), (long)sizeof(buf));
out:
	if (zfd >= 0)
		close(zfd);
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_failed_iocbs_return_slots, "submit.failed_iocbs_return_slots",
	     0)

static int test_ctx_id_is_the_ring(struct tctx *t)
{
	const struct aio_ring_hdr *ring;
	struct timespec ts = { 0, 0 };
	struct aio_ring_hdr *fake = NULL;
	struct io_event ev[1];
	aio_context_t ctx = 0;
	int ret = T_PASS;

	if (t_setup(t, 1, &ctx))
		return T_FAIL;
	fake = t_alloc(4096);
	CHECK(fake, "no memory");
	ring = aio_ring_of(ctx);
	memcpy(fake, ring, sizeof(*fake));
	CHECK_RET(sys_io_getevents(ctx, 0, 1, ev, &ts), 0);
	CHECK_ERR(sys_io_getevents((aio_context_t)(uintptr_t)fake, 0, 1, ev,
				   &ts),
		  EINVAL);
	CHECK_ERR(sys_io_submit((aio_context_t)(uintptr_t)fake, 0, NULL),
		  EINVAL);
	/* and the real one is still there */
	CHECK_RET(sys_io_getevents(ctx, 0, 1, ev, &ts), 0);
out:
	if (ctx)
		sys_io_destroy(ctx);
	free(fake);
	return ret;
}
CONFORM_TEST(test_ctx_id_is_the_ring, "setup.ctx_id_is_the_ring", 0)

/*
 * io_setup(nr) promises nr requests in flight, whichever CPUs submit them.
 * The kernel hands ring slots to each CPU in batches; it makes the ring
 * twice as big as asked so that slots cached on one CPU cannot starve
 * another.  nr = 125 fills exactly one page of ring when not doubled.
 */
#define SPREAD_NR 125

static int test_nr_in_flight_from_every_cpu(struct tctx *t)
{
	static struct iocb cb[SPREAD_NR];
	int ret = T_PASS, p[2] = { -1, -1 }, cpus[2], n = 0, i;
	cpu_set_t allowed, one;
	aio_context_t ctx = 0;
	struct iocb *cbs[1];

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return t_fail(t, __FILE__, __LINE__, "sched_getaffinity: %s",
			      errno_name(errno));
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &allowed))
			cpus[n++] = i;
	if (n < 2)
		SKIP("needs two CPUs to submit from (%d allowed)", n);
	if (t_setup(t, SPREAD_NR, &ctx))
		return T_FAIL;
	CHECK_FDS(!pipe2(p, O_CLOEXEC), "pipe: %s", errno_name(errno));
	for (i = 0; i < SPREAD_NR; i++) {
		CPU_ZERO(&one);
		CPU_SET(cpus[i % 2], &one);
		CHECK(!sched_setaffinity(0, sizeof(one), &one),
		      "sched_setaffinity(CPU %d): %s", cpus[i % 2],
		      errno_name(errno));
		/* polls that wait: nothing completes, every slot stays taken */
		prep_poll(&cb[i], p[0], POLLIN);
		cbs[0] = &cb[i];
		errno = 0;
		if (sys_io_submit(ctx, 1, cbs) != 1)
			FAIL("iocb %d of io_setup(%d), from CPU %d: %s", i + 1,
			     SPREAD_NR, cpus[i % 2], errno_name(errno));
	}
out:
	sched_setaffinity(0, sizeof(allowed), &allowed);
	if (ctx)
		sys_io_destroy(ctx);
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(test_nr_in_flight_from_every_cpu,
	     "setup.nr_in_flight_from_every_cpu", 0)

static int test_ring_never_overwritten(struct tctx *t)
{
	struct timespec zero = { 0, 0 };
	struct io_event *ev = NULL;
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, zfd = -1, round, limit, cpu = -1;
	long outstanding = 0, half, r;
	cpu_set_t allowed, one;
	aio_context_t ctx = 0;
	char buf[64];

	/*
	 * On one CPU: ring slots go to each CPU in batches, and slots left
	 * on another CPU would keep the ring from filling up.
	 */
	CHECK(!sched_getaffinity(0, sizeof(allowed), &allowed),
	      "sched_getaffinity: %s", errno_name(errno));
	cpu = sched_getcpu();
	CHECK(cpu >= 0, "sched_getcpu: %s", errno_name(errno));
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK(!sched_setaffinity(0, sizeof(one), &one),
	      "sched_setaffinity(CPU %d): %s", cpu, errno_name(errno));
	if (t_setup(t, 1, &ctx))
		return T_FAIL;
	limit = 4 * (int)aio_ring_of(ctx)->nr;
	ev = calloc((size_t)limit, sizeof(*ev));
	CHECK(ev, "out of memory");
	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK_FDS(zfd >= 0, "open /dev/zero: %s", errno_name(errno));
	for (round = 0; round < 8; round++) {
		/* reads of /dev/zero complete in io_submit: into the ring */
		for (;;) {
			prep_rw(&cb, IOCB_CMD_PREAD, zfd, buf, sizeof(buf), 0);
			errno = 0;
			if (sys_io_submit(ctx, 1, cbs) != 1)
				break;
			outstanding++;
			CHECK(outstanding < limit,
			      "%ld events unreaped in a ring of %u and no EAGAIN",
			      outstanding, aio_ring_of(ctx)->nr);
		}
		CHECK(errno == EAGAIN, "io_submit: expected EAGAIN, got %s",
		      errno_name(errno));
		half = (outstanding + 1) / 2;
		r = sys_io_getevents(ctx, half, half, ev, &zero);
		CHECK(r == half,
		      "round %d: reaped %ld of the %ld accepted (ring of %u): %s",
		      round, r, outstanding, aio_ring_of(ctx)->nr,
		      r < 0 ? errno_name(errno) : "events lost");
		outstanding -= half;
	}
	r = sys_io_getevents(ctx, 0, limit, ev, &zero);
	CHECK(r == outstanding, "reaped %ld of the %ld left", r, outstanding);
out:
	if (cpu >= 0)
		sched_setaffinity(0, sizeof(allowed), &allowed);
	if (zfd >= 0)
		close(zfd);
	if (ctx)
		sys_io_destroy(ctx);
	free(ev);
	return ret;
}
CONFORM_TEST(test_ring_never_overwritten, "submit.ring_never_overwritten", 0)

struct waker {
	pid_t tid; /* the thread that reads the eventfd */
	int wfd; /* the pipe's write end */
};

/* Whether thread tid of this process is asleep (state S). */
static bool asleep(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

/* Write the pipe once the reader sleeps: its wake-up is the eventfd's. */
static void *wake_when_asleep(void *arg)
{
	struct waker *w = arg;

	while (!asleep(w->tid))
		usleep(1000);
	if (write(w->wfd, "x", 1) != 1)
		return (void *)1;
	return NULL;
}

static int test_resfd_wakes_reader(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 }, efd = -1;
	struct iocb cb, *cbs[1] = { &cb };
	aio_context_t ctx = 0;
	uint64_t count = 0;
	struct io_event ev;
	struct waker w;
	pthread_t th;
	bool joined = true;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	efd = eventfd(0, EFD_CLOEXEC); /* blocking reads */
	CHECK_FDS(efd >= 0, "eventfd: %s", errno_name(errno));
	CHECK_FDS(!pipe2(p, O_CLOEXEC), "pipe: %s", errno_name(errno));
	prep_poll(&cb, p[0], POLLIN);
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (uint32_t)efd;
	CHECK_RET(sys_io_submit(ctx, 1, cbs), 1);
	w.tid = (pid_t)syscall(SYS_gettid);
	w.wfd = p[1];
	CHECK(!pthread_create(&th, NULL, wake_when_asleep, &w),
	      "pthread_create");
	joined = false;
	CHECK(read(efd, &count, sizeof(count)) == sizeof(count),
	      "read eventfd: %s", errno_name(errno));
	CHECK(count == 1, "eventfd count %llu, expected 1",
	      (unsigned long long)count);
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
	CHECK(ev.res & POLLIN, "poll res 0x%llx", (unsigned long long)ev.res);
out:
	if (!joined)
		pthread_join(th, NULL);
	if (ctx)
		sys_io_destroy(ctx);
	if (efd >= 0)
		close(efd);
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(test_resfd_wakes_reader, "notify.resfd_wakes_a_blocked_reader", 0)

static int test_bdev_misaligned(struct tctx *t)
{
	struct iocb cb;
	aio_context_t ctx = 0;
	int ret = T_PASS, fd = -1, lbs = 0;
	char *buf = NULL;
	struct stat st;
	long r;

	if (!is_root())
		SKIP("opening a block device needs root");
	CHECK(!stat(".", &st), "stat: %s", errno_name(errno));
	if (!major(st.st_dev))
		SKIP("%s is not on a block device of its own",
		     t->var ? t->var->name : "the directory");
	CHECK(!mknod("bdev", S_IFBLK | 0600, st.st_dev), "mknod %u:%u: %s",
	      major(st.st_dev), minor(st.st_dev), errno_name(errno));
	fd = open("bdev", O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		SKIP("the block device %u:%u does not open here (nodev, or a "
		     "policy): %s",
		     major(st.st_dev), minor(st.st_dev), errno_name(errno));
	CHECK_FDS(fd >= 0, "open the block device %u:%u: %s", major(st.st_dev),
		  minor(st.st_dev), errno_name(errno));
	CHECK(!ioctl(fd, BLKSSZGET, &lbs) && lbs > 0, "BLKSSZGET: %s",
	      errno_name(errno));
	buf = t_alloc(8192);
	CHECK(buf, "out of memory");
	if (t_setup(t, 4, &ctx))
		return T_FAIL;
	prep_rw(&cb, IOCB_CMD_PREAD, fd, buf, (size_t)lbs, 0);
	CHECK_RET(t_result(ctx, &cb), lbs);
	prep_rw(&cb, IOCB_CMD_PREAD, fd, buf, (size_t)lbs, 1);
	r = t_result(ctx, &cb);
	CHECK(r == -EINVAL,
	      "read of %d at offset 1: expected EINVAL, got %ld%s%s", lbs, r,
	      r < 0 ? " " : "", r < 0 ? errno_name((int)-r) : "");
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (fd >= 0)
		close(fd);
	unlink("bdev");
	free(buf);
	return ret;
}
CONFORM_TEST(test_bdev_misaligned, "data.bdev_direct_misaligned", T_FILE)

static int test_poll_hup_unasked(struct tctx *t)
{
	int ret = T_PASS, p[2] = { -1, -1 };
	aio_context_t ctx = 0;
	struct io_event ev;
	struct iocb cb;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	ret = t_pipe_poll(t, ctx, p, &cb); /* POLLIN only */
	if (ret)
		goto out;
	close(p[1]);
	p[1] = -1;
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
	CHECK(ev.res & POLLHUP, "poll res 0x%llx: no POLLHUP",
	      (unsigned long long)ev.res);
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return ret;
}
CONFORM_TEST(test_poll_hup_unasked, "notify.poll_hup_unasked", 0)

static int test_timeout_is_waited(struct tctx *t)
{
	const long wait_ns = 200000000;
	struct timespec ts = { 0, wait_ns };
	int ret = T_PASS, p[2] = { -1, -1 };
	aio_context_t ctx = 0;
	struct io_event ev;
	struct iocb cb;
	uint64_t start, took;

	if (t_setup(t, 8, &ctx))
		return T_FAIL;
	ret = t_pipe_poll(t, ctx, p, &cb); /* in flight, never completes */
	if (ret)
		goto out;
	start = now_ns();
	CHECK_RET(sys_io_getevents(ctx, 1, 1, &ev, &ts), 0);
	took = now_ns() - start;
	CHECK(took >= (uint64_t)wait_ns,
	      "io_getevents with a timeout of %ld ms returned after %llu ms",
	      wait_ns / 1000000, (unsigned long long)(took / 1000000));
out:
	if (ctx)
		sys_io_destroy(ctx);
	t_close_pipe(p);
	return ret;
}
CONFORM_TEST(test_timeout_is_waited, "reap.timeout_is_waited", 0)

static int test_user_reap_returns_slots(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS, zfd = -1, n = 0, limit;
	struct aio_ring_hdr *ring;
	aio_context_t ctx = 0;
	unsigned int tail, in_ring;
	struct io_event ev;
	char buf[64];

	if (t_setup(t, 1, &ctx))
		return T_FAIL;
	ring = aio_ring_of(ctx);
	limit = 4 * (int)ring->nr;
	zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK_FDS(zfd >= 0, "open /dev/zero: %s", errno_name(errno));
	/* reads of /dev/zero complete in io_submit: the ring fills up */
	for (;;) {
		prep_rw(&cb, IOCB_CMD_PREAD, zfd, buf, sizeof(buf), 0);
		errno = 0;
		if (sys_io_submit(ctx, 1, cbs) != 1)
			break;
		CHECK(++n < limit, "%d events in a ring of %u and no EAGAIN", n,
		      ring->nr);
	}
	CHECK(errno == EAGAIN, "io_submit: expected EAGAIN, got %s",
	      errno_name(errno));
	/* every event reaped in user space: head moves to tail */
	tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
	in_ring = (tail + ring->nr - ring->head) % ring->nr;
	CHECK(in_ring == (unsigned int)n, "%u events in the ring, %d submitted",
	      in_ring, n);
	__atomic_store_n(&ring->head, tail, __ATOMIC_RELEASE);
	prep_rw(&cb, IOCB_CMD_PREAD, zfd, buf, sizeof(buf), 0);
	errno = 0;
	CHECK(sys_io_submit(ctx, 1, cbs) == 1,
	      "io_submit after %d events were reaped from the ring: %s", n,
	      errno_name(errno));
	CHECK_RET(t_reap(ctx, 1, &ev), 1);
	CHECK_RES(ev, sizeof(buf));
out:
	if (zfd >= 0)
		close(zfd);
	if (ctx)
		sys_io_destroy(ctx);
	return ret;
}
CONFORM_TEST(test_user_reap_returns_slots, "ring.user_reap_returns_slots", 0)

/*
 * The eventfd of an iocb (IOCB_FLAG_RESFD) says that its event is in the
 * ring.  A poll on that eventfd, waiting in the same context, completes
 * only once the eventfd counts: so after the event, and the ring, which
 * keeps the order of completion, holds the read's event first and the
 * poll's second.  An order that does not depend on timing: a kernel that
 * signals the eventfd before it writes the event completes the poll inside
 * that signal (the eventfd's wake-up carries POLLIN, and nothing else holds
 * the context's lock), and the poll's event comes first.  The precondition,
 * checked every round: the poll is in flight, the ring empty, when the
 * read is submitted.
 */
#define ORDER_ROUNDS 16

static int test_resfd_after_its_event(struct tctx *t)
{
	enum { POLL_DATA = 1, READ_DATA = 2 };
	struct timespec zero = { 0, 0 };
	struct iocb pcb, rcb, *cbs[1];
	struct io_event ev[2];
	int ret = T_PASS, round;
	uint64_t count = 0;
	char buf[64];

	for (round = 0; round < ORDER_ROUNDS; round++) {
		prep_poll(&pcb, t->efd, POLLIN);
		pcb.aio_data = POLL_DATA;
		cbs[0] = &pcb;
		CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
		CHECK(sys_io_getevents(t->ctx, 0, 2, ev, &zero) == 0,
		      "round %d: the poll on an eventfd that counts nothing "
		      "completed at once",
		      round);
		prep_rw(&rcb, IOCB_CMD_PREAD, t->zfd, buf, sizeof(buf), 0);
		rcb.aio_flags = IOCB_FLAG_RESFD;
		rcb.aio_resfd = (uint32_t)t->efd;
		rcb.aio_data = READ_DATA;
		cbs[0] = &rcb;
		CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
		CHECK_RET(t_reap(t->ctx, 2, ev), 2);
		CHECK(ev[0].data == READ_DATA && ev[1].data == POLL_DATA,
		      "round %d: the poll on the read's eventfd completed "
		      "before the read's event was in the ring (ring order: "
		      "%s, %s)",
		      round, ev[0].data == POLL_DATA ? "poll" : "read",
		      ev[1].data == POLL_DATA ? "poll" : "read");
		CHECK_RES(ev[0], sizeof(buf));
		CHECK(ev[1].res & POLLIN, "round %d: poll res 0x%llx", round,
		      (unsigned long long)ev[1].res);
		CHECK(read(t->efd, &count, sizeof(count)) == sizeof(count) &&
			      count == 1,
		      "round %d: eventfd count %llu, expected 1", round,
		      (unsigned long long)count);
	}
out:
	return ret;
}
CONFORM_TEST(test_resfd_after_its_event,
	     "notify.resfd_signalled_after_its_event", 0, .ctx = 8,
	     .dev_zero = true, .eventfd = T_EFD_NONBLOCK, .aio_poll = true)
