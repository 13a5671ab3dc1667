/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: a bounded random-iocb fuzzer for native AIO.  Each round
 * builds a few iocbs from random opcodes (valid and not), flags, rw_flags,
 * priorities, sizes, offsets, file descriptors (files, O_DIRECT files, a
 * pipe, an eventfd, /dev/null, closed and absurd numbers) and buffer
 * pointers (good, NULL, misaligned, read-only, unmapped, kernel), submits
 * them, reaps with a deadline, sometimes cancels one or destroys the
 * context with requests in flight.  What it checks: every call returns
 * (an alarm catches a call blocked past --hang-seconds) and every accepted
 * iocb completes or is torn down with its context.  That the kernel did
 * not oops is checked by the caller in dmesg.
 *
 *   aio-fuzz -d DIR [--iterations N] [--seconds S] [--seed N] [--json FILE]
 *            [--anywhere]
 *
 * It stops by itself after N rounds or S seconds.  It refuses to run
 * outside the guest (no aio.run= on the kernel command line) unless given
 * --anywhere.  It writes only to files
 * it makes in DIR (each limited by RLIMIT_FSIZE), /dev/null, and its own
 * pipe and eventfd; run it where a kernel bug may be met, such as the
 * qemu guest of ci/kernels.py, not on a machine that matters.
 * Exit status: 0 done, 1 a call hung or an iocb was lost, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aio_sys.h"
#include "json.h"
#include "target.h"
#include "tool.h"
#include "util.h"

#define MAX_BATCH 8
#define RING 64
#define BUF_BYTES (1u << 20)
#define PAGE 4096u
#define NR_FDS 10
#define NR_ERRNO 140

