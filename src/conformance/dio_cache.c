/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: O_DIRECT against the page cache, on every variant with a
 * page cache apart from its data (not tmpfs), and against shared extents
 * on those with reflinks (xfs, btrfs).
 *
 *  - dio.write_over_cached_pages (generic/451, aio-dio-cycle-write): the
 *    file is read into the page cache (mincore proves it) and rewritten
 *    with O_DIRECT, again and again, while two threads keep reading it
 *    buffered: after each write a buffered and an O_DIRECT read see the
 *    new data, and so does a reader that read between two writes.
 *  - dio.write_racing_buffered_writes (generic/208,
 *    aio-dio-invalidate-failure): large O_DIRECT writes racing buffered
 *    writes of the same range and data, so that the invalidation of the
 *    cache around the direct write fails (the kernel says "Page cache
 *    invalidation failure on direct I/O"): each write completes with its
 *    count (or the EIO old kernels gave), nothing oopses (the kernel log
 *    scan), and the file holds the data.
 *  - dio.readahead_over_direct_writes (aio-dio-invalidate-readahead): a
 *    reader reads buffered behind an O_DIRECT writer, so that its
 *    readahead caches the pages the writer writes next (mincore counts
 *    them): the reader never sees a page's earlier data.
 *  - dio.append_read_race (generic/465, aio-dio-append-write-read-race):
 *    an O_DIRECT reader polls the block an extending O_DIRECT write is
 *    filling, with buffers aligned to 512, 1024, 2048 and 4096: it reads
 *    nothing or the data, never the zeros of an i_size updated too soon.
 *  - dio.append_fallocate_race (generic/586,
 *    aio-dio-append-write-fallocate-race): an O_DIRECT write of the second
 *    block racing fallocate() of the first: the file has both blocks.
 *  - dio.cow_overlapping_writes (generic/463, aio-dio-cow-race): after
 *    FICLONE or FICLONERANGE (FIEMAP proves the extents shared), four
 *    overlapping O_DIRECT writes in one io_submit: the file has the new
 *    data, the clone keeps the old.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "dio.h"

/* A page cache apart from the file's data: else a skip. */
static int has_cache(struct tctx *t)
{
	if (t->var && !strcmp(t->var->fstype, "tmpfs"))
		return t_skip(t, "tmpfs keeps its data in the page cache: "
				 "no cached copy for O_DIRECT to bypass");
	return T_PASS;
}

/* Write len bytes of seed into fd from 0, buffered, and fsync: 0 or -errno. */
static int fill(int fd, char *buf, uint64_t len, uint32_t seed)
{
	uint64_t done = 0;

	while (done < len) {
		size_t n = len - done < (1u << 20) ? (size_t)(len - done) :
						     (1u << 20);

		pat_fill(buf, n, done, seed);
		if (pwrite(fd, buf, n, (off_t)done) != (ssize_t)n)
			return errno ? -errno : -EIO;
		done += n;
	}
	return fsync(fd) ? -errno : 0;
}

/* A race not seen in its count of tries: up to this many times more. */
#define RACE_MORE 8

#define CW_SIZE 655360 /* generic/451's */
#define CW_READERS 2 /* generic/451 runs 2 or more; 1 by default */

/* What the file holds once w writes are complete. */
static uint32_t cw_seed(unsigned int w)
{
	return !w ? DIO_SEED_OLD : (w & 1) ? DIO_SEED_NEW : DIO_SEED_ALT;
}

struct cache_reader {
	int fd, stop;
	unsigned int *gen; /* odd while a write is in flight */
	char *buf;
	unsigned int reads, overlapped;
	char err[512];
};

static void *read_cached(void *arg)
{
	struct cache_reader *r = arg;
	char what[320];
	long bad;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned int g0 = __atomic_load_n(r->gen, __ATOMIC_SEQ_CST);
		ssize_t n = pread(r->fd, r->buf, CW_SIZE, 0);
		unsigned int g1 = __atomic_load_n(r->gen, __ATOMIC_SEQ_CST);

		if (n != CW_SIZE) {
			snprintf(r->err, sizeof(r->err),
				 "buffered pread: %zd %s", n,
				 n < 0 ? errno_name(errno) : "(short)");
			break;
		}
		r->reads++;
		/*
		 * A read during a write may see either, or a mix even inside
		 * a sector (nothing makes them atomic): not checked.
		 */
		if (g0 != g1 || (g0 & 1)) {
			r->overlapped++;
			continue;
		}
		bad = pat_check(r->buf, CW_SIZE, 0, cw_seed(g0 / 2));
		if (bad >= 0) {
			bad = bad / DIO_SECTOR * DIO_SECTOR;
			dio_describe(r->buf + bad, (uint64_t)bad, what,
				     sizeof(what));
			snprintf(r->err, sizeof(r->err),
				 "a buffered reader, between writes %u and "
				 "%u, saw %s at %ld",
				 g0 / 2, g0 / 2 + 1, what, bad);
			break;
		}
	}
	return NULL;
}

