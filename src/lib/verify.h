/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-describing data blocks.  Every block written under verification
 * carries a header with a magic, its own file offset, a generation number
 * and a checksum of the whole block; the rest is a pattern derived from
 * (offset, generation).  A block read back is then classified:
 *
 *	VERIFY_OK         header and body match what was expected
 *	VERIFY_ZERO       the block is all zeroes (never written, or lost)
 *	VERIFY_MISPLACED  a valid block that belongs at another offset
 *	VERIFY_STALE      a valid block of an older generation
 *	VERIFY_FUTURE     a valid block of a newer generation than expected
 *	VERIFY_TORN       the header is ours but the checksum does not match:
 *	                  part of the block is from another write
 *	VERIFY_GARBAGE    no header at all
 */
#ifndef AIO_SUITE_VERIFY_H
#define AIO_SUITE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#define VERIFY_MAGIC 0x5946525653494f41ull /* "AIOSVRFY" little-endian */
#define VERIFY_MIN_BLOCK 64u

enum verify_result {
	VERIFY_OK = 0,
	VERIFY_ZERO,
	VERIFY_MISPLACED,
	VERIFY_STALE,
	VERIFY_FUTURE,
	VERIFY_TORN,
	VERIFY_GARBAGE,
};

struct verify_hdr {
	uint64_t magic;
	uint64_t offset;
	uint64_t generation;
	uint64_t checksum; /* over the block with this field zero */
};

/* Fill one block of bsize bytes for (offset, generation). */
void verify_fill(void *block, size_t bsize, uint64_t offset, uint64_t gen);
/* Fill len bytes (a multiple of bsize) starting at file offset off. */
void verify_fill_range(void *buf, size_t len, size_t bsize, uint64_t off,
		       uint64_t gen);

struct verify_report {
	enum verify_result result;
	uint64_t offset; /* file offset of the bad block */
	uint64_t found_offset; /* what its header said (misplaced) */
	uint64_t found_gen; /* what its header said (stale, future) */
	uint64_t expected_gen;
};

/*
 * Check one block read from file offset off against generation gen
 * (gen 0: any generation is accepted).  Fills rep; returns rep->result.
 */
enum verify_result verify_check(const void *block, size_t bsize, uint64_t off,
				uint64_t gen, struct verify_report *rep);
const char *verify_result_name(enum verify_result r);

/* A checksum (64-bit FNV-1a variant over 8-byte words). */
uint64_t verify_checksum(const void *buf, size_t len);

#endif