static uint64_t rng_state;
static volatile sig_atomic_t in_call;
static const char *hang_call = "";

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from --seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t pick(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void on_alarm(int sig)
{
	static const char m[] = "aio-fuzz: a call blocked past the deadline: ";

	if (in_call) {
		(void)!write(2, m, sizeof(m) - 1);
		(void)!write(2, hang_call, strlen(hang_call));
		(void)!write(2, "\n", 1);
		target_cleanup_all();
		_exit(1);
	}
}

struct stats {
	uint64_t rounds, submitted, accepted, completed, cancelled;
	uint64_t destroys_inflight, submit_err[NR_ERRNO], res_err[NR_ERRNO];
	uint64_t res_ok, lost;
};

static struct stats st;
static int fds[NR_FDS];
static char *buf, *ro_page, *none_page;

/*
 * A private directory in dir for the two files, both made here with
 * O_EXCL|O_NOFOLLOW (never a file or a link that was there), all removed
 * at exit and on SIGINT/SIGTERM.
 */
static char own_dir[PATH_MAX];

static int make_file(const char *name, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", own_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -1;
	target_track_file(path);
	if (ftruncate(fd, 1 << 20)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int setup_fds(const char *dir)
{
	char buffered[PATH_MAX + 32], direct[PATH_MAX + 32];
	int p[2], i;

	for (i = 0; i < NR_FDS; i++)
		fds[i] = -1;
	snprintf(own_dir, sizeof(own_dir), "%s/.aio-fuzz-XXXXXX", dir);
	if (!mkdtemp(own_dir))
		return -errno;
	target_track_dir(own_dir);
	fds[0] = make_file("fuzz-buffered", buffered, sizeof(buffered));
	if (fds[0] < 0)
		return -errno;
	fds[1] = make_file("fuzz-direct", direct, sizeof(direct));
	if (fds[1] < 0)
		return -errno;
	/* O_DIRECT where the filesystem takes it, else buffered again. */
	fds[2] = open(direct, O_RDWR | O_DIRECT | O_NOFOLLOW | O_CLOEXEC);
	if (fds[2] < 0)
		fds[2] = open(direct, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fds[2] < 0)
		return -errno;
	fds[3] = open(buffered, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fds[3] < 0)
		return -errno;
	/* Never blocking: a full pipe or a zero eventfd would block submit. */
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	fds[4] = p[0];
	fds[5] = p[1];
	fds[6] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fds[6] < 0)
		return -errno;
	fds[7] = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fds[7] < 0)
		return -errno;
	fds[8] = -1; /* bad */
	fds[9] = 1 << 20; /* far beyond any table */
	return 0;
}

static uint64_t pick_buf(void)
{
	switch (pick(8)) {
	case 0:
		return 0;
	case 1:
		return (uint64_t)(uintptr_t)(buf + 1 + pick(PAGE));
	case 2:
		return (uint64_t)(uintptr_t)ro_page;
	case 3:
		return (uint64_t)(uintptr_t)none_page;
	case 4:
		return 0xffff888000000000ull + pick(1u << 30) * PAGE;
	default: /* good, aligned, near the guard page at the end */
		return (uint64_t)(uintptr_t)(buf +
					     pick(BUF_BYTES / PAGE) * PAGE);
	}
}

static uint64_t pick_len(void)
{
	switch (pick(6)) {
	case 0:
		return 0;
	case 1:
		return 1 + pick(PAGE);
	case 2:
		return rnd();
	case 3:
		return (uint64_t)PAGE << pick(9);
	default:
		return PAGE * (1 + pick(16));
	}
}

static int64_t pick_off(void)
{
	switch (pick(6)) {
	case 0:
		return -(int64_t)pick(1u << 20) - 1;
	case 1:
		return (int64_t)(rnd() >> 1);
	case 2:
		return (int64_t)pick(1u << 24);
	default:
		return (int64_t)(pick(256) * PAGE);
	}
}

static void make_iocb(struct iocb *cb, struct iovec *iov, uint64_t id)
{
	static const uint16_t ops[] = {
		IOCB_CMD_PREAD,	 IOCB_CMD_PWRITE,  IOCB_CMD_FSYNC,
		IOCB_CMD_FDSYNC, IOCB_CMD_POLL,	   IOCB_CMD_NOOP,
		IOCB_CMD_PREADV, IOCB_CMD_PWRITEV,
	};
	int i, n;

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = id;
	if (pick(2)) { /* a sane one, so that batches get past the first */
		cb->aio_lio_opcode = ops[pick(4)];
		cb->aio_fildes = (uint32_t)fds[pick(3)];
		cb->aio_buf =
			(uint64_t)(uintptr_t)(buf +
					      pick(BUF_BYTES / PAGE - 16) *
						      PAGE);
		cb->aio_nbytes = PAGE * (1 + pick(16));
		cb->aio_offset = (int64_t)(pick(256) * PAGE);
		if (!pick(4))
			cb->aio_rw_flags = (int)(1u << pick(8));
		return;
	}
	cb->aio_lio_opcode = pick(10) ? ops[pick(ARRAY_SIZE(ops))] :
					(uint16_t)pick(1u << 16);
	cb->aio_fildes = (uint32_t)fds[pick(NR_FDS)];
	if (!pick(20)) /* absurd, but never stdin, stdout or stderr */
		cb->aio_fildes = (uint32_t)(rnd() | 4);
	cb->aio_buf = pick_buf();
	cb->aio_nbytes = pick_len();
	cb->aio_offset = pick_off();
	if (!pick(8))
		cb->aio_rw_flags = (int)(pick(4) ? (1u << pick(8)) : rnd());
	if (!pick(8)) {
		cb->aio_flags |= IOCB_FLAG_IOPRIO;
		cb->aio_reqprio = (int16_t)rnd();
	}
	if (!pick(8)) {
		cb->aio_flags |= IOCB_FLAG_RESFD;
		cb->aio_resfd = (uint32_t)fds[pick(NR_FDS)];
	}
	if (!pick(20))
		cb->aio_flags |= (uint32_t)rnd();
	if (!pick(20))
		cb->aio_reserved2 = rnd();
	if (cb->aio_lio_opcode == IOCB_CMD_POLL)
		cb->aio_buf = pick(4) ? (1 | 4) : rnd(); /* POLLIN|POLLOUT */
	if ((cb->aio_lio_opcode == IOCB_CMD_PREADV ||
	     cb->aio_lio_opcode == IOCB_CMD_PWRITEV) &&
	    pick(3)) {
		n = (int)pick(5);
		for (i = 0; i < n; i++) {
			iov[i].iov_base = (void *)(uintptr_t)pick_buf();
			iov[i].iov_len = pick(2) ? PAGE : pick_len();
		}
		cb->aio_buf = (uint64_t)(uintptr_t)iov;
		cb->aio_nbytes = (uint64_t)n;
	}
}

static void count_err(uint64_t *tab, long long e)
{
	tab[e > 0 && e < NR_ERRNO ? e : 0]++;
}

/* One call under the alarm. */
#define GUARDED(name, expr)        \
	({                         \
		long _r;           \
		hang_call = name;  \
		in_call = 1;       \
		_r = (long)(expr); \
		in_call = 0;       \
		_r;                \
	})

static int round_once(aio_context_t *ctx, int *inflight, int hang_s)
{
	struct iocb cbs[MAX_BATCH], *ptrs[MAX_BATCH];
	struct iovec iov[MAX_BATCH][5];
	struct io_event ev[RING];
	struct timespec ts = { .tv_sec = 0,
			       .tv_nsec = 1000000 * (long)pick(50) };
	int n = 1 + (int)pick(MAX_BATCH), i, r;

	for (i = 0; i < n; i++) {
		make_iocb(&cbs[i], iov[i], st.rounds * MAX_BATCH + (uint64_t)i);
		ptrs[i] = &cbs[i];
	}
	if (!pick(30))
		ptrs[pick((uint64_t)n)] = pick(2) ? NULL :
						    (struct iocb *)ro_page;
	alarm((unsigned int)hang_s);
	r = (int)GUARDED("io_submit", sys_io_submit(*ctx, n, ptrs));
	st.submitted += (uint64_t)n;
	if (r < 0) {
		count_err(st.submit_err, errno);
	} else {
		st.accepted += (uint64_t)r;
		*inflight += r;
		if (r < n)
			count_err(st.submit_err, 0);
	}
	if (*inflight && !pick(10)) {
		struct io_event res;

		r = (int)GUARDED("io_cancel",
				 sys_io_cancel(*ctx, &cbs[0], &res));
		if (r == 0) {
			st.cancelled++;
			(*inflight)--;
		}
	}
	r = (int)GUARDED("io_getevents",
			 sys_io_getevents(*ctx, 0, RING, ev, &ts));
	for (i = 0; i < r; i++) {
		st.completed++;
		(*inflight)--;
		if (ev[i].res < 0)
			count_err(st.res_err, -ev[i].res);
		else
			st.res_ok++;
	}
	if (!pick(25)) { /* teardown with whatever is in flight */
		if (*inflight)
			st.destroys_inflight++;
		if (GUARDED("io_destroy", sys_io_destroy(*ctx)))
			return -errno;
		*ctx = 0;
		*inflight = 0;
		if (GUARDED("io_setup", sys_io_setup(RING, ctx)))
			return -errno;
	}
	alarm(0);
	/* Keep the ring from filling with polls that never fire. */
	if (*inflight > RING / 2) {
		if (GUARDED("io_destroy", sys_io_destroy(*ctx)))
			return -errno;
		st.destroys_inflight++;
		*inflight = 0;
		if (GUARDED("io_setup", sys_io_setup(RING, ctx)))
			return -errno;
	}
	return 0;
}

static void json_errtab(struct json *j, const char *key, const uint64_t *tab)
{
	char name[16];
	int e;

	json_obj_begin(j, key);
	for (e = 0; e < NR_ERRNO; e++) {
		if (!tab[e])
			continue;
		snprintf(name, sizeof(name), "%d", e);
		json_uint(j, e ? name : "other", tab[e]);
	}
	json_obj_end(j);
}

/* The guest of ci/kernels.py boots with aio.run= on its command line. */
static bool in_suite_guest(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return strstr(line, "aio.run=") != NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-fuzz -d DIR [--iterations N] [--seconds S] "
		"[--seed N] [--hang-seconds S] [--json FILE] [--anywhere]\n"
		"  random iocbs against two files it makes in a private directory\n"
		"  in DIR (removed at exit), /dev/null, a pipe and an eventfd;\n"
		"  stops by itself; runs only in the qemu guest unless --anywhere\n"
		"  (it never opens a block device, so it has no --force)\n"
		"  -h, --help   this text\n" TOOL_HELP_EXIT);
}