/* How many of the pages of [0, len) of fd's file are cached, or -errno. */
static long cached_pages(int fd, uint64_t len)
{
	long pg = sysconf(_SC_PAGESIZE), n = 0, i, pages = (long)(len / pg);
	unsigned char *vec = malloc((size_t)pages);
	void *map;

	if (!vec)
		return -ENOMEM;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		free(vec);
		return -errno;
	}
	if (mincore(map, len, vec))
		n = -errno;
	for (i = 0; n >= 0 && i < pages; i++)
		n += vec[i] & 1;
	munmap(map, len);
	free(vec);
	return n;
}

static int test_cycle_write(struct tctx *t)
{
	unsigned int loops = t_scaled(8, 1600), i, gen = 0, cached = 0;
	unsigned int reads = 0, overlapped = 0;
	int readers = conform_opts.long_counts ? CW_READERS : 1;
	struct cache_reader rd[CW_READERS];
	pthread_t th[CW_READERS];
	int ret, bfd = -1, nr = 0, k;
	struct iocb cb;
	struct io_event ev;
	uint32_t prev = DIO_SEED_OLD;
	bool inject;
	long c;

	memset(rd, 0, sizeof(rd));
	for (k = 0; k < CW_READERS; k++)
		rd[k].fd = -1;
	ret = has_cache(t);
	if (ret)
		goto out;
	bfd = t_open(t, "cycle", O_RDWR);
	CHECK(bfd >= 0, "open: %s", errno_name(-bfd));
	pat_fill(t->buf, CW_SIZE, 0, DIO_SEED_NEW);
	pat_fill(t->buf2, CW_SIZE, 0, DIO_SEED_ALT);
	inject = dio_inject(t);
	for (k = 0; k < readers; k++) {
		rd[k].gen = &gen;
		rd[k].fd = t_open(t, "cycle", O_RDONLY);
		rd[k].buf = malloc(CW_SIZE);
		CHECK(rd[k].fd >= 0 && rd[k].buf, "reader %d: open: %s", k,
		      errno_name(-rd[k].fd));
		CHECK(!pthread_create(&th[k], NULL, read_cached, &rd[k]),
		      "pthread_create");
		nr++;
	}
	for (i = 0; i < loops; i++) {
		uint32_t seed = cw_seed(i + 1);

		/* Into the page cache first, with what is there. */
		ret = dio_check(t, bfd, NULL, prev, 0, CW_SIZE,
				"buffered read before the write");
		if (ret)
			goto out;
		c = cached_pages(bfd, CW_SIZE);
		CHECK(c >= 0, "mincore: %s", errno_name((int)-c));
		cached += c > 0;
		prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, (i & 1) ? t->buf2 : t->buf,
			CW_SIZE, 0);
		__atomic_add_fetch(&gen, 1, __ATOMIC_SEQ_CST);
		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
		__atomic_add_fetch(&gen, 1, __ATOMIC_SEQ_CST);
		CHECK_RES(ev, CW_SIZE);
		if (inject) {
			/* A page the write did not invalidate: stale. */
			char page[4096];

			pat_fill(page, sizeof(page), 4096, prev);
			CHECK(pwrite(bfd, page, 4096, 4096) == 4096,
			      "inject: pwrite");
			inject = false;
		}
		ret = dio_check(t, bfd, NULL, seed, 0, CW_SIZE,
				"buffered read after the O_DIRECT write");
		if (!ret)
			ret = dio_check(
				t, t->fd, NULL, seed, 0, CW_SIZE,
				"O_DIRECT read after the O_DIRECT write");
		if (ret) {
			t_diag(t, "write %u of %u", i, loops);
			goto out;
		}
		prev = seed;
	}
	for (k = 0; k < nr; k++) {
		__atomic_store_n(&rd[k].stop, 1, __ATOMIC_RELEASE);
		pthread_join(th[k], NULL);
		CHECK(!rd[k].err[0], "%s", rd[k].err);
		reads += rd[k].reads;
		overlapped += rd[k].overlapped;
	}
	nr = 0;
	if (!cached)
		SKIP("the file's pages were never in the page cache before an "
		     "O_DIRECT write (mincore)");
	t_diag(t,
	       "%u O_DIRECT writes of %d bytes on %s over the file read "
	       "into the page cache first (cached before %u of them, by "
	       "mincore); %u buffered reads by %d thread%s, %u during a "
	       "write",
	       loops, CW_SIZE, dio_fs(t), cached, reads, readers,
	       readers > 1 ? "s" : "", overlapped);
