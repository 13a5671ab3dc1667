/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the smaller cases of libaio's harness that no other group
 * covers, each written here from its mechanism.
 *
 *  - ring.mremap_with_pending (19.t): the ring moved with mremap while
 *    completions wait in it and a poll is in flight; the events are read
 *    at the new address, the poll's completion lands there, and after
 *    io_destroy the moved ring is unmapped.
 *  - notify.eventfd_then_zero_timeout (16.t): with reads or writes still
 *    in flight at io_submit's return, the moment the eventfd counts a
 *    completion its event is reapable with a zero timeout.
 *  - data.mmap_shared_same_file (5.t): reads into and writes from a buffer
 *    mapped MAP_SHARED from the same file, the same page and another one,
 *    faulted in or not.
 *  - data.huge_single_io (6.t): one 768 MiB write and one 768 MiB read in
 *    a single iocb each, verified (32 MiB unless --long: 768 MiB costs
 *    about 12 s over the five variants here); smaller where the variant
 *    has less room (said in a diagnostic), a skip where even 16 MiB does
 *    not fit.
 *  - data.s_maxbytes_boundary (8.t): at the filesystem's largest file
 *    size, found as libaio finds it (pwrite bisection): a write ending at
 *    it is whole, one crossing it is short, one at it is EFBIG, a read at
 *    it is 0, a zero-byte write at it is 0.
 *  - setup.error_precedence (2.t), submit., reap., cancel.: which error
 *    wins when two arguments are bad.
 *  - flags.nowait_cached_read_succeeds: a buffered RWF_NOWAIT read of data
 *    that is all in the page cache (proved with mincore) returns it: NOWAIT
 *    may say EAGAIN only where it would have to wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clock.h"
#include "peers.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x8
#endif

/* The ring's mapping: its length, from the header (it fills its pages). */
static size_t ring_len(aio_context_t ctx)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = sizeof(struct aio_ring_hdr) +
		     aio_ring_of(ctx)->nr * sizeof(struct io_event);

	return (len + page - 1) & ~(page - 1);
}

/* Move the ring to a fresh address: the new handle, or 0 with errno. */
static aio_context_t ring_move(aio_context_t ctx)
{
	size_t len = ring_len(ctx);
	void *dst, *p;

	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return 0;
	p = mremap((void *)(uintptr_t)ctx, len, len,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(dst, len);
		errno = e;
		return 0;
	}
	return (aio_context_t)(uintptr_t)p;
}

/* Take n events from the ring in user space, checking their iocbs. */
static int ring_take(aio_context_t ctx, struct iocb *cb, int n, char *why,
		     size_t len)
{
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	unsigned int head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	int i, k;

	for (i = 0; i < n; i++) {
		struct io_event e = r->io_events[head];

		for (k = 0; k < n; k++)
			if (e.obj == (uint64_t)(uintptr_t)&cb[k])
				break;
		if (k == n || e.data != (uint64_t)k || e.res != 16) {
			snprintf(why, len,
				 "event %d at the new address: obj 0x%llx data "
				 "%llu res %lld",
				 i, (unsigned long long)e.obj,
				 (unsigned long long)e.data, (long long)e.res);
			return -1;
		}
		head = (head + 1) % r->nr;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return 0;
}

/* Whether a mapping starts at addr in /proc/self/maps. */
static bool mapped_at(aio_context_t addr)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strtoull(line, NULL, 16) == addr)
			found = true;
	fclose(f);
	return found;
}

