/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-vcheck: check a file written by `aio-stress --verify` after the fact,
 * in another process (seed 001: the data written through a loop device
 * must be in the backing file after detach).  Every block of BYTES is
 * checked on its own (src/lib/verify.h: zeroed, garbage, bad header,
 * wrong length, torn, misplaced); with -S, the aio-stress --verify-state
 * file of the run that wrote it, each block is also checked against its
 * recorded file id and generation (foreign, stale, future), the block size
 * comes from the state, and blocks it says were never written are counted
 * as not checked.
 *
 *   aio-vcheck [-b BYTES] [-s SIZE] [-S STATE] FILE
 *
 * Prints one JSON object (schema aio-vcheck/1): the count of each verdict
 * and the first bad block.  Exit status 0 when blocks were checked and
 * every one is ok, 1 when not, 2 for usage errors.
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

struct tally {
	uint64_t blocks, checked_gen, checked_self, unwritten;
	uint64_t counts[VERIFY_NR_RESULTS];
	struct verify_report first_bad;
	bool bad;
};

/* The block size and expectations of FILE from the state: 0, 1 or 2. */
static int use_state(const char *state, const char *file, bool b_given,
		     uint64_t *bs, struct verify_state *st,
		     struct verify_state_file **sf)
{
	int ret = verify_state_load(state, st);

	if (ret) {
		msg("cannot read -S %s: %s", state,
		    ret == -EBADMSG ? "not an aio-stress verify state file" :
		    ret == -ENODATA ? "it is empty" :
				      strerror(-ret));
		return ret == -EBADMSG || ret == -ENODATA ? 2 : 1;
	}
	*sf = verify_state_find(st, file);
	if (!*sf) {
		msg("-S %s has no record of %s", state, file);
		return 2;
	}
	if (b_given && *bs != (*sf)->block_bytes) {
		msg("-b %llu, but %s was written in blocks of %u bytes (-S %s)",
		    (unsigned long long)*bs, file, (*sf)->block_bytes, state);
		return 2;
	}
	*bs = (*sf)->block_bytes;
	return 0;
}

static void check_one(struct tally *t, const char *buf, uint64_t bs,
		      uint64_t off, const struct verify_state_file *sf)
{
	struct verify_report rep;
	uint64_t b = off / bs;

	t->blocks++;
	if (sf) {
		uint32_t gen = b < sf->nr_blocks ? sf->gen[b] : 0;

		if (!gen) {
			t->unwritten++;
			return;
		}
		t->checked_gen++;
		verify_check(buf, bs, off, sf->file_id, gen, &rep);
	} else {
		t->checked_self++;
		verify_check(buf, bs, off, 0, 0, &rep);
	}
	t->counts[rep.result]++;
	if (rep.result != VERIFY_OK && !t->bad) {
		t->bad = true;
		t->first_bad = rep;
	}
}

static void print_json(const char *file, const char *state, uint64_t bs,
		       const struct tally *t)
{
	uint64_t checked = t->checked_gen + t->checked_self;
	struct json j;
	char what[256];
	int i;

	json_init(&j, stdout, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "schema", "aio-vcheck/1");
	json_str(&j, "file", file);
	if (state)
		json_str(&j, "verify_state", state);
	else
		json_null(&j, "verify_state");
	json_uint(&j, "block_bytes", bs);
	json_uint(&j, "blocks", t->blocks);
	json_uint(&j, "blocks_checked", checked);
	json_uint(&j, "blocks_checked_with_generation", t->checked_gen);
	json_uint(&j, "blocks_unwritten", t->unwritten);
	json_obj_begin(&j, "counts");
	for (i = 0; i < VERIFY_NR_RESULTS; i++)
		json_uint(&j, verify_result_name((enum verify_result)i),
			  t->counts[i]);
	json_obj_end(&j);
	json_bool(&j, "ok", !t->bad && checked);
	if (t->bad) {
		json_obj_begin(&j, "first_bad");
		json_uint(&j, "offset", t->first_bad.offset);
		json_str(&j, "kind", verify_result_name(t->first_bad.result));
		json_obj_end(&j);
		json_str(&j, "first_bad_detail",
			 verify_describe(&t->first_bad, what, sizeof(what)));
	}
	json_obj_end(&j);
	json_finish(&j);
	putchar('\n');
}

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	uint64_t bs = 4096, size = 0, off = 0;
	struct verify_state st = { 0 };
	struct verify_state_file *sf = NULL;
	const char *state = NULL;
	struct tally t = { 0 };
	bool b_given = false;
	char *buf;
	int c, fd, ret;

	prog_name = "aio-vcheck";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:s:S:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'b':
			if (parse_size(optarg, 1, &bs) ||
			    bs < VERIFY_MIN_BLOCK || bs > VERIFY_MAX_BLOCK)
				goto bad;
			b_given = true;
			break;
		case 's':
			if (parse_size(optarg, 1, &size))
				goto bad;
			break;
		case 'S':
			state = optarg;
			break;
		case 'h':
		case TOOL_OPT_HELP:
			printf("usage: aio-vcheck [-b BYTES] [-s SIZE] [-S STATE] FILE\n"
			       "  check every block of a file aio-stress --verify wrote\n"
			       "  -b block size (default 4k)   -s bytes to check (default: all)\n"
			       "  -S the --verify-state file of the run that wrote it\n"
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
	if (state) {
		ret = use_state(state, argv[optind], b_given, &bs, &st, &sf);
		if (ret)
			return ret;
	}
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
		check_one(&t, buf, bs, off, sf);
	}
	print_json(argv[optind], state, bs, &t);
	if (!t.blocks) {
		msg("checked no block of %s: its %llu bytes hold no whole block of %llu",
		    argv[optind], (unsigned long long)size,
		    (unsigned long long)bs);
		return 1;
	}
	if (!t.checked_gen && !t.checked_self) {
		msg("checked no block of %s: -S %s says none of its %llu blocks was written",
		    argv[optind], state, (unsigned long long)t.blocks);
		return 1;
	}
	return t.bad ? 1 : 0;
bad:
	msg("bad value '%s' for -%c (see --help)", optarg, c);
	return 2;
}
