/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: self-describing data blocks (the layout is in verify.h):
 * encoding and decoding the header in one byte order, whatever the host's,
 * filling blocks and byte ranges of a block stream, classifying a block
 * read back, and CRC-32C.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "verify.h"

#define GOLDEN 0x9e3779b97f4a7c15ull
#define CRC32C_POLY 0x82f63b78u /* reflected 0x1edc6f41 */
#define HDR_CRC_AT 44u /* the header CRC covers bytes [0, 44) */

/* ---- little-endian fields ---- */

static inline void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static inline void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static inline uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- CRC-32C, eight bytes a step (slicing-by-8) ---- */

static uint32_t crc_table[8][256];

__attribute__((constructor)) static void crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_table[k][i] =
				(crc_table[k - 1][i] >> 8) ^
				crc_table[0][crc_table[k - 1][i] & 0xff];
}

uint32_t verify_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = get32(p) ^ crc, hi = get32(p + 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* ---- the header ---- */

void verify_hdr_encode(struct verify_hdr *h, unsigned char *out)
{
	memcpy(out, VERIFY_MAGIC, 8);
	put16(out + 8, h->version);
	put16(out + 10, h->hdr_bytes);
	put32(out + 12, h->block_bytes);
	put64(out + 16, h->offset);
	put64(out + 24, h->file_id);
	put64(out + 32, h->generation);
	put32(out + 40, h->data_crc);
	h->hdr_crc = verify_crc32c(0, out, HDR_CRC_AT);
	put32(out + 44, h->hdr_crc);
}

enum verify_result verify_hdr_decode(const unsigned char *in,
				     struct verify_hdr *h)
{
	if (memcmp(in, VERIFY_MAGIC, 8))
		return VERIFY_GARBAGE;
	h->version = get16(in + 8);
	h->hdr_bytes = get16(in + 10);
	h->block_bytes = get32(in + 12);
	h->offset = get64(in + 16);
	h->file_id = get64(in + 24);
	h->generation = get64(in + 32);
	h->data_crc = get32(in + 40);
	h->hdr_crc = get32(in + 44);
	if (h->hdr_crc != verify_crc32c(0, in, HDR_CRC_AT) ||
	    h->version != VERIFY_VERSION || h->hdr_bytes != VERIFY_HDR_BYTES)
		return VERIFY_BAD_HEADER;
	return VERIFY_OK;
}

/* ---- the data pattern ---- */

/* The splitmix64 output function. */
static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Word i of the data is mix64(base + (i + 1) * GOLDEN). */
static uint64_t pattern_base(uint64_t offset, uint64_t file_id, uint64_t gen)
{
	return mix64(mix64(mix64(file_id ^ 0x6a09e667f3bcc908ull) ^ offset) ^
		     gen);
}

static void pattern_fill(unsigned char *data, size_t len, uint64_t base)
{
	unsigned char tail[8];
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		base += GOLDEN;
		put64(data + i, mix64(base));
	}
	if (i < len) {
		put64(tail, mix64(base + GOLDEN));
		memcpy(data + i, tail, len - i);
	}
}

/* Index of the first byte of data that is not the pattern, or len. */
static size_t pattern_diff(const unsigned char *data, size_t len, uint64_t base)
{
	unsigned char w[8];
	size_t i, k;

	for (i = 0; i < len; i += 8) {
		base += GOLDEN;
		put64(w, mix64(base));
		for (k = 0; k < 8 && i + k < len; k++)
			if (data[i + k] != w[k])
				return i + k;
	}
	return len;
}

void verify_fill(void *block, size_t bsize, uint64_t offset, uint64_t file_id,
		 uint64_t gen)
{
	unsigned char *b = block;
	struct verify_hdr h = {
		.version = VERIFY_VERSION,
		.hdr_bytes = VERIFY_HDR_BYTES,
		.block_bytes = (uint32_t)bsize,
		.offset = offset,
		.file_id = file_id,
		.generation = gen,
	};

	if (bsize < VERIFY_MIN_BLOCK || bsize > VERIFY_MAX_BLOCK) {
		memset(b, 0, bsize);
		return;
	}
	pattern_fill(b + VERIFY_HDR_BYTES, bsize - VERIFY_HDR_BYTES,
		     pattern_base(offset, file_id, gen));
	h.data_crc = verify_crc32c(0, b + VERIFY_HDR_BYTES,
				   bsize - VERIFY_HDR_BYTES);
	verify_hdr_encode(&h, b);
}