static int test_mremap_pending(struct tctx *t)
{
	struct iocb cb[3], poll_cb, *cbs[3];
	aio_context_t old = t->ctx, moved;
	struct io_event ev;
	static char buf[3][16];
	char why[256];
	int ret = T_PASS, i;

	for (i = 0; i < 2; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, t->zfd, buf[i], 16, 0);
		cb[i].aio_data = (uint64_t)i;
		cbs[i] = &cb[i];
	}
	CHECK_RET(sys_io_submit(old, 2, cbs), 2);
	CHECK(ring_pending(old) == 2,
	      "%u events in the ring after two reads of /dev/zero, not 2",
	      ring_pending(old));
	CHECK_RET(t_submit_poll(t, &poll_cb), 1);
	moved = ring_move(old);
	if (!moved && (errno == EINVAL || errno == EFAULT))
		SKIP("the ring cannot be moved on this kernel (mremap: %s)",
		     errno_name(errno));
	CHECK(moved, "mremap: %s", errno_name(errno));
	/* The context is the new address now (the harness destroys it). */
	t->ctx = moved;
	CHECK(aio_ring_of(moved)->magic == AIO_RING_MAGIC,
	      "no ring header at the new address");
	CHECK(ring_pending(moved) == 2,
	      "%u completions pending at the new address, not 2",
	      ring_pending(moved));
	CHECK(!ring_take(moved, cb, 2, why, sizeof(why)), "%s", why);
	CHECK_ERR(sys_io_getevents(old, 0, 1, &ev, NULL), EINVAL);
	/* The poll submitted before the move completes into the new ring. */
	CHECK(write(t->pipe[1], "x", 1) == 1, "write pipe");
	CHECK_RET(t_reap(moved, 1, &ev), 1);
	CHECK(ev.obj == (uint64_t)(uintptr_t)&poll_cb && (ev.res & POLLIN),
	      "poll event obj 0x%llx res 0x%llx", (unsigned long long)ev.obj,
	      (unsigned long long)ev.res);
	/* Once more, a completion pending, from the moved ring. */
	prep_rw(&cb[0], IOCB_CMD_PREAD, t->zfd, buf[2], 16, 0);
	cb[0].aio_data = 0;
	CHECK_RET(sys_io_submit(moved, 1, cbs), 1);
	old = moved;
	moved = ring_move(old);
	CHECK(moved, "second mremap: %s", errno_name(errno));
	t->ctx = moved;
	CHECK(!ring_take(moved, cb, 1, why, sizeof(why)), "%s", why);
	/* io_destroy unmaps the ring where it is now, not where it was. */
	t->ctx = 0;
	CHECK_RET(sys_io_destroy(moved), 0);
	CHECK(!mapped_at(moved),
	      "the moved ring is still mapped at 0x%llx after io_destroy",
	      (unsigned long long)moved);
out:
	return ret;
}
CONFORM_TEST(test_mremap_pending, "ring.mremap_with_pending", 0, .ctx = 1,
	     .dev_zero = true, .pipe = true, .aio_poll = true)

#define EF_IOSIZE (64 << 10)
#define EF_BLOCKS 64
#define EF_BATCH 4
#define EF_SEED 43

/*
 * Wait for the eventfd's count: spin on the non-blocking descriptor first
 * (the least delay between its signal and the reap), then poll in slices,
 * for as long as the watchdog lets the test run.  The count, or -errno.
 */
static long eventfd_wait(uint64_t end, int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t count;
	int spin;

	for (spin = 0;; spin++) {
		if (read(efd, &count, sizeof(count)) == sizeof(count))
			return (long)count;
		if (errno != EAGAIN)
			return -errno;
		if (spin < 100000)
			continue;
		if (now_ns() > end)
			return -ETIMEDOUT;
		poll(&pfd, 1, 1000);
	}
}

/*
 * One round: EF_BATCH reads or writes at once, each counted by the
 * eventfd.  Whenever the eventfd's count has grown, io_getevents with a
 * zero timeout returns at least the completions it counted and were not
 * reaped yet.  Several completions at once contend for the ring's lock:
 * the time between a signal sent too early and the event's store grows.
 */
