/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-machine: the control of a benchmark run, the machine's own speed
 * measured right beside the points.  It times fixed work that never
 * enters the AIO code, so that a change of these figures between two runs
 * is a change of the machine (host load, CPU frequency, memory bandwidth,
 * another guest), not of the kernel's AIO path:
 *
 *   - a user-space loop (a multiply-add chain, no system call);
 *   - a loop of getppid() calls (the cheapest system call round trip);
 *   - a loop of small read()s of /dev/zero (a system call that copies);
 *   - a memory copy of a buffer larger than the L2 cache.
 *
 *   aio-machine [-n REPEATS] [-l ITERATIONS] [-p CALLS] [-z CALLS]
 *               [-r BYTES] [-m BYTES] [-c COPIES]
 *
 * Each timing is taken REPEATS times, the four kinds interleaved (so that
 * a passing disturbance spreads over the kinds rather than all repeats of
 * one), with the thread's CPU time beside each wall time.  Prints one JSON
 * object (schema aio-machine/1): per kind the median and every sample,
 * the CPU steal over the probe (/proc/stat), and the process's CPU time
 * against its wall time.  tools/machine.py records it at every round.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "proc.h"
#include "tool.h"
#include "util.h"

#define MAX_REPEATS 1000
#define MAX_COUNT 10000000000L
#define MAX_READ (1ull << 20)
#define MAX_BUFFER (1ull << 30)

enum { K_USER, K_GETPPID, K_READ, K_MEMCPY, K_KINDS };

static const char *const kind_key[K_KINDS] = { "user_loop", "getppid",
					       "read_dev_zero", "memcpy" };

struct params {
	long repeats;
	long iterations; /* user loop */
	long getppid_calls;
	long read_calls;
	uint64_t read_bytes;
	uint64_t buffer_bytes;
	long copies;
};

struct work {
	const struct params *p;
	int zero_fd;
	char *rbuf, *src, *dst;
};

/* What the loop computes is kept here, so that it cannot be left out. */
static volatile uint64_t sink;

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-machine [-n REPEATS] [-l ITERATIONS] [-p CALLS] [-z CALLS] [-r BYTES]\n"
		"                   [-m BYTES] [-c COPIES]\n"
		"  times fixed work outside the AIO code, the control of a run; prints JSON\n"
		"  -n timings of each kind (default 9, at most 1000)\n"
		"  -l iterations of the user-space loop (default 4000000)\n"
		"  -p getppid() calls (default 30000)\n"
		"  -z read() calls on /dev/zero (default 25000)\n"
		"  -r bytes per read (default 64, at most 1m)\n"
		"  -m bytes of the copied buffer (default 4m, at most 1g; keep it above L2)\n"
		"  -c copies of the buffer per timing (default 32)\n"
		"  -h, --help   this text\n"
		"exit status: 0 done, 1 the probe failed, 2 usage\n");
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull +
	       (uint64_t)tv->tv_usec * 1000ull;
}

/*
 * The user-space work: a 64-bit linear congruential sequence.  Each step
 * needs the one before (a multiply's latency), and the empty asm makes x
 * opaque to the compiler, which can then neither fold the loop into a
 * closed form nor drop it.
 */
