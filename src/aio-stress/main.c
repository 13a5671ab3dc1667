/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-stress: the classic AIO stress and benchmark tool's command line
 * (Chris Mason's v0.21), on aio-suite's engines, with per-iocb submit
 * timing, the inline-completion ratio, completion latency percentiles,
 * CPU cost, JSON output and block-level data verification.
 *
 * This file parses the command line and sets the run up; run.c holds the
 * per-thread state machine and report.c the text and JSON reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"
#include "util.h"

struct run g_run;

static void usage(FILE *f)
{
	const struct engine_ops *const *e;

	fprintf(f,
		"usage: aio-stress [-s size] [-r size] [-a size] [-d num] [-b num]\n"
		"                  [-i num] [-t num] [-c num] [-C size] [-nxhOS ]\n"
		"                  [long options] file1 [file2 ...]\n"
		"\t-a size in KB at which to align buffers\n"
		"\t-b max number of iocbs to give io_submit at once\n"
		"\t-c number of io contexts per file\n"
		"\t-C offset between contexts, default 2MB\n"
		"\t-s size in MB of the test file(s), default 1024MB\n"
		"\t-r record size in KB used for each io, default 64KB\n"
		"\t-d number of pending aio requests for each file, default 64\n"
		"\t-i number of I/O per file sent before switching\n"
		"\t   to the next file, default 8\n"
		"\t-I number of submission rounds per stage, default: until the\n"
		"\t   stage's range is done (or Ctrl-C)\n"
		"\t-O Use O_DIRECT\n"
		"\t-S Use O_SYNC for writes\n"
		"\t-o add an operation to the list: write=0, read=1,\n"
		"\t   random write=2, random read=3.\n"
		"\t   repeat -o to specify multiple ops: -o 0 -o 1 etc.\n"
		"\t-m shm use ipc shared memory for io buffers instead of malloc\n"
		"\t-m shmfs mmap a file in /dev/shm for io buffers\n"
		"\t-n no fsyncs between write stage and read stage\n"
		"\t-l print io_submit latencies after each stage\n"
		"\t-L print io completion latencies after each stage\n"
		"\t-t number of threads to run\n"
		"\t-u unlink files after completion\n"
		"\t-v verification of bytes written (same as --verify)\n"
		"\t-x turn off thread stonewalling\n"
		"\t-h this message\n"
		"\n\t   the size options (-a -s and -r) allow modifiers -s 400{k,m,g}\n"
		"\t   translate to 400KB, 400MB and 400GB\n"
		"\nlong options:\n"
		"\t--engine NAME      I/O engine (default libaio):");
	for (e = engine_list; *e; e++)
		fprintf(f, " %s", (*e)->name);
	fprintf(f,
		"\n"
		"\t--json FILE        write the results as JSON (- for stdout)\n"
		"\t--runtime SECONDS  run each stage this long, wrapping around\n"
		"\t                   the file range\n"
		"\t--iovecs N         vectored requests of N segments\n"
		"\t                   (PREADV/PWRITEV, readv/writev)\n"
		"\t--rw-flags LIST    per-request RWF_* flags: hipri, dsync, sync,\n"
		"\t                   nowait, append, noappend, atomic, dontcache\n"
		"\t--user-reap        libaio: reap completions from the mapped ring\n"
		"\t--sqpoll, --iopoll, --fixed-files, --fixed-bufs\n"
		"\t                   io_uring: SQPOLL, polled completions,\n"
		"\t                   registered files, registered buffers\n"
		"\t--verify           every block written carries a header (its\n"
		"\t                   offset, length, file id, generation, CRCs);\n"
		"\t                   reads check every block, also in a new\n"
		"\t                   process, and name each bad one (zero,\n"
		"\t                   garbage, bad_header, wrong_length, torn,\n"
		"\t                   misplaced, foreign, stale, future)\n"
		"\t--verify-state FILE  (implies --verify) write stages record\n"
		"\t                   every block's generation in FILE, read\n"
		"\t                   stages of a later run check against it, so\n"
		"\t                   stale and foreign blocks are found too\n"
		"\t--inject KIND:OFF  after the first write stage, damage the block\n"
		"\t                   at byte OFF of the first file (one of the\n"
		"\t                   kinds above): tests the verifier\n"
		"\t--loop MODE        (root) put each file behind a loop device,\n"
		"\t                   MODE buffered or dio (direct I/O to the file);\n"
		"\t                   detached at exit, also on Ctrl-C\n"
		"\t--cpu N            pin the threads to CPU N, N+1, ...\n"
		"\t--force            write to a block device that holds data\n"
		"\t--quiet            print nothing but errors\n"
		"\t--version, --help\n"
		"\nexit status: 0 ok, 1 run failure (failed, short or empty I/O,\n"
		"verify errors), 2 usage, 77 skipped: the engine is not in this\n"
		"kernel (native AIO with CONFIG_AIO=n, io_uring disabled or absent),\n"
		"128 + the signal when interrupted (130 for Ctrl-C: the partial\n"
		"stage is still reported)\n"
		"version %s\n",
		AIO_STRESS_VERSION);
}

enum {
	OPT_ENGINE = 256,
	OPT_JSON,
	OPT_RUNTIME,
	OPT_IOVECS,
	OPT_RW_FLAGS,
	OPT_USER_REAP,
	OPT_SQPOLL,
	OPT_IOPOLL,
	OPT_FIXED_FILES,
	OPT_FIXED_BUFS,
	OPT_VERIFY,
	OPT_QUIET,
	OPT_HELP,
	OPT_FORCE,
	OPT_CPU,
	OPT_INJECT,
	OPT_VERSION,
	OPT_LOOP,
	OPT_VERIFY_STATE,
};

static const struct option long_opts[] = {
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "runtime", required_argument, NULL, OPT_RUNTIME },
	{ "iovecs", required_argument, NULL, OPT_IOVECS },
	{ "rw-flags", required_argument, NULL, OPT_RW_FLAGS },
	{ "user-reap", no_argument, NULL, OPT_USER_REAP },
	{ "sqpoll", no_argument, NULL, OPT_SQPOLL },
	{ "iopoll", no_argument, NULL, OPT_IOPOLL },
	{ "fixed-files", no_argument, NULL, OPT_FIXED_FILES },
	{ "fixed-bufs", no_argument, NULL, OPT_FIXED_BUFS },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "inject", required_argument, NULL, OPT_INJECT },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "loop", required_argument, NULL, OPT_LOOP },
	{ "verify-state", required_argument, NULL, OPT_VERIFY_STATE },
	{ NULL, 0, NULL, 0 },
};

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t opt_size(int c, const char *arg, uint64_t unit)
{
	uint64_t v;

	if (parse_size(arg, unit, &v) || v == 0)
		usage_error("bad size for -%c: '%s'", c, arg);
	return v;
}