static int eventfd_round(struct tctx *t, unsigned int r, uint64_t end,
			 bool *late)
{
	struct io_event ev[EF_BATCH];
	struct iocb cb[EF_BATCH], *cbs[EF_BATCH];
	struct timespec zero = { 0, 0 };
	unsigned int signalled = 0, reaped = 0, k;
	bool wr = r % 2 == 1;
	int ret = T_PASS, n;
	uint64_t count;
	long c, bad;

	for (k = 0; k < EF_BATCH; k++) {
		uint64_t off =
			(uint64_t)((r * EF_BATCH + k) % EF_BLOCKS) * EF_IOSIZE;
		char *buf = t->buf + (size_t)k * EF_IOSIZE;

		/* Writes put back what is there: reads always check it. */
		if (wr)
			pat_fill(buf, EF_IOSIZE, off, EF_SEED);
		else
			memset(buf, 0, EF_IOSIZE);
		prep_rw(&cb[k], wr ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD, t->fd,
			buf, EF_IOSIZE, (int64_t)off);
		cb[k].aio_flags = IOCB_FLAG_RESFD;
		cb[k].aio_resfd = (uint32_t)t->efd;
		cb[k].aio_data = off;
		cbs[k] = &cb[k];
	}
	CHECK_RET(sys_io_submit(t->ctx, EF_BATCH, cbs), EF_BATCH);
	if (read(t->efd, &count, sizeof(count)) == sizeof(count))
		signalled = (unsigned int)count;
	else
		CHECK(errno == EAGAIN, "read the eventfd: %s",
		      errno_name(errno));
	*late = signalled < EF_BATCH;
	while (reaped < EF_BATCH || signalled < EF_BATCH) {
		if (signalled > reaped) {
			n = sys_io_getevents(t->ctx, 0, EF_BATCH - reaped,
					     ev + reaped, &zero);
			CHECK(n >= 0 && (unsigned int)n >= signalled - reaped,
			      "round %u: the eventfd had counted %u %s "
			      "completions, %u of them reaped, but io_getevents "
			      "with a zero timeout returned %d %s: signalled "
			      "before the event was in the ring",
			      r, signalled, wr ? "write" : "read", reaped, n,
			      n < 0 ? errno_name(errno) : "events");
			reaped += (unsigned int)n;
			continue;
		}
		c = eventfd_wait(end, t->efd);
		CHECK(c > 0, "round %u: waiting for the eventfd: %s", r,
		      c ? errno_name((int)-c) : "count 0");
		signalled += (unsigned int)c;
		CHECK(signalled <= EF_BATCH,
		      "round %u: the eventfd counted %u completions of %d", r,
		      signalled, EF_BATCH);
	}
	for (k = 0; k < EF_BATCH; k++) {
		const struct iocb *done =
			(const struct iocb *)(uintptr_t)ev[k].obj;

		CHECK(done >= cb && done < cb + EF_BATCH,
		      "round %u: event of an unknown iocb", r);
		CHECK_RES(ev[k], EF_IOSIZE);
		if (wr)
			continue;
		bad = pat_check((const char *)(uintptr_t)done->aio_buf,
				EF_IOSIZE, ev[k].data, EF_SEED);
		CHECK(bad < 0, "round %u: read at %llu wrong at byte %ld", r,
		      (unsigned long long)ev[k].data, bad);
	}
out:
	return ret;
}

static int test_eventfd_zero_timeout(struct tctx *t)
{
	unsigned int rounds = t_scaled(32, 1000), r, inflight = 0;
	uint64_t end = t_watchdog_end(t);
	int ret = T_PASS;
	bool late;

	for (r = 0; r < rounds; r++) {
		ret = eventfd_round(t, r, end, &late);
		if (ret != T_PASS)
			goto out;
		inflight += late;
	}
	t_diag(t,
	       "%u of %u batches of %d reads or writes not all complete when "
	       "io_submit returned",
	       inflight, rounds, EF_BATCH);
	if (!inflight)
		SKIP("every read and write had completed when io_submit "
		     "returned (%u batches) on %s: the eventfd never fired "
		     "later",
		     rounds, t->var ? t->var->fstype : "this filesystem");
out:
	return ret;
}
CONFORM_TEST(test_eventfd_zero_timeout, "notify.eventfd_then_zero_timeout",
	     T_FILE, .ctx = 8, .buf = EF_BATCH * EF_IOSIZE,
	     .eventfd = T_EFD_NONBLOCK,
	     .file = T_PATTERN_FILE("data", EF_BLOCKS *EF_IOSIZE, EF_SEED,
				    O_RDWR, .direct = T_DIRECT_IF_OK,
				    .cold = true))

