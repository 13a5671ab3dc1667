/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: self-describing blocks.  A good block checks OK; a zeroed
 * block, one from another offset, an older or newer generation, a block
 * torn between two writes and random bytes are each classified as such,
 * with the report saying where the block was and what its header claimed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"
#include "verify.h"

#define BS 4096
#define OFF (1ull << 33) /* beyond 4 GiB: offsets are 64-bit */

static unsigned char blk[BS], other[BS];

static const size_t sizes[] = { VERIFY_MIN_BLOCK, 512, 520, BS };

UNIT_TEST(good_block_is_ok)
{
	struct verify_report rep;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		verify_fill(blk, sizes[i], OFF, 5);
		EXPECT_EQ(VERIFY_OK, verify_check(blk, sizes[i], OFF, 5, &rep));
		EXPECT_EQ(VERIFY_OK, rep.result);
		EXPECT_EQ(OFF, rep.offset);
		EXPECT_EQ(OFF, rep.found_offset);
		EXPECT_EQ(5, rep.found_gen);
		EXPECT_EQ(5, rep.expected_gen);
	}
}

/* The stored checksum is verify_checksum() of the block, field zeroed. */
UNIT_TEST(checksum_covers_block_with_field_zero)
{
	struct verify_hdr hdr;

	verify_fill(blk, BS, OFF, 9);
	memcpy(&hdr, blk, sizeof(hdr));
	EXPECT_TRUE(hdr.magic == VERIFY_MAGIC);
	EXPECT_EQ(OFF, hdr.offset);
	EXPECT_EQ(9, hdr.generation);
	memcpy(other, blk, BS);
	memset(other + offsetof(struct verify_hdr, checksum), 0,
	       sizeof(hdr.checksum));
	EXPECT_TRUE(hdr.checksum == verify_checksum(other, BS));
	/* FNV-1a of nothing is its offset basis. */
	EXPECT_TRUE(verify_checksum(other, 0) == 0xcbf29ce484222325ull);
}

/* The body depends on both offset and generation. */
UNIT_TEST(pattern_depends_on_offset_and_generation)
{
	size_t h = sizeof(struct verify_hdr);

	verify_fill(blk, BS, OFF, 1);
	verify_fill(other, BS, OFF + BS, 1);
	EXPECT_TRUE(memcmp(blk + h, other + h, BS - h) != 0);
	verify_fill(other, BS, OFF, 2);
	EXPECT_TRUE(memcmp(blk + h, other + h, BS - h) != 0);
	verify_fill(other, BS, OFF, 1);
	EXPECT_TRUE(memcmp(blk, other, BS) == 0);
}

UNIT_TEST(zeroed_block)
{
	struct verify_report rep;

	memset(blk, 0, BS);
	EXPECT_EQ(VERIFY_ZERO, verify_check(blk, BS, OFF, 3, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(3, rep.expected_gen);
	EXPECT_EQ(0, rep.found_offset);
	EXPECT_EQ(0, rep.found_gen);
}

UNIT_TEST(block_from_another_offset_is_misplaced)
{
	struct verify_report rep;

	verify_fill(blk, BS, OFF + 3 * BS, 4);
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, 4, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF + 3 * BS, rep.found_offset);
	EXPECT_EQ(4, rep.found_gen);
	EXPECT_EQ(4, rep.expected_gen);
	/* Misplaced whatever its generation. */
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, 0, &rep));
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, 9, &rep));
}

