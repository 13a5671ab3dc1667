/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-describing data blocks (see verify.h).
 *
 * Layout of a block of bsize bytes (bsize >= VERIFY_MIN_BLOCK, a multiple
 * of 8): a struct verify_hdr in host byte order, then 64-bit words from a
 * splitmix64 sequence seeded by (offset, generation).  The checksum covers
 * the whole block with the checksum field taken as zero, so any byte that
 * came from another write shows up as a mismatch.
 */
#include <stdbool.h>
#include <string.h>

#include "verify.h"

#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define GOLDEN 0x9e3779b97f4a7c15ull
#define CSUM_WORD (offsetof(struct verify_hdr, checksum) / 8)

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline void store64(unsigned char *p, uint64_t w)
{
	memcpy(p, &w, sizeof(w));
}

/* The splitmix64 output function. */
static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t fnv_word(uint64_t h, uint64_t w)
{
	return (h ^ w) * FNV_PRIME;
}

/* FNV-1a over whole words, then over the bytes of a tail if any. */
static uint64_t fnv_run(uint64_t h, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		h = fnv_word(h, load64(p + i));
	for (; i < len; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

uint64_t verify_checksum(const void *buf, size_t len)
{
	return fnv_run(FNV_BASIS, buf, len);
}

/* The checksum of a block as if its checksum field were zero. */
static uint64_t block_checksum(const unsigned char *b, size_t bsize)
{
	size_t at = CSUM_WORD * 8;
	uint64_t h;

	h = fnv_run(FNV_BASIS, b, at);
	h = fnv_word(h, 0);
	return fnv_run(h, b + at + 8, bsize - at - 8);
}

void verify_fill(void *block, size_t bsize, uint64_t offset, uint64_t gen)
{
	unsigned char *b = block;
	struct verify_hdr hdr = {
		.magic = VERIFY_MAGIC,
		.offset = offset,
		.generation = gen,
		.checksum = 0,
	};
	uint64_t state, w;
	size_t i;

	if (bsize < sizeof(hdr)) {
		memset(b, 0, bsize);
		return;
	}
	state = mix64(offset + GOLDEN) ^ mix64(gen ^ (GOLDEN >> 1));
	for (i = sizeof(hdr); i < bsize; i += 8) {
		state += GOLDEN;
		w = mix64(state);
		if (bsize - i >= 8)
			store64(b + i, w);
		else
			memcpy(b + i, &w, bsize - i);
	}
	memcpy(b, &hdr, sizeof(hdr));
	hdr.checksum = block_checksum(b, bsize);
	memcpy(b + offsetof(struct verify_hdr, checksum), &hdr.checksum,
	       sizeof(hdr.checksum));
}

void verify_fill_range(void *buf, size_t len, size_t bsize, uint64_t off,
		       uint64_t gen)
{
	unsigned char *b = buf;
	size_t done;

	if (bsize == 0)
		return;
	for (done = 0; len - done >= bsize; done += bsize)
		verify_fill(b + done, bsize, off + done, gen);
	/* A partial block at the end is not a block: zero it. */
	memset(b + done, 0, len - done);
}

static bool all_zero(const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		if (load64(b + i))
			return false;
	for (; i < len; i++)
		if (b[i])
			return false;
	return true;
}

enum verify_result verify_check(const void *block, size_t bsize, uint64_t off,
				uint64_t gen, struct verify_report *rep)
{
	const unsigned char *b = block;
	struct verify_hdr hdr;
	enum verify_result r;

	memset(rep, 0, sizeof(*rep));
	rep->offset = off;
	rep->expected_gen = gen;

	if (all_zero(b, bsize)) {
		rep->result = VERIFY_ZERO;
		return rep->result;
	}
	if (bsize < sizeof(hdr)) {
		rep->result = VERIFY_GARBAGE;
		return rep->result;
	}
	memcpy(&hdr, b, sizeof(hdr));
	if (hdr.magic != VERIFY_MAGIC) {
		rep->result = VERIFY_GARBAGE;
		return rep->result;
	}
	/* The header is ours: say what it claims, even if torn. */
	rep->found_offset = hdr.offset;
	rep->found_gen = hdr.generation;

	if (hdr.checksum != block_checksum(b, bsize))
		r = VERIFY_TORN;
	else if (hdr.offset != off)
		r = VERIFY_MISPLACED;
	else if (gen != 0 && hdr.generation < gen)
		r = VERIFY_STALE;
	else if (gen != 0 && hdr.generation > gen)
		r = VERIFY_FUTURE;
	else
		r = VERIFY_OK;
	rep->result = r;
	return r;
}

const char *verify_result_name(enum verify_result r)
{
	static const char *const names[] = {
		[VERIFY_OK] = "ok",
		[VERIFY_ZERO] = "zero",
		[VERIFY_MISPLACED] = "misplaced",
		[VERIFY_STALE] = "stale",
		[VERIFY_FUTURE] = "future",
		[VERIFY_TORN] = "torn",
		[VERIFY_GARBAGE] = "garbage",
	};

	if ((unsigned int)r >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[r];
}