#define MS_SEED 47

static long rw_at(aio_context_t ctx, int fd, int op, void *buf, size_t len,
		  int64_t off)
{
	struct iocb cb;

	prep_rw(&cb, op, fd, buf, len, off);
	return t_result(ctx, &cb);
}

/* A page of fd, mapped shared, not yet faulted in. */
static char *map_page(int fd, long page, long at)
{
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, at);

	return p == MAP_FAILED ? NULL : p;
}

static int test_mmap_shared(struct tctx *t)
{
	long page = sysconf(_SC_PAGESIZE), r, bad;
	char *map = NULL, *buf = t->buf;
	int ret = T_PASS, fd = -1, j, k;

	/*
	 * 5.t: a file of 512 bytes, its page mapped as the buffer: written
	 * from and read into, then, mapped afresh (not faulted in), the
	 * other way round.
	 */
	fd = t_open(t, "small", O_RDWR | O_CREAT | O_TRUNC);
	CHECK(fd >= 0, "create: %s", errno_name(-fd));
	pat_fill(buf, 512, 0, MS_SEED);
	CHECK(pwrite(fd, buf, 512, 0) == 512, "pwrite: %s", errno_name(errno));
	for (k = 0; k < 2; k++) {
		map = map_page(fd, page, 0);
		CHECK(map, "mmap: %s", errno_name(errno));
		for (j = 0; j < 2; j++) {
			bool rd = j != k;

			r = rw_at(t->ctx, fd,
				  rd ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE, map,
				  512, 0);
			CHECK(r == 512, "%s the file's own page%s: %ld",
			      rd ? "read into" : "write from",
			      k ? " (not faulted in)" : "", r);
		}
		munmap(map, (size_t)page);
		map = NULL;
		CHECK(pread(fd, buf, 512, 0) == 512, "pread: %s",
		      errno_name(errno));
		CHECK(pat_check(buf, 512, 0, MS_SEED) < 0,
		      "the file's data changed");
	}
	/* Page 0 of the fixture's file, written to page 2 of it. */
	map = map_page(t->fd, page, 0);
	CHECK(map, "mmap: %s", errno_name(errno));
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PWRITE, map, (size_t)page, 2 * page);
	CHECK(r == page, "write from page 0 to page 2: %ld", r);
	CHECK(pread(t->fd, buf, (size_t)page, 2 * page) == page, "pread");
	bad = pat_check(buf, (size_t)page, 0, MS_SEED);
	CHECK(bad < 0, "page 2 is not page 0's data at byte %ld", bad);
	munmap(map, (size_t)page);
	/* Page 1 read into page 0, mapped and not faulted in. */
	map = map_page(t->fd, page, 0);
	CHECK(map, "mmap: %s", errno_name(errno));
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PREAD, map, (size_t)page, page);
	CHECK(r == page, "read page 1 into page 0: %ld", r);
	bad = pat_check(map, (size_t)page, (uint64_t)page, MS_SEED);
	CHECK(bad < 0, "the mapping is not page 1's data at byte %ld", bad);
	CHECK(pread(t->fd, buf, (size_t)page, 0) == page, "pread");
	bad = pat_check(buf, (size_t)page, (uint64_t)page, MS_SEED);
	CHECK(bad < 0, "page 0 is not page 1's data at byte %ld", bad);
out:
	if (map)
		munmap(map, (size_t)page);
	if (fd >= 0)
		close(fd);
	return ret;
}
CONFORM_TEST(test_mmap_shared, "data.mmap_shared_same_file", T_FILE, .ctx = 4,
	     .buf = 65536,
	     .file = T_PATTERN_FILE("rw", 3 * 65536, MS_SEED, O_RDWR))

/* 6.t's 768 MiB with --long; by default 32 MiB. */
#define HUGE_MIB_DEFAULT 32
#define HUGE_MIB_FULL 768
#define HUGE_MIN (16ul << 20)
#define HUGE_SLACK (32ul << 20)
#define HUGE_SEED 53