out:
	for (k = 0; k < nr; k++) {
		__atomic_store_n(&rd[k].stop, 1, __ATOMIC_RELEASE);
		pthread_join(th[k], NULL);
	}
	for (k = 0; k < CW_READERS; k++) {
		if (rd[k].fd >= 0)
			close(rd[k].fd);
		free(rd[k].buf);
	}
	if (bfd >= 0)
		close(bfd);
	return ret;
}
CONFORM_TEST(test_cycle_write, "dio.write_over_cached_pages", T_FILE, .ctx = 1,
	     .buf = CW_SIZE, .buf2 = CW_SIZE,
	     .file = T_PATTERN_FILE("cycle", CW_SIZE, DIO_SEED_OLD, O_RDWR,
				    .direct = T_DIRECT))

/* How long the O_DIRECT writer waits to see the buffered one start. */
#define WRITER_WAIT_NS 50000000ull
/*
 * Buffered writes at most per O_DIRECT write: they rewrite the same
 * pages, so what is left dirty stays the size of the file.
 */
#define BUFFERED_PER_DIRECT 64

/* The buffered writer of dio.write_racing_buffered_writes. */
struct buffered_writer {
	int fd, stop, err;
	const char *buf;
	size_t len;
	unsigned int state; /* odd while a pwrite is in progress */
	unsigned int window; /* odd while an O_DIRECT write is made */
};

/*
 * Buffered writes while the O_DIRECT writer's window is open (not all the
 * time: the CPU is shared), up to BUFFERED_PER_DIRECT per window.
 */
static void *write_buffered(void *arg)
{
	struct buffered_writer *b = arg;
	unsigned int last = 0, done = 0, w;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		ssize_t n;

		w = __atomic_load_n(&b->window, __ATOMIC_ACQUIRE);
		if (w != last)
			done = 0;
		last = w;
		if (!(w & 1) || done >= BUFFERED_PER_DIRECT) {
			sched_yield();
			continue;
		}
		done++;
		__atomic_add_fetch(&b->state, 1, __ATOMIC_SEQ_CST);
		n = pwrite(b->fd, b->buf, b->len, 0);
		__atomic_add_fetch(&b->state, 1, __ATOMIC_SEQ_CST);
		if (n != (ssize_t)b->len) {
			b->err = n < 0 ? errno : EIO;
			break;
		}
	}
	return NULL;
}