static long opt_long(const char *name, const char *arg, long min, long max)
{
	long v;

	if (parse_long(arg, min, max, &v))
		usage_error("bad value for %s: '%s' (%ld..%ld)", name, arg, min,
			    max);
	return v;
}

static unsigned int opt_count(const char *name, const char *arg, long min,
			      long max)
{
	return (unsigned int)opt_long(name, arg, min, max);
}

static void parse_inject(struct options *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char kind[32];
	int k;

	if (!colon)
		usage_error("bad value for --inject: '%s' (KIND:OFFSET)", arg);
	snprintf(kind, sizeof(kind), "%.*s", (int)(colon - arg), arg);
	k = verify_result_parse(kind);
	if (k <= VERIFY_OK)
		usage_error(
			"bad kind for --inject: '%s' (zero, garbage, bad_header, wrong_length, torn, misplaced, foreign, stale, future)",
			arg);
	o->inject_kind = k;
	if (parse_size(colon + 1, 1, &o->inject_offset))
		usage_error("bad offset for --inject: '%s'", arg);
}

static void check_sizes(struct options *o);

static void parse_args(struct options *o, int argc, char **argv)
{
	const char *bad;
	bool b_given = false;
	int c;
	long v;

	*o = (struct options){
		.file_size = 1024ull << 20,
		.rec_len = 64 << 10,
		.align = (uint64_t)sysconf(_SC_PAGESIZE),
		.depth = 64,
		.io_iter = 8,
		.iterations = -1,
		.threads = 1,
		.contexts = 1,
		.context_offset = 2 << 20,
		.fsync_stages = true,
		.stonewall = true,
		.cpu = -1,
		.argc = argc,
		.argv = argv,
	};
	o->engine = engine_find("libaio");
	o->engine_name = "libaio";
	opterr = 0;
	while ((c = getopt_long(argc, argv,
				":a:b:c:C:m:s:r:d:i:I:o:t:lLnhOSxvu", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'a':
			o->align = opt_size(c, optarg, 1024);
			if (o->align & (o->align - 1))
				usage_error(
					"bad size for -a: '%s' (a power of two)",
					optarg);
			break;
		case 'b':
			o->max_io_submit =
				opt_count("-b", optarg, 1, MAX_IO_SUBMIT);
			b_given = true;
			break;
		case 'c':
			o->contexts = opt_count("-c", optarg, 1, 4096);
			break;
		case 'C':
			o->context_offset = opt_size(c, optarg, 1 << 20);
			break;
		case 'm':
			if (!strcmp(optarg, "shm"))
				o->buf_mem = BUF_SHM;
			else if (!strcmp(optarg, "shmfs"))
				o->buf_mem = BUF_SHMFS;
			else
				usage_error(
					"bad value for -m: '%s' (shm or shmfs)",
					optarg);
			break;
		case 's':
			o->file_size = opt_size(c, optarg, 1 << 20);
			break;
		case 'r':
			o->rec_len = opt_size(c, optarg, 1024);
			break;
		case 'd':
			o->depth = opt_count("-d", optarg, 1, 65536);
			break;
		case 'i':
			o->io_iter = opt_count("-i", optarg, 1, 65536);
			break;
		case 'I':
			o->iterations = opt_long("-I", optarg, 1, LONG_MAX);
			break;
		case 'o':
			if (parse_long(optarg, 0, NR_STAGES - 1, &v))
				usage_error(
					"bad value for -o: '%s' (0 write, 1 read, 2 random write, 3 random read)",
					optarg);
			o->stages |= 1u << v;
			break;
		case 't':
			o->threads = opt_count("-t", optarg, 1, 1024);
			break;
		case 'l':
			o->latency_stats = true;
			break;
		case 'L':
			o->completion_latency_stats = true;
			break;
		case 'n':
			o->fsync_stages = false;
			break;
		case 'O':
			o->o_direct = true;
			break;
		case 'S':
			o->o_sync = true;
			break;
		case 'x':
			o->stonewall = false;
			break;
		case 'v':
		case OPT_VERIFY:
			o->verify = true;
			break;
		case 'u':
			o->unlink_files = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("aio-stress %s\n", AIO_STRESS_VERSION);
			exit(0);
		case OPT_ENGINE:
			o->engine = engine_find(optarg);
			o->engine_name = optarg;
			/* Known, not built: a skip (probe_engine), not usage. */
			if (!o->engine && strcmp(optarg, "io_uring"))
				usage_error("unknown engine '%s' (see --help)",
					    optarg);
			break;
		case OPT_JSON:
			o->json_path = optarg;
			break;
		case OPT_RUNTIME:
			if (parse_seconds(optarg, &o->runtime_s) ||
			    o->runtime_s <= 0 || o->runtime_s > RUNTIME_MAX_S)
				usage_error(
					"bad value for --runtime: '%s' (more than 0, at most %.0f seconds)",
					optarg, RUNTIME_MAX_S);
			break;
		case OPT_IOVECS:
			o->iovecs = opt_count("--iovecs", optarg, 1, 1024);
			break;
		case OPT_RW_FLAGS:
			if (rw_flags_parse(optarg, &o->rw_flags, &bad))
				usage_error("unknown flag in --rw-flags: '%s'",
					    bad ? bad : optarg);
			o->rw_flags_str = optarg;
			break;
		case OPT_USER_REAP:
			o->user_reap = true;
			break;
		case OPT_SQPOLL:
			o->sqpoll = true;
			break;
		case OPT_IOPOLL:
			o->iopoll = true;
			break;
		case OPT_FIXED_FILES:
			o->fixed_files = true;
			break;
		case OPT_FIXED_BUFS:
			o->fixed_bufs = true;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_CPU:
			o->cpu = (int)opt_count("--cpu", optarg, 0,
						(long)nr_cpus() - 1);
			break;
		case OPT_INJECT:
			parse_inject(o, optarg);
			break;
		case OPT_VERIFY_STATE:
			if (!*optarg)
				usage_error("bad value for --verify-state: ''");
			o->verify_state = optarg;
			o->verify = true;
			break;
		case OPT_LOOP:
			if (!strcmp(optarg, "buffered"))
				o->loop_mode = 1;
			else if (!strcmp(optarg, "dio"))
				o->loop_mode = 2;
			else
				usage_error(
					"bad value for --loop: '%s' (buffered or dio)",
					optarg);
			break;
		case ':':
			/* A long option's optopt is its OPT_* value, not a char. */
			if (optopt > 0 && optopt < OPT_ENGINE)
				usage_error("option '-%c' needs an argument",
					    optopt);
			usage_error("option '%s' needs an argument",
				    argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < OPT_ENGINE)
				usage_error("unknown option '-%c' (see --help)",
					    optopt);
			if (optopt >= OPT_ENGINE)
				usage_error("option '%s' takes no argument",
					    argv[optind - 1]);
			usage_error("unknown option '%s' (see --help)",
				    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no file given (see --help)");
	o->files = argv + optind;
	o->nr_files = argc - optind;

	if (o->user_reap && strcmp(o->engine_name, "libaio"))
		usage_error("--user-reap needs --engine libaio, not '%s'",
			    o->engine_name);
	if ((o->sqpoll || o->iopoll || o->fixed_files || o->fixed_bufs) &&
	    strcmp(o->engine_name, "io_uring"))
		usage_error(
			"--sqpoll, --iopoll, --fixed-files and --fixed-bufs need --engine io_uring, not '%s'",
			o->engine_name);
	if (o->iovecs && o->iovecs > o->rec_len)
		usage_error(
			"--iovecs %u is more segments than the record has bytes",
			o->iovecs);
	if (o->verify && (o->rec_len % 512 ? o->rec_len < VERIFY_MIN_BLOCK ||
						     o->rec_len % 8 :
					     false))
		usage_error(
			"--verify needs a record size that is a multiple of 512 bytes (or of 8, at least 64), not %llu",
			(unsigned long long)o->rec_len);
	if (o->inject_kind && !o->verify)
		usage_error("--inject needs --verify");
	check_sizes(o);

	/* The classic adjustments; their messages wait for announce(). */
	if (o->depth < o->io_iter) {
		o->io_iter = o->depth;
		o->dropped_iter = true;
	}
	if (o->threads > (unsigned int)o->nr_files * o->contexts) {
		o->threads = (unsigned int)o->nr_files * o->contexts;
		o->dropped_threads = true;
	}
	if (!b_given) {
		uint64_t b = (uint64_t)o->nr_files * o->io_iter * o->contexts;

		o->max_io_submit = b > MAX_IO_SUBMIT ? MAX_IO_SUBMIT :
						       (unsigned int)b;
	}
	if (o->max_io_submit < o->io_iter) {
		o->io_iter = o->max_io_submit;
		o->dropped_iter = true;
	}
	if (!o->stages)
		o->stages = (1u << NR_STAGES) - 1;
	else
		o->stages_given = true;
}

/*
 * Sizes and counts whose products the run uses: each must fit, or the
 * command line is refused here rather than wrapping later (an offset of
 * 2^63, a zero-sized buffer pool).
 */
static void check_sizes(struct options *o)
{
	uint64_t contexts_end, fds, threads, per, ious, bytes;

	if (o->file_size > (uint64_t)INT64_MAX)
		usage_error(
			"bad size for -s: %llu bytes is beyond the largest file offset",
			(unsigned long long)o->file_size);
	if (o->rec_len > MAX_RECORD)
		usage_error(
			"bad size for -r: %llu bytes, more than the %u one request can move",
			(unsigned long long)o->rec_len, MAX_RECORD);
	if (o->align > MAX_ALIGN)
		usage_error("bad size for -a: %llu bytes, at most %u",
			    (unsigned long long)o->align, MAX_ALIGN);
	if (o->file_size < o->rec_len)
		usage_error(
			"file size %llu is smaller than the record size %llu",
			(unsigned long long)o->file_size,
			(unsigned long long)o->rec_len);
	if (o->contexts > 1 &&
	    (__builtin_mul_overflow((uint64_t)o->contexts, o->context_offset,
				    &contexts_end) ||
	     contexts_end > o->file_size))
		usage_error(
			"file size %lluMB too small for %u contexts %llu bytes apart (-C)",
			(unsigned long long)(o->file_size >> 20), o->contexts,
			(unsigned long long)o->context_offset);
	/* Each thread's I/O units and their buffers. */
	fds = (uint64_t)o->nr_files * o->contexts;
	threads = o->threads < fds ? o->threads : fds;
	per = (fds + threads - 1) / threads;
	if (fds > UINT_MAX || __builtin_mul_overflow(per, o->depth, &ious) ||
	    ious > MAX_IOUS ||
	    __builtin_mul_overflow(ious * threads,
				   (o->rec_len + o->align - 1) / o->align *
					   o->align,
				   &bytes) ||
	    bytes > (uint64_t)SIZE_MAX / 2)
		usage_error(
			"-d %u over %d files with -c %u: too many requests in flight (at most %u per thread) or too many buffer bytes",
			o->depth, o->nr_files, o->contexts, MAX_IOUS);
}

/*
 * --json FILE must be writable before the run, not found unwritable after
 * it: open it (creating it only for the check).  Exit 2 when it is not.
 */
static void check_json_path(const char *path)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		return;
	}
	if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		usage_error("cannot write --json %s: %s", path,
			    strerror(errno));
	close(fd);
}

/*
 * One context of the engine before any file is touched: a kernel without
 * native AIO (or io_uring) is a skip, said in one line, exit 77, with the
 * JSON saying so; any other refusal a run failure.  0 when it works.
 */
static int probe_engine(struct run *r)
{
	const struct options *o = r->o;
	struct engine_opts eo = { .depth = 1 };
	struct engine e;
	int ret;

	if (!o->engine) {
		snprintf(
			r->fail_reason, sizeof(r->fail_reason),
			"io_uring is not available: this aio-stress was built without liburing");
		r->skipped = true;
	} else {
		ret = engine_init(&e, o->engine, &eo);
		if (!ret) {
			engine_cleanup(&e);
			return 0;
		}
		snprintf(r->fail_reason, sizeof(r->fail_reason), "%s",
			 e.reason);
		r->skipped = e.absent;
	}
	r->failed = true;
	msg("%s", r->fail_reason);
	if (o->json_path)
		report_json(r, o->json_path);
	return r->skipped ? 77 : 1;
}

/* The loop devices' paths (run.c) and their direct-I/O answers. */
static void free_paths(struct options *o)
{
	int i;

	for (i = 0; o->io_paths && i < o->nr_files; i++)
		if (o->io_paths[i] != o->files[i])
			free(o->io_paths[i]);
	free(o->io_paths);
	free(o->loop_dio);
	o->io_paths = NULL;
	o->loop_dio = NULL;
}

int main(int argc, char **argv)
{
	struct options o;
	int ret;

	prog_name = "aio-stress";
	parse_args(&o, argc, argv);
	check_json_path(o.json_path);
	g_run.o = &o;
	ret = probe_engine(&g_run);
	if (ret)
		return ret;
	ret = run_all(&g_run);
	target_cleanup_all();
	free_paths(&o);
	return ret;
}
