/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: self-describing blocks (src/lib/verify.c) and the verify
 * state file.  The header's byte layout is pinned by golden bytes, so the
 * format cannot drift silently; CRC-32C is checked against the published
 * check values and a bit-at-a-time reference; every classification
 * (ok, zero, garbage, bad_header, wrong_length, torn, misplaced, foreign,
 * stale, future) is produced by the damage it names, with the report
 * saying where the block was and what its header claimed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "verify.h"

#define BS 4096
#define OFF (1ull << 33) /* beyond 4 GiB: offsets are 64-bit */
#define ID 0x0123456789abcdefull

static unsigned char blk[BS], other[BS];

static const size_t sizes[] = { VERIFY_MIN_BLOCK, 100, 512, 520, BS };

/* CRC-32C one bit at a time: the definition, to check the fast one. */
static uint32_t crc_ref(const unsigned char *p, size_t len)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (len--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

UNIT_TEST(crc32c_check_values)
{
	unsigned char b[64];
	size_t i;

	/* The CRC catalogue's check value, and RFC 3720's examples. */
	EXPECT_EQ(0xe3069283u, verify_crc32c(0, "123456789", 9));
	memset(b, 0, 32);
	EXPECT_EQ(0x8a9136aau, verify_crc32c(0, b, 32));
	memset(b, 0xff, 32);
	EXPECT_EQ(0x62a8ab43u, verify_crc32c(0, b, 32));
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	EXPECT_EQ(0x46dd794eu, verify_crc32c(0, b, 32));
	/* Every length and alignment against the reference; chaining. */
	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(i * 37 + 11);
	for (i = 0; i <= sizeof(b); i++) {
		EXPECT_EQ(crc_ref(b, i), verify_crc32c(0, b, i));
		EXPECT_EQ(crc_ref(b, sizeof(b)),
			  verify_crc32c(verify_crc32c(0, b, i), b + i,
					sizeof(b) - i));
	}
}

/* The header's bytes, field by field: little-endian whatever the host. */
UNIT_TEST(header_golden_layout)
{
	static const unsigned char golden[VERIFY_HDR_BYTES] = {
		'A',  'I',  'O',  'S',	'V',  'B',  'L',  'K', /* magic */
		0x01, 0x00, /* version 1 */
		0x30, 0x00, /* header bytes 48 */
		0x00, 0x10, 0x00, 0x00, /* block bytes 4096 */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* offset */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* file id */
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* generation */
		0xef, 0xbe, 0xad, 0xde, /* data CRC */
		0xba, 0xda, 0xdc, 0x58, /* header CRC */
	};
	struct verify_hdr h = {
		.version = 1,
		.hdr_bytes = 48,
		.block_bytes = 4096,
		.offset = 0x0102030405060708ull,
		.file_id = 0x1122334455667788ull,
		.generation = 3,
		.data_crc = 0xdeadbeef,
	}, d;
	unsigned char out[VERIFY_HDR_BYTES];
	size_t i;

	verify_hdr_encode(&h, out);
	for (i = 0; i < sizeof(out); i++)
		if (out[i] != golden[i])
			UNIT_FAIL("header byte %zu: 0x%02x, golden 0x%02x", i,
				  out[i], golden[i]);
	/* The header CRC is CRC-32C of bytes [0, 44). */
	EXPECT_EQ(crc_ref(golden, 44), h.hdr_crc);
	EXPECT_EQ(0x58dcdabau, h.hdr_crc);

	EXPECT_EQ(VERIFY_OK, verify_hdr_decode(golden, &d));
	EXPECT_EQ(1, d.version);
	EXPECT_EQ(48, d.hdr_bytes);
	EXPECT_EQ(4096, d.block_bytes);
	EXPECT_TRUE(d.offset == 0x0102030405060708ull);
	EXPECT_TRUE(d.file_id == 0x1122334455667788ull);
	EXPECT_EQ(3, d.generation);
	EXPECT_EQ(0xdeadbeefu, d.data_crc);
	EXPECT_EQ(0x58dcdabau, d.hdr_crc);
}

/* A whole 64-byte block: the header and the data pattern are pinned. */
UNIT_TEST(block_golden_bytes)
{
	static const unsigned char golden[64] = {
		0x41, 0x49, 0x4f, 0x53, 0x56, 0x42, 0x4c, 0x4b, /* magic */
		0x01, 0x00, 0x30, 0x00, 0x40, 0x00, 0x00, 0x00, /* 64 bytes */
		0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* at 8192 */
		0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, /* file id */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* gen 2 */
		0xfc, 0xd1, 0xa7, 0x6f, 0xf0, 0x2c, 0xde, 0x08, /* CRCs */
		0x64, 0x0b, 0x2e, 0x85, 0x96, 0x41, 0xcb, 0x12, /* data */
		0x75, 0xc9, 0x7d, 0x43, 0xe0, 0x59, 0xc1, 0x26,
	};
	unsigned char b[64];
	size_t i;

	verify_fill(b, sizeof(b), 8192, 0xa5a5a5a5a5a5a5a5ull, 2);
	for (i = 0; i < sizeof(b); i++)
		if (b[i] != golden[i])
			UNIT_FAIL("block byte %zu: 0x%02x, golden 0x%02x", i,
				  b[i], golden[i]);
	EXPECT_EQ(crc_ref(golden + 48, 16), 0x6fa7d1fcu);
	/* A larger block: its pattern is pinned through its CRC. */
	verify_fill(blk, BS, OFF, 42, 7);
	EXPECT_EQ(0xee7e6319u, verify_crc32c(0, blk, BS));
}

UNIT_TEST(good_block_is_ok)
{
	struct verify_report rep;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		verify_fill(blk, sizes[i], OFF, ID, 5);
		EXPECT_EQ(VERIFY_OK,
			  verify_check(blk, sizes[i], OFF, ID, 5, &rep));
		EXPECT_EQ(VERIFY_OK, rep.result);
		EXPECT_EQ(OFF, rep.offset);
		EXPECT_EQ(OFF, rep.found_offset);
		EXPECT_TRUE(rep.found_id == ID);
		EXPECT_EQ(5, rep.found_gen);
		EXPECT_EQ(5, rep.expected_gen);
		EXPECT_EQ(sizes[i], rep.found_bytes);
	}
}