/* MemAvailable in bytes, or 0. */
static unsigned long mem_available(void)
{
	char line[256];
	unsigned long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "MemAvailable:", 13))
			kb = strtoul(line + 13, NULL, 10);
	fclose(f);
	return kb * 1024;
}

/*
 * A pattern cheap enough for hundreds of MiB: every 8-byte word carries a
 * hash of its own offset, so a page read from or written to the wrong
 * place never matches.
 */
static uint64_t huge_word(uint64_t off)
{
	uint64_t x = (off + HUGE_SEED) * 0x9e3779b97f4a7c15ull;

	return x ^ (x >> 29);
}

static void huge_fill(void *buf, size_t len)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = huge_word(i * 8);
}

/* The offset of the first wrong word, or -1. */
static long huge_check(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != huge_word(i * 8))
			return (long)(i * 8);
	return -1;
}

/* One iocb, reaped within the watchdog's limit: res, or -errno. */
static long one_io(struct tctx *t, uint64_t end, int op, int fd, void *buf,
		   size_t len, int64_t off)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	int r;

	prep_rw(&cb, op, fd, buf, len, off);
	if (sys_io_submit(t->ctx, 1, cbs) != 1)
		return -errno;
	do {
		struct timespec ts = { 1, 0 };

		r = sys_io_getevents(t->ctx, 1, 1, &ev, &ts);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 1)
			return (long)ev.res;
	} while (now_ns() < end);
	return -ETIMEDOUT;
}

static int test_huge(struct tctx *t)
{
	unsigned long room, mem = mem_available(), want, size;
	uint64_t end = t_watchdog_end(t);
	const char *fs = t->var ? t->var->fstype : "this filesystem";
	char why[PATH_MAX + 64], *buf = NULL;
	int ret = T_PASS, fd = -1;
	struct statvfs sv;
	long r, bad;
	bool direct;

	want = t_scaled(HUGE_MIB_DEFAULT, HUGE_MIB_FULL);
	/* Beyond 768 MiB a single I/O nears MAX_RW_COUNT (2 GiB - 4 KiB). */
	want = (want > HUGE_MIB_FULL ? HUGE_MIB_FULL : want) << 20;
	size = want;
	CHECK(!statvfs(t->dir, &sv), "statvfs: %s", errno_name(errno));
	room = (unsigned long)sv.f_bavail * sv.f_frsize;
	if (room < size + HUGE_SLACK)
		size = room > HUGE_SLACK ? room - HUGE_SLACK : 0;
	/* The buffer and the page cache's copy. */
	if (mem < 2 * size + (256ul << 20))
		size = mem > (256ul << 20) ? (mem - (256ul << 20)) / 2 : 0;
	size &= ~((1ul << 20) - 1);
	if (size < HUGE_MIN)
		SKIP("a single I/O of at least %lu MiB does not fit: %lu MiB "
		     "free on %s, %lu MiB of memory available",
		     HUGE_MIN >> 20, room >> 20, fs, mem >> 20);
	if (size < want)
		t_diag(t,
		       "%lu MiB does not fit (%lu MiB free on %s, %lu MiB of "
		       "memory available): a single I/O of %lu MiB",
		       want >> 20, room >> 20, fs, mem >> 20, size >> 20);
	direct = t_odirect_ok(t, why, sizeof(why));
	fd = t_open(t, "huge",
		    O_RDWR | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0));
	CHECK(fd >= 0, "create: %s", errno_name(-fd));
	buf = t_alloc(size);
	CHECK(buf, "out of memory for %lu MiB", size >> 20);
	huge_fill(buf, size);
	r = one_io(t, end, IOCB_CMD_PWRITE, fd, buf, size, 0);
	CHECK(r == (long)size, "write of %lu bytes%s: %ld%s%s", size,
	      direct ? " (O_DIRECT)" : "", r, r < 0 ? " " : "",
	      r < 0 ? errno_name((int)-r) : "");
	memset(buf, 0, size);
	r = one_io(t, end, IOCB_CMD_PREAD, fd, buf, size, 0);
	CHECK(r == (long)size, "read of %lu bytes%s: %ld%s%s", size,
	      direct ? " (O_DIRECT)" : "", r, r < 0 ? " " : "",
	      r < 0 ? errno_name((int)-r) : "");
	bad = huge_check(buf, size);
	CHECK(bad < 0, "read wrong at byte %ld of %lu", bad, size);
