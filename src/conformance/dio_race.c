/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: O_DIRECT races that were kernel bugs, repeated until the
 * window has been seen (the counts grow with --scale and --long).
 *
 *  - dio.fcntl_odirect_race (CVE-2014-8086, xfstests aio-dio-fcntl-race,
 *    generic/036): two threads write the 512-byte sectors of alternate
 *    blocks, unaligned, with AIO while a third toggles O_DIRECT on the
 *    file with fcntl(F_SETFL).  Every write completes with its count, the
 *    file stays usable (an O_DIRECT and a buffered write after it
 *    complete; a leaked lock would hang them, which the watchdog reports)
 *    and every sector holds what was written, the first of each block
 *    zeros.  The race is proven by counting the writes during which
 *    O_DIRECT changed; none is a skip.
 *  - dio.extend_stat (xfstests aio-dio-extend-stat, 4000 writes with
 *    --long): extending O_DIRECT writes submitted one by one from a
 *    thread, reaped in another that stats the file at each completion:
 *    i_size already covers the write.
 *  - dio.hole_fill_then_read (xfstests aio-dio-hole-filling-race, 500
 *    rounds with --long): an O_DIRECT write into a hole of a large sparse
 *    file (SEEK_DATA proves it is one), read back the moment its
 *    completion is reaped: the data, never the zeros of an extent not yet
 *    converted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dio.h"

/*
 * A race is seen when O_DIRECT changed while a write was in flight: past
 * its blocks, the test goes on (up to RACE_MORE times as far) until it
 * has seen RACE_SEEN of them.
 */
#define RACE_SEEN 4
#define RACE_MORE 8
/* How long a writer waits for the toggler to show it runs. */
#define TOGGLE_WAIT_NS 1000000ull

/*
 * The toggling thread of dio.fcntl_odirect_race: it toggles while a
 * writer is about to write or writing, and yields the CPU otherwise.
 */
struct toggler {
	int fd, flags;
	int stop;
	unsigned int toggles; /* F_SETFL calls done */
	unsigned int writing; /* writers between their wait and their reap */
	int err;
};