static uint64_t user_loop(long n)
{
	uint64_t x = 1;
	long i;

	for (i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

/* n getppid() system calls, straight (no library cache): 0 or -errno. */
static int getppid_loop(long n)
{
	long i, r = 0;

	for (i = 0; i < n; i++)
		r |= syscall(SYS_getppid);
	sink += (uint64_t)r;
	return r < 0 ? -errno : 0;
}

/* n reads of bytes from /dev/zero: 0, -errno, or -EIO for a short one. */
static int read_loop(int fd, char *buf, uint64_t bytes, long n)
{
	ssize_t r;
	long i;

	for (i = 0; i < n; i++) {
		r = read(fd, buf, bytes);
		if (r < 0)
			return -errno;
		if ((uint64_t)r != bytes)
			return -EIO;
	}
	sink += (unsigned char)buf[0];
	return 0;
}

static void copy_loop(char *dst, const char *src, uint64_t bytes, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		memcpy(dst, src, bytes);
		/* The copy is read by "someone": it cannot be left out. */
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
}

/* One timing of kind k at scale (1: the full amount): 0 or -errno. */
static int run_kind(struct work *w, int k, long scale_div, uint64_t *wall,
		    uint64_t *cpu)
{
	const struct params *p = w->p;
	uint64_t t0, c0;
	int ret = 0;

	/*
	 * One untimed copy first: every timed copy then finds the buffers
	 * where the one before left them (the cache state of a steady copy),
	 * not where the other kinds of work pushed them.
	 */
	if (k == K_MEMCPY)
		copy_loop(w->dst, w->src, p->buffer_bytes, 1);
	c0 = thread_cpu_ns();
	t0 = now_ns();
	switch (k) {
	case K_USER:
		sink += user_loop(p->iterations / scale_div);
		break;
	case K_GETPPID:
		ret = getppid_loop(p->getppid_calls / scale_div);
		break;
	case K_READ:
		ret = read_loop(w->zero_fd, w->rbuf, p->read_bytes,
				p->read_calls / scale_div);
		break;
	default:
		copy_loop(w->dst, w->src, p->buffer_bytes,
			  p->copies / scale_div ? p->copies / scale_div : 1);
		break;
	}
	*wall = now_ns() - t0;
	*cpu = thread_cpu_ns() - c0;
	return ret;
}

/* The cpu line of /proc/stat: steal and the sum of all times, jiffies. */
struct ticks {
	bool ok;
	unsigned long long steal, total;
};

static struct ticks read_ticks(void)
{
	struct ticks t = { 0 };
	unsigned long long v[8] = { 0 };
	char buf[512];
	int i, n;

	if (read_text("/proc/stat", buf, sizeof(buf)) <= 0)
		return t;
	n = sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	if (n < 4)
		return t;
	/* guest and guest_nice are already counted in user and nice. */
	for (i = 0; i < 8; i++)
		t.total += v[i];
	t.steal = v[7];
	t.ok = true;
	return t;
}

/* The size of the level 2 cache of CPU 0 from sysfs, or 0 if unknown. */
static uint64_t l2_cache_bytes(void)
{
	char path[96], buf[64];
	uint64_t size;
	size_t len;
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		if (read_text(path, buf, sizeof(buf)) <= 0)
			return 0;
		if (atoi(buf) != 2)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		if (read_text(path, buf, sizeof(buf)) <= 0)
			return 0;
		len = strcspn(buf, "\n");
		buf[len] = '\0';
		if (parse_size(buf, 1, &size))
			return 0;
		return size;
	}
	return 0;
}

/* The median of n samples (sorted in place). */
static double median(uint64_t *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	if (n % 2)
		return (double)v[n / 2];
	return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

static void samples(struct json *j, const char *key, const uint64_t *v, long n)
{
	long i;

	json_arr_begin(j, key);
	for (i = 0; i < n; i++)
		json_uint(j, NULL, v[i]);
	json_arr_end(j);
}

static void report_kind(struct json *j, const struct params *p, int k,
			uint64_t *wall, const uint64_t *cpu, uint64_t l2)
{
	long n = p->repeats;
	uint64_t *sorted = wall + n; /* the second half of the array */
	double med, cpu_med;

	memcpy(sorted, cpu, (size_t)n * sizeof(*cpu));
	cpu_med = median(sorted, n);
	memcpy(sorted, wall, (size_t)n * sizeof(*wall));
	med = median(sorted, n);
	json_obj_begin(j, kind_key[k]);
	switch (k) {
	case K_USER:
		json_int(j, "iterations", p->iterations);
		json_double(j, "median_ns", med);
		json_double(j, "per_iteration_ns", med / (double)p->iterations);
		break;
	case K_GETPPID:
		json_int(j, "calls", p->getppid_calls);
		json_double(j, "median_ns", med);
		json_double(j, "per_call_ns", med / (double)p->getppid_calls);
		break;
	case K_READ:
		json_int(j, "calls", p->read_calls);
		json_uint(j, "bytes_per_call", p->read_bytes);
		json_double(j, "median_ns", med);
		json_double(j, "per_call_ns", med / (double)p->read_calls);
		break;
	default:
		json_uint(j, "buffer_bytes", p->buffer_bytes);
		json_int(j, "copies", p->copies);
		if (l2)
			json_uint(j, "l2_cache_bytes", l2);
		else
			json_null(j, "l2_cache_bytes");
		json_double(j, "median_ns", med);
		json_double(j, "bytes_per_s",
			    med > 0 ? (double)p->buffer_bytes *
					      (double)p->copies * 1e9 / med :
				      0);
		break;
	}
	json_double(j, "cpu_median_ns", cpu_med);
	samples(j, "samples_ns", wall, n);
	samples(j, "cpu_samples_ns", cpu, n);
	json_obj_end(j);
}

static void report_steal(struct json *j, struct ticks a, struct ticks b)
{
	unsigned long long dt = b.total - a.total;

	if (!a.ok || !b.ok) {
		json_null(j, "steal");
		return;
	}
	json_obj_begin(j, "steal");
	json_uint(j, "jiffies_before", a.steal);
	json_uint(j, "jiffies_after", b.steal);
	json_uint(j, "total_jiffies_before", a.total);
	json_uint(j, "total_jiffies_after", b.total);
	/* Below a jiffy of the whole machine nothing can be said: null. */
	if (dt > 0)
		json_double(j, "pct_during_probe",
			    100.0 * (double)(b.steal - a.steal) / (double)dt);
	else
		json_null(j, "pct_during_probe");
	json_obj_end(j);
}

static int parse_args(int argc, char **argv, struct params *p)
{
	const char *arg;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:l:p:z:r:m:c:h", longopts,
				NULL)) != -1) {
		arg = optarg;
		switch (c) {
		case 'n':
			if (parse_long(arg, 1, MAX_REPEATS, &p->repeats))
				goto bad;
			break;
		case 'l':
			if (parse_long(arg, 1, MAX_COUNT, &p->iterations))
				goto bad;
			break;
		case 'p':
			if (parse_long(arg, 1, MAX_COUNT, &p->getppid_calls))
				goto bad;
			break;
		case 'z':
			if (parse_long(arg, 1, MAX_COUNT, &p->read_calls))
				goto bad;
			break;
		case 'r':
			if (parse_size(arg, 1, &p->read_bytes) ||
			    !p->read_bytes || p->read_bytes > MAX_READ)
				goto bad;
			break;
		case 'm':
			if (parse_size(arg, 1, &p->buffer_bytes) ||
			    !p->buffer_bytes || p->buffer_bytes > MAX_BUFFER)
				goto bad;
			break;
		case 'c':
			if (parse_long(arg, 1, 1000000, &p->copies))
				goto bad;
			break;
		case 'h':
		case TOOL_OPT_HELP:
			usage(stdout);
			return 1;
		default:
			return tool_bad_option(c, argv, longopts);
		}
	}
	if (optind < argc) {
		msg("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	return 0;
bad:
	msg("bad value '%s' for -%c (see --help)", arg, c);
	return 2;
}

int main(int argc, char **argv)
{
	struct params p = {
		.repeats = 9,
		.iterations = 4000000,
		.getppid_calls = 30000,
		.read_calls = 25000,
		.read_bytes = 64,
		.buffer_bytes = 4 << 20,
		.copies = 32,
	};
	struct work w = { .p = &p };
	uint64_t *wall[K_KINDS], *cpu[K_KINDS], l2, wall0, pcpu0, bytes;
	struct rusage ru0, ru1;
	struct ticks st0, st1;
	struct json j;
	char what[64];
	long r;
	int k, ret;

	prog_name = "aio-machine";
	ret = parse_args(argc, argv, &p);
	if (ret)
		return ret == 1 ? 0 : ret;
	snprintf(what, sizeof(what), "-m %llu (twice: source and copy)",
		 (unsigned long long)p.buffer_bytes);
	bytes = tool_mul(p.buffer_bytes, 2);
	ret = tool_check_memory(bytes, what);
	if (ret)
		return ret;
	w.zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (w.zero_fd < 0) {
		msg("cannot open /dev/zero: %s", strerror(errno));
		return 1;
	}
	w.rbuf = malloc(p.read_bytes);
	if (!w.rbuf || posix_memalign((void **)&w.src, 4096, p.buffer_bytes) ||
	    posix_memalign((void **)&w.dst, 4096, p.buffer_bytes)) {
		msg("out of memory for %s", what);
		return 1;
	}
	for (k = 0; k < K_KINDS; k++) {
		/* Twice the samples: the second half sorts for the median. */
		wall[k] = calloc((size_t)p.repeats * 2, sizeof(uint64_t));
		cpu[k] = calloc((size_t)p.repeats, sizeof(uint64_t));
		if (!wall[k] || !cpu[k]) {
			msg("out of memory for -n %ld", p.repeats);
			return 1;
		}
	}
	/* Every page touched before any timing: no page fault is timed. */
	memset(w.src, 0x5a, p.buffer_bytes);
	memset(w.dst, 0, p.buffer_bytes);
	l2 = l2_cache_bytes();

	st0 = read_ticks();
	getrusage(RUSAGE_SELF, &ru0);
	pcpu0 = process_cpu_ns();
	wall0 = now_ns();
	/* A short untimed pass of each kind first: caches, CPU frequency. */
	for (k = 0; k < K_KINDS; k++) {
		uint64_t a, b;

		ret = run_kind(&w, k, 8, &a, &b);
		if (ret)
			goto failed;
	}
	for (r = 0; r < p.repeats; r++) {
		for (k = 0; k < K_KINDS; k++) {
			ret = run_kind(&w, k, 1, &wall[k][r], &cpu[k][r]);
			if (ret)
				goto failed;
		}
	}
	wall0 = now_ns() - wall0;
	pcpu0 = process_cpu_ns() - pcpu0;
	getrusage(RUSAGE_SELF, &ru1);
	st1 = read_ticks();

	json_init(&j, stdout, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "tool", "aio-machine");
	json_str(&j, "schema", "aio-machine/1");
	json_int(&j, "repeats", p.repeats);
	for (k = 0; k < K_KINDS; k++)
		report_kind(&j, &p, k, wall[k], cpu[k], l2);
	report_steal(&j, st0, st1);
	json_obj_begin(&j, "process");
	json_uint(&j, "wall_ns", wall0);
	json_uint(&j, "cpu_ns", pcpu0);
	json_uint(&j, "user_cpu_ns",
		  tv_ns(&ru1.ru_utime) - tv_ns(&ru0.ru_utime));
	json_uint(&j, "system_cpu_ns",
		  tv_ns(&ru1.ru_stime) - tv_ns(&ru0.ru_stime));
	json_double(&j, "cpu_per_wall",
		    wall0 ? (double)pcpu0 / (double)wall0 : 0);
	json_obj_end(&j);
	json_obj_end(&j);
	if (json_finish(&j)) {
		msg("cannot write the result: %s", strerror(-j.error));
		return 1;
	}
	return 0;
failed:
	if (ret == -EIO)
		msg("a read of %llu bytes from /dev/zero came back short",
		    (unsigned long long)p.read_bytes);
	else
		msg("the %s loop failed: %s", kind_key[k], strerror(-ret));
	return 1;
}