out:
	if (fd >= 0) {
		/* Give the space and the page cache back at once. */
		if (ftruncate(fd, 0))
			t_diag(t, "ftruncate: %s", errno_name(errno));
		close(fd);
	}
	free(buf);
	return ret;
}
CONFORM_TEST(test_huge, "data.huge_single_io", T_FILE, .ctx = 1)

#define MB_SIZE 512
#define MB_SEED 59

/*
 * The smallest offset where a one-byte write fails, found by bisection
 * as libaio's 8.t does, and that write's errno.  LLONG_MAX when none
 * below it does.
 */
static int64_t fs_limit(int fd, int *err)
{
	int64_t lo = 0, hi = LLONG_MAX, mid;
	char c = 0;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (pwrite(fd, &c, 1, mid) == 1) {
			lo = mid;
			if (ftruncate(fd, 0))
				break;
		} else {
			hi = mid;
		}
	}
	*err = 0;
	if (hi < LLONG_MAX && pwrite(fd, &c, 1, hi) != 1)
		*err = errno;
	if (ftruncate(fd, 0))
		*err = errno;
	return hi;
}

static int test_s_maxbytes(struct tctx *t)
{
	const char *fs = t->var ? t->var->fstype : "this filesystem";
	char buf[MB_SIZE];
	int64_t lim;
	int ret = T_PASS, err;
	long r;

	signal(SIGXFSZ, SIG_IGN);
	lim = fs_limit(t->fd, &err);
	if (lim == LLONG_MAX)
		SKIP("the largest file size on %s is the largest offset "
		     "(LLONG_MAX): no limit below the offset's overflow",
		     fs);
	if (err != EFBIG)
		SKIP("a write at %s's largest file size %lld fails with %s, "
		     "not EFBIG: not the file size limit",
		     fs, (long long)lim, err ? errno_name(err) : "nothing");
	t_diag(t, "largest file size on %s: %lld", fs, (long long)lim);
	/* Ending at the limit: whole; read back. */
	pat_fill(buf, MB_SIZE, 0, MB_SEED);
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PWRITE, buf, MB_SIZE, lim - MB_SIZE);
	CHECK(r == MB_SIZE, "write ending at the limit: expected %d, got %ld",
	      MB_SIZE, r);
	memset(buf, 0, MB_SIZE);
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PREAD, buf, MB_SIZE, lim - MB_SIZE);
	CHECK(r == MB_SIZE, "read ending at the limit: expected %d, got %ld",
	      MB_SIZE, r);
	CHECK(pat_check(buf, MB_SIZE, 0, MB_SEED) < 0,
	      "read ending at the limit: wrong data");
	/* Crossing it by one byte: short. */
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PWRITE, buf, MB_SIZE,
		  lim - MB_SIZE + 1);
	CHECK(r == MB_SIZE - 1,
	      "write crossing the limit: expected %d, got %ld", MB_SIZE - 1, r);
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PREAD, buf, MB_SIZE,
		  lim - MB_SIZE + 1);
	CHECK(r == MB_SIZE - 1, "read crossing the limit: expected %d, got %ld",
	      MB_SIZE - 1, r);
	/* At it. */
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PWRITE, buf, MB_SIZE, lim);
	CHECK(r == -EFBIG, "write at the limit: expected -EFBIG, got %ld", r);
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PREAD, buf, MB_SIZE, lim);
	CHECK(r == 0, "read at the limit: expected 0, got %ld", r);
	r = rw_at(t->ctx, t->fd, IOCB_CMD_PWRITE, buf, 0, lim);
	CHECK(r == 0, "zero bytes at the limit: expected 0, got %ld", r);
out:
	if (ftruncate(t->fd, 0))
		t_diag(t, "ftruncate: %s", errno_name(errno));
	return ret;
}
CONFORM_TEST(test_s_maxbytes, "data.s_maxbytes_boundary", T_FILE, .ctx = 4,
	     .file = { .name = "max", .oflags = O_RDWR })

