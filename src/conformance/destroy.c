/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_destroy.  It waits for in-flight requests, so once it
 * returns no buffer is written any more (fixed in 3.15 by e02ba72aabfa
 * "aio: block io_destroy() until all context requests are completed");
 * pending polls are cancelled, not waited for; a bad or destroyed context
 * is EINVAL, and of two concurrent io_destroy calls exactly one wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The fixture's context, destroyed here, not by the harness. */
static aio_context_t take_ctx(struct tctx *t)
{
	aio_context_t ctx = t->ctx;

	t->ctx = 0;
	return ctx;
}

static int test_basic(struct tctx *t)
{
	aio_context_t ctx = take_ctx(t);
	int ret = T_PASS;

	CHECK_RET(sys_io_destroy(ctx), 0);
	CHECK_ERR(sys_io_destroy(ctx), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_basic, "destroy.twice", 0, .ctx = 8)

static int test_bad_ctx(struct tctx *t)
{
	int ret = T_PASS;
	char x;

	CHECK_ERR(sys_io_destroy(0), EINVAL);
	CHECK_ERR(sys_io_destroy((aio_context_t)(uintptr_t)&x), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_bad_ctx, "destroy.bad_ctx", 0)

static int test_then_submit(struct tctx *t)
{
	struct iocb cb, *cbs[1] = { &cb };
	aio_context_t ctx = take_ctx(t);
	struct io_event ev;
	int ret = T_PASS;
	char buf[64];

	CHECK_RET(sys_io_destroy(ctx), 0);
	prep_rw(&cb, IOCB_CMD_PREAD, 0, buf, sizeof(buf), 0);
	CHECK_ERR(sys_io_submit(ctx, 1, cbs), EINVAL);
	CHECK_ERR(sys_io_getevents(ctx, 0, 1, &ev, NULL), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_then_submit, "destroy.then_use", 0, .ctx = 8)

struct racer {
	aio_context_t ctx;
	pthread_barrier_t *bar;
	int ret, err;
};

static void *destroyer(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->bar);
	r->ret = sys_io_destroy(r->ctx);
	r->err = errno;
	return NULL;
}

static int test_concurrent(struct tctx *t)
{
	struct racer r[2];
	pthread_barrier_t bar;
	pthread_t th[2];
	int ret = T_PASS, round, i, wins;

	pthread_barrier_init(&bar, NULL, 2);
	for (round = 0; round < 20; round++) {
		aio_context_t ctx = 0;

		if (t_setup(t, 8, &ctx))
			return T_FAIL;
		for (i = 0; i < 2; i++) {
			r[i].ctx = ctx;
			r[i].bar = &bar;
			pthread_create(&th[i], NULL, destroyer, &r[i]);
		}
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		wins = (r[0].ret == 0) + (r[1].ret == 0);
		CHECK(wins == 1, "round %d: %d of 2 io_destroy calls succeeded",
		      round, wins);
		i = r[0].ret == 0 ? 1 : 0;
		CHECK(r[i].ret == -1 && r[i].err == EINVAL,
		      "the loser got %d %s", r[i].ret, errno_name(r[i].err));
	}
out:
	return ret;
}
CONFORM_TEST(test_concurrent, "destroy.concurrent", 0)

/* Pending polls are cancelled: io_destroy returns (the watchdog judges). */
static int test_poll_inflight(struct tctx *t)
{
	int ret = T_PASS, i;

	for (i = 0; i < 16; i++)
		prep_poll(&t->cb[i], t->pipe[0], POLLIN);
	CHECK_RET(sys_io_submit(t->ctx, 16, t->cbs), 16);
	CHECK_RET(sys_io_destroy(take_ctx(t)), 0);
out:
	return ret;
}
CONFORM_TEST(test_poll_inflight, "destroy.poll_inflight", 0, .ctx = 16,
	     .pipe = true, .iocbs = 16)

#define NBUF 32
#define BUFSZ (256 << 10)

/*
 * Reads in flight (O_DIRECT from a cold file where the variant has it),
 * then io_destroy at once: when it returns the reads are complete, and
 * buffers refilled afterwards keep their new contents.
 */
static int test_waits_inflight(struct tctx *t)
{
	int ret = T_PASS, i, n;
	long bad;

	memset(t->buf, 0xaa, NBUF * BUFSZ);
	for (i = 0; i < NBUF; i++)
		prep_rw(&t->cb[i], IOCB_CMD_PREAD, t->fd, t->buf + i * BUFSZ,
			BUFSZ, (int64_t)i * BUFSZ);
	n = sys_io_submit(t->ctx, NBUF, t->cbs);
	CHECK(n == NBUF, "io_submit: %d %s", n, errno_name(errno));
	CHECK_RET(sys_io_destroy(take_ctx(t)), 0);
	for (i = 0; i < NBUF; i++) {
		bad = pat_check(t->buf + i * BUFSZ, BUFSZ, (uint64_t)i * BUFSZ,
				3);
		CHECK(bad < 0,
		      "buffer %d: byte %ld not read when io_destroy "
		      "returned",
		      i, bad);
	}
	memset(t->buf, 0x55, NBUF * BUFSZ);
	usleep(100000);
	for (i = 0; i < NBUF; i++) {
		for (n = 0; n < BUFSZ; n++)
			CHECK(t->buf[i * BUFSZ + n] == 0x55,
			      "buffer %d written after io_destroy at byte %d",
			      i, n);
	}
out:
	return ret;
}
CONFORM_TEST(test_waits_inflight, "destroy.waits_inflight", T_FILE, .ctx = NBUF,
	     .iocbs = NBUF, .buf = NBUF * BUFSZ,
	     .file = T_PATTERN_FILE("data", NBUF *BUFSZ, 3, O_RDONLY,
				    .direct = T_DIRECT_IF_OK, .cold = true))

/* The ring's mapping goes with the context. */
static int test_unmaps_ring(struct tctx *t)
{
	aio_context_t ctx = take_ctx(t);
	int ret = T_PASS;
	char line[256];
	bool found = false;
	FILE *f;

	CHECK_RET(sys_io_destroy(ctx), 0);
	f = fopen("/proc/self/maps", "r");
	CHECK(f, "open /proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (strtoull(line, NULL, 16) == ctx && strstr(line, "aio"))
			found = true;
	fclose(f);
	CHECK(!found, "ring still mapped at 0x%llx after io_destroy",
	      (unsigned long long)ctx);
out:
	return ret;
}
CONFORM_TEST(test_unmaps_ring, "destroy.unmaps_ring", 0, .ctx = 8)
