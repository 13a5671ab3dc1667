/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: volume.  2^20 small writes then 2^20 small reads through
 * one context, every byte verified; many contexts at once, each doing I/O;
 * many threads submitting to and reaping from one context, every event
 * seen exactly once.  Verdicts are about completeness and data, never
 * about time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SMALL_NR (1 << 20)
#define SMALL_BS 16
#define BATCH 1024

/*
 * Submit SMALL_NR iocbs of SMALL_BS at consecutive offsets of t->fd from
 * t->buf, reaping as we go.
 */
static int small_pass(struct tctx *t, int op)
{
	aio_context_t ctx = t->ctx;
	static struct iocb cb[BATCH];
	static struct iocb *cbs[BATCH];
	static struct io_event ev[BATCH];
	int ret = T_PASS, i, r, done;
	long base;

	for (base = 0; base < SMALL_NR; base += BATCH) {
		for (i = 0; i < BATCH; i++) {
			long k = base + i;

			prep_rw(&cb[i], op, t->fd, t->buf + k * SMALL_BS,
				SMALL_BS, k * SMALL_BS);
			cbs[i] = &cb[i];
		}
		done = 0;
		while (done < BATCH) {
			r = sys_io_submit(ctx, BATCH - done, cbs + done);
			CHECK(r > 0 || (r < 0 && errno == EAGAIN),
			      "io_submit at %ld: %s", base + done,
			      errno_name(errno));
			if (r > 0)
				done += r;
			r = t_reap(ctx, r > 0 ? r : 1, ev);
			CHECK(r > 0, "reap: %s", errno_name(-r));
			for (i = 0; i < r; i++)
				CHECK_RES(ev[i], SMALL_BS);
		}
	}
out:
	return ret;
}

static int test_small(struct tctx *t)
{
	size_t bytes = (size_t)SMALL_NR * SMALL_BS;
	int ret;
	long bad;

	pat_fill(t->buf, bytes, 0, 21);
	ret = small_pass(t, IOCB_CMD_PWRITE);
	if (ret)
		return ret;
	memset(t->buf, 0, bytes);
	ret = small_pass(t, IOCB_CMD_PREAD);
	if (ret)
		return ret;
	bad = pat_check(t->buf, bytes, 0, 21);
	if (bad >= 0)
		return t_fail(t, __FILE__, __LINE__,
			      "data wrong at byte %ld of %zu", bad, bytes);
	return T_PASS;
}
CONFORM_TEST(test_small, "stress.million_small_writes_then_reads", 0,
	     .ctx = BATCH, .buf = SMALL_NR * SMALL_BS,
	     .file = { .name = "small", .oflags = O_RDWR })

#define NCTX 256
#define NDESTROYERS 8

struct destroy_job {
	aio_context_t *ctx;
	int from, to, failed;
};

/* io_destroy waits for an RCU grace period: spread the waits. */
static void *destroy_range(void *arg)
{
	struct destroy_job *j = arg;
	int i;

	for (i = j->from; i < j->to; i++)
		if (sys_io_destroy(j->ctx[i]))
			j->failed++;
	return NULL;
}

static int test_many_contexts(struct tctx *t)
{
	aio_context_t *ctx = NULL;
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	int ret = T_PASS, i, n = 0;
	long max, nr;
	char buf[512];

	CHECK(!read_proc_long("/proc/sys/fs/aio-max-nr", &max) &&
		      !read_proc_long("/proc/sys/fs/aio-nr", &nr),
	      "read aio-max-nr");
	if (max - nr < NCTX * 4)
		SKIP("aio-max-nr leaves room for %ld events only", max - nr);
	ctx = calloc(NCTX, sizeof(*ctx));
	CHECK(ctx, "out of memory");
	for (n = 0; n < NCTX; n++)
		if (t_setup(t, 1, &ctx[n]))
			goto out;
	for (i = 0; i < NCTX; i++) {
		prep_rw(&cb, IOCB_CMD_PREAD, t->fd, buf, 512, (int64_t)i * 512);
		CHECK_RET(sys_io_submit(ctx[i], 1, cbs), 1);
	}
	for (i = NCTX - 1; i >= 0; i--) {
		CHECK_RET(t_reap(ctx[i], 1, &ev), 1);
		CHECK_RES(ev, 512);
	}
out:
	if (ctx) {
		struct destroy_job job[NDESTROYERS];
		pthread_t th[NDESTROYERS];
		bool threaded[NDESTROYERS];
		int failed = 0;

		for (i = 0; i < NDESTROYERS; i++) {
			job[i] = (struct destroy_job){
				.ctx = ctx,
				.from = n * i / NDESTROYERS,
				.to = n * (i + 1) / NDESTROYERS,
			};
			threaded[i] = !pthread_create(&th[i], NULL,
						      destroy_range, &job[i]);
			if (!threaded[i])
				destroy_range(&job[i]);
		}
		for (i = 0; i < NDESTROYERS; i++) {
			if (threaded[i])
				pthread_join(th[i], NULL);
			failed += job[i].failed;
		}
		if (!ret && failed)
			ret = t_fail(t, __FILE__, __LINE__,
				     "%d of %d io_destroy calls failed", failed,
				     n);
	}
	if (!ret && n < NCTX)
		ret = T_FAIL;
	free(ctx);
	return ret;
}
CONFORM_TEST(test_many_contexts, "stress.many_contexts", 0,
	     .file = T_PATTERN_FILE("f", NCTX * 512, 22, O_RDONLY))