/* 2.t: a bad ctxp is EFAULT whatever nr is: *ctxp is read first. */
static int test_setup_precedence(struct tctx *t)
{
	static const unsigned int bad_nr[] = { 0, (unsigned int)-1,
					       (unsigned int)-1000, 1000 };
	aio_context_t ctx = 0, *ro = NULL;
	int ret = T_PASS;
	size_t i;

	for (i = 0; i < sizeof(bad_nr) / sizeof(bad_nr[0]); i++) {
		errno = 0;
		CHECK(sys_io_setup(bad_nr[i], KERNEL_ADDR) == -1 &&
			      errno == EFAULT,
		      "io_setup(%d, kernel address): expected EFAULT, got %s",
		      (int)bad_nr[i], errno_name(errno));
		errno = 0;
		CHECK(sys_io_setup(bad_nr[i], NULL) == -1 && errno == EFAULT,
		      "io_setup(%d, NULL): expected EFAULT, got %s",
		      (int)bad_nr[i], errno_name(errno));
	}
	/* A good pointer: nr 0 and "negative" nr are EINVAL. */
	CHECK_ERR(sys_io_setup(0, &ctx), EINVAL);
	CHECK_ERR(sys_io_setup((unsigned int)-1000, &ctx), EINVAL);
	CHECK(ctx == 0, "*ctxp changed by a failed io_setup");
	/*
	 * A *ctxp that is not zero is EINVAL before the pointer is written:
	 * so even where it cannot be.
	 */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED, "mmap: %s", errno_name(errno));
	*ro = 1;
	CHECK(!mprotect(ro, 4096, PROT_READ), "mprotect: %s",
	      errno_name(errno));
	CHECK_ERR(sys_io_setup(1, ro), EINVAL);
	CHECK_ERR(sys_io_setup(0, ro), EINVAL);
out:
	if (ro && ro != MAP_FAILED)
		munmap(ro, 4096);
	return ret;
}
CONFORM_TEST(test_setup_precedence, "setup.error_precedence", 0)

/*
 * io_submit looks the context up before it reads the iocb pointers, and
 * checks an iocb's reserved field and sizes before its descriptor.
 */
static int test_submit_precedence(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	int ret = T_PASS;
	char buf[64];

	CHECK_ERR(sys_io_submit(0, 1, KERNEL_ADDR), EINVAL);
	CHECK_ERR(sys_io_submit(0, 1, NULL), EINVAL);
	CHECK_ERR(sys_io_submit(0, -1, NULL), EINVAL);
	prep_rw(&cb, IOCB_CMD_PREAD, -1, buf, sizeof(buf), 0);
	cb.aio_reserved2 = 1;
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EINVAL);
	prep_rw(&cb, IOCB_CMD_PREAD, -1, buf, sizeof(buf), 0);
	cb.aio_nbytes = (uint64_t)-1;
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EINVAL);
	/* Each alone: the reserved field, then the descriptor. */
	prep_rw(&cb, IOCB_CMD_PREAD, t->zfd, buf, sizeof(buf), 0);
	cb.aio_reserved2 = 1;
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EINVAL);
	prep_rw(&cb, IOCB_CMD_PREAD, -1, buf, sizeof(buf), 0);
	CHECK_ERR(sys_io_submit(t->ctx, 1, cbs), EBADF);
out:
	return ret;
}
CONFORM_TEST(test_submit_precedence, "submit.error_precedence", 0, .ctx = 4,
	     .dev_zero = true)

/*
 * io_getevents reads the timeout before it looks the context up (since
 * the 4.18 rework; earlier kernels answered EINVAL), and checks min_nr
 * and nr before it writes an event.
 */
