/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-bare: the floor of the native AIO syscall path.  A bare loop of
 * io_submit and io_getevents with no timestamps, no statistics and no
 * engine layer, writing or reading one record size at a fixed queue depth
 * in fixed batches.  The overhead benchmark measures aio-stress against it.
 *
 *   aio-bare [-r BYTES] [-d DEPTH] [-b BATCH] [-t SECONDS] [-o 0|1] FILE
 *
 * Prints one JSON object: ios, elapsed_ns, iops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio_sys.h"
#include "clock.h"
#include "tool.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-bare [-r BYTES] [-d DEPTH] [-b BATCH] [-t SECONDS] [-o 0|1] FILE\n"
		"  a bare io_submit/io_getevents loop (no timing inside): the floor\n"
		"  -r record size (default 4k)   -d queue depth (default 32)\n"
		"  -b iocbs per io_submit (default 32)   -t seconds (default 3)\n"
		"  -o 0 write (default), 1 read\n");
}

int main(int argc, char **argv)
{
	uint64_t rec = 4096, ios = 0, t0, t1, deadline;
	long depth = 32, batch = 32, op = 0;
	double secs = 3;
	struct tool_ring ring;
	unsigned int i;
	long inflight = 0;
	char *buf;
	int c, fd, ret;

	prog_name = "aio-bare";
	opterr = 0;
	while ((c = getopt(argc, argv, ":r:d:b:t:o:h")) != -1) {
		switch (c) {
		case 'r':
			if (parse_size(optarg, 1, &rec) || !rec)
				goto bad;
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
			if (parse_seconds(optarg, &secs) || secs <= 0)
				goto bad;
			break;
		case 'o':
			if (parse_long(optarg, 0, 1, &op))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return tool_bad_option(c);
		}
	}
	if (tool_one_operand(argc, "file"))
		return 2;
	if (batch > depth)
		batch = depth;
	fd = open(argv[optind], op ? O_RDONLY : O_WRONLY | O_CREAT, 0600);
	if (fd < 0) {
		msg("cannot open %s: %s", argv[optind], strerror(errno));
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, rec * (uint64_t)depth))
		return 1;
	memset(buf, 0, rec * (uint64_t)depth);
	if (tool_ring_init(&ring, (unsigned int)depth))
		return 1;
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
				msg("io_submit failed: %s",
				    ret ? strerror(errno) : "no iocb taken");
				return 1;
			}
			inflight += ret;
		}
		ret = sys_io_getevents(ring.ctx, batch, depth, ring.evs, NULL);
		if (ret < 0) {
			msg("io_getevents failed: %s", strerror(errno));
			return 1;
		}
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
		if (ret <= 0)
			break;
		inflight -= ret;
		ios += (uint64_t)ret;
	}
	t1 = now_ns();
	sys_io_destroy(ring.ctx);
	printf("{\"tool\": \"aio-bare\", \"ios\": %llu, \"elapsed_ns\": %llu, \"iops\": %.1f}\n",
	       (unsigned long long)ios, (unsigned long long)(t1 - t0),
	       ios * 1e9 / (double)(t1 - t0));
	return 0;
bad:
	msg("bad value for -%c: '%s'", c, optarg);
	return 2;
}
