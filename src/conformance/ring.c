/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the user-mapped completion ring.  User space may consume
 * [head, tail) modulo nr and advance head itself; it then sees the same
 * events io_getevents would have returned, and the kernel does not return
 * them again.  Reaping wraps around the ring correctly.  After mremap of
 * the ring the context's handle is the new address (aio_ring_mremap) and
 * the old one is EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

/* Consume up to max events from the ring with acquire/release ordering. */
static int ring_reap(aio_context_t ctx, struct io_event *out, int max)
{
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	unsigned int head, tail;
	int n = 0;

	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	while (head != tail && n < max) {
		out[n++] = r->io_events[head];
		head = (head + 1) % r->nr;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}

static int zero_batch(aio_context_t ctx, int zfd, struct iocb *cb, char *buf,
		      int n, uint64_t tag)
{
	struct iocb *cbs[64];
	int i;

	for (i = 0; i < n; i++) {
		prep_rw(&cb[i], IOCB_CMD_PREAD, zfd, buf + i * 16, 16 + i, 0);
		cb[i].aio_data = tag + (uint64_t)i;
		cbs[i] = &cb[i];
	}
	return sys_io_submit(ctx, n, cbs);
}

static int cmp_ev(const void *a, const void *b)
{
	const struct io_event *x = a, *y = b;

	return x->data < y->data ? -1 : x->data > y->data;
}

/* Same submissions on two contexts: ring reaping equals the syscall. */
static int test_matches(struct tctx *t)
{
	struct io_event a[32], b[32];
	struct iocb ca[32], cb[32];
	aio_context_t x = t->ctx, y = t->ctx2;
	int ret = T_PASS, n, i;
	struct timespec ts = { 0, 0 };
	static char buf[32 * 64];

	CHECK_RET(zero_batch(x, t->zfd, ca, buf, 20, 100), 20);
	CHECK_RET(zero_batch(y, t->zfd, cb, buf, 20, 100), 20);
	n = ring_reap(x, a, 32);
	CHECK(n == 20, "ring held %d events, expected 20", n);
	CHECK_RET(sys_io_getevents(y, 20, 32, b, NULL), 20);
	qsort(a, 20, sizeof(a[0]), cmp_ev);
	qsort(b, 20, sizeof(b[0]), cmp_ev);
	for (i = 0; i < 20; i++) {
		CHECK(a[i].data == b[i].data && a[i].res == b[i].res &&
			      a[i].res2 == b[i].res2,
		      "event %d: ring (data %llu res %lld) != syscall (data "
		      "%llu res %lld)",
		      i, (unsigned long long)a[i].data, (long long)a[i].res,
		      (unsigned long long)b[i].data, (long long)b[i].res);
		CHECK(a[i].obj == (uint64_t)(uintptr_t)&ca[i],
		      "event %d: obj is not its iocb", i);
	}
	/* Consumed from user space: the kernel has nothing more. */
	CHECK_RET(sys_io_getevents(x, 0, 32, a, &ts), 0);
out:
	return ret;
}
CONFORM_TEST(test_matches, "ring.user_reap_matches_syscall", 0, .ctx = 32,
	     .ctx2 = 32, .dev_zero = true)

/* Half from the ring, half from io_getevents: each event exactly once. */
static int test_mixed(struct tctx *t)
{
	struct io_event ev[64];
	struct iocb cb[64];
	aio_context_t ctx = t->ctx;
	int ret = T_PASS, n, i, round;
	static char buf[64 * 128];
	bool seen[64];

	/* Enough rounds for head and tail to wrap several times. */
	for (round = 0; round < 40; round++) {
		memset(seen, 0, sizeof(seen));
		CHECK_RET(zero_batch(ctx, t->zfd, cb, buf, 12, 0), 12);
		n = ring_reap(ctx, ev, 5);
		CHECK(n == 5, "round %d: ring gave %d of 5", round, n);
		CHECK_RET(sys_io_getevents(ctx, 7, 64, ev + 5, NULL), 7);
		for (i = 0; i < 12; i++) {
			CHECK(ev[i].data < 12 && !seen[ev[i].data],
			      "round %d: event data %llu twice or unknown",
			      round, (unsigned long long)ev[i].data);
			seen[ev[i].data] = true;
			CHECK_RES(ev[i], 16 + (int)ev[i].data);
		}
	}
	CHECK(aio_ring_of(ctx)->head == aio_ring_of(ctx)->tail,
	      "head %u tail %u after reaping all", aio_ring_of(ctx)->head,
	      aio_ring_of(ctx)->tail);
out:
	return ret;
}
CONFORM_TEST(test_mixed, "ring.user_reap_wraps_and_mixes", 0, .ctx = 16,
	     .dev_zero = true)

static int test_mremap(struct tctx *t)
{
	long page = sysconf(_SC_PAGESIZE);
	aio_context_t ctx = t->ctx, moved;
	struct io_event ev[4];
	struct iocb cb[4];
	static char buf[4 * 64];
	int ret = T_PASS;
	size_t len;
	void *dst, *p;

	len = sizeof(struct aio_ring_hdr) +
	      aio_ring_of(ctx)->nr * sizeof(struct io_event);
	len = (len + (size_t)page - 1) & ~((size_t)page - 1);
	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(dst != MAP_FAILED, "mmap: %s", errno_name(errno));
	p = mremap((void *)(uintptr_t)ctx, len, len,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (p == MAP_FAILED && (errno == EINVAL || errno == EFAULT))
		SKIP("the ring cannot be moved on this kernel (mremap: %s)",
		     errno_name(errno));
	CHECK(p == dst, "mremap: %s", errno_name(errno));
	/* The context is the new address now (the harness destroys it). */
	moved = t->ctx = (aio_context_t)(uintptr_t)p;
	CHECK(aio_ring_of(moved)->magic == AIO_RING_MAGIC,
	      "no ring header at the new address");
	CHECK_RET(zero_batch(moved, t->zfd, cb, buf, 4, 0), 4);
	CHECK_RET(sys_io_getevents(moved, 4, 4, ev, NULL), 4);
	CHECK_ERR(sys_io_getevents(ctx, 0, 4, ev, NULL), EINVAL);
	CHECK_RET(zero_batch(moved, t->zfd, cb, buf, 2, 0), 2);
	CHECK(ring_reap(moved, ev, 4) == 2, "user reaping after mremap");
	t->ctx = 0;
	CHECK_RET(sys_io_destroy(moved), 0);
out:
	return ret;
}
CONFORM_TEST(test_mremap, "ring.mremap", 0, .ctx = 8, .dev_zero = true)

/* Reading the header fields a reaper depends on, while events arrive. */
static int test_tail_counts(struct tctx *t)
{
	struct aio_ring_hdr *r = aio_ring_of(t->ctx);
	unsigned int tail0 = r->tail;
	struct iocb cb[8];
	static char buf[8 * 64];
	int ret = T_PASS;

	CHECK_RET(zero_batch(t->ctx, t->zfd, cb, buf, 6, 0), 6);
	CHECK(__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) ==
		      (tail0 + 6) % r->nr,
	      "tail %u after 6 completions from %u", r->tail, tail0);
	CHECK(r->head == tail0, "head moved without reaping");
out:
	return ret;
}
CONFORM_TEST(test_tail_counts, "ring.tail_counts_completions", 0, .ctx = 8,
	     .dev_zero = true)