static int test_reap_precedence(struct tctx *t)
{
	struct io_event ev;
	int ret = T_PASS;
	long r;

	errno = 0;
	r = sys_io_getevents(0, 0, 1, &ev, KERNEL_ADDR);
	if (r == -1 && errno == EINVAL)
		XFAIL("a bad context beat a bad timeout pointer (EINVAL, not "
		      "EFAULT): kernels before 4.18 look the context up "
		      "first");
	CHECK(r == -1 && errno == EFAULT,
	      "bad context and bad timeout: expected EFAULT, got %ld %s", r,
	      errno_name(errno));
	CHECK_ERR(sys_io_getevents(t->ctx, 2, 1, &ev, KERNEL_ADDR), EFAULT);
	CHECK_ERR(sys_io_getevents(t->ctx, 2, 1, KERNEL_ADDR, NULL), EINVAL);
	CHECK_ERR(sys_io_getevents(t->ctx, -1, 1, NULL, NULL), EINVAL);
	CHECK_ERR(sys_io_getevents(0, 2, 1, NULL, NULL), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_reap_precedence, "reap.error_precedence", 0, .ctx = 4)

/* io_cancel reads the iocb's key before it looks the context up. */
static int test_cancel_precedence(struct tctx *t)
{
	struct io_event ev;
	int ret = T_PASS;

	CHECK_ERR(sys_io_cancel(0, KERNEL_ADDR, &ev), EFAULT);
	CHECK_ERR(sys_io_cancel(0, NULL, &ev), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_cancel_precedence, "cancel.error_precedence", 0)

#define NW_BYTES (256 << 10)
#define NW_SEED 61

/* Pages of fd's first len bytes in the page cache, or -errno. */
static long resident_pages(int fd, size_t len, long *pages)
{
	long page = sysconf(_SC_PAGESIZE), n = 0, i;
	unsigned char vec[NW_BYTES / 512];
	void *map;

	*pages = (long)((len + (size_t)page - 1) / (size_t)page);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	if (mincore(map, len, vec)) {
		int e = errno;

		munmap(map, len);
		return -e;
	}
	munmap(map, len);
	for (i = 0; i < *pages; i++)
		n += vec[i] & 1;
	return n;
}

static int test_nowait_cached(struct tctx *t)
{
	const char *fs = t->var ? t->var->fstype : "this filesystem";
	long r, n, pages, bad;
	struct iocb cb;
	int ret = T_PASS;

	CHECK(pread(t->fd, t->buf, NW_BYTES, 0) == NW_BYTES, "pread: %s",
	      errno_name(errno));
	n = resident_pages(t->fd, NW_BYTES, &pages);
	CHECK(n >= 0, "mincore: %s", errno_name((int)-n));
	if (n < pages)
		SKIP("%ld of %ld pages of the file not in the page cache right "
		     "after reading them",
		     pages - n, pages);
	memset(t->buf, 0, NW_BYTES);
	prep_rw(&cb, IOCB_CMD_PREAD, t->fd, t->buf, NW_BYTES, 0);
	cb.aio_rw_flags = RWF_NOWAIT;
	r = t_result(t->ctx, &cb);
	if (r == -EOPNOTSUPP)
		SKIP("%s does not take RWF_NOWAIT for buffered reads "
		     "(EOPNOTSUPP)",
		     fs);
	if (r != NW_BYTES) {
		/* Evicted meanwhile?  Then nothing is proved. */
		n = resident_pages(t->fd, NW_BYTES, &pages);
		if (n >= 0 && n < pages)
			SKIP("pages left the page cache during the read (%ld "
			     "of %ld resident after it)",
			     n, pages);
	}
	CHECK(r == NW_BYTES,
	      "buffered RWF_NOWAIT read of %d bytes, all in the page cache: "
	      "expected %d, got %ld%s%s",
	      NW_BYTES, NW_BYTES, r, r < 0 ? " " : "",
	      r < 0 ? errno_name((int)-r) : "");
	bad = pat_check(t->buf, NW_BYTES, 0, NW_SEED);
	CHECK(bad < 0, "wrong data at byte %ld", bad);
out:
	return ret;
}
CONFORM_TEST(test_nowait_cached, "flags.nowait_cached_read_succeeds", T_FILE,
	     .ctx = 4, .buf = NW_BYTES,
	     .file = T_PATTERN_FILE("cached", NW_BYTES, NW_SEED, O_RDONLY))
