/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-plug: the latency of the first iocb of a batch (seed 004: "AIO:
 * Don't plug the I/O queue in do_io_submit()").  While io_submit holds a
 * block plug, the first request of a batch waits in the plug until the
 * last one is queued (or the plug's request limit flushes it), so its
 * latency grows with the batch; without the plug it is dispatched at once.
 *
 *   aio-plug [-b BATCH] [-o 0|1] [-r BYTES] [-n ROUNDS] [--force] DEVICE
 *
 * Each round submits BATCH sequential O_DIRECT requests (write with -o 0,
 * read with -o 1) in one io_submit, continuing where the last round ended,
 * and reaps them one event at a time, timestamping each.  Prints one JSON
 * object (schema aio-plug/1) with the first iocb's latency, the mean
 * latency over every iocb and the io_submit time per call.  Writing to a
 * block device goes through the write-safety check (a device in use is
 * never written; one that carries a signature only with --force).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aio_sys.h"
#include "clock.h"
#include "json.h"
#include "tool.h"
#include "util.h"

#define MAX_RECORD (1ull << 30)

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ "force", no_argument, NULL, TOOL_OPT_FORCE },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-plug [-b BATCH] [-o 0|1] [-r BYTES] [-n ROUNDS] [--force] DEVICE\n"
		"  BATCH sequential O_DIRECT requests per io_submit (default 8),\n"
		"  write (-o 0, default) or read (-o 1), record size (default 4k),\n"
		"  ROUNDS batches (default 200); prints first-iocb latency as JSON\n"
		"  DEVICE: a block device or a regular file holding one batch\n" TOOL_HELP_FORCE
		"  -h, --help   this text\n" TOOL_HELP_EXIT);
}

static void pcts(struct json *j, const char *key, uint64_t *v, long n)
{
	double sum = 0;
	long i;

	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	json_obj_begin(j, key);
	json_int(j, "count", n);
	json_uint(j, "min", n ? v[0] : 0);
	json_uint(j, "p50", n ? v[n / 2] : 0);
	json_uint(j, "p99", n ? v[(n * 99) / 100] : 0);
	json_uint(j, "max", n ? v[n - 1] : 0);
	json_double(j, "mean", n ? sum / (double)n : 0);
	json_obj_end(j);
}

int main(int argc, char **argv)
{
	long batch = 8, op = 0, rounds = 200, r, i, got, nall = 0;
	uint64_t rec = 4096, off = 0, size, *first, *all, *sub, t0;
	struct tool_ring ring;
	struct json j;
	bool force = false;
	char *buf, what[80];
	const char *rec_arg = "4k";
	int c, fd, ret;

	prog_name = "aio-plug";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:o:r:n:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'b':
			if (parse_long(optarg, 1, 4096, &batch))
				goto bad;
			break;
		case 'o':
			if (parse_long(optarg, 0, 1, &op))
				goto bad;
			break;
		case 'r':
			if (parse_size(optarg, 1, &rec) || !rec || rec % 512 ||
			    rec > MAX_RECORD)
				goto bad;
			rec_arg = optarg;
			break;
		case 'n':
			if (parse_long(optarg, 1, 1000000, &rounds))
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
	if (tool_one_operand(argc, "device or file"))
		return 2;
	/* The buffers, and a latency sample per iocb and two per round. */
	snprintf(what, sizeof(what), "-r %s -b %ld -n %ld", rec_arg, batch,
		 rounds);
	ret = tool_check_memory(
		tool_mul(rec, (uint64_t)batch) +
			tool_mul((uint64_t)rounds, (uint64_t)batch + 2) * 8,
		what);
	if (ret)
		return ret;
	fd = tool_open_target(argv[optind],
			      (op ? O_RDONLY : O_WRONLY) | O_DIRECT, force);
	if (fd < 0)
		return -fd;
	size = (uint64_t)lseek(fd, 0, SEEK_END);
	if (size < rec * (uint64_t)batch) {
		msg("%s holds %llu bytes, less than one batch (-b %ld of -r %s)",
		    argv[optind], (unsigned long long)size, batch, rec_arg);
		return 1;
	}
	first = calloc((size_t)rounds, sizeof(*first));
	sub = calloc((size_t)rounds, sizeof(*sub));
	all = calloc((size_t)(rounds * batch), sizeof(*all));
	if (!first || !sub || !all ||
	    posix_memalign((void **)&buf, 4096, rec * (uint64_t)batch)) {
		msg("out of memory for %s", what);
		return 1;
	}
	memset(buf, 0x5a, rec * (uint64_t)batch);
	snprintf(what, sizeof(what), "-b %ld", batch);
	ret = tool_ring_init(&ring, (unsigned int)batch, what);
	if (ret)
		return ret;
	for (r = 0; r < rounds; r++) {
		if (off + rec * (uint64_t)batch > size)
			off = 0;
		for (i = 0; i < batch; i++) {
			struct iocb *cb = &ring.cbs[i];

			prep_rw(cb, op ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE, fd,
				buf + i * rec, rec, (int64_t)off);
			cb->aio_data = (uint64_t)i;
			ring.ptrs[i] = cb;
			off += rec;
		}
		t0 = now_ns();
		ret = sys_io_submit(ring.ctx, batch, ring.ptrs);
		sub[r] = now_ns() - t0;
		if (ret != batch) {
			msg("io_submit took %d of %ld %ss: %s", ret, batch,
			    op ? "read" : "write",
			    ret < 0 ? strerror(errno) : "short");
			return 1;
		}
		for (got = 0; got < batch;) {
			uint64_t t;

			ret = sys_io_getevents(ring.ctx, 1, batch, ring.evs,
					       NULL);
			t = now_ns();
			if (ret < 0) {
				if (errno == EINTR)
					continue;
				msg("io_getevents failed: %s", strerror(errno));
				return 1;
			}
			for (i = 0; i < ret; i++) {
				if (!tool_event_ok(&ring.evs[i],
						   &ring.cbs[ring.evs[i].data],
						   argv[optind]))
					return 1;
				if (ring.evs[i].data == 0)
					first[r] = t - t0;
				all[nall++] = t - t0;
			}
			got += ret;
		}
	}
	sys_io_destroy(ring.ctx);

	json_init(&j, stdout, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "schema", "aio-plug/1");
	json_str(&j, "target", argv[optind]);
	json_str(&j, "op", op ? "read" : "write");
	json_int(&j, "batch", batch);
	json_uint(&j, "record_bytes", rec);
	json_int(&j, "rounds", rounds);
	pcts(&j, "first_iocb_ns", first, rounds);
	pcts(&j, "latency_ns", all, nall);
	pcts(&j, "submit_per_call_ns", sub, rounds);
	json_obj_end(&j);
	json_finish(&j);
	putchar('\n');
	return 0;
bad:
	msg("bad value '%s' for -%c (see --help)", optarg, c);
	return 2;
}
