/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: sub-block and unaligned O_DIRECT, in 512-byte sectors, on
 * every variant that takes them (a variant whose device or filesystem
 * refuses 512-byte O_DIRECT is a skip with the reason).
 *
 *  - dio.subblock_extending_writes (generic/114 and generic/427, the
 *    mechanism of aio-dio-eof-race): round after round, four sub-block
 *    writes in one io_submit extend the file from an EOF inside a block,
 *    some leaving a sector's gap at the old EOF, some over a tail that
 *    held old data on disk before a truncate took it away.  The written
 *    sectors read back as written, every gap and tail as zeros, by
 *    O_DIRECT and by buffered reads, after each round (the whole block,
 *    so the zeroing of a later write cannot hide an earlier one's data)
 *    and over the whole file at the end.
 *  - dio.subblock_unaligned_pairs (generic/538, aio-dio-write-verify: the
 *    ext4 unaligned AIO corruption): a file truncated to an i_size inside
 *    a block, then two unaligned writes of two blocks each in one
 *    io_submit, the first at 512, the second at every 512-byte position
 *    from 0 to a block past the first's end: both read back, the rest of
 *    the file is zeros.
 *  - dio.subblock_read_at_eof (aio-dio-subblock-eof-read): sub-block
 *    O_DIRECT reads at and past an EOF inside a sector: the short count
 *    and its data, then 0; and a file of 300 bytes of hole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dio.h"

#define EXT_WRITES 4
#define EXT_MAX_Q 1024u

/* ftruncate then fstat: the size must be size. */
static int set_size(struct tctx *t, int fd, uint64_t size)
{
	struct stat st;

	if (ftruncate(fd, (off_t)size))
		return t_fail(t, __FILE__, __LINE__, "ftruncate to %llu: %s",
			      (unsigned long long)size, errno_name(errno));
	if (fstat(fd, &st) || (uint64_t)st.st_size != size)
		return t_fail(t, __FILE__, __LINE__,
			      "size %lld after ftruncate to %llu",
			      (long long)st.st_size, (unsigned long long)size);
	return T_PASS;
}

/*
 * Write the old data over [eof, two blocks on) with O_DIRECT, prove that
 * the disk has it, then truncate back to eof: the tail of eof's block and
 * the next block held data that must never be read again.
 */
static int dirty_tail(struct tctx *t, char *buf, unsigned int bs, uint64_t eof,
		      unsigned int *secs)
{
	uint64_t end = (eof / bs + 2) * bs;
	struct iocb cb;
	int ret = T_PASS;

	pat_fill(buf, end - eof, eof, DIO_SEED_OLD);
	prep_rw(&cb, IOCB_CMD_PWRITE, t->fd, buf, end - eof, (int64_t)eof);
	CHECK_RET(t_submit_wait(t->ctx, &cb, t->ev), 0);
	CHECK_RES(t->ev[0], end - eof);
	ret = dio_check(t, t->fd, NULL, DIO_SEED_OLD, eof, end - eof,
			"O_DIRECT read of the old tail");
	if (ret)
		goto out;
	ret = set_size(t, t->fd, eof);
	*secs += (unsigned int)((end - eof) / DIO_SECTOR);
out:
	return ret;
}

static int test_subblock_extend(struct tctx *t)
{
	unsigned int rounds = t_scaled(16, 4096), bs = 0, r, k, racing = 0;
	unsigned int gap_secs = 0, tail_secs = 0, writes = 0;
	struct dio_map map = { 0 };
	uint64_t eof = 0, end;
	char *old = NULL;
	struct stat st;
	bool inject;
	int ret, bfd = -1, n;

	ret = dio_subblock_ok(t, &bs);
	if (ret)
		goto out;
	CHECK(!dio_map_init(&map, (uint64_t)rounds * (DIO_SECTOR +
						      EXT_WRITES * EXT_MAX_Q) +
					  2 * bs),
	      "out of memory");
	old = t_alloc(2 * bs);
	CHECK(old, "out of memory");
	bfd = t_open(t, "ext", O_RDWR);
	CHECK(bfd >= 0, "open ext buffered: %s", errno_name(-bfd));
	inject = dio_inject(t);
	for (r = 0; r < rounds; r++) {
		/* Every combination, round after round. */
		uint64_t gap = (r & 1) ? DIO_SECTOR : 0, start = eof + gap;
		unsigned int q = (r & 4) ? EXT_MAX_Q : DIO_SECTOR;

		if (r & 2) {
			ret = dirty_tail(t, old, bs, eof, &tail_secs);
			if (ret)
				goto out;
		}
		for (k = 0; k < EXT_WRITES; k++) {
			uint64_t off = start + (uint64_t)k * q;

			pat_fill(t->buf + k * q, q, off, DIO_SEED_NEW);
			prep_rw(&t->cb[k], IOCB_CMD_PWRITE, t->fd,
				t->buf + k * q, q, (int64_t)off);
		}
		n = sys_io_submit(t->ctx, EXT_WRITES, t->cbs);
		CHECK(n == EXT_WRITES, "round %u: io_submit: %d %s", r, n,
		      errno_name(errno));
		if (EXT_WRITES - dio_ring_ready(t->ctx) >= 2)
			racing++;
		CHECK_RET(t_reap(t->ctx, EXT_WRITES, t->ev), EXT_WRITES);
		for (k = 0; k < EXT_WRITES; k++)
			CHECK_RES(t->ev[k], q);
		writes += EXT_WRITES;
		end = start + (uint64_t)EXT_WRITES * q;
		dio_map_set(&map, start, end - start, DIO_SEED_NEW);
		gap_secs += (unsigned int)(gap / DIO_SECTOR);
		CHECK(!fstat(t->fd, &st) && (uint64_t)st.st_size == end,
		      "round %u: size %lld after writes up to %llu", r,
		      (long long)st.st_size, (unsigned long long)end);
		if (inject && gap && (r & 2)) {
			/* The gap shows the stale tail, as if not zeroed. */
			pat_fill(old, DIO_SECTOR, eof, DIO_SEED_OLD);
			CHECK(pwrite(bfd, old, DIO_SECTOR, (off_t)eof) ==
				      DIO_SECTOR,
			      "inject: pwrite");
			inject = false;
		}
		/* From the start of the old EOF's block: earlier data too. */
		ret = dio_check(t, t->fd, &map, 0, eof / bs * bs,
				end - eof / bs * bs, "O_DIRECT read");
		if (!ret)
			ret = dio_check(t, bfd, &map, 0, eof / bs * bs,
					end - eof / bs * bs, "buffered read");
		if (ret)
			goto out;
		eof = end;
	}
	/* The tail of the last block reads as zeros once inside i_size. */
	end = (eof / bs + 2) * bs;
	ret = set_size(t, t->fd, end);
	if (ret)
		goto out;
	CHECK(!t_drop_cache(bfd), "drop cache: %s", errno_name(errno));
	ret = dio_check(t, t->fd, &map, 0, 0, end, "O_DIRECT read, at the end");
	if (!ret)
		ret = dio_check(t, bfd, &map, 0, 0, end,
				"buffered read, at the end");
	if (ret)
		goto out;
	CHECK(tail_secs > 0, "no round wrote an old tail");
	t_diag(t,
	       "%u rounds on %s (block %u): %u sub-block writes of 512 and "
	       "1024 bytes, 4 per io_submit (still in flight together when "
	       "it returned: %u rounds; 0 when the filesystem serializes "
	       "them); %u gap sectors, %u sectors of truncated old tail (on "
	       "disk first) and %llu of the last block's tail read back as "
	       "zeros; %llu sectors checked",
	       rounds, dio_fs(t), bs, writes, racing, gap_secs, tail_secs,
	       (unsigned long long)((end - eof) / DIO_SECTOR),
	       (unsigned long long)(end / DIO_SECTOR));
out:
	if (bfd >= 0)
		close(bfd);
	free(old);
	dio_map_free(&map);
	return ret;
}
CONFORM_TEST(test_subblock_extend, "dio.subblock_extending_writes", T_FILE,
	     .ctx = 8, .iocbs = EXT_WRITES, .buf = EXT_WRITES * EXT_MAX_Q,
	     .file = { .name = "ext", .oflags = O_RDWR, .direct = T_DIRECT })

static int test_unaligned_pairs(struct tctx *t)
{
	unsigned int bs = 0, reps = t_scaled(1, 1), rep, pairs = 0;
	unsigned int racing = 0;
	uint64_t len, trunc, pos, size, last;
	struct dio_map map = { 0 };
	bool inject;
	char *buf = NULL;
	int ret, fd = -1, bfd = -1, n;

	ret = dio_subblock_ok(t, &bs);
	if (ret)
		goto out;
	len = 2 * (uint64_t)bs;
	trunc = len + DIO_SECTOR;
	last = DIO_SECTOR + len + bs;
	buf = t_alloc(2 * len);
	CHECK(buf, "out of memory");
	CHECK(!dio_map_init(&map, last + len), "out of memory");
	inject = dio_inject(t);
	for (rep = 0; rep < reps; rep++) {
		for (pos = 0; pos < last; pos += DIO_SECTOR) {
			fd = t_open(t, "pair",
				    O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
			CHECK(fd >= 0, "open: %s", errno_name(-fd));
			ret = set_size(t, fd, trunc);
			if (ret)
				goto out;
			pat_fill(buf, len, DIO_SECTOR, DIO_SEED_NEW);
			pat_fill(buf + len, len, pos, DIO_SEED_NEW);
			prep_rw(&t->cb[0], IOCB_CMD_PWRITE, fd, buf, len,
				DIO_SECTOR);
			prep_rw(&t->cb[1], IOCB_CMD_PWRITE, fd, buf + len, len,
				(int64_t)pos);
			n = sys_io_submit(t->ctx, 2, t->cbs);
			CHECK(n == 2, "io_submit: %d %s", n, errno_name(errno));
			racing += dio_ring_ready(t->ctx) == 0;
			CHECK_RET(t_reap(t->ctx, 2, t->ev), 2);
			CHECK_RES(t->ev[0], len);
			CHECK_RES(t->ev[1], len);
			size = pos + len > trunc ? pos + len : trunc;
			memset(map.seed, 0, map.nr * sizeof(*map.seed));
			dio_map_set(&map, DIO_SECTOR, len, DIO_SEED_NEW);
			dio_map_set(&map, pos, len, DIO_SEED_NEW);
			if (inject && pos == 3 * DIO_SECTOR) {
				/* The first write's last sector, zeroed by
				 * the second's partial block. */
				bfd = t_open(t, "pair", O_WRONLY);
				CHECK(bfd >= 0, "inject: open");
				memset(buf, 0, DIO_SECTOR);
				CHECK(pwrite(bfd, buf, DIO_SECTOR,
					     (off_t)len) == DIO_SECTOR,
				      "inject: pwrite");
				close(bfd);
				bfd = -1;
				inject = false;
			}
			ret = dio_check(t, fd, &map, 0, 0, size,
					"O_DIRECT read");
			if (ret) {
				t_diag(t,
				       "i_size %llu, writes of %llu at 512 "
				       "and at %llu",
				       (unsigned long long)trunc,
				       (unsigned long long)len,
				       (unsigned long long)pos);
				goto out;
			}
			close(fd);
			fd = -1;
			pairs++;
		}
	}
	t_diag(t,
	       "%u pairs on %s (block %u): i_size %llu, a write of %llu "
	       "bytes at 512 and one at each 512-byte position to %llu in "
	       "one io_submit (both still in flight when it returned: %u; "
	       "0 when the filesystem serializes them)",
	       pairs, dio_fs(t), bs, (unsigned long long)trunc,
	       (unsigned long long)len, (unsigned long long)(last - DIO_SECTOR),
	       racing);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	dio_map_free(&map);
	return ret;
}
CONFORM_TEST(test_unaligned_pairs, "dio.subblock_unaligned_pairs", T_FILE,
	     .ctx = 4, .iocbs = 2)

#define EOF_SIZE (8192 + 300)

static const struct {
	uint64_t off;
	size_t len;
	long res;
} eof_reads[] = {
	{ 7680, 512, 512 }, /* the last whole sector */
	{ 8192, 512, 300 }, /* the sector EOF is in */
	{ 7680, 1024, 812 }, /* across both */
	{ 8192, 4096, 300 }, /* a block over EOF */
	{ 8704, 512, 0 }, /* the next sector */
	{ 12288, 512, 0 }, /* the next block */
};

#define NR_EOF_READS (sizeof(eof_reads) / sizeof(eof_reads[0]))

static int test_read_at_eof(struct tctx *t)
{
	unsigned int bs = 0, i;
	struct iocb cb;
	struct io_event ev;
	bool inject;
	int ret, fd = -1, n;
	long bad;

	ret = dio_subblock_ok(t, &bs);
	if (ret)
		goto out;
	inject = dio_inject(t);
	if (inject)
		/* i_size 100 bytes short of what was written. */
		CHECK(!truncate("eof", EOF_SIZE - 100), "inject: truncate");
	for (i = 0; i < NR_EOF_READS; i++)
		prep_rw(&t->cb[i], IOCB_CMD_PREAD, t->fd, t->buf + i * 4096,
			eof_reads[i].len, (int64_t)eof_reads[i].off);
	n = sys_io_submit(t->ctx, NR_EOF_READS, t->cbs);
	CHECK(n == (int)NR_EOF_READS, "io_submit: %d %s", n, errno_name(errno));
	CHECK_RET(t_reap(t->ctx, NR_EOF_READS, t->ev), NR_EOF_READS);
	for (i = 0; i < NR_EOF_READS; i++) {
		struct iocb *c = (struct iocb *)(uintptr_t)t->ev[i].obj;
		unsigned int k = (unsigned int)(c - t->cb);

		CHECK(t->ev[i].res == eof_reads[k].res,
		      "%zu bytes at %llu of a %u-byte file: expected %ld, "
		      "got %lld",
		      eof_reads[k].len, (unsigned long long)eof_reads[k].off,
		      EOF_SIZE, eof_reads[k].res, (long long)t->ev[i].res);
		bad = pat_check(t->buf + k * 4096, (size_t)eof_reads[k].res,
				eof_reads[k].off, DIO_SEED_NEW);
		CHECK(bad < 0, "%zu bytes at %llu: wrong data at byte %ld",
		      eof_reads[k].len, (unsigned long long)eof_reads[k].off,
		      bad);
	}
	/* 300 bytes of hole: a short read of zeros. */
	fd = t_open(t, "hole300", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
	CHECK(fd >= 0, "open hole300: %s", errno_name(-fd));
	CHECK(!ftruncate(fd, 300), "ftruncate: %s", errno_name(errno));
	memset(t->buf, 0xee, 4096);
	prep_rw(&cb, IOCB_CMD_PREAD, fd, t->buf, 4096, 0);
	CHECK_RET(t_submit_wait(t->ctx, &cb, &ev), 0);
	CHECK_RES(ev, 300);
	for (i = 0; i < 300; i++)
		CHECK(!t->buf[i], "300 bytes of hole: byte %u is 0x%02x", i,
		      (unsigned char)t->buf[i]);
	t_diag(t, "%zu sub-block reads around EOF %u on %s (block %u)",
	       NR_EOF_READS + 1, EOF_SIZE, dio_fs(t), bs);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
CONFORM_TEST(test_read_at_eof, "dio.subblock_read_at_eof", T_FILE, .ctx = 8,
	     .iocbs = NR_EOF_READS, .buf = NR_EOF_READS * 4096,
	     .file = T_PATTERN_FILE("eof", EOF_SIZE, DIO_SEED_NEW, O_RDONLY,
				    .direct = T_DIRECT))