/* The data depends on offset, file id and generation. */
UNIT_TEST(pattern_depends_on_offset_id_and_generation)
{
	size_t h = VERIFY_HDR_BYTES;

	verify_fill(blk, BS, OFF, ID, 1);
	verify_fill(other, BS, OFF + BS, ID, 1);
	EXPECT_TRUE(memcmp(blk + h, other + h, BS - h) != 0);
	verify_fill(other, BS, OFF, ID, 2);
	EXPECT_TRUE(memcmp(blk + h, other + h, BS - h) != 0);
	verify_fill(other, BS, OFF, ID + 1, 1);
	EXPECT_TRUE(memcmp(blk + h, other + h, BS - h) != 0);
	verify_fill(other, BS, OFF, ID, 1);
	EXPECT_TRUE(memcmp(blk, other, BS) == 0);
}

UNIT_TEST(zeroed_block)
{
	struct verify_report rep;

	memset(blk, 0, BS);
	EXPECT_EQ(VERIFY_ZERO, verify_check(blk, BS, OFF, ID, 3, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(3, rep.expected_gen);
	EXPECT_EQ(0, rep.found_offset);
	EXPECT_EQ(0, rep.found_gen);
	/* Whatever the reader knows. */
	EXPECT_EQ(VERIFY_ZERO, verify_check(blk, BS, OFF, 0, 0, &rep));
}

UNIT_TEST(random_bytes_are_garbage)
{
	struct verify_report rep;
	size_t i;

	srand48(11);
	for (i = 0; i < BS; i++)
		blk[i] = (unsigned char)lrand48();
	EXPECT_EQ(VERIFY_GARBAGE, verify_check(blk, BS, OFF, ID, 1, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(1, rep.expected_gen);
	EXPECT_EQ(0, rep.found_offset);
	EXPECT_EQ(0, rep.found_gen);
	EXPECT_EQ(0, rep.found_bytes);

	/* One stray byte in an otherwise empty block is not "zero". */
	memset(blk, 0, BS);
	blk[BS - 1] = 1;
	EXPECT_EQ(VERIFY_GARBAGE, verify_check(blk, BS, OFF, 0, 0, &rep));
	/* Nor is a block too short to hold a header. */
	EXPECT_EQ(VERIFY_GARBAGE, verify_check(blk + BS - 8, 8, 0, 0, 0, &rep));
}

UNIT_TEST(damaged_header_is_bad_header)
{
	struct verify_report rep;
	struct verify_hdr h;
	char line[256];

	/* A generation changed without its CRC: the header is damaged. */
	verify_fill(blk, BS, OFF, ID, 4);
	blk[32] ^= 0x08;
	EXPECT_EQ(VERIFY_BAD_HEADER, verify_check(blk, BS, OFF, ID, 4, &rep));
	EXPECT_EQ(12, rep.found_gen); /* what the damaged header says */
	EXPECT_TRUE(rep.stored_crc != rep.computed_crc);
	verify_describe(&rep, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "bad_header (header CRC") == line);

	/* A valid CRC over an unknown format version is not ours either. */
	verify_fill(blk, BS, OFF, ID, 4);
	ASSERT_EQ(VERIFY_OK, verify_hdr_decode(blk, &h));
	h.version = 2;
	verify_hdr_encode(&h, blk);
	EXPECT_EQ(VERIFY_BAD_HEADER, verify_hdr_decode(blk, &h));
	EXPECT_EQ(VERIFY_BAD_HEADER, verify_check(blk, BS, OFF, ID, 4, &rep));
	EXPECT_EQ(2, rep.found_version);
	verify_describe(&rep, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "format version 2") != NULL);
}

UNIT_TEST(block_of_another_length_is_wrong_length)
{
	struct verify_report rep;
	char line[256];

	/* Blocks of 512 read as blocks of 4096. */
	verify_fill_range(blk, BS, 512, OFF, ID, 3);
	EXPECT_EQ(VERIFY_WRONG_LENGTH, verify_check(blk, BS, OFF, ID, 3, &rep));
	EXPECT_EQ(512, rep.found_bytes);
	EXPECT_EQ(BS, rep.expected_bytes);
	verify_describe(&rep, line, sizeof(line));
	EXPECT_TRUE(!strcmp(line, "wrong_length (a block of 512 bytes where "
				  "blocks of 4096 were expected)"));
}

/* First half from generation 2, second half from generation 3. */
UNIT_TEST(half_from_another_write_is_torn)
{
	struct verify_report rep;

	verify_fill(blk, BS, OFF, ID, 2);
	verify_fill(other, BS, OFF, ID, 3);
	memcpy(blk + BS / 2, other + BS / 2, BS / 2);
	EXPECT_EQ(VERIFY_TORN, verify_check(blk, BS, OFF, ID, 2, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF, rep.found_offset);
	EXPECT_EQ(2, rep.found_gen);
	EXPECT_EQ(2, rep.expected_gen);
	EXPECT_EQ(BS / 2, rep.bad_byte);
	EXPECT_TRUE(rep.stored_crc != rep.computed_crc);

	/* The same with the second half from another offset. */
	verify_fill(blk, BS, OFF, ID, 2);
	verify_fill(other, BS, OFF + BS, ID, 2);
	memcpy(blk + BS / 2, other + BS / 2, BS / 2);
	EXPECT_EQ(VERIFY_TORN, verify_check(blk, BS, OFF, 0, 0, &rep));

	/* And a sector's worth of zeroes at the end. */
	verify_fill(blk, BS, OFF, ID, 2);
	memset(blk + BS - 512, 0, 512);
	EXPECT_EQ(VERIFY_TORN, verify_check(blk, BS, OFF, ID, 2, &rep));
	EXPECT_EQ(BS - 512, rep.bad_byte);
}

/*
 * Any single flipped bit is caught: in the magic the block is no longer
 * ours (garbage), in the rest of the header the header CRC fails, in the
 * data the data CRC does.
 */
UNIT_TEST(flipped_bit_is_caught_by_the_right_crc)
{
	struct verify_report rep;
	size_t bit, bad = 0;
	enum verify_result want, got;

	for (bit = 0; bit < 8 * 128; bit++) {
		verify_fill(blk, 128, OFF, ID, 6);
		blk[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		want = bit < 64			  ? VERIFY_GARBAGE :
		       bit < 8 * VERIFY_HDR_BYTES ? VERIFY_BAD_HEADER :
						    VERIFY_TORN;
		got = verify_check(blk, 128, OFF, ID, 6, &rep);
		if (got != want && !bad++)
			UNIT_FAIL("bit %zu: %s, expected %s", bit,
				  verify_result_name(got),
				  verify_result_name(want));
		if (want == VERIFY_TORN && rep.bad_byte != bit / 8 && !bad++)
			UNIT_FAIL("bit %zu: bad byte %u", bit, rep.bad_byte);
	}
	EXPECT_EQ(0, bad);
}

UNIT_TEST(block_from_another_offset_is_misplaced)
{
	struct verify_report rep;
	char line[256];

	verify_fill(blk, BS, OFF + 3 * BS, ID, 4);
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, ID, 4, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF + 3 * BS, rep.found_offset);
	EXPECT_EQ(4, rep.found_gen);
	EXPECT_EQ(4, rep.expected_gen);
	verify_describe(&rep, line, sizeof(line));
	EXPECT_TRUE(!strcmp(
		line, "misplaced (the block belongs at offset 8589946880)"));
	/* Misplaced whatever the reader knows of id and generation. */
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, 0, 0, &rep));
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, ID, 9, &rep));
	EXPECT_EQ(VERIFY_MISPLACED, verify_check(blk, BS, OFF, 7, 1, &rep));
}

