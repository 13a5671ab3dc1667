/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-bare: the floor of the native AIO syscall path.  A bare loop of
 * io_submit and io_getevents with no timestamps, no statistics and no
 * engine layer, writing or reading one record size at a fixed queue depth
 * in fixed batches.  The overhead benchmark measures aio-stress against it.
 *
 *   aio-bare [-r BYTES] [-d DEPTH] [-b BATCH] [-t SECONDS] [-o 0|1]
 *            [--force] FILE
 *
 * Prints one JSON object: ios, bytes, elapsed_ns, iops.  Only whole
 * records count: a failed or short completion (an empty file read) ends
 * the run with one line and exit status 1.  A block device goes through
 * the write-safety check (target_open_writable()).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio_sys.h"
#include "clock.h"
#include "tool.h"
#include "util.h"

#define MAX_SECONDS 1e6
#define MAX_RECORD (1ull << 30)

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ "force", no_argument, NULL, TOOL_OPT_FORCE },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-bare [-r BYTES] [-d DEPTH] [-b BATCH] [-t SECONDS] [-o 0|1] [--force] FILE\n"
		"  a bare io_submit/io_getevents loop (no timing inside): the floor\n"
		"  -r record size (default 4k, at most 1g)   -d queue depth (default 32)\n"
		"  -b iocbs per io_submit (default 32)   -t seconds (default 3)\n"
		"  -o 0 write (default; creates FILE), 1 read (FILE must hold a record)\n"
		"  FILE: a regular file, a block device, /dev/null or /dev/zero\n" TOOL_HELP_FORCE
		"  -h, --help   this text\n" TOOL_HELP_EXIT);
}

int main(int argc, char **argv)
{
	uint64_t rec = 4096, ios = 0, t0, t1, deadline, bufbytes;
	long depth = 32, batch = 32, op = 0;
	double secs = 3;
	struct tool_ring ring;
	unsigned int i;
	long inflight = 0;
	bool force = false;
	char *buf, what[64];
	const char *rec_arg = "4k";
	int c, fd, ret;

	prog_name = "aio-bare";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:d:b:t:o:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'r':
			if (parse_size(optarg, 1, &rec) || !rec)
				goto bad;
			if (rec > MAX_RECORD) {
				msg("-r %s is more than the largest record (1g)",
				    optarg);
				return 2;
			}
			rec_arg = optarg;
			break;
		case 'd':
			if (parse_long(optarg, 1, 65536, &depth))
				goto bad;
			break;
		case 'b':
			if (parse_long(optarg, 1, 65536, &batch))
				goto bad;
			break;
		case 't':
			if (parse_seconds(optarg, &secs) || secs <= 0 ||
			    secs > MAX_SECONDS)
				goto bad;
			break;
		case 'o':
			if (parse_long(optarg, 0, 1, &op))
				goto bad;
			break;
		case TOOL_OPT_FORCE:
			force = true;
			break;
		case 'h':
		case TOOL_OPT_HELP:
			usage(stdout);
			return 0;
		default:
			return tool_bad_option(c, argv, longopts);
		}
	}
	if (tool_one_operand(argc, "file"))
		return 2;
	if (batch > depth)
		batch = depth;
	bufbytes = tool_mul(rec, (uint64_t)depth);
	snprintf(what, sizeof(what), "-r %s with -d %ld", rec_arg, depth);
	ret = tool_check_memory(bufbytes, what);
	if (ret)
		return ret;
	fd = tool_open_target(argv[optind], op ? O_RDONLY : O_WRONLY | O_CREAT,
			      force);
	if (fd < 0)
		return -fd;
	if (posix_memalign((void **)&buf, 4096, bufbytes)) {
		msg("out of memory for %s", what);
		return 1;
	}
	memset(buf, 0, bufbytes);
	snprintf(what, sizeof(what), "-d %ld", depth);
	ret = tool_ring_init(&ring, (unsigned int)depth, what);
	if (ret)
		return ret;
	for (i = 0; i < depth; i++) {
		prep_rw(&ring.cbs[i], op ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE, fd,
			buf + i * rec, rec, 0);
		ring.ptrs[i] = &ring.cbs[i];
	}
	t0 = now_ns();
	deadline = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		while (inflight + batch <= depth) {
			ret = sys_io_submit(ring.ctx, batch,
					    ring.ptrs + inflight);
			if (ret <= 0) {
				msg("io_submit of %ld iocbs failed: %s", batch,
				    ret ? strerror(errno) : "no iocb taken");
				return 1;
			}
			inflight += ret;
		}
		ret = sys_io_getevents(ring.ctx, batch, depth, ring.evs, NULL);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			msg("io_getevents failed: %s", strerror(errno));
			return 1;
		}
		/* Only whole records count: an error or a short one ends it. */
		for (i = 0; i < (unsigned int)ret; i++)
			if (!tool_event_ok(&ring.evs[i], &ring.cbs[0],
					   argv[optind]))
				return 1;
		inflight -= ret;
		ios += (uint64_t)ret;
		/* One clock read per 64 rounds keeps the loop bare. */
		if (!(ios & 0x3fff) ||
		    ios % (uint64_t)(batch * 64) < (uint64_t)ret) {
			if (now_ns() >= deadline)
				break;
		}
	}
	while (inflight > 0) {
		ret = sys_io_getevents(ring.ctx, 1, depth, ring.evs, NULL);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		for (i = 0; i < (unsigned int)ret; i++)
			if (!tool_event_ok(&ring.evs[i], &ring.cbs[0],
					   argv[optind]))
				return 1;
		inflight -= ret;
		ios += (uint64_t)ret;
	}
	t1 = now_ns();
	sys_io_destroy(ring.ctx);
	tool_keep_created();
	printf("{\"tool\": \"aio-bare\", \"ios\": %llu, \"bytes\": %llu, \"elapsed_ns\": %llu, \"iops\": %.1f}\n",
	       (unsigned long long)ios, (unsigned long long)(ios * rec),
	       (unsigned long long)(t1 - t0), ios * 1e9 / (double)(t1 - t0));
	return 0;
bad:
	msg("bad value '%s' for -%c (see --help)", optarg, c);
	return 2;
}
