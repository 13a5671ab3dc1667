/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the verify state file, which carries the generation of
 * every block (and each file's id) from the process that wrote the blocks
 * to a later one that reads them, so that the reader also finds stale
 * blocks.  Layout (all little-endian, docs/RESULTS-FORMAT.md):
 *
 *	"AIOSVSTA" u32 version (1) u32 number of files
 *	per file: u32 path length, the path (no NUL), u32 block bytes,
 *	          u64 number of blocks, u64 file id, u64 number of runs,
 *	          runs of (u64 count, u32 generation) covering the blocks
 *	u32 CRC-32C of everything before it
 *
 * Runs of equal generations keep a file written in one pass a few bytes.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verify.h"

#define STATE_MAGIC "AIOSVSTA"
#define STATE_VERSION 1u
#define STATE_MAX_BYTES (1ull << 30)
#define STATE_MAX_FILES 65536u
#define STATE_MAX_PATH 4096u
#define STATE_MAX_BLOCKS (1ull << 30)

/* A growing output buffer. */
struct obuf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static unsigned char *oreserve(struct obuf *o, size_t n)
{
	if (o->err)
		return NULL;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		unsigned char *p;

		while (cap < o->len + n)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->err = -ENOMEM;
			return NULL;
		}
		o->p = p;
		o->cap = cap;
	}
	o->len += n;
	return o->p + o->len - n;
}