UNIT_TEST(block_of_another_file_or_run_is_foreign)
{
	struct verify_report rep;
	char line[256];

	verify_fill(blk, BS, OFF, ID ^ 1, 4);
	EXPECT_EQ(VERIFY_FOREIGN, verify_check(blk, BS, OFF, ID, 4, &rep));
	EXPECT_TRUE(rep.found_id == (ID ^ 1));
	EXPECT_TRUE(rep.expected_id == ID);
	verify_describe(&rep, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "foreign (file id 0x0123456789abcdee, "
				 "expected 0x0123456789abcdef") == line);
	/* A reader that knows no file id accepts any. */
	EXPECT_EQ(VERIFY_OK, verify_check(blk, BS, OFF, 0, 4, &rep));
}

UNIT_TEST(older_generation_is_stale)
{
	struct verify_report rep;
	char line[256];

	verify_fill(blk, BS, OFF, ID, 3);
	EXPECT_EQ(VERIFY_STALE, verify_check(blk, BS, OFF, ID, 5, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(OFF, rep.found_offset);
	EXPECT_EQ(3, rep.found_gen);
	EXPECT_EQ(5, rep.expected_gen);
	verify_describe(&rep, line, sizeof(line));
	EXPECT_TRUE(!strcmp(line, "stale (generation 3, expected 5)"));
}

UNIT_TEST(newer_generation_is_future)
{
	struct verify_report rep;

	verify_fill(blk, BS, OFF, ID, 7);
	EXPECT_EQ(VERIFY_FUTURE, verify_check(blk, BS, OFF, ID, 5, &rep));
	EXPECT_EQ(OFF, rep.offset);
	EXPECT_EQ(7, rep.found_gen);
	EXPECT_EQ(5, rep.expected_gen);
}

UNIT_TEST(generation_zero_accepts_any)
{
	struct verify_report rep;
	uint64_t g;

	for (g = 1; g < 1000; g += 97) {
		verify_fill(blk, BS, OFF, ID, g);
		EXPECT_EQ(VERIFY_OK, verify_check(blk, BS, OFF, ID, 0, &rep));
		EXPECT_EQ(g, rep.found_gen);
		EXPECT_EQ(0, rep.expected_gen);
	}
	verify_fill(blk, BS, OFF, ID, UINT64_MAX);
	EXPECT_EQ(VERIFY_OK, verify_check(blk, BS, OFF, 0, 0, &rep));
}

UNIT_TEST(fill_range_offsets)
{
	enum { NR = 16, BSZ = 512 };
	static unsigned char buf[NR * BSZ + 100];
	struct verify_report rep;
	uint64_t off = 1ull << 40;
	int i;

	memset(buf, 0xaa, sizeof(buf));
	verify_fill_range(buf, NR * BSZ, BSZ, off, ID, 8);
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(VERIFY_OK,
			  verify_check(buf + i * BSZ, BSZ,
				       off + (uint64_t)i * BSZ, ID, 8, &rep));
		verify_fill(blk, BSZ, off + (uint64_t)i * BSZ, ID, 8);
		EXPECT_TRUE(memcmp(blk, buf + i * BSZ, BSZ) == 0);
	}
	/* Read back one block off: every block is misplaced by one. */
	EXPECT_EQ(VERIFY_MISPLACED,
		  verify_check(buf + BSZ, BSZ, off + 2 * BSZ, ID, 8, &rep));
	EXPECT_EQ(off + BSZ, rep.found_offset);
	/* Nothing written past the range. */
	EXPECT_EQ(0xaa, buf[NR * BSZ]);

	/* A partial block at the end of the range is zeroed. */
	memset(buf, 0xaa, sizeof(buf));
	verify_fill_range(buf, 2 * BSZ + 100, BSZ, off, ID, 8);
	EXPECT_EQ(VERIFY_OK,
		  verify_check(buf + BSZ, BSZ, off + BSZ, ID, 8, &rep));
	EXPECT_EQ(0, buf[2 * BSZ]);
	EXPECT_EQ(0, buf[2 * BSZ + 99]);
	EXPECT_EQ(0xaa, buf[2 * BSZ + 100]);
}

/* Any byte range of a stream is the same bytes as its whole blocks. */
UNIT_TEST(stream_ranges_match_whole_blocks)
{
	enum { BSZ = 512, NR = 8 };
	static unsigned char whole[NR * BSZ], part[NR * BSZ];
	static const size_t starts[] = { 0, 1, 47, 48, 511, 512, 1000, 2047 };
	size_t i, len;

	verify_fill_range(whole, sizeof(whole), BSZ, 0, 9, 1);
	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		for (len = 0; starts[i] + len <= sizeof(whole); len += 333) {
			memset(part, 0xee, sizeof(part));
			verify_stream_fill(part, len, starts[i], BSZ, 9, 1);
			EXPECT_TRUE(!memcmp(part, whole + starts[i], len));
			EXPECT_EQ(0xee, part[len]);
			EXPECT_EQ(-1,
				  verify_stream_check(whole + starts[i], len,
						      starts[i], BSZ, 9, 1));
		}
	}
	/* The first wrong byte, exactly; another seed differs at once. */
	memcpy(part, whole, sizeof(whole));
	part[1234] ^= 0x40;
	EXPECT_EQ(1234 - 1000,
		  verify_stream_check(part + 1000, 2000, 1000, BSZ, 9, 1));
	EXPECT_EQ(-1, verify_stream_check(part + 1235, 2000, 1235, BSZ, 9, 1));
	EXPECT_TRUE(verify_stream_check(whole, BSZ, 0, BSZ, 10, 1) >= 0);
	/* Data shifted by one block never matches. */
	EXPECT_TRUE(verify_stream_check(whole + BSZ, BSZ, 0, BSZ, 9, 1) >= 0);
}