void verify_fill_range(void *buf, size_t len, size_t bsize, uint64_t off,
		       uint64_t file_id, uint64_t gen)
{
	unsigned char *b = buf;
	size_t done;

	if (bsize == 0)
		return;
	for (done = 0; len - done >= bsize; done += bsize)
		verify_fill(b + done, bsize, off + done, file_id, gen);
	/* A partial block at the end is not a block: zero it. */
	memset(b + done, 0, len - done);
}

/*
 * Walk the blocks of a stream that [off, off + len) touches.  A whole
 * block is handled in place; a part of one goes through tmp (bsize).
 * For a check, returns the index of the first differing byte, or -1.
 */
static long stream_walk(unsigned char *fill, const unsigned char *check,
			size_t len, uint64_t off, size_t bsize,
			uint64_t file_id, uint64_t gen, unsigned char *tmp)
{
	size_t done = 0;

	while (done < len) {
		uint64_t at = off + done;
		uint64_t start = at - at % bsize;
		size_t skip = (size_t)(at - start), n = bsize - skip;

		if (n > len - done)
			n = len - done;
		if (fill && n == bsize) {
			verify_fill(fill + done, bsize, start, file_id, gen);
		} else {
			verify_fill(tmp, bsize, start, file_id, gen);
			if (fill) {
				memcpy(fill + done, tmp + skip, n);
			} else if (memcmp(check + done, tmp + skip, n)) {
				size_t i = 0;

				while (check[done + i] == tmp[skip + i])
					i++;
				return (long)(done + i);
			}
		}
		done += n;
	}
	return -1;
}

static long stream(unsigned char *fill, const unsigned char *check, size_t len,
		   uint64_t off, size_t bsize, uint64_t file_id, uint64_t gen)
{
	unsigned char small[4096], *tmp = small;
	long ret;

	if (bsize < VERIFY_MIN_BLOCK || bsize > VERIFY_MAX_BLOCK)
		return 0;
	if (bsize > sizeof(small)) {
		tmp = malloc(bsize);
		if (!tmp)
			return 0;
	}
	ret = stream_walk(fill, check, len, off, bsize, file_id, gen, tmp);
	if (tmp != small)
		free(tmp);
	return ret;
}

void verify_stream_fill(void *buf, size_t len, uint64_t off, size_t bsize,
			uint64_t file_id, uint64_t gen)
{
	stream(buf, NULL, len, off, bsize, file_id, gen);
}

long verify_stream_check(const void *buf, size_t len, uint64_t off,
			 size_t bsize, uint64_t file_id, uint64_t gen)
{
	return stream(NULL, buf, len, off, bsize, file_id, gen);
}

/* ---- classification ---- */