static void oput(struct obuf *o, uint64_t v, int bytes)
{
	unsigned char *p = oreserve(o, (size_t)bytes);
	int i;

	for (i = 0; p && i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void obytes(struct obuf *o, const void *b, size_t n)
{
	unsigned char *p = oreserve(o, n);

	if (p)
		memcpy(p, b, n);
}

/* A cursor over the loaded bytes; any overrun sets bad. */
struct ibuf {
	const unsigned char *p;
	size_t len, at;
	bool bad;
};

static uint64_t iget(struct ibuf *in, int bytes)
{
	uint64_t v = 0;
	int i;

	if (in->bad || in->len - in->at < (size_t)bytes) {
		in->bad = true;
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)in->p[in->at + (size_t)i] << (8 * i);
	in->at += (size_t)bytes;
	return v;
}

static int encode(struct obuf *o, const struct verify_state *st)
{
	unsigned int i;

	obytes(o, STATE_MAGIC, 8);
	oput(o, STATE_VERSION, 4);
	oput(o, st->nr_files, 4);
	for (i = 0; i < st->nr_files; i++) {
		const struct verify_state_file *f = &st->files[i];
		size_t plen = strlen(f->path), runs_at;
		uint64_t b, runs = 0;

		oput(o, plen, 4);
		obytes(o, f->path, plen);
		oput(o, f->block_bytes, 4);
		oput(o, f->nr_blocks, 8);
		oput(o, f->file_id, 8);
		runs_at = o->len;
		oput(o, 0, 8); /* the number of runs, filled below */
		for (b = 0; b < f->nr_blocks;) {
			uint64_t n = 1;

			while (b + n < f->nr_blocks &&
			       f->gen[b + n] == f->gen[b])
				n++;
			oput(o, n, 8);
			oput(o, f->gen[b], 4);
			runs++;
			b += n;
		}
		if (o->err)
			return o->err;
		for (int k = 0; k < 8; k++)
			o->p[runs_at + (size_t)k] =
				(unsigned char)(runs >> (8 * k));
	}
	oput(o, verify_crc32c(0, o->p, o->len), 4);
	return o->err;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int verify_state_save(const char *path, const struct verify_state *st)
{
	struct obuf o = { 0 };
	char *tmp = NULL;
	int fd = -1, ret;

	ret = encode(&o, st);
	if (ret)
		goto out;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		tmp = NULL;
		ret = -ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, o.p, o.len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	fd = -1;
	if (!ret && rename(tmp, path))
		ret = -errno;
out:
	if (ret && tmp)
		unlink(tmp);
	free(tmp);
	free(o.p);
	return ret;
}

static int decode_file(struct ibuf *in, struct verify_state_file *f)
{
	uint64_t plen, runs, r, b = 0;

	plen = iget(in, 4);
	if (in->bad || plen == 0 || plen > STATE_MAX_PATH ||
	    in->len - in->at < plen)
		return -EBADMSG;
	f->path = strndup((const char *)in->p + in->at, (size_t)plen);
	if (!f->path)
		return -ENOMEM;
	in->at += (size_t)plen;
	f->block_bytes = (uint32_t)iget(in, 4);
	f->nr_blocks = iget(in, 8);
	f->file_id = iget(in, 8);
	runs = iget(in, 8);
	if (in->bad || f->block_bytes < VERIFY_MIN_BLOCK ||
	    f->block_bytes > VERIFY_MAX_BLOCK ||
	    f->nr_blocks > STATE_MAX_BLOCKS || runs > f->nr_blocks ||
	    runs * 12 > in->len - in->at)
		return -EBADMSG;
	f->gen = calloc(f->nr_blocks ? f->nr_blocks : 1, sizeof(*f->gen));
	if (!f->gen)
		return -ENOMEM;
	for (r = 0; r < runs; r++) {
		uint64_t n = iget(in, 8);
		uint32_t g = (uint32_t)iget(in, 4);

		if (in->bad || n == 0 || n > f->nr_blocks - b)
			return -EBADMSG;
		while (n--)
			f->gen[b++] = g;
	}
	return b == f->nr_blocks ? 0 : -EBADMSG;
}

static int decode(struct ibuf *in, struct verify_state *st)
{
	uint32_t crc;
	unsigned int i;
	int ret;

	if (in->len < 20 || memcmp(in->p, STATE_MAGIC, 8))
		return -EBADMSG;
	crc = (uint32_t)in->p[in->len - 4] | (uint32_t)in->p[in->len - 3] << 8 |
	      (uint32_t)in->p[in->len - 2] << 16 |
	      (uint32_t)in->p[in->len - 1] << 24;
	if (crc != verify_crc32c(0, in->p, in->len - 4))
		return -EBADMSG;
	in->len -= 4;
	in->at = 8;
	if (iget(in, 4) != STATE_VERSION)
		return -EBADMSG;
	st->nr_files = (unsigned int)iget(in, 4);
	if (st->nr_files > STATE_MAX_FILES)
		return -EBADMSG;
	st->files = calloc(st->nr_files ? st->nr_files : 1, sizeof(*st->files));
	if (!st->files)
		return -ENOMEM;
	for (i = 0; i < st->nr_files; i++) {
		ret = decode_file(in, &st->files[i]);
		if (ret)
			return ret;
	}
	return in->at == in->len ? 0 : -EBADMSG;
}

int verify_state_load(const char *path, struct verify_state *st)
{
	struct ibuf in = { 0 };
	unsigned char *p = NULL;
	struct stat sb;
	size_t got = 0;
	int fd, ret = 0;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		ret = -errno;
		goto out;
	}
	/* Only a regular file of a sane size: never a FIFO or a device. */
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > STATE_MAX_BYTES) {
		ret = -EBADMSG;
		goto out;
	}
	if (!sb.st_size) {
		ret = -ENODATA;
		goto out;
	}
	p = malloc((size_t)sb.st_size + 1);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, p + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EBADMSG;
			goto out;
		}
		got += (size_t)n;
	}
	in.p = p;
	in.len = got;
	ret = decode(&in, st);
out:
	close(fd);
	free(p);
	if (ret)
		verify_state_free(st);
	return ret;
}

void verify_state_free(struct verify_state *st)
{
	unsigned int i;

	for (i = 0; st->files && i < st->nr_files; i++) {
		free(st->files[i].path);
		free(st->files[i].gen);
	}
	free(st->files);
	memset(st, 0, sizeof(*st));
}

struct verify_state_file *verify_state_find(struct verify_state *st,
					    const char *path)
{
	struct verify_state_file *found = NULL;
	char *want, *have;
	unsigned int i;

	for (i = 0; i < st->nr_files; i++)
		if (!strcmp(st->files[i].path, path))
			return &st->files[i];
	/* The same file named another way (./f and f, a symlink). */
	want = realpath(path, NULL);
	for (i = 0; want && !found && i < st->nr_files; i++) {
		have = realpath(st->files[i].path, NULL);
		if (have && !strcmp(have, want))
			found = &st->files[i];
		free(have);
	}
	free(want);
	return found;
}