UNIT_TEST(result_names)
{
	static const char *const names[] = {
		"ok",	"zero",	     "garbage", "bad_header", "wrong_length",
		"torn", "misplaced", "foreign", "stale",      "future",
	};
	int i;

	ASSERT_EQ(VERIFY_NR_RESULTS, ARRAY_SIZE(names));
	for (i = 0; i < VERIFY_NR_RESULTS; i++) {
		EXPECT_TRUE(!strcmp(names[i],
				    verify_result_name((enum verify_result)i)));
		EXPECT_EQ(i, verify_result_parse(names[i]));
	}
	EXPECT_TRUE(!strcmp("unknown", verify_result_name(VERIFY_NR_RESULTS)));
	EXPECT_EQ(-1, verify_result_parse("melted"));
}

UNIT_TEST(new_file_ids_differ_and_are_not_zero)
{
	uint64_t a = verify_new_file_id(), b = verify_new_file_id();

	EXPECT_TRUE(a != 0 && b != 0);
	EXPECT_TRUE(a != b);
}

/* ---- the state file ---- */

static char state_path[64];

static void state_tmp(void)
{
	snprintf(state_path, sizeof(state_path), "/tmp/test_verify.%d",
		 (int)getpid());
}

UNIT_TEST(state_round_trip_with_golden_bytes)
{
	static const unsigned char golden[] = {
		'A',  'I',  'O',  'S',	'V',  'S',  'T',  'A', /* magic */
		1,    0,    0,	  0, /* version 1 */
		1,    0,    0,	  0, /* one file */
		1,    0,    0,	  0,	'f', /* path "f" */
		0,    2,    0,	  0, /* blocks of 512 */
		5,    0,    0,	  0,	0,    0,    0,	  0, /* 5 blocks */
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, /* id */
		3,    0,    0,	  0,	0,    0,    0,	  0, /* 3 runs */
		2,    0,    0,	  0,	0,    0,    0,	  0,
		7,    0,    0,	  0, /* 2 x gen 7 */
		1,    0,    0,	  0,	0,    0,    0,	  0,
		0,    0,    0,	  0, /* 1 x unwritten */
		2,    0,    0,	  0,	0,    0,    0,	  0,
		8,    0,    0,	  0, /* 2 x gen 8 */
	};
	uint32_t gens[5] = { 7, 7, 0, 8, 8 };
	struct verify_state_file f = {
		.path = "f",
		.block_bytes = 512,
		.nr_blocks = 5,
		.file_id = ID,
		.gen = gens,
	};
	struct verify_state st = { .nr_files = 1, .files = &f }, back;
	unsigned char raw[256];
	FILE *fp;
	size_t n;
	int i;

	state_tmp();
	ASSERT_EQ(0, verify_state_save(state_path, &st));
	fp = fopen(state_path, "rb");
	ASSERT_TRUE(fp != NULL);
	n = fread(raw, 1, sizeof(raw), fp);
	fclose(fp);
	ASSERT_EQ(sizeof(golden) + 4, n);
	EXPECT_TRUE(!memcmp(raw, golden, sizeof(golden)));
	EXPECT_EQ(crc_ref(golden, sizeof(golden)),
		  (uint32_t)raw[n - 4] | (uint32_t)raw[n - 3] << 8 |
			  (uint32_t)raw[n - 2] << 16 |
			  (uint32_t)raw[n - 1] << 24);

	ASSERT_EQ(0, verify_state_load(state_path, &back));
	ASSERT_EQ(1, back.nr_files);
	EXPECT_TRUE(!strcmp("f", back.files[0].path));
	EXPECT_EQ(512, back.files[0].block_bytes);
	EXPECT_EQ(5, back.files[0].nr_blocks);
	EXPECT_TRUE(back.files[0].file_id == ID);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(gens[i], back.files[0].gen[i]);
	EXPECT_TRUE(verify_state_find(&back, "f") == &back.files[0]);
	EXPECT_TRUE(verify_state_find(&back, "g") == NULL);
	verify_state_free(&back);
	unlink(state_path);
}

