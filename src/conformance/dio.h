/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: what the dio group's tests share (dio_common.c): the
 * sub-block O_DIRECT probe, a map of what each 512-byte sector of a file
 * should hold and its check, the completions already in a ring, the
 * variant's name, and the hidden hook that makes a test see the damage a
 * broken kernel would do.
 *
 * The group reproduces, as our own tests, what xfstests' aio-dio-regress
 * programs check: O_DIRECT writes racing fcntl(F_SETFL) (CVE-2014-8086),
 * sub-block and unaligned O_DIRECT (generic/114, 427, 538), O_DIRECT
 * against the page cache and reflinks (generic/208, 451, 463, 465, 586)
 * and, at scale, the races of aio-dio-extend-stat and
 * aio-dio-hole-filling-race.
 */
#ifndef AIO_CONFORM_DIO_H
#define AIO_CONFORM_DIO_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

/* The seeds of the data the tests write (src/lib/verify.h file ids). */
#define DIO_SEED_OLD 0x0d01 /* there before: stale if it shows again */
#define DIO_SEED_NEW 0x0d02 /* what the test's writes put there */
#define DIO_SEED_ALT 0x0d03 /* a second generation of new data */

/* The sector the group's sub-block I/O is sized in. */
#define DIO_SECTOR 512u

/*
 * The hidden hook: when the environment's AIO_CONFORM_INJECT matches the
 * test's name (fnmatch), the test itself does to its file what the bug it
 * looks for would do (stale data in a zeroed tail, a lost write, a short
 * i_size), so that its check can be seen to fail.  Says so in a diagnostic.
 */
#define DIO_INJECT_ENV "AIO_CONFORM_INJECT"
bool dio_inject(struct tctx *t);

/* The variant's filesystem type, or "this filesystem". */
const char *dio_fs(const struct tctx *t);

/*
 * Whether this variant takes 512-byte O_DIRECT writes at a 512-byte
 * offset, found on a probe file; T_PASS with the filesystem's block size
 * in *bs, else a skip with the reason (O_DIRECT refused, a logical block
 * larger than 512 bytes, a filesystem block of 512 bytes: no sub-block).
 */
int dio_subblock_ok(struct tctx *t, unsigned int *bs);

/*
 * Wait, spinning and now and then yielding, for another thread to change
 * *v from old: true, or false after max_ns (it did not run meanwhile).
 * For the race tests' preconditions only, never a verdict.
 */
bool dio_wait_change(const unsigned int *v, unsigned int old, uint64_t max_ns);

/* Completions in ctx's ring not yet reaped (inline ones, after a submit). */
unsigned int dio_ring_ready(aio_context_t ctx);

/* What each DIO_SECTOR of a file should hold: 0 zeros, else a seed. */
struct dio_map {
	uint32_t *seed;
	uint64_t nr; /* sectors */
};

/* For bytes bytes of file: 0 or -ENOMEM. */
int dio_map_init(struct dio_map *m, uint64_t bytes);
void dio_map_free(struct dio_map *m);
/* [off, off + len), sector multiples, hold seed (0: zeros). */
void dio_map_set(struct dio_map *m, uint64_t off, uint64_t len, uint32_t seed);

/* What a sector read from off holds, for a message ("zeros", ...). */
void dio_describe(const void *sec, uint64_t off, char *out, size_t len);

/*
 * Read [off, off + len) of fd (sector multiples; fd may be O_DIRECT) and
 * compare each sector with the map, or with seed when m is NULL: T_PASS,
 * or a failure naming via ("O_DIRECT read", "buffered read"), the first
 * wrong sector, what it should hold and what it holds (at the caller's
 * file and line).
 */
#define dio_check(t, ...) dio_check_at(t, __FILE__, __LINE__, __VA_ARGS__)
int dio_check_at(struct tctx *t, const char *file, int line, int fd,
		 const struct dio_map *m, uint32_t seed, uint64_t off,
		 uint64_t len, const char *via);

#endif
