/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: contexts destroyed while their I/O is in flight, from many
 * threads at once.
 *
 *  - destroy.last_ref_held_by_io: fstests' generic/323
 *    (aio-last-ref-held-by-io, a 2010 lock-up): threads each open the
 *    file, make a context, submit reads, close the file, so that the
 *    in-flight reads hold its last reference, and destroy the context;
 *    meanwhile one thread only makes and destroys contexts.  Every
 *    io_destroy returns 0, and when it has returned the reads are complete
 *    (their data is in the buffers): the file outlived its descriptor
 *    until the I/O was done.
 *  - destroy.many_threads_at_once: libaio's 18.t: threads, each with a
 *    context, all submit a read and call io_destroy at the same moment,
 *    round after round; each buffer holds the data when io_destroy
 *    returns and is not written after it.
 *
 * Both prove their precondition: before each io_destroy the ring's tail
 * tells how many reads had already completed; the rounds with a read
 * still in flight are counted and reported, and a variant where every
 * read completed before io_destroy (tmpfs and buffered reads complete in
 * io_submit) is a skip, since there the test cannot fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peers.h"

#define LR_IOS 16
#define LR_IOSIZE (64 << 10)
#define LR_SEED 31
#define LR_THREADS_MAX 128

/* One thread's work and what it saw. */
struct lr_thread {
	struct tctx *t;
	pthread_t th;
	pthread_barrier_t *bar; /* many_threads_at_once: all destroy at once */
	int id;
	bool io; /* false: only makes and destroys contexts */
	unsigned int rounds;
	char *buf;
	/* results */
	unsigned int inflight_rounds; /* io_destroy with a read in flight */
	unsigned int inflight_ios;
	unsigned int done_rounds;
	int err;
	char what[160];
};