static void *toggle(void *arg)
{
	struct toggler *tg = arg;

	while (!__atomic_load_n(&tg->stop, __ATOMIC_ACQUIRE)) {
		int on = __atomic_load_n(&tg->toggles, __ATOMIC_RELAXED) & 1;

		if (!__atomic_load_n(&tg->writing, __ATOMIC_ACQUIRE)) {
			sched_yield();
			continue;
		}
		if (fcntl(tg->fd, F_SETFL,
			  on ? tg->flags : tg->flags | O_DIRECT)) {
			tg->err = errno;
			break;
		}
		__atomic_add_fetch(&tg->toggles, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/*
 * One of the two writing threads.  Writer w takes blocks w, w + 2, ...:
 * the two never share a page, as buffered and direct writes to the same
 * page at once are not coherent (the kernel says "Page cache invalidation
 * failure on direct I/O") and would fail the check for no bug of its own.
 */
struct sector_writer {
	struct tctx *t;
	aio_context_t ctx;
	struct toggler *tg;
	unsigned int *overlapped; /* both writers' count */
	unsigned int which, min_blocks, max_blocks, bs;
	char *buf;
	unsigned int writes, blocks; /* blocks: how many it wrote */
	char err[256];
};

/* Write one sector and reap it: 0, or -1 with w->err said. */
static int write_sector(struct sector_writer *w, uint64_t off)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	unsigned int before, after;
	int r, got, err;

	pat_fill(w->buf, DIO_SECTOR, off, DIO_SEED_NEW);
	prep_rw(&cb, IOCB_CMD_PWRITE, w->t->fd, w->buf, DIO_SECTOR,
		(int64_t)off);
	/*
	 * Submit while the toggler is seen running (on a busy machine the
	 * threads seldom run at once): say so, and wait (bounded) for its
	 * next toggle.
	 */
	before = __atomic_load_n(&w->tg->toggles, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&w->tg->writing, 1, __ATOMIC_RELEASE);
	dio_wait_change(&w->tg->toggles, before, TOGGLE_WAIT_NS);
	before = __atomic_load_n(&w->tg->toggles, __ATOMIC_SEQ_CST);
	r = sys_io_submit(w->ctx, 1, cbs);
	err = errno;
	got = r == 1 ? t_reap(w->ctx, 1, &ev) : 0;
	after = __atomic_load_n(&w->tg->toggles, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&w->tg->writing, 1, __ATOMIC_RELEASE);
	if (r != 1) {
		snprintf(w->err, sizeof(w->err), "io_submit at %llu: %d %s",
			 (unsigned long long)off, r, errno_name(err));
		return -1;
	}
	if (got != 1 || ev.res != DIO_SECTOR) {
		snprintf(w->err, sizeof(w->err),
			 "write of 512 bytes at %llu: %s %lld",
			 (unsigned long long)off, got != 1 ? "reap" : "res",
			 got != 1 ? (long long)got : (long long)ev.res);
		return -1;
	}
	w->writes++;
	if (after != before)
		__atomic_add_fetch(w->overlapped, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Every sector of each block but the first, unaligned: writer 0 from the
 * front (each write extends the file), writer 1 from the back (the rest
 * land inside i_size).  Past min_blocks, on until the race was seen often
 * enough or max_blocks.
 */
static void *write_sectors(void *arg)
{
	struct sector_writer *w = arg;
	unsigned int b, k, s, spb = w->bs / DIO_SECTOR;

	for (b = w->which; b < w->max_blocks; b += 2) {
		if (b >= w->min_blocks &&
		    __atomic_load_n(w->overlapped, __ATOMIC_RELAXED) >=
			    RACE_SEEN)
			break;
		for (k = 1; k < spb; k++) {
			s = w->which ? spb - k : k;
			if (write_sector(w, (uint64_t)b * w->bs +
						    (uint64_t)s * DIO_SECTOR))
				return NULL;
		}
		w->blocks++;
	}
	return NULL;
}

/*
 * The toggler and writer 0 in threads, writer 1 in this one, to the end:
 * 0, or -1 when a thread could not be made.
 */
static int race(struct toggler *tg, struct sector_writer w[2])
{
	pthread_t tt, wt;
	int ret = -1;

	if (pthread_create(&tt, NULL, toggle, tg))
		return -1;
	if (!pthread_create(&wt, NULL, write_sectors, &w[0])) {
		write_sectors(&w[1]);
		pthread_join(wt, NULL);
		ret = 0;
	}
	__atomic_store_n(&tg->stop, 1, __ATOMIC_RELEASE);
	pthread_join(tt, NULL);
	return ret;
}

static int test_fcntl_race(struct tctx *t)
{
	unsigned int blocks = t_scaled(16, 4096), bs = 0, i, writes = 0;
	unsigned int overlapped = 0, used = 0;
	struct sector_writer w[2];
	struct toggler tg = { .fd = t->fd };
	struct dio_map map = { 0 };
	struct iocb cb;
	struct io_event ev;
	uint64_t size, b;
	int ret, bfd = -1;

	ret = dio_subblock_ok(t, &bs);
	if (ret)
		goto out;
	tg.flags = fcntl(t->fd, F_GETFL) & ~O_DIRECT;
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].t = t;
		w[i].ctx = i ? t->ctx2 : t->ctx;
		w[i].tg = &tg;
		w[i].overlapped = &overlapped;
		w[i].which = i;
		w[i].min_blocks = blocks;
		w[i].max_blocks = blocks * RACE_MORE;
		w[i].bs = bs;
		w[i].buf = t->buf + i * 4096;
	}
	CHECK(!race(&tg, w), "pthread_create failed");
	CHECK(!tg.err, "fcntl(F_SETFL) toggling O_DIRECT: %s",
	      errno_name(tg.err));
	for (i = 0; i < 2; i++) {
		CHECK(!w[i].err[0], "writer %u: %s", i, w[i].err);
		writes += w[i].writes;
		if (w[i].blocks && 2 * (w[i].blocks - 1) + i + 1 > used)
			used = 2 * (w[i].blocks - 1) + i + 1;
	}
	if (!overlapped)
		SKIP("O_DIRECT never changed while a write was in flight "
		     "(%u writes, %u toggles; a busy machine?)",
		     writes, tg.toggles);
	/* Still usable: a write with O_DIRECT on, then one with it off. */
	size = (uint64_t)used * bs + 2 * DIO_SECTOR;
	for (i = 0; i < 2; i++) {
		uint64_t off = (uint64_t)used * bs + i * DIO_SECTOR;

		CHECK(!fcntl(t->fd, F_SETFL,
			     i ? tg.flags : tg.flags | O_DIRECT),
		      "fcntl: %s", errno_name(errno));
		pat_fill(t->buf, DIO_SECTOR, off, DIO_SEED_NEW);
		prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, t->buf, DIO_SECTOR,
			(int64_t)off);
		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
		CHECK_RES(ev, DIO_SECTOR);
	}
	CHECK(!dio_map_init(&map, size), "out of memory");
	for (i = 0; i < 2; i++)
		for (b = i; b < 2 * (uint64_t)w[i].blocks; b += 2)
			dio_map_set(&map, b * bs + DIO_SECTOR, bs - DIO_SECTOR,
				    DIO_SEED_NEW);
	dio_map_set(&map, (uint64_t)used * bs, 2 * DIO_SECTOR, DIO_SEED_NEW);
	bfd = t_open(t, "race", O_RDWR);
	CHECK(bfd >= 0, "open: %s", errno_name(-bfd));
	if (dio_inject(t)) {
		/* A sector lost to an unserialized neighbour's zeroing. */
		memset(t->buf, 0, DIO_SECTOR);
		CHECK(pwrite(bfd, t->buf, DIO_SECTOR, 3 * DIO_SECTOR) ==
			      DIO_SECTOR,
		      "inject: pwrite");
	}
	CHECK(!t_drop_cache(bfd), "drop cache: %s", errno_name(errno));
	ret = dio_check(t, bfd, &map, 0, 0, size, "buffered read");
	if (ret)
		goto out;
	t_diag(t,
	       "%u sub-block writes into %u blocks of %u on %s from 2 threads "
	       "while O_DIRECT was toggled %u times: it changed during %u of "
	       "them; the file took an O_DIRECT and a buffered write after; "
	       "%llu sectors checked",
	       writes, w[0].blocks + w[1].blocks, bs, dio_fs(t), tg.toggles,
	       overlapped, (unsigned long long)(size / DIO_SECTOR));
out:
	if (bfd >= 0)
		close(bfd);
	dio_map_free(&map);
	return ret;
}
CONFORM_TEST(test_fcntl_race, "dio.fcntl_odirect_race", T_FILE, .ctx = 4,
	     .ctx2 = 4, .buf = 2 * 4096,
	     .file = { .name = "race", .oflags = O_RDWR })

#define ES_DEPTH 64
#define ES_BS 4096

/* The submitting thread of dio.extend_stat. */
struct extender {
	struct tctx *t;
	struct iocb cb[ES_DEPTH];
	int busy[ES_DEPTH]; /* a slot's write is in flight */
	unsigned int n, submitted, extending;
	char err[256];
};

/* Write i into slot i % ES_DEPTH once the slot's last write is reaped. */
static void *extend(void *arg)
{
	struct extender *x = arg;
	struct tctx *t = x->t;
	unsigned int i, slot;
	struct stat st;
	int r;

	for (i = 0; i < x->n; i++) {
		struct iocb *cbs[1];
		uint64_t off = (uint64_t)i * ES_BS;

		slot = i % ES_DEPTH;
		while (__atomic_load_n(&x->busy[slot], __ATOMIC_ACQUIRE))
			sched_yield();
		pat_fill(t->buf + slot * ES_BS, ES_BS, off, DIO_SEED_NEW);
		prep_rw(&x->cb[slot], IOCB_CMD_PWRITE, t->fd,
			t->buf + slot * ES_BS, ES_BS, (int64_t)off);
		x->cb[slot].aio_data = i;
		cbs[0] = &x->cb[slot];
		/* The precondition: this write still extends the file. */
		if (!fstat(t->fd, &st) && (uint64_t)st.st_size < off + ES_BS)
			x->extending++;
		__atomic_store_n(&x->busy[slot], 1, __ATOMIC_RELEASE);
		r = sys_io_submit(t->ctx, 1, cbs);
		if (r != 1) {
			snprintf(x->err, sizeof(x->err),
				 "io_submit of write %u: %d %s", i, r,
				 errno_name(errno));
			__atomic_store_n(&x->busy[slot], 0, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&x->submitted, i + 1, __ATOMIC_RELEASE);
	}
	/* Tell the reaper how many there are to reap. */
	__atomic_store_n(&x->n, i, __ATOMIC_RELEASE);
	return NULL;
}

static int test_extend_stat(struct tctx *t)
{
	unsigned int reaped = 0, others = 0, i, n;
	struct extender *x;
	bool inject, running = false;
	pthread_t th;
	int ret = T_PASS;

	x = calloc(1, sizeof(*x));
	CHECK(x, "out of memory");
	x->t = t;
	x->n = t_scaled(256, 4000);
	inject = dio_inject(t);
	CHECK(!pthread_create(&th, NULL, extend, x), "pthread_create");
	running = true;
	for (;;) {
		struct io_event ev[ES_DEPTH];
		struct timespec ts = { 0, 100000000 };
		int r;

		n = __atomic_load_n(&x->n, __ATOMIC_ACQUIRE);
		if (reaped >= n &&
		    (reaped ==
			     __atomic_load_n(&x->submitted, __ATOMIC_ACQUIRE) ||
		     x->err[0]))
			break;
		r = sys_io_getevents(t->ctx, 1, ES_DEPTH, ev, &ts);
		CHECK(r >= 0 || errno == EINTR, "io_getevents: %s",
		      errno_name(errno));
		for (i = 0; i < (unsigned int)(r > 0 ? r : 0); i++) {
			unsigned int k = (unsigned int)ev[i].data;
			uint64_t end = (uint64_t)(k + 1) * ES_BS;
			struct stat st;

			CHECK_RES(ev[i], ES_BS);
			if (inject && reaped == 10) {
				/* i_size not yet past the completed write. */
				CHECK(!ftruncate(t->fd, (off_t)(end - ES_BS)),
				      "inject: ftruncate");
				inject = false;
			}
			CHECK(!fstat(t->fd, &st), "fstat: %s",
			      errno_name(errno));
			CHECK((uint64_t)st.st_size >= end,
			      "write %u of %d bytes at %llu is complete, "
			      "the size is %lld",
			      k, ES_BS, (unsigned long long)(end - ES_BS),
			      (long long)st.st_size);
			others += __atomic_load_n(&x->submitted,
						  __ATOMIC_ACQUIRE) >
				  reaped + 1;
			reaped++;
			__atomic_store_n(&x->busy[k % ES_DEPTH], 0,
					 __ATOMIC_RELEASE);
		}
	}
	pthread_join(th, NULL);
	running = false;
	CHECK(!x->err[0], "%s", x->err);
	CHECK(x->extending > 0, "no write extended the file");
	ret = dio_check(t, t->fd, NULL, DIO_SEED_NEW, 0,
			(uint64_t)reaped * ES_BS,
			t->direct ? "O_DIRECT read" : "read");
	if (ret)
		goto out;
	t_diag(t,
	       "%u %swrites of %d bytes on %s, each stat'ed at its "
	       "completion: %u extended the file when submitted, %u were "
	       "reaped with more in flight",
	       reaped, t->direct ? "O_DIRECT " : "", ES_BS, dio_fs(t),
	       x->extending, others);
out:
	if (running) {
		/* Let the submitter end: nothing more is reaped. */
		for (i = 0; i < ES_DEPTH; i++)
			__atomic_store_n(&x->busy[i], 0, __ATOMIC_RELEASE);
		__atomic_store_n(&x->n, 0, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	free(x);
	return ret;
}
CONFORM_TEST(test_extend_stat, "dio.extend_stat", T_FILE, .ctx = ES_DEPTH,
	     .buf = ES_DEPTH * ES_BS,
	     .file = { .name = "extend", .oflags = O_RDWR, .direct = T_DIRECT })

#define HOLE_FILE (1ull << 30)
#define HOLE_BS 4096

/* Is [off, off + len) of fd a hole, as SEEK_DATA sees it? */
static bool in_hole(int fd, uint64_t off, uint64_t len)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	return (d < 0 && errno == ENXIO) ||
	       (d >= 0 && (uint64_t)d >= off + len);
}

static int test_hole_fill(struct tctx *t)
{
	unsigned int rounds = t_scaled(32, 500), r, holes = 0;
	char why[PATH_MAX + 64];
	bool inject;
	struct iocb cb;
	struct io_event ev;
	int ret = T_PASS, fd = -1;

	if (!t_odirect_ok(t, why, sizeof(why)))
		SKIP("%s", why);
	inject = dio_inject(t);
	for (r = 0; r < rounds; r++) {
		/* At the start, then spread over the sparse gigabyte. */
		uint64_t off = (uint64_t)(r % 8) * (HOLE_FILE / 8) +
			       (uint64_t)(r % 3) * HOLE_BS;

		fd = t_open(t, "hole", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
		CHECK(fd >= 0, "open: %s", errno_name(-fd));
		CHECK(!ftruncate(fd, (off_t)HOLE_FILE), "ftruncate: %s",
		      errno_name(errno));
		holes += in_hole(fd, off, HOLE_BS);
		pat_fill(t->buf, HOLE_BS, off, DIO_SEED_NEW);
		prep_rw(&cb, IOCB_CMD_PWRITE, fd, t->buf, HOLE_BS,
			(int64_t)off);
		CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
		CHECK_RES(ev, HOLE_BS);
		if (inject) {
			/* The extent not converted yet: zeros. */
			int bfd = t_open(t, "hole", O_WRONLY);

			memset(t->buf, 0, HOLE_BS);
			CHECK(bfd >= 0 && pwrite(bfd, t->buf, HOLE_BS,
						 (off_t)off) == HOLE_BS,
			      "inject: pwrite");
			close(bfd);
			inject = false;
		}
		ret = dio_check(t, fd, NULL, DIO_SEED_NEW, off, HOLE_BS,
				"O_DIRECT read at once");
		if (ret) {
			t_diag(t, "round %u of %u", r, rounds);
			goto out;
		}
		close(fd);
		fd = -1;
	}
	if (!holes)
		SKIP("SEEK_DATA never saw a hole where the writes went on %s",
		     dio_fs(t));
	t_diag(t,
	       "%u rounds on %s: a %d-byte write into a hole of a sparse "
	       "1 GiB file (a hole by SEEK_DATA in %u), read back at its "
	       "completion",
	       rounds, dio_fs(t), HOLE_BS, holes);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
CONFORM_TEST(test_hole_fill, "dio.hole_fill_then_read", T_FILE, .ctx = 4,
	     .buf = HOLE_BS)
