/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-vcheck: check a file written by `aio-stress --verify` after the fact,
 * in another process (seed 001: the data written through a loop device
 * must be in the backing file after detach).  Every block of BYTES must
 * carry its own offset and a valid checksum; any generation is accepted.
 *
 *   aio-vcheck [-b BYTES] [-s SIZE] FILE
 *
 * Prints one JSON object (schema aio-vcheck/1): the count of each verdict
 * and the first bad block.  Exit status 0 when every block is ok, 1 when
 * not, 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "tool.h"
#include "util.h"
#include "verify.h"

#define NR_RESULTS (VERIFY_GARBAGE + 1)
#define MAX_BLOCK (1ull << 30)

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	uint64_t bs = 4096, size = 0, off = 0, counts[NR_RESULTS] = { 0 };
	uint64_t first_bad = 0, blocks = 0;
	enum verify_result first_kind = VERIFY_OK;
	struct verify_report rep;
	struct json j;
	char *buf;
	int c, fd, i;

	prog_name = "aio-vcheck";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_size(optarg, 1, &bs) ||
			    bs < VERIFY_MIN_BLOCK || bs > MAX_BLOCK)
				goto bad;
			break;
		case 's':
			if (parse_size(optarg, 1, &size))
				goto bad;
			break;
		case 'h':
		case TOOL_OPT_HELP:
			printf("usage: aio-vcheck [-b BYTES] [-s SIZE] FILE\n"
			       "  check every block of a file aio-stress --verify wrote\n"
			       "  -b block size (default 4k, at most 1g)   -s bytes to check (default: all)\n"
			       "  FILE is only read: a regular file or a block device (no AIO is used)\n"
			       "  -h, --help   this text\n"
			       "exit status: 0 every block is good, 1 a bad block or a failure, 2 usage\n");
			return 0;
		default:
			return tool_bad_option(c, argv, longopts);
		}
	}
	if (tool_one_operand(argc, "file"))
		return 2;
	fd = tool_open_target(argv[optind], O_RDONLY, false);
	if (fd < 0)
		return -fd;
	if (!size)
		size = (uint64_t)lseek(fd, 0, SEEK_END);
	if (size < bs) {
		msg("%s holds %llu bytes, less than one block (-b %llu): nothing to check",
		    argv[optind], (unsigned long long)size,
		    (unsigned long long)bs);
		return 1;
	}
	buf = malloc(bs);
	if (!buf) {
		msg("out of memory for a block of %llu bytes",
		    (unsigned long long)bs);
		return 1;
	}
	for (off = 0; off + bs <= size; off += bs) {
		ssize_t n = pread(fd, buf, bs, (off_t)off);

		if (n != (ssize_t)bs) {
			msg("cannot read %s at %llu: %s", argv[optind],
			    (unsigned long long)off,
			    n < 0 ? strerror(errno) : "short read");
			return 1;
		}
		verify_check(buf, bs, off, 0, &rep);
		counts[rep.result]++;
		blocks++;
		if (rep.result != VERIFY_OK && first_kind == VERIFY_OK) {
			first_kind = rep.result;
			first_bad = off;
		}
	}
	json_init(&j, stdout, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "schema", "aio-vcheck/1");
	json_str(&j, "file", argv[optind]);
	json_uint(&j, "block_bytes", bs);
	json_uint(&j, "blocks", blocks);
	json_obj_begin(&j, "counts");
	for (i = 0; i < NR_RESULTS; i++)
		json_uint(&j, verify_result_name((enum verify_result)i),
			  counts[i]);
	json_obj_end(&j);
	json_bool(&j, "ok", counts[VERIFY_OK] == blocks && blocks);
	if (first_kind != VERIFY_OK) {
		json_obj_begin(&j, "first_bad");
		json_uint(&j, "offset", first_bad);
		json_str(&j, "kind", verify_result_name(first_kind));
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_finish(&j);
	putchar('\n');
	return counts[VERIFY_OK] == blocks && blocks ? 0 : 1;
bad:
	msg("bad value '%s' for -%c (see --help)", optarg, c);
	return 2;
}