#define NTHREADS 8
#define PER_THREAD 4096

struct worker {
	aio_context_t ctx;
	int fd, id;
	char *buf;
	unsigned char *seen; /* per iocb, shared */
	int *reaped; /* shared total */
	int err;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct iocb *cb = calloc(PER_THREAD, sizeof(*cb));
	struct io_event ev[32];
	struct iocb *cbs[32];
	int i, k, r, sent = 0;

	if (!cb) {
		w->err = ENOMEM;
		return NULL;
	}
	while (sent < PER_THREAD ||
	       __atomic_load_n(w->reaped, __ATOMIC_ACQUIRE) <
		       NTHREADS * PER_THREAD) {
		int batch = PER_THREAD - sent < 32 ? PER_THREAD - sent : 32;
		struct timespec ts = { 0, 1000000 };

		for (i = 0; i < batch; i++) {
			long idx = (long)w->id * PER_THREAD + sent + i;

			prep_rw(&cb[sent + i], IOCB_CMD_PREAD, w->fd,
				w->buf + idx * 64, 64, idx * 64);
			cbs[i] = &cb[sent + i];
		}
		if (batch > 0) {
			r = sys_io_submit(w->ctx, batch, cbs);
			if (r < 0 && errno != EAGAIN) {
				w->err = errno;
				break;
			}
			if (r > 0)
				sent += r;
		}
		/* Reap anyone's events. */
		r = sys_io_getevents(w->ctx, 0, 32, ev, &ts);
		if (r < 0 && errno != EINTR) {
			w->err = errno;
			break;
		}
		for (k = 0; k < r; k++) {
			struct iocb *c = (struct iocb *)(uintptr_t)ev[k].obj;
			long idx = (long)(c->aio_offset / 64);

			if (ev[k].res != 64 ||
			    __atomic_fetch_add(&w->seen[idx], 1,
					       __ATOMIC_RELAXED))
				w->err = EIO;
			__atomic_fetch_add(w->reaped, 1, __ATOMIC_RELEASE);
		}
	}
	/* cb stays allocated until every thread stopped: freed by main. */
	return cb;
}

static int test_threads(struct tctx *t)
{
	size_t bytes = (size_t)NTHREADS * PER_THREAD * 64;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	void *res[NTHREADS] = { NULL };
	unsigned char *seen = NULL;
	int ret = T_PASS, i, reaped = 0, started = 0;
	long bad;

	seen = calloc(NTHREADS * PER_THREAD, 1);
	CHECK(seen, "out of memory");
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .ctx = t->ctx,
					.fd = t->fd,
					.id = i,
					.buf = t->buf,
					.seen = seen,
					.reaped = &reaped };
		CHECK(!pthread_create(&th[i], NULL, worker_fn, &w[i]),
		      "pthread_create");
		started++;
	}
out:
	for (i = 0; i < started; i++)
		pthread_join(th[i], &res[i]);
	for (i = 0; i < started && !ret; i++)
		if (w[i].err)
			ret = t_fail(t, __FILE__, __LINE__,
				     "thread %d: %s (an event lost, doubled or "
				     "wrong)",
				     i, errno_name(w[i].err));
	if (!ret && started == NTHREADS) {
		bad = pat_check(t->buf, bytes, 0, 23);
		if (bad >= 0)
			ret = t_fail(t, __FILE__, __LINE__,
				     "data wrong at byte %ld", bad);
	}
	for (i = 0; i < started; i++)
		free(res[i]);
	free(seen);
	return ret;
}
CONFORM_TEST(test_threads, "stress.threads_share_one_context", 0, .ctx = 256,
	     .buf = NTHREADS * PER_THREAD * 64,
	     .file = T_PATTERN_FILE("f", NTHREADS *PER_THREAD * 64, 23,
				    O_RDONLY))