static int test_invalidate_failure(struct tctx *t)
{
	unsigned int loops = t_scaled(4, 200), i, overlapped = 0, eio = 0;
	size_t len = (conform_opts.long_counts ? 32u : 2u) << 20;
	struct buffered_writer bw = { .fd = -1 };
	bool running = false;
	struct iocb cb;
	struct io_event ev;
	char *buf = NULL;
	int ret, vfd = -1;
	pthread_t th;

	ret = has_cache(t);
	if (ret)
		goto out;
	buf = t_alloc(len);
	CHECK(buf, "out of memory");
	pat_fill(buf, len, 0, DIO_SEED_NEW);
	CHECK(!ftruncate(t->fd, (off_t)len), "ftruncate: %s",
	      errno_name(errno));
	bw.fd = t_open(t, "inval", O_WRONLY);
	CHECK(bw.fd >= 0, "open: %s", errno_name(-bw.fd));
	bw.buf = buf;
	bw.len = len;
	CHECK(!pthread_create(&th, NULL, write_buffered, &bw),
	      "pthread_create");
	running = true;
	for (i = 0; i < loops * RACE_MORE; i++) {
		unsigned int s0, s1;

		/* Past loops, on only until a write overlapped one. */
		if (i >= loops && overlapped)
			break;
		prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, len, 0);
		/* Open the window; submit once a buffered write is on. */
		s0 = __atomic_load_n(&bw.state, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&bw.window, 1, __ATOMIC_RELEASE);
		if (!(s0 & 1))
			dio_wait_change(&bw.state, s0, WRITER_WAIT_NS);
		s0 = __atomic_load_n(&bw.state, __ATOMIC_SEQ_CST);
		ret = t_submit_wait(t->ctx, &cb, &ev);
		s1 = __atomic_load_n(&bw.state, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&bw.window, 1, __ATOMIC_RELEASE);
		CHECK(!ret, "io_submit: %s", errno_name(-ret));
		overlapped += s0 != s1 || (s0 & 1);
		/* aio-dio-invalidate-failure takes EIO: old kernels said so. */
		if (ev.res == -EIO) {
			eio++;
			continue;
		}
		CHECK_RES(ev, len);
	}
	__atomic_store_n(&bw.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	running = false;
	CHECK(!bw.err, "buffered pwrite: %s", errno_name(bw.err));
	if (!overlapped)
		SKIP("no O_DIRECT write overlapped a buffered write (%u "
		     "writes; a busy machine?)",
		     i);
	/*
	 * A new descriptor: the collision may have left an EIO for fsync
	 * to report (errseq), which is how the kernel flags it, not a bug.
	 */
	vfd = t_open(t, "inval", O_RDONLY);
	CHECK(vfd >= 0, "open: %s", errno_name(-vfd));
	if (fsync(vfd))
		t_diag(t, "fsync after the collisions: %s", errno_name(errno));
	if (dio_inject(t)) {
		memset(buf, 0, 4096);
		CHECK(pwrite(bw.fd, buf, 4096, 8192) == 4096, "inject: pwrite");
	}
	CHECK(!posix_fadvise(vfd, 0, 0, POSIX_FADV_DONTNEED), "fadvise");
	ret = dio_check(t, vfd, NULL, DIO_SEED_NEW, 0, len, "buffered read");
	if (!ret)
		ret = dio_check(t, t->fd, NULL, DIO_SEED_NEW, 0, len,
				"O_DIRECT read");
	if (ret)
		goto out;
	t_diag(t,
	       "%u O_DIRECT writes of %zu MiB on %s racing buffered writes of "
	       "the same range: %u overlapped one, %u completed with EIO",
	       i, len >> 20, dio_fs(t), overlapped, eio);
out:
	if (running) {
		__atomic_store_n(&bw.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	if (bw.fd >= 0)
		close(bw.fd);
	if (vfd >= 0)
		close(vfd);
	free(buf);
	return ret;
}
CONFORM_TEST(test_invalidate_failure, "dio.write_racing_buffered_writes",
	     T_FILE, .ctx = 1,
	     .file = { .name = "inval", .oflags = O_RDWR, .direct = T_DIRECT })

#define RA_PASSES 2

static int test_readahead(struct tctx *t)
{
	unsigned int pages = t_scaled(128, 2048), k, p, over = 0, writes = 0;
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t len = (uint64_t)pages * (uint64_t)pg;
	unsigned char vec;
	uint32_t prev = DIO_SEED_OLD;
	struct iocb cb;
	struct io_event ev;
	void *map = MAP_FAILED;
	bool inject;
	int ret, bfd = -1, r;
	char *buf = NULL;

	ret = has_cache(t);
	if (ret)
		goto out;
	buf = t_alloc(1 << 20);
	CHECK(buf, "out of memory");
	bfd = t_open(t, "ra", O_RDWR);
	CHECK(bfd >= 0, "open: %s", errno_name(-bfd));
	r = fill(bfd, buf, len, DIO_SEED_OLD);
	CHECK(!r, "write the file: %s", errno_name(-r));
	CHECK(!t_drop_cache(bfd), "drop cache: %s", errno_name(errno));
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, bfd, 0);
	CHECK(map != MAP_FAILED, "mmap: %s", errno_name(errno));
	inject = dio_inject(t);
	for (p = 0; p < RA_PASSES; p++) {
		uint32_t seed = (p & 1) ? DIO_SEED_ALT : DIO_SEED_NEW;

		for (k = 0; k < pages; k++) {
			uint64_t off = (uint64_t)k * (uint64_t)pg;

			/* Cached ahead by the reader's readahead? */
			CHECK(!mincore((char *)map + off, (size_t)pg, &vec),
			      "mincore: %s", errno_name(errno));
			over += vec & 1;
			pat_fill(buf, (size_t)pg, off, seed);
			prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, (size_t)pg,
				(int64_t)off);
			CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
			CHECK_RES(ev, pg);
			writes++;
			if (inject && k == 8) {
				/* The page readahead cached, not dropped. */
				pat_fill(buf, (size_t)pg, off, prev);
				CHECK(pwrite(bfd, buf, (size_t)pg,
					     (off_t)off) == pg,
				      "inject: pwrite");
				inject = false;
			}
			ret = dio_check(t, bfd, NULL, seed, off, (uint64_t)pg,
					"buffered read behind the writer");
			if (ret) {
				t_diag(t, "pass %u, page %u", p, k);
				goto out;
			}
		}
		prev = seed;
	}
	if (!over)
		SKIP("readahead never cached a page ahead of the O_DIRECT "
		     "writer (mincore)");
	t_diag(t,
	       "%u O_DIRECT writes of a page on %s, each read back buffered "
	       "at once: %u landed on a page the reads had cached ahead",
	       writes, dio_fs(t), over);
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (bfd >= 0)
		close(bfd);
	free(buf);
	return ret;
}
CONFORM_TEST(test_readahead, "dio.readahead_over_direct_writes", T_FILE,
	     .ctx = 1,
	     .file = { .name = "ra", .oflags = O_RDWR, .direct = T_DIRECT })