UNIT_TEST(older_generation_is_stale)
{
	struct verify_report rep;

	verify_fill(blk, BS, OFF, 3);
	EXPECT_EQ(VERIFY_STALE, verify_check(blk, BS, OFF, 5, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF, rep.found_offset);
	EXPECT_EQ(3, rep.found_gen);
	EXPECT_EQ(5, rep.expected_gen);
}

UNIT_TEST(newer_generation_is_future)
{
	struct verify_report rep;

	verify_fill(blk, BS, OFF, 7);
	EXPECT_EQ(VERIFY_FUTURE, verify_check(blk, BS, OFF, 5, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF, rep.found_offset);
	EXPECT_EQ(7, rep.found_gen);
	EXPECT_EQ(5, rep.expected_gen);
}

UNIT_TEST(generation_zero_accepts_any)
{
	struct verify_report rep;
	uint64_t g;

	for (g = 1; g < 1000; g += 97) {
		verify_fill(blk, BS, OFF, g);
		EXPECT_EQ(VERIFY_OK, verify_check(blk, BS, OFF, 0, &rep));
		EXPECT_EQ(g, rep.found_gen);
		EXPECT_EQ(0, rep.expected_gen);
	}
	verify_fill(blk, BS, OFF, UINT64_MAX);
	EXPECT_EQ(VERIFY_OK, verify_check(blk, BS, OFF, 0, &rep));
}

/* First half from generation 2, second half from generation 3. */
UNIT_TEST(half_from_another_write_is_torn)
{
	struct verify_report rep;

	verify_fill(blk, BS, OFF, 2);
	verify_fill(other, BS, OFF, 3);
	memcpy(blk + BS / 2, other + BS / 2, BS / 2);
	EXPECT_EQ(VERIFY_TORN, verify_check(blk, BS, OFF, 2, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF, rep.found_offset);
	EXPECT_EQ(2, rep.found_gen);
	EXPECT_EQ(2, rep.expected_gen);

	/* The same with the second half from another offset. */
	verify_fill(blk, BS, OFF, 2);
	verify_fill(other, BS, OFF + BS, 2);
	memcpy(blk + BS / 2, other + BS / 2, BS / 2);
	EXPECT_EQ(VERIFY_TORN, verify_check(blk, BS, OFF, 2, &rep));

	/* And a sector's worth of zeroes at the end. */
	verify_fill(blk, BS, OFF, 2);
	memset(blk + BS - 512, 0, 512);
	EXPECT_EQ(VERIFY_TORN, verify_check(blk, BS, OFF, 2, &rep));
}

/* Any single flipped bit, header fields included, is caught. */
UNIT_TEST(flipped_bit_is_torn)
{
	struct verify_report rep;
	size_t bit, magic_bits = 8 * sizeof(uint64_t);
	int bad = 0;

	for (bit = magic_bits; bit < 8 * VERIFY_MIN_BLOCK; bit++) {
		verify_fill(blk, VERIFY_MIN_BLOCK, OFF, 6);
		blk[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		if (verify_check(blk, VERIFY_MIN_BLOCK, OFF, 6, &rep) !=
		    VERIFY_TORN)
			bad++;
	}
	EXPECT_EQ(0, bad);
}

UNIT_TEST(random_bytes_are_garbage)
{
	struct verify_report rep;
	size_t i;

	srand48(11);
	for (i = 0; i < BS; i++)
		blk[i] = (unsigned char)lrand48();
	EXPECT_EQ(VERIFY_GARBAGE, verify_check(blk, BS, OFF, 1, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(1, rep.expected_gen);
	EXPECT_EQ(0, rep.found_offset);
	EXPECT_EQ(0, rep.found_gen);

	/* One stray byte in an otherwise empty block is not "zero". */
	memset(blk, 0, BS);
	blk[BS - 1] = 1;
	EXPECT_EQ(VERIFY_GARBAGE, verify_check(blk, BS, OFF, 1, &rep));
}

UNIT_TEST(fill_range_offsets)
{
	enum { NR = 16, BSZ = 512 };
	static unsigned char buf[NR * BSZ + 100];
	struct verify_report rep;
	uint64_t off = 1ull << 40;
	int i;

	memset(buf, 0xaa, sizeof(buf));
	verify_fill_range(buf, NR * BSZ, BSZ, off, 8);
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(VERIFY_OK,
			  verify_check(buf + i * BSZ, BSZ,
				       off + (uint64_t)i * BSZ, 8, &rep));
		verify_fill(blk, BSZ, off + (uint64_t)i * BSZ, 8);
		EXPECT_TRUE(memcmp(blk, buf + i * BSZ, BSZ) == 0);
	}
	/* Read back one block off: every block is misplaced by one. */
	EXPECT_EQ(VERIFY_MISPLACED,
		  verify_check(buf + BSZ, BSZ, off + 2 * BSZ, 8, &rep));
	EXPECT_EQ(off + BSZ, rep.found_offset);
	/* Nothing written past the range. */
	EXPECT_EQ(0xaa, buf[NR * BSZ]);

	/* A partial block at the end of the range is zeroed. */
	memset(buf, 0xaa, sizeof(buf));
	verify_fill_range(buf, 2 * BSZ + 100, BSZ, off, 8);
	EXPECT_EQ(VERIFY_OK, verify_check(buf + BSZ, BSZ, off + BSZ, 8, &rep));
	EXPECT_EQ(0, buf[2 * BSZ]);
	EXPECT_EQ(0, buf[2 * BSZ + 99]);
	EXPECT_EQ(0xaa, buf[2 * BSZ + 100]);
}

UNIT_TEST(result_names)
{
	EXPECT_TRUE(!strcmp("ok", verify_result_name(VERIFY_OK)));
	EXPECT_TRUE(!strcmp("zero", verify_result_name(VERIFY_ZERO)));
	EXPECT_TRUE(!strcmp("misplaced", verify_result_name(VERIFY_MISPLACED)));
	EXPECT_TRUE(!strcmp("stale", verify_result_name(VERIFY_STALE)));
	EXPECT_TRUE(!strcmp("future", verify_result_name(VERIFY_FUTURE)));
	EXPECT_TRUE(!strcmp("torn", verify_result_name(VERIFY_TORN)));
	EXPECT_TRUE(!strcmp("garbage", verify_result_name(VERIFY_GARBAGE)));
	EXPECT_TRUE(!strcmp("unknown", verify_result_name(VERIFY_GARBAGE + 1)));
}

UNIT_MAIN()