static void lr_failed(struct lr_thread *lt, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lr_failed(struct lr_thread *lt, int err, const char *fmt, ...)
{
	va_list ap;

	if (lt->err)
		return;
	lt->err = err ? err : EIO;
	va_start(ap, fmt);
	vsnprintf(lt->what, sizeof(lt->what), fmt, ap);
	va_end(ap);
}

static int open_data(struct lr_thread *lt)
{
	return t_open(lt->t, "data", O_RDONLY | (lt->t->direct ? O_DIRECT : 0));
}

/* generic/323's thread: open, set up, submit, close, destroy. */
static void *last_ref_thread(void *arg)
{
	struct lr_thread *lt = arg;
	struct iocb cb[LR_IOS], *cbs[1];
	unsigned int r, done;
	aio_context_t ctx;
	int fd, i, n;
	long bad;

	for (r = 0; r < lt->rounds && !lt->err; r++) {
		fd = open_data(lt);
		if (fd < 0) {
			lr_failed(lt, -fd, "open: %s", errno_name(-fd));
			break;
		}
		ctx = 0;
		if (sys_io_setup(LR_IOS, &ctx)) {
			lr_failed(lt, errno, "io_setup(%d): %s", LR_IOS,
				  errno_name(errno));
			close(fd);
			break;
		}
		n = 0;
		if (lt->io) {
			memset(lt->buf, 0, (size_t)LR_IOS * LR_IOSIZE);
			for (i = 0; i < LR_IOS; i++) {
				prep_rw(&cb[i], IOCB_CMD_PREAD, fd,
					lt->buf + (size_t)i * LR_IOSIZE,
					LR_IOSIZE, (int64_t)i * LR_IOSIZE);
				cbs[0] = &cb[i];
				if (sys_io_submit(ctx, 1, cbs) != 1) {
					lr_failed(lt, errno, "io_submit: %s",
						  errno_name(errno));
					break;
				}
				n++;
			}
		}
		/* The reads in flight hold the file's last reference. */
		close(fd);
		done = ring_pending(ctx);
		if (done < (unsigned int)n) {
			lt->inflight_rounds++;
			lt->inflight_ios += (unsigned int)n - done;
		}
		if (sys_io_destroy(ctx)) {
			lr_failed(lt, errno, "io_destroy: %s",
				  errno_name(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			bad = pat_check(lt->buf + (size_t)i * LR_IOSIZE,
					LR_IOSIZE, (uint64_t)i * LR_IOSIZE,
					LR_SEED);
			if (bad >= 0) {
				lr_failed(lt, EIO,
					  "read %d (of %d, %u completed before "
					  "io_destroy): byte %ld not read when "
					  "io_destroy returned",
					  i, n, done, bad);
				break;
			}
		}
		lt->done_rounds++;
	}
	return NULL;
}

/* A run of threads: how many, what each does, what it is called. */
struct lr_run {
	int n;
	unsigned int nr; /* each context's */
	unsigned int rounds;
	size_t buf; /* each submitting thread's buffer */
	bool idle_first; /* the first thread submits nothing */
	pthread_barrier_t *bar;
	void *(*fn)(void *);
	const char *what;
};

/* Sum up what the threads saw: the test's verdict. */
static int lr_verdict(struct tctx *t, struct lr_thread *lt,
		      const struct lr_run *run)
{
	unsigned int rounds = 0, inflight = 0, ios = 0;
	int ret = T_PASS, i;

	for (i = 0; i < run->n; i++) {
		if (lt[i].err == EAGAIN &&
		    !strncmp(lt[i].what, "io_setup", 8) &&
		    t_aio_limit(t, run->nr)) {
			ret = T_SKIP;
			goto out;
		}
		if (!strncmp(lt[i].what, "open", 4) &&
		    t_fd_limit(t, lt[i].err)) {
			ret = T_SKIP;
			goto out;
		}
		CHECK(!lt[i].err, "thread %d, round %u: %s", i,
		      lt[i].done_rounds, lt[i].what);
		rounds += lt[i].io ? lt[i].done_rounds : 0;
		inflight += lt[i].inflight_rounds;
		ios += lt[i].inflight_ios;
	}
	t_diag(t,
	       "%s: %u of %u io_destroy calls with reads in flight (%u reads)",
	       run->what, inflight, rounds, ios);
	if (!inflight)
		SKIP("every read had completed before io_destroy (%u rounds) "
		     "on %s: nothing was in flight to wait for",
		     rounds, t->var ? t->var->fstype : "this filesystem");
out:
	return ret;
}

/* Make the threads, run them, wait for them: the test's verdict. */
static int lr_run(struct tctx *t, const struct lr_run *run)
{
	int ret = T_PASS, started = 0, i;
	struct lr_thread *lt;

	lt = calloc((size_t)run->n, sizeof(*lt));
	CHECK(lt, "out of memory");
	for (i = 0; i < run->n; i++) {
		lt[i].t = t;
		lt[i].id = i;
		lt[i].io = !(run->idle_first && i == 0);
		lt[i].bar = run->bar;
		lt[i].rounds = run->rounds;
		if (lt[i].io) {
			lt[i].buf = t_alloc(run->buf);
			CHECK(lt[i].buf, "out of memory");
		}
	}
	for (started = 0; started < run->n; started++)
		if (pthread_create(&lt[started].th, NULL, run->fn,
				   &lt[started]))
			break;
	for (i = 0; i < started; i++)
		pthread_join(lt[i].th, NULL);
	/* Threads waiting at a barrier for one never started: left to exit. */
	CHECK(started == run->n, "pthread_create: %d of %d threads", started,
	      run->n);
	ret = lr_verdict(t, lt, run);
out:
	/* Not while a thread stuck at a barrier may still use them. */
	if (lt && (!started || started == run->n)) {
		for (i = 0; i < run->n; i++)
			free(lt[i].buf);
		free(lt);
	}
	return ret;
}

static int test_last_ref(struct tctx *t)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct lr_run run = {
		.n = (int)(ncpu < 2 ? 4 : ncpu * 2),
		.nr = LR_IOS,
		.rounds = t_scaled(4, 300),
		.buf = (size_t)LR_IOS * LR_IOSIZE,
		/* As in generic/323, one thread submits nothing. */
		.idle_first = true,
		.fn = last_ref_thread,
		.what = "last reference",
	};

	if (run.n > LR_THREADS_MAX)
		run.n = LR_THREADS_MAX;
	return lr_run(t, &run);
}
CONFORM_TEST(test_last_ref, "destroy.last_ref_held_by_io", T_FILE,
	     .file = T_PATTERN_FILE("data", LR_IOS *LR_IOSIZE, LR_SEED,
				    O_RDONLY, .direct = T_DIRECT_IF_OK,
				    .cold = true))

#define MT_BLOCK 4096
#define MT_DESTROYED 0x32

/* 18.t's thread: one read per context, every thread destroys at once. */
static void *at_once_thread(void *arg)
{
	struct lr_thread *lt = arg;
	struct iocb cb, *cbs[1] = { &cb };
	uint64_t off = (uint64_t)lt->id * MT_BLOCK;
	aio_context_t ctx = 0;
	unsigned int r;
	int fd, i;
	long bad;

	fd = open_data(lt);
	if (fd < 0)
		lr_failed(lt, -fd, "open: %s", errno_name(-fd));
	memset(lt->buf, MT_DESTROYED, MT_BLOCK);
	/* Every round meets the barrier, failed or not: none waits alone. */
	for (r = 0; r < lt->rounds; r++) {
		bool io = false;

		for (i = 0; i < MT_BLOCK && !lt->err; i++)
			if (lt->buf[i] != MT_DESTROYED) {
				lr_failed(
					lt, EIO,
					"byte %d written after io_destroy had "
					"returned",
					i);
				break;
			}
		ctx = 0;
		if (!lt->err && sys_io_setup(1, &ctx)) {
			lr_failed(lt, errno, "io_setup(1): %s",
				  errno_name(errno));
			ctx = 0;
		}
		memset(lt->buf, '0', MT_BLOCK);
		prep_rw(&cb, IOCB_CMD_PREAD, fd, lt->buf, MT_BLOCK,
			(int64_t)off);
		/* All submit, then destroy, together. */
		pthread_barrier_wait(lt->bar);
		if (!ctx)
			continue;
		if (!lt->err) {
			if (sys_io_submit(ctx, 1, cbs) != 1)
				lr_failed(lt, errno, "io_submit: %s",
					  errno_name(errno));
			else
				io = true;
		}
		if (io && !ring_pending(ctx)) {
			lt->inflight_rounds++;
			lt->inflight_ios++;
		}
		if (sys_io_destroy(ctx)) {
			lr_failed(lt, errno, "io_destroy: %s",
				  errno_name(errno));
			continue;
		}
		if (!io)
			continue;
		bad = pat_check(lt->buf, MT_BLOCK, off, LR_SEED);
		if (bad >= 0)
			lr_failed(lt, EIO,
				  "byte %ld not read when io_destroy returned",
				  bad);
		memset(lt->buf, MT_DESTROYED, MT_BLOCK);
		if (!lt->err)
			lt->done_rounds++;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

#define MT_THREADS_DEFAULT 16
#define MT_THREADS_FULL 100

static int test_at_once(struct tctx *t)
{
	pthread_barrier_t bar;
	/* 18.t: 100 threads of 1000 rounds (--long). */
	struct lr_run run = {
		.n = (int)t_scaled(MT_THREADS_DEFAULT, MT_THREADS_FULL),
		.nr = 1,
		.rounds = t_scaled(4, 1000),
		.buf = MT_BLOCK,
		.bar = &bar,
		.fn = at_once_thread,
		.what = "at once",
	};

	if (run.n > LR_THREADS_MAX)
		run.n = LR_THREADS_MAX;
	pthread_barrier_init(&bar, NULL, (unsigned int)run.n);
	return lr_run(t, &run);
}
CONFORM_TEST(test_at_once, "destroy.many_threads_at_once", T_FILE,
	     .file = T_PATTERN_FILE("data", LR_THREADS_MAX *MT_BLOCK, LR_SEED,
				    O_RDONLY, .direct = T_DIRECT_IF_OK,
				    .cold = true))