/* The polling reader of dio.append_read_race. */
struct append_reader {
	int fd, ready, writing, stop;
	char *buf;
	size_t len;
	uint64_t off;
	ssize_t got;
	unsigned int empty_during; /* reads of nothing while writing */
	int err;
};

static void *poll_block(void *arg)
{
	struct append_reader *a = arg;

	__atomic_store_n(&a->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		int w = __atomic_load_n(&a->writing, __ATOMIC_ACQUIRE);
		ssize_t n = pread(a->fd, a->buf, a->len, (off_t)a->off);

		if (n < 0) {
			a->err = errno;
			break;
		}
		if (n > 0) {
			a->got = n;
			break;
		}
		a->empty_during += w;
	}
	return NULL;
}

static int test_append_read(struct tctx *t)
{
	static const unsigned int aligns[] = { 512, 1024, 2048, 4096 };
	unsigned int blocks = t_scaled(6, 128), bs = 0, a, i, raced = 0;
	unsigned int writes = 0;
	size_t len = (conform_opts.long_counts ? 1024u : 64u) << 10;
	struct append_reader ar;
	char *wmem = NULL, *rmem = NULL, what[320];
	int ret, wfd = -1, rfd = -1;
	struct iocb cb;
	struct io_event ev;
	pthread_t th;
	bool inject;
	long bad;

	ret = dio_subblock_ok(t, &bs);
	if (ret)
		goto out;
	wmem = t_alloc(len + 4096);
	rmem = t_alloc(len + 4096);
	CHECK(wmem && rmem, "out of memory");
	inject = dio_inject(t);
	for (a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
		/* Aligned to aligns[a] and to nothing larger. */
		char *wbuf = wmem + aligns[a] % 4096;
		char *rbuf = rmem + aligns[a] % 4096;

		wfd = t_open(t, "append",
			     O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT);
		CHECK(wfd >= 0, "open: %s", errno_name(-wfd));
		rfd = t_open(t, "append", O_RDONLY | O_DIRECT);
		CHECK(rfd >= 0, "open: %s", errno_name(-rfd));
		for (i = 0; i < blocks * RACE_MORE; i++) {
			/* Past blocks, on only until a poll raced a write. */
			if (i >= blocks && raced)
				break;
			memset(&ar, 0, sizeof(ar));
			ar.fd = rfd;
			ar.buf = rbuf;
			ar.len = len;
			ar.off = (uint64_t)i * len;
			pat_fill(wbuf, len, ar.off, DIO_SEED_NEW);
			prep_rw(&cb, IOCB_CMD_PWRITE, wfd, wbuf, len,
				(int64_t)ar.off);
			CHECK(!pthread_create(&th, NULL, poll_block, &ar),
			      "pthread_create");
			while (!__atomic_load_n(&ar.ready, __ATOMIC_ACQUIRE))
				sched_yield();
			__atomic_store_n(&ar.writing, 1, __ATOMIC_RELEASE);
			ret = t_submit_wait(t->ctx, &cb, &ev);
			__atomic_store_n(&ar.writing, 0, __ATOMIC_RELEASE);
			/* No data is coming: the reader gives up. */
			if (ret || ev.res != (int64_t)len)
				__atomic_store_n(&ar.stop, 1, __ATOMIC_RELEASE);
			pthread_join(th, NULL);
			CHECK(!ret, "io_submit: %s", errno_name(-ret));
			CHECK_RES(ev, len);
			CHECK(!ar.err, "O_DIRECT pread: %s",
			      errno_name(ar.err));
			raced += ar.empty_during > 0;
			writes++;
			if (inject) {
				/* i_size ahead of the data: zeros. */
				memset(rbuf, 0, DIO_SECTOR);
				inject = false;
			}
			bad = pat_check(rbuf, (size_t)ar.got, ar.off,
					DIO_SEED_NEW);
			if (bad >= 0) {
				dio_describe(
					rbuf + bad / DIO_SECTOR * DIO_SECTOR,
					ar.off + bad / DIO_SECTOR * DIO_SECTOR,
					what, sizeof(what));
				FAIL("buffer aligned to %u, block %u: a read of "
				     "%zd bytes at %llu racing the write saw %s "
				     "at %llu",
				     aligns[a], i, ar.got,
				     (unsigned long long)ar.off, what,
				     (unsigned long long)(ar.off + bad));
			}
		}
		close(wfd);
		close(rfd);
		wfd = rfd = -1;
	}
	if (!raced)
		SKIP("the reader never polled while a write was in flight "
		     "(%u blocks; a busy machine?)",
		     writes);
	t_diag(t,
	       "%u extending O_DIRECT writes of %zu KiB on %s with buffers "
	       "aligned to 512 to 4096, each polled by an O_DIRECT reader: "
	       "%u polled in vain while the write was in flight",
	       writes, len >> 10, dio_fs(t), raced);
out:
	if (wfd >= 0)
		close(wfd);
	if (rfd >= 0)
		close(rfd);
	free(wmem);
	free(rmem);
	return ret;
}
CONFORM_TEST(test_append_read, "dio.append_read_race", T_FILE, .ctx = 1)