static bool all_zero(const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		if (get64(b + i))
			return false;
	for (; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static enum verify_result classify(const unsigned char *b, size_t bsize,
				   uint64_t off, uint64_t file_id, uint64_t gen,
				   struct verify_report *rep)
{
	struct verify_hdr h;
	enum verify_result r;
	uint32_t crc;

	if (all_zero(b, bsize))
		return VERIFY_ZERO;
	if (bsize < VERIFY_MIN_BLOCK || bsize > VERIFY_MAX_BLOCK)
		return VERIFY_GARBAGE;
	r = verify_hdr_decode(b, &h);
	if (r == VERIFY_GARBAGE)
		return r;
	/* The header is ours: say what it claims, even if it is damaged. */
	rep->found_version = h.version;
	rep->found_bytes = h.block_bytes;
	rep->found_offset = h.offset;
	rep->found_id = h.file_id;
	rep->found_gen = h.generation;
	if (r == VERIFY_BAD_HEADER) {
		rep->stored_crc = h.hdr_crc;
		rep->computed_crc = verify_crc32c(0, b, HDR_CRC_AT);
		return r;
	}
	if (h.block_bytes != bsize)
		return VERIFY_WRONG_LENGTH;
	crc = verify_crc32c(0, b + VERIFY_HDR_BYTES, bsize - VERIFY_HDR_BYTES);
	if (crc != h.data_crc) {
		rep->stored_crc = h.data_crc;
		rep->computed_crc = crc;
		rep->bad_byte =
			VERIFY_HDR_BYTES +
			(uint32_t)pattern_diff(b + VERIFY_HDR_BYTES,
					       bsize - VERIFY_HDR_BYTES,
					       pattern_base(h.offset, h.file_id,
							    h.generation));
		return VERIFY_TORN;
	}
	if (h.offset != off)
		return VERIFY_MISPLACED;
	if (file_id && h.file_id != file_id)
		return VERIFY_FOREIGN;
	if (gen && h.generation < gen)
		return VERIFY_STALE;
	if (gen && h.generation > gen)
		return VERIFY_FUTURE;
	return VERIFY_OK;
}

enum verify_result verify_check(const void *block, size_t bsize, uint64_t off,
				uint64_t file_id, uint64_t gen,
				struct verify_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->offset = off;
	rep->expected_bytes = (uint32_t)bsize;
	rep->expected_id = file_id;
	rep->expected_gen = gen;
	rep->result = classify(block, bsize, off, file_id, gen, rep);
	return rep->result;
}

static const char *const result_names[VERIFY_NR_RESULTS] = {
	[VERIFY_OK] = "ok",
	[VERIFY_ZERO] = "zero",
	[VERIFY_GARBAGE] = "garbage",
	[VERIFY_BAD_HEADER] = "bad_header",
	[VERIFY_WRONG_LENGTH] = "wrong_length",
	[VERIFY_TORN] = "torn",
	[VERIFY_MISPLACED] = "misplaced",
	[VERIFY_FOREIGN] = "foreign",
	[VERIFY_STALE] = "stale",
	[VERIFY_FUTURE] = "future",
};

const char *verify_result_name(enum verify_result r)
{
	if ((unsigned int)r >= VERIFY_NR_RESULTS)
		return "unknown";
	return result_names[r];
}

int verify_result_parse(const char *s)
{
	int i;

	for (i = 0; i < VERIFY_NR_RESULTS; i++)
		if (!strcmp(s, result_names[i]))
			return i;
	return -1;
}

char *verify_describe(const struct verify_report *rep, char *buf, size_t len)
{
	const char *name = verify_result_name(rep->result);
	unsigned long long fo = rep->found_offset, fg = rep->found_gen;
	unsigned long long eg = rep->expected_gen;

	switch (rep->result) {
	case VERIFY_ZERO:
		snprintf(buf, len,
			 "%s (every byte is zero: never written, or lost)",
			 name);
		break;
	case VERIFY_GARBAGE:
		snprintf(buf, len,
			 "%s (no block header: not data of this format)", name);
		break;
	case VERIFY_BAD_HEADER:
		if (rep->stored_crc == rep->computed_crc)
			snprintf(buf, len,
				 "%s (format version %u, this reader knows %u)",
				 name, rep->found_version, VERIFY_VERSION);
		else
			snprintf(
				buf, len,
				"%s (header CRC 0x%08x, computed 0x%08x: the header is damaged)",
				name, rep->stored_crc, rep->computed_crc);
		break;
	case VERIFY_WRONG_LENGTH:
		snprintf(
			buf, len,
			"%s (a block of %u bytes where blocks of %u were expected)",
			name, rep->found_bytes, rep->expected_bytes);
		break;
	case VERIFY_TORN:
		snprintf(
			buf, len,
			"%s (the header is intact, the data is not from byte %u of the block on: data CRC 0x%08x, computed 0x%08x)",
			name, rep->bad_byte, rep->stored_crc,
			rep->computed_crc);
		break;
	case VERIFY_MISPLACED:
		snprintf(buf, len, "%s (the block belongs at offset %llu)",
			 name, fo);
		break;
	case VERIFY_FOREIGN:
		snprintf(
			buf, len,
			"%s (file id 0x%016llx, expected 0x%016llx: a block of another file or run)",
			name, (unsigned long long)rep->found_id,
			(unsigned long long)rep->expected_id);
		break;
	case VERIFY_STALE:
		snprintf(buf, len, "%s (generation %llu, expected %llu)", name,
			 fg, eg);
		break;
	case VERIFY_FUTURE:
		snprintf(
			buf, len,
			"%s (generation %llu, expected %llu: newer than the writer recorded)",
			name, fg, eg);
		break;
	default:
		snprintf(buf, len, "%s", name);
		break;
	}
	return buf;
}

uint64_t verify_new_file_id(void)
{
	struct timespec ts;
	uint64_t id = 0;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		id = mix64((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^
			   (uint64_t)getpid() << 48);
	}
	return id ? id : GOLDEN;
}
