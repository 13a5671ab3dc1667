/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: helpers of the dio group (dio.h): the hidden injection
 * hook, the sub-block O_DIRECT probe, the sector map of a file and its
 * check in the suite's block format, and a peek at a completion ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clock.h"
#include "dio.h"
#include "verify.h"

#define CHECK_CHUNK (1u << 20)
#define PROBE ".dio512-probe"

bool dio_inject(struct tctx *t)
{
	const char *pat = getenv(DIO_INJECT_ENV);

	if (!pat || !*pat || fnmatch(pat, t->test->name, 0))
		return false;
	t_diag(t, "%s: doing to the file what the bug would do",
	       DIO_INJECT_ENV);
	return true;
}

const char *dio_fs(const struct tctx *t)
{
	return t->var && t->var->fstype[0] ? t->var->fstype : "this filesystem";
}

int dio_subblock_ok(struct tctx *t, unsigned int *bs)
{
	char why[PATH_MAX + 64], *buf = NULL;
	struct statvfs sv;
	int fd, ret = T_PASS;
	ssize_t n;

	if (!t_odirect_ok(t, why, sizeof(why)))
		return t_skip(t, "%s", why);
	fd = t_open(t, PROBE, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
	if (fd < 0)
		return t_fail(t, __FILE__, __LINE__, "open the probe: %s",
			      errno_name(-fd));
	buf = t_alloc(DIO_SECTOR);
	if (!buf) {
		ret = t_fail(t, __FILE__, __LINE__, "out of memory");
		goto out;
	}
	pat_fill(buf, DIO_SECTOR, DIO_SECTOR, DIO_SEED_NEW);
	n = pwrite(fd, buf, DIO_SECTOR, DIO_SECTOR);
	if (n < 0 && errno == EINVAL) {
		ret = t_skip(t,
			     "512-byte O_DIRECT refused on %s (EINVAL): its "
			     "device's logical block is larger",
			     dio_fs(t));
		goto out;
	}
	if (n != DIO_SECTOR) {
		ret = t_fail(t, __FILE__, __LINE__,
			     "512-byte O_DIRECT write at 512: %zd %s", n,
			     n < 0 ? errno_name(errno) : "");
		goto out;
	}
	if (fstatvfs(fd, &sv)) {
		ret = t_fail(t, __FILE__, __LINE__, "fstatvfs: %s",
			     errno_name(errno));
		goto out;
	}
	*bs = (unsigned int)sv.f_bsize;
	if (*bs <= DIO_SECTOR)
		ret = t_skip(t,
			     "the block of %s is %u bytes: no I/O is "
			     "sub-block",
			     dio_fs(t), *bs);
out:
	free(buf);
	close(fd);
	unlink(PROBE); /* in the test's directory, its cwd */
	return ret;
}

bool dio_wait_change(const unsigned int *v, unsigned int old, uint64_t max_ns)
{
	uint64_t end = now_ns() + max_ns;
	unsigned int i;

	for (i = 1;; i++) {
		if (__atomic_load_n(v, __ATOMIC_SEQ_CST) != old)
			return true;
		if (i % 64 == 0) {
			if (now_ns() >= end)
				return false;
			sched_yield();
		}
	}
}

unsigned int dio_ring_ready(aio_context_t ctx)
{
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	unsigned int head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	unsigned int tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return tail >= head ? tail - head : tail + r->nr - head;
}

int dio_map_init(struct dio_map *m, uint64_t bytes)
{
	m->nr = (bytes + DIO_SECTOR - 1) / DIO_SECTOR;
	m->seed = calloc(m->nr ? m->nr : 1, sizeof(*m->seed));
	return m->seed ? 0 : -ENOMEM;
}

void dio_map_free(struct dio_map *m)
{
	free(m->seed);
	m->seed = NULL;
	m->nr = 0;
}

void dio_map_set(struct dio_map *m, uint64_t off, uint64_t len, uint32_t seed)
{
	uint64_t s;

	for (s = off / DIO_SECTOR; s < (off + len) / DIO_SECTOR && s < m->nr;
	     s++)
		m->seed[s] = seed;
}

static bool all_zero(const void *p, size_t len)
{
	const char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

static const char *seed_name(uint64_t seed)
{
	switch (seed) {
	case DIO_SEED_OLD:
		return " (the old data)";
	case DIO_SEED_NEW:
		return " (the new data)";
	case DIO_SEED_ALT:
		return " (the other new data)";
	default:
		return "";
	}
}

void dio_describe(const void *sec, uint64_t off, char *out, size_t len)
{
	struct verify_report rep;
	char what[256];

	if (all_zero(sec, DIO_SECTOR)) {
		snprintf(out, len, "zeros");
		return;
	}
	if (verify_check(sec, DIO_SECTOR, off, 0, 0, &rep) == VERIFY_OK) {
		snprintf(out, len, "the data of seed 0x%llx%s",
			 (unsigned long long)rep.found_id,
			 seed_name(rep.found_id));
		return;
	}
	snprintf(out, len, "%s", verify_describe(&rep, what, sizeof(what)));
}

static void expected(uint32_t seed, char *out, size_t len)
{
	if (!seed)
		snprintf(out, len, "zeros");
	else
		snprintf(out, len, "the data of seed 0x%x%s", seed,
			 seed_name(seed));
}

int dio_check_at(struct tctx *t, const char *file, int line, int fd,
		 const struct dio_map *m, uint32_t seed, uint64_t off,
		 uint64_t len, const char *via)
{
	char *buf = t_alloc(len < CHECK_CHUNK ? len : CHECK_CHUNK);
	char want[96], seen[320];
	uint64_t done = 0;
	int ret = T_PASS;

	if (!buf)
		return t_fail(t, file, line, "out of memory");
	while (done < len) {
		size_t n = len - done < CHECK_CHUNK ? (size_t)(len - done) :
						      CHECK_CHUNK;
		uint64_t at = off + done, s;
		ssize_t r = pread(fd, buf, n, (off_t)at);

		if (r != (ssize_t)n) {
			ret = t_fail(t, file, line,
				     "%s of %zu bytes at %llu: %zd %s", via, n,
				     (unsigned long long)at, r,
				     r < 0 ? errno_name(errno) : "(short)");
			break;
		}
		for (s = 0; s < n; s += DIO_SECTOR) {
			uint64_t sec = (at + s) / DIO_SECTOR;
			uint32_t w = m ? (sec < m->nr ? m->seed[sec] : 0) :
					 seed;
			const char *p = buf + s;
			bool ok = w ? pat_check(p, DIO_SECTOR, at + s, w) < 0 :
				      all_zero(p, DIO_SECTOR);

			if (ok)
				continue;
			expected(w, want, sizeof(want));
			dio_describe(p, at + s, seen, sizeof(seen));
			ret = t_fail(t, file, line,
				     "%s: the sector at %llu should hold %s, "
				     "it holds %s",
				     via, (unsigned long long)(at + s), want,
				     seen);
			goto out;
		}
		done += n;
	}
out:
	free(buf);
	return ret;
}
