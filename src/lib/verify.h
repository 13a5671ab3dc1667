/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: self-describing data blocks, the one data format of the
 * suite (aio-stress --verify, aio-vcheck, the conformance data patterns,
 * aio-ioerr).  Every block starts with a header that says what the block
 * is; the rest is a pattern derived from the header's fields, so a block
 * read back from any process can be classified on its own:
 *
 *	VERIFY_OK            the block is what was expected
 *	VERIFY_ZERO          every byte is zero (never written, or lost)
 *	VERIFY_GARBAGE       no header of this format at the start
 *	VERIFY_BAD_HEADER    the magic is there but the header CRC does not
 *	                     match (or an unknown format version)
 *	VERIFY_WRONG_LENGTH  a valid header of a block of another length
 *	VERIFY_TORN          the header is intact, the data CRC is not: part
 *	                     of the block is from another write (or damaged)
 *	VERIFY_MISPLACED     a valid block that belongs at another offset
 *	VERIFY_FOREIGN       a valid block of another file or run (file id)
 *	VERIFY_STALE         a valid block of an older generation
 *	VERIFY_FUTURE        a valid block of a newer generation
 *
 * The header, format 1, 48 bytes, every field little-endian:
 *
 *	 0  8  magic        "AIOSVBLK"
 *	 8  2  version      1
 *	10  2  header bytes 48
 *	12  4  block bytes  the length of the whole block
 *	16  8  offset       the file offset of the block's first byte
 *	24  8  file id      a per-file, per-run seed (never 0)
 *	32  8  generation   which write of the block this is (never 0)
 *	40  4  data CRC     CRC-32C of bytes [48, block bytes)
 *	44  4  header CRC   CRC-32C of bytes [0, 44)
 *
 * then the data: 64-bit little-endian words of a splitmix64 sequence
 * seeded by (file id, offset, generation), the last word cut short when
 * the block length is not a multiple of 8.
 */
#ifndef AIO_SUITE_VERIFY_H
#define AIO_SUITE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERIFY_MAGIC "AIOSVBLK"
#define VERIFY_VERSION 1
#define VERIFY_HDR_BYTES 48u
#define VERIFY_MIN_BLOCK 64u
#define VERIFY_MAX_BLOCK 0x40000000u /* 1 GiB */

enum verify_result {
	VERIFY_OK = 0,
	VERIFY_ZERO,
	VERIFY_GARBAGE,
	VERIFY_BAD_HEADER,
	VERIFY_WRONG_LENGTH,
	VERIFY_TORN,
	VERIFY_MISPLACED,
	VERIFY_FOREIGN,
	VERIFY_STALE,
	VERIFY_FUTURE,
	VERIFY_NR_RESULTS
};

/* A header, decoded. */
struct verify_hdr {
	uint16_t version;
	uint16_t hdr_bytes;
	uint32_t block_bytes;
	uint64_t offset;
	uint64_t file_id;
	uint64_t generation;
	uint32_t data_crc;
	uint32_t hdr_crc;
};

/*
 * Encode h into out (VERIFY_HDR_BYTES), magic first; the header CRC is
 * computed here and stored in out and in h->hdr_crc.
 */
void verify_hdr_encode(struct verify_hdr *h, unsigned char *out);
/*
 * Decode in: VERIFY_OK, VERIFY_GARBAGE (no magic) or VERIFY_BAD_HEADER
 * (CRC, version or header length wrong).  h is filled in every case but
 * the first.
 */
enum verify_result verify_hdr_decode(const unsigned char *in,
				     struct verify_hdr *h);

/* CRC-32C (Castagnoli), chained like zlib's crc32(): start with crc 0. */
uint32_t verify_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Fill one block of bsize bytes (VERIFY_MIN_BLOCK..VERIFY_MAX_BLOCK) for
 * (offset, file id, generation); a size out of range is zero-filled.
 */
void verify_fill(void *block, size_t bsize, uint64_t offset, uint64_t file_id,
		 uint64_t gen);
/* Fill len bytes starting at file offset off, blocks of bsize; a partial
 * block at the end is zeroed. */
void verify_fill_range(void *buf, size_t len, size_t bsize, uint64_t off,
		       uint64_t file_id, uint64_t gen);

/*
 * A file seen as a stream of blocks of bsize from offset 0: any byte range
 * of it, at any offset (the conformance patterns write 1000 bytes at 1000).
 * verify_stream_check() returns the index of the first byte of buf that
 * differs, or -1 when all match: a byte-exact comparison.
 */
void verify_stream_fill(void *buf, size_t len, uint64_t off, size_t bsize,
			uint64_t file_id, uint64_t gen);
long verify_stream_check(const void *buf, size_t len, uint64_t off,
			 size_t bsize, uint64_t file_id, uint64_t gen);

struct verify_report {
	enum verify_result result;
	uint64_t offset; /* where the block was read */
	uint32_t expected_bytes; /* block length */
	uint32_t found_bytes; /* what the header says (0: no header) */
	uint64_t found_offset;
	uint64_t expected_id, found_id; /* file ids (0: any was accepted) */
	uint64_t expected_gen, found_gen; /* generations (0: any) */
	uint16_t found_version;
	uint32_t stored_crc, computed_crc; /* bad header, torn */
	uint32_t bad_byte; /* torn: first byte that differs from the header */
};

/*
 * Check one block read from file offset off.  file_id 0 accepts any file
 * id and gen 0 any generation (a reader that knows neither, in a new
 * process without a state file, still finds zeroed, garbage, bad-header,
 * wrong-length, torn and misplaced blocks).  Fills rep, returns its result.
 */
enum verify_result verify_check(const void *block, size_t bsize, uint64_t off,
				uint64_t file_id, uint64_t gen,
				struct verify_report *rep);
/* "torn", "misplaced", ...; "unknown" out of range. */
const char *verify_result_name(enum verify_result r);
/* The result named s, or -1. */
int verify_result_parse(const char *s);
/*
 * One line for a person: the kind and what the header said, e.g.
 * "misplaced (the block belongs at offset 12288)".  Returns buf.
 */
char *verify_describe(const struct verify_report *rep, char *buf, size_t len);

/* A new file id: random, never 0. */
uint64_t verify_new_file_id(void);

/*
 * The state file (aio-stress --verify-state, aio-vcheck -S): for each data
 * file, its block length, file id and the generation of every block
 * (0: not written under this state).  Binary, little-endian, versioned,
 * with a CRC-32C trailer; docs/RESULTS-FORMAT.md has the layout.
 */
struct verify_state_file {
	char *path; /* the data file as named on the command line */
	uint32_t block_bytes;
	uint64_t nr_blocks;
	uint64_t file_id;
	uint32_t *gen; /* nr_blocks generations */
};

struct verify_state {
	unsigned int nr_files;
	struct verify_state_file *files;
};

/*
 * Load path into st: 0, -ENOENT and other -errno of open/read, -ENODATA
 * for an empty file, -EBADMSG when it is not a state file (or is damaged:
 * its CRC does not match; a directory, FIFO or device is not one either).
 */
int verify_state_load(const char *path, struct verify_state *st);
/* Write st to path atomically (a temporary file, fsync, rename): 0 or -errno. */
int verify_state_save(const char *path, const struct verify_state *st);
void verify_state_free(struct verify_state *st);
/* The entry of st for the data file named path, or NULL. */
struct verify_state_file *verify_state_find(struct verify_state *st,
					    const char *path);

#endif