UNIT_TEST(state_refuses_damaged_and_foreign_files)
{
	uint32_t gens[3] = { 2, 2, 2 };
	struct verify_state_file f = {
		.path = "/x/data",
		.block_bytes = 4096,
		.nr_blocks = 3,
		.file_id = 5,
		.gen = gens,
	};
	struct verify_state st = { .nr_files = 1, .files = &f }, back;
	unsigned char raw[256];
	FILE *fp;
	size_t n;

	state_tmp();
	EXPECT_EQ(-ENOENT, verify_state_load(state_path, &back));
	ASSERT_EQ(0, verify_state_save(state_path, &st));
	fp = fopen(state_path, "r+b");
	ASSERT_TRUE(fp != NULL);
	n = fread(raw, 1, sizeof(raw), fp);
	/* One flipped bit: the CRC no longer matches. */
	raw[20] ^= 1;
	rewind(fp);
	fwrite(raw, 1, n, fp);
	fclose(fp);
	EXPECT_EQ(-EBADMSG, verify_state_load(state_path, &back));
	/* Not a state file at all. */
	fp = fopen(state_path, "wb");
	ASSERT_TRUE(fp != NULL);
	fputs("hello, this is some other file\n", fp);
	fclose(fp);
	EXPECT_EQ(-EBADMSG, verify_state_load(state_path, &back));
	/* Nor is a directory or a device. */
	EXPECT_EQ(-EBADMSG, verify_state_load("/tmp", &back));
	EXPECT_EQ(-EBADMSG, verify_state_load("/dev/zero", &back));
	unlink(state_path);
}

UNIT_MAIN()