enum {
	OPT_ANYWHERE = TOOL_OPT_FIRST_FREE,
	OPT_ITERATIONS,
	OPT_SECONDS,
	OPT_SEED,
	OPT_HANG,
	OPT_JSON,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ "anywhere", no_argument, NULL, OPT_ANYWHERE },
	{ "iterations", required_argument, NULL, OPT_ITERATIONS },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "hang-seconds", required_argument, NULL, OPT_HANG },
	{ "json", required_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

/* A number option in [min, max]; false after one line. */
static bool number(const char *opt, long min, long max, long *out)
{
	if (!parse_long(optarg, min, max, out))
		return true;
	msg("bad value '%s' for --%s: a whole number from %ld to %ld (see --help)",
	    optarg, opt, min, max);
	return false;
}

int main(int argc, char **argv)
{
	long iterations = 2000, seconds = 60, seed = 1, hang_s = 20;
	const char *dir = NULL, *json_path = NULL;
	struct rlimit rl = { 64 << 20, 64 << 20 };
	struct timespec t0, t;
	aio_context_t ctx = 0;
	int i, c, inflight = 0, ret = 0;
	bool anywhere = false;
	struct stat dst;
	char *map;

	prog_name = "aio-fuzz";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case OPT_JSON:
			json_path = optarg;
			break;
		case OPT_ANYWHERE:
			anywhere = true;
			break;
		case OPT_ITERATIONS:
			if (!number("iterations", 0, 1L << 40, &iterations))
				return 2;
			break;
		case OPT_SECONDS:
			if (!number("seconds", 0, 1L << 40, &seconds))
				return 2;
			break;
		case OPT_SEED:
			if (!number("seed", 0, LONG_MAX, &seed))
				return 2;
			break;
		case OPT_HANG:
			if (!number("hang-seconds", 1, 86400, &hang_s))
				return 2;
			break;
		case 'h':
		case TOOL_OPT_HELP:
			usage(stdout);
			return 0;
		default:
			return tool_bad_option(c, argv, longopts);
		}
	}
	if (optind < argc) {
		msg("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (!dir) {
		msg("expected -d DIR (see --help)");
		return 2;
	}
	if (stat(dir, &dst)) {
		msg("-d %s: %s", dir, strerror(errno));
		return 2;
	}
	if (!S_ISDIR(dst.st_mode)) {
		msg("-d %s is not a directory", dir);
		return 2;
	}
	if (json_path && tool_check_output("--json", json_path))
		return 2;
	if (!anywhere && !in_suite_guest()) {
		msg("runs only in the qemu guest of ci/kernels.py "
		    "(--anywhere to run here)");
		return 2;
	}
	ret = tool_io_setup(RING, &ctx, "the fuzzer's ring");
	if (ret)
		return ret;
	ret = 0;
	rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)seed;
	target_install_signals(NULL); /* removes its files on SIGINT/SIGTERM */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	setrlimit(RLIMIT_FSIZE, &rl);
	/* buffer, then a guard page: a long copy stops at the guard. */
	map = mmap(NULL, BUF_BYTES + 3 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		msg("mmap: %s", strerror(errno));
		return 1;
	}
	buf = map;
	none_page = map + BUF_BYTES;
	ro_page = map + BUF_BYTES + PAGE;
	memset(buf, 0xa5, BUF_BYTES);
	mprotect(none_page, PAGE, PROT_NONE);
	mprotect(ro_page, PAGE, PROT_READ);
	mprotect(ro_page + PAGE, PAGE, PROT_NONE);
	i = setup_fds(dir);
	if (i) {
		struct rlimit nof = { 0, 0 };

		getrlimit(RLIMIT_NOFILE, &nof);
		if (i == -EMFILE)
			msg("cannot make its files in %s: %s (ulimit -n is %llu)",
			    dir, strerror(-i),
			    (unsigned long long)nof.rlim_cur);
		else
			msg("cannot make its files in %s: %s", dir,
			    strerror(-i));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (st.rounds = 0; st.rounds < (uint64_t)iterations; st.rounds++) {
		ret = round_once(&ctx, &inflight, (int)hang_s);
		if (ret) {
			msg("context call failed: %s", strerror(-ret));
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= seconds)
			break;
	}
	/* Drain: what is left completes or goes with the context. */
	{
		struct io_event ev[RING];
		struct timespec ts = { .tv_sec = 1 };
		int r;

		alarm((unsigned int)hang_s);
		while (inflight > 0) {
			r = (int)GUARDED("io_getevents",
					 sys_io_getevents(ctx, 1, RING, ev,
							  &ts));
			if (r <= 0)
				break;
			inflight -= r;
			st.completed += (uint64_t)r;
		}
		if (GUARDED("io_destroy", sys_io_destroy(ctx)) && !ret) {
			msg("io_destroy: %s", strerror(errno));
			ret = -errno;
		}
		alarm(0);
	}
	printf("aio-fuzz: %llu rounds, %llu iocbs, %llu accepted, "
	       "%llu completed, %llu cancelled\n",
	       (unsigned long long)st.rounds, (unsigned long long)st.submitted,
	       (unsigned long long)st.accepted,
	       (unsigned long long)st.completed,
	       (unsigned long long)st.cancelled);
	if (json_path) {
		struct json j;
		FILE *f = fopen(json_path, "w");

		if (!f) {
			msg("cannot write %s: %s", json_path, strerror(errno));
			return 1;
		}
		json_init(&j, f, true);
		json_obj_begin(&j, NULL);
		json_str(&j, "schema", "aio-fuzz/1");
		json_int(&j, "seed", seed);
		json_uint(&j, "rounds", st.rounds);
		json_uint(&j, "iocbs", st.submitted);
		json_uint(&j, "accepted", st.accepted);
		json_uint(&j, "completed", st.completed);
		json_uint(&j, "completed_ok", st.res_ok);
		json_uint(&j, "cancelled", st.cancelled);
		json_uint(&j, "destroys_with_inflight", st.destroys_inflight);
		json_errtab(&j, "submit_errno", st.submit_err);
		json_errtab(&j, "res_errno", st.res_err);
		json_str(&j, "result", ret ? "fail" : "pass");
		json_obj_end(&j);
		json_finish(&j);
		fclose(f);
	}
	return ret ? 1 : 0;
}