/* The fallocate() of dio.append_fallocate_race, with when it ran. */
struct falloc_race {
	int fd, ready, go, err;
	off_t len;
	uint64_t start_ns, end_ns;
};

static void *falloc_first(void *arg)
{
	struct falloc_race *f = arg;

	__atomic_store_n(&f->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&f->go, __ATOMIC_ACQUIRE))
		;
	f->start_ns = now_ns();
	if (fallocate(f->fd, 0, 0, f->len))
		f->err = errno;
	f->end_ns = now_ns();
	return NULL;
}

static int test_append_falloc(struct tctx *t)
{
	unsigned int iters = t_scaled(16, 100), i, overlapped = 0;
	struct falloc_race f;
	struct dio_map map = { 0 };
	uint64_t s0, s1;
	struct iocb cb;
	struct io_event ev;
	struct stat st;
	char *buf = NULL, why[PATH_MAX + 64];
	bool inject;
	pthread_t th;
	int ret = T_PASS, fd = -1, r;
	size_t bs;

	if (!t_odirect_ok(t, why, sizeof(why)))
		SKIP("%s", why);
	inject = dio_inject(t);
	for (i = 0; i < iters * RACE_MORE; i++) {
		/* Past iters, on only until the two ran at once. */
		if (i >= iters && overlapped)
			break;
		fd = t_open(t, "falloc", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
		CHECK(fd >= 0, "open: %s", errno_name(-fd));
		CHECK(!fstat(fd, &st), "fstat: %s", errno_name(errno));
		bs = (size_t)st.st_blksize;
		if (!buf) {
			buf = t_alloc(bs);
			CHECK(buf && !dio_map_init(&map, 2 * bs),
			      "out of memory");
			dio_map_set(&map, bs, bs, DIO_SEED_NEW);
			pat_fill(buf, bs, bs, DIO_SEED_NEW);
		}
		memset(&f, 0, sizeof(f));
		f.fd = fd;
		f.len = (off_t)bs;
		prep_rw(&cb, IOCB_CMD_PWRITE, fd, buf, bs, (int64_t)bs);
		CHECK(!pthread_create(&th, NULL, falloc_first, &f),
		      "pthread_create");
		while (!__atomic_load_n(&f.ready, __ATOMIC_ACQUIRE))
			sched_yield();
		__atomic_store_n(&f.go, 1, __ATOMIC_RELEASE);
		s0 = now_ns();
		r = t_submit_wait(t->ctx, &cb, &ev);
		s1 = now_ns();
		pthread_join(th, NULL);
		CHECK(!r, "io_submit: %s", errno_name(-r));
		CHECK_RES(ev, bs);
		if (f.err == EOPNOTSUPP)
			SKIP("fallocate() unsupported on %s", dio_fs(t));
		CHECK(!f.err, "fallocate: %s", errno_name(f.err));
		overlapped += f.start_ns < s1 && s0 < f.end_ns;
		if (inject) {
			/* The append's size lost to the fallocate. */
			CHECK(!ftruncate(fd, (off_t)bs), "inject: ftruncate");
			inject = false;
		}
		CHECK(!fstat(fd, &st) && (uint64_t)st.st_size == 2 * bs,
		      "iteration %u: size %lld after a write of block 1 and "
		      "fallocate of block 0 of %zu bytes",
		      i, (long long)st.st_size, bs);
		ret = dio_check(t, fd, &map, 0, 0, 2 * bs, "O_DIRECT read");
		if (ret)
			goto out;
		close(fd);
		fd = -1;
	}
	if (!overlapped)
		SKIP("fallocate() never ran while the write was in flight "
		     "(%u tries; a busy machine?)",
		     i);
	t_diag(t,
	       "%u O_DIRECT writes of the second block on %s, each racing "
	       "fallocate() of the first: %u ran at the same time",
	       i, dio_fs(t), overlapped);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	dio_map_free(&map);
	return ret;
}
CONFORM_TEST(test_append_falloc, "dio.append_fallocate_race", T_FILE, .ctx = 1)

#define COW_PAGES 4

/* Whether FIEMAP says an extent of fd's first len bytes is shared. */
static bool has_shared_extent(int fd, uint64_t len)
{
	uint64_t mem[(sizeof(struct fiemap) + 16 * sizeof(struct fiemap_extent)) /
		     sizeof(uint64_t)];
	struct fiemap *fm = (struct fiemap *)mem;
	unsigned int i;

	memset(mem, 0, sizeof(mem));
	fm->fm_length = len;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = 16;
	if (ioctl(fd, FS_IOC_FIEMAP, fm))
		return false;
	for (i = 0; i < fm->fm_mapped_extents && i < 16; i++)
		if (fm->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED)
			return true;
	return false;
}

/* Clone fd into cfd (all of it, or pages 1-2 of 4 in a range): errno. */
static int clone_into(int cfd, int fd, bool range, uint64_t p)
{
	struct file_clone_range r = {
		.src_fd = fd,
		.src_offset = p,
		.src_length = 2 * p,
		.dest_offset = p,
	};

	if (!range)
		return ioctl(cfd, FICLONE, fd) ? errno : 0;
	if (ftruncate(cfd, (off_t)(COW_PAGES * p)))
		return errno;
	return ioctl(cfd, FICLONERANGE, &r) ? errno : 0;
}

static int test_cow(struct tctx *t)
{
	unsigned int rounds = t_scaled(8, 64), r, shared = 0, inflight = 0;
	uint64_t p = 4096, len = COW_PAGES * p;
	struct dio_map file = { 0 }, clone = { 0 };
	char *old = NULL, *buf = NULL, why[PATH_MAX + 64];
	int ret = T_PASS, fd = -1, cfd = -1, n, err, k;
	bool inject;

	if (!t_odirect_ok(t, why, sizeof(why)))
		SKIP("%s", why);
	old = t_alloc(len);
	buf = t_alloc(len);
	CHECK(old && buf && !dio_map_init(&file, len) &&
		      !dio_map_init(&clone, len),
	      "out of memory");
	pat_fill(old, len, 0, DIO_SEED_OLD);
	pat_fill(buf, len, 0, DIO_SEED_NEW);
	dio_map_set(&file, 0, 3 * p, DIO_SEED_NEW);
	dio_map_set(&file, 3 * p, p, DIO_SEED_OLD);
	inject = dio_inject(t);
	for (r = 0; r < rounds; r++) {
		bool range = r & 1;

		fd = t_open(t, "cow", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
		CHECK(fd >= 0, "open: %s", errno_name(-fd));
		CHECK(pwrite(fd, old, len, 0) == (ssize_t)len, "pwrite: %s",
		      errno_name(errno));
		cfd = t_open(t, "cow.clone",
			     O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
		CHECK(cfd >= 0, "open the clone: %s", errno_name(-cfd));
		err = clone_into(cfd, fd, range, p);
		if (err == EOPNOTSUPP || err == EXDEV || err == EINVAL ||
		    err == ENOTTY || err == ENOSYS)
			SKIP("no reflinks on %s (%s: %s)", dio_fs(t),
			     range ? "FICLONERANGE" : "FICLONE",
			     errno_name(err));
		CHECK(!err, "%s: %s", range ? "FICLONERANGE" : "FICLONE",
		      errno_name(err));
		memset(clone.seed, 0, clone.nr * sizeof(*clone.seed));
		dio_map_set(&clone, range ? p : 0, range ? 2 * p : len,
			    DIO_SEED_OLD);
		shared += has_shared_extent(fd, len);
		/* Overlapping: the first covers the second and the last. */
		prep_rw(&t->cb[0], IOCB_CMD_PWRITE, fd, buf, 2 * p, 0);
		prep_rw(&t->cb[1], IOCB_CMD_PWRITE, fd, buf, p, 0);
		prep_rw(&t->cb[2], IOCB_CMD_PWRITE, fd, buf + 2 * p, p,
			(int64_t)(2 * p));
		prep_rw(&t->cb[3], IOCB_CMD_PWRITE, fd, buf, 2 * p, 0);
		n = sys_io_submit(t->ctx, 4, t->cbs);
		CHECK(n == 4, "io_submit: %d %s", n, errno_name(errno));
		inflight += 4 - dio_ring_ready(t->ctx);
		CHECK_RET(t_reap(t->ctx, 4, t->ev), 4);
		for (k = 0; k < 4; k++) {
			struct iocb *c = (struct iocb *)(uintptr_t)t->ev[k].obj;

			CHECK_RES(t->ev[k], c->aio_nbytes);
		}
		if (inject) {
			/* The write went into the shared extent. */
			int bfd = t_open(t, "cow.clone", O_WRONLY);

			CHECK(bfd >= 0 && pwrite(bfd, buf + p, p, (off_t)p) ==
						  (ssize_t)p,
			      "inject: pwrite");
			close(bfd);
			inject = false;
		}
		ret = dio_check(t, fd, &file, 0, 0, len, "O_DIRECT read");
		if (!ret)
			ret = dio_check(t, cfd, &clone, 0, 0, len,
					"O_DIRECT read of the clone");
		if (ret) {
			t_diag(t, "round %u, after %s", r,
			       range ? "FICLONERANGE" : "FICLONE");
			goto out;
		}
		close(cfd);
		close(fd);
		cfd = fd = -1;
	}
	if (!shared)
		SKIP("the clones succeeded but FIEMAP never showed a shared "
		     "extent on %s",
		     dio_fs(t));
	t_diag(t,
	       "%u rounds on %s: FICLONE and FICLONERANGE (extents shared "
	       "in %u), then 4 overlapping O_DIRECT writes in one io_submit "
	       "(%u of them still in flight when it returned): the file has "
	       "the new data, the clone the old",
	       rounds, dio_fs(t), shared, inflight);
out:
	if (cfd >= 0)
		close(cfd);
	if (fd >= 0)
		close(fd);
	free(old);
	free(buf);
	dio_map_free(&file);
	dio_map_free(&clone);
	return ret;
}
CONFORM_TEST(test_cow, "dio.cow_overlapping_writes", T_FILE, .ctx = 4,
	     .iocbs = 4)
