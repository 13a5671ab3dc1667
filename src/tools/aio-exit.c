/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-exit: how long the kernel takes to reap a process that exits, or is
 * killed, with native AIO requests still in flight (seed 004: the hang in
 * exit_aio/wait_for_all_aios when kiocb batching freed the last request of
 * a dead context).
 *
 *   aio-exit [-m exit|kill] [-n INFLIGHT] [-q RING] [-r BYTES] [-t TRIALS]
 *            [-w SECONDS] FILE
 *
 * Each trial forks a child that opens FILE with O_DIRECT, sets up a context
 * of RING events and submits INFLIGHT reads of BYTES at random aligned
 * offsets (as many as the ring accepts: EAGAIN ends the submission), then
 * either exits at once (-m exit) or waits to be killed with SIGKILL
 * (-m kill).  The time until reaped runs from the child's last timestamp
 * before _exit (or the parent's kill) to waitpid's return.  A child not
 * reaped within the watchdog after its exit (or kill) is a hang; the run
 * goes on.  The child's own set-up (memory, io_setup, io_submit) is not
 * the exit path: it has a bound of its own (SETUP_S, or twice the
 * watchdog), and a child that overruns it is killed and counted as failed,
 * never as a hang, unless even SIGKILL cannot reap it.  A child allocates
 * one buffer per request the ring can hold in flight (the kernel's ring
 * size), not per request asked for, and that is checked against the
 * memory there is before any trial.
 *
 * Prints one JSON object (schema aio-exit/1).  Exit status 0, 1 when a
 * trial hung or failed (with one line on stderr), 2 for usage errors, 77
 * when native AIO is not in this kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aio_sys.h"
#include "clock.h"
#include "json.h"
#include "tool.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* What the child tells the parent: once when set up, once when done. */
struct report {
	long submitted;
	uint64_t t_ns;
	int err;
	bool final;
};

struct trial {
	long submitted;
	uint64_t reap_ns;
	const char *status;
	int err;
	char why[128]; /* when not an errno */
};

#define SETUP_S 10.0
#define MAX_WATCHDOG_S 86400.0

static const struct option longopts[] = {
	{ "help", no_argument, NULL, TOOL_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-exit [-m exit|kill] [-n INFLIGHT] [-q RING] [-r BYTES]\n"
		"                [-t TRIALS] [-w SECONDS] FILE\n"
		"  a child submits INFLIGHT O_DIRECT reads (default 64; 0: none) to a context\n"
		"  of RING events (default 64; 0: no context), then exits (-m exit, default) or is\n"
		"  killed (-m kill); prints the time until the parent reaps it as JSON\n"
		"  -r record size (default 64k)   -t trials (default 5)\n"
		"  -w watchdog seconds per trial (default 10): longer is a hang\n"
		"  FILE is only read (O_DIRECT): a regular file or a block device\n"
		"  holding one record; the children's buffers must fit in memory\n"
		"  -h, --help   this text\n" TOOL_HELP_EXIT);
}

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static off_t target_size(int fd)
{
	struct stat st;
	off_t end;

	if (fstat(fd, &st))
		return -1;
	if (S_ISREG(st.st_mode))
		return st.st_size;
	end = lseek(fd, 0, SEEK_END);
	return end;
}

/*
 * The child: never returns.  n requests use slots buffers (iocb i the
 * buffer i % slots): slots is what the ring can hold in flight, so that no
 * two requests in flight share one and no memory is spent on requests the
 * ring would refuse.
 */
static void child(const char *path, long n, long slots, long ring, uint64_t rec,
		  int wfd, bool wait_kill)
{
	struct report rep = { 0 };
	aio_context_t ctx = 0;
	struct iocb *cbs, **ptrs;
	uint64_t blocks;
	char *buf;
	off_t size;
	long i, done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_DIRECT);
	size = fd >= 0 ? target_size(fd) : -1;
	if (fd < 0 || size < (off_t)rec) {
		rep.err = fd < 0 ? errno : EINVAL;
		goto out;
	}
	blocks = (uint64_t)size / rec;
	cbs = calloc((size_t)n + 1, sizeof(*cbs));
	ptrs = calloc((size_t)n + 1, sizeof(*ptrs));
	if (!cbs || !ptrs ||
	    posix_memalign((void **)&buf, 4096, rec * (uint64_t)(slots + 1))) {
		rep.err = ENOMEM;
		goto out;
	}
	memset(buf, 0, rec * (uint64_t)(slots + 1));
	/* Set up: what follows is the kernel's. */
	rep.t_ns = now_ns();
	if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	if (!ring) /* the control: a process without an AIO context */
		goto out;
	if (sys_io_setup((unsigned int)ring, &ctx)) {
		rep.err = errno;
		goto out;
	}
	rnd_state ^= (uint64_t)getpid() * 2654435761u;
	for (i = 0; i < n; i++) {
		prep_rw(&cbs[i], IOCB_CMD_PREAD, fd, buf + (i % slots) * rec,
			rec, (int64_t)((rnd() % blocks) * rec));
		ptrs[i] = &cbs[i];
	}
	while (done < n) {
		ret = sys_io_submit(ctx, n - done, ptrs + done);
		if (ret <= 0) {
			if (ret < 0 && errno != EAGAIN)
				rep.err = errno;
			break;
		}
		done += ret;
	}
out:
	rep.submitted = done;
	rep.final = true;
	rep.t_ns = now_ns();
	if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	if (wait_kill && !rep.err)
		for (;;)
			pause();
	/* Exit with the requests in flight: exit_aio has to wait for them. */
	_exit(rep.err ? 1 : 0);
}

/* Wait for pid until deadline (ns); true when reaped. */
static bool reap(pid_t pid, uint64_t deadline, int *wstatus)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		uint64_t now = now_ns();
		pid_t w = waitpid(pid, wstatus, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		if (now >= deadline) {
			if (pfd >= 0)
				close(pfd);
			return false;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };
			int ms = (int)((deadline - now) / 1000000) + 1;

			poll(&p, 1, ms);
		} else {
			struct timespec ts = ns_to_timespec(20000);

			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return true;
}

/*
 * Read the child's next report within timeout_s; false when none came
 * (timed out, or the child died without one).
 */
static bool next_report(int rfd, double timeout_s, struct report *rep)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);
	int ret;

	for (;;) {
		uint64_t now = now_ns();

		if (now >= deadline)
			return false;
		ret = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret != 1)
			return false;
		return read(rfd, rep, sizeof(*rep)) == sizeof(*rep);
	}
}

/* Kill a child that overran its set-up; a hang only if even that fails. */
static void kill_stuck(pid_t pid, double bound_s, struct trial *t,
		       const char *why)
{
	int wstatus;

	kill(pid, SIGKILL);
	if (!reap(pid, now_ns() + (uint64_t)(bound_s * 1e9), &wstatus)) {
		t->status = "hang";
		snprintf(t->why, sizeof(t->why),
			 "%s, and SIGKILL did not end it", why);
		return;
	}
	t->status = "failed";
	snprintf(t->why, sizeof(t->why), "%s", why);
}

static void run_trial(const char *path, long n, long slots, long ring,
		      uint64_t rec, bool kill_mode, double watchdog,
		      struct trial *t)
{
	struct report rep = { 0 };
	double setup_s = watchdog * 2 > SETUP_S ? watchdog * 2 : SETUP_S;
	uint64_t t0, deadline;
	int fds[2], wstatus = 0;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->status = "failed";
	if (pipe(fds)) {
		struct rlimit nof = { 0, 0 };

		t->err = errno;
		getrlimit(RLIMIT_NOFILE, &nof);
		snprintf(
			t->why, sizeof(t->why),
			"cannot make a pipe to the child: %s (ulimit -n is %llu)",
			strerror(errno), (unsigned long long)nof.rlim_cur);
		return;
	}
	pid = fork();
	if (pid < 0) {
		t->err = errno;
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		child(path, n, slots, ring, rec, fds[1], kill_mode);
	}
	close(fds[1]);
	/* The child's set-up, then its submission: neither is the exit. */
	if (!next_report(fds[0], setup_s, &rep)) {
		kill_stuck(pid, setup_s, t,
			   "the child did not get its memory ready");
		close(fds[0]);
		return;
	}
	if (!rep.final && !next_report(fds[0], setup_s, &rep)) {
		kill_stuck(pid, setup_s, t,
			   ring ? "io_setup or io_submit did not return" :
				  "the child did not report");
		close(fds[0]);
		return;
	}
	close(fds[0]);
	t->submitted = rep.submitted;
	t->err = rep.err;
	t0 = rep.t_ns;
	if (kill_mode && !rep.err) {
		t0 = now_ns();
		kill(pid, SIGKILL);
	}
	deadline = t0 + (uint64_t)(watchdog * 1e9);
	if (!reap(pid, deadline, &wstatus)) {
		t->reap_ns = now_ns() - t0;
		t->status = "hang";
		return;
	}
	t->reap_ns = now_ns() - t0;
	t->status = rep.err ? "failed" : "ok";
}

/* One line on stderr for what went wrong in the trials, if anything. */
static void summarize(const struct trial *tr, long trials, long hangs, long ok,
		      double watchdog)
{
	long i, failed = trials - ok - hangs;
	const char *why = "";

	for (i = 0; i < trials && !why[0]; i++)
		if (strcmp(tr[i].status, "ok"))
			why = tr[i].why[0] ? tr[i].why :
			      tr[i].err	   ? strerror(tr[i].err) :
					     "";
	if (hangs)
		msg("%ld of %ld trials hung: a child not reaped within -w %g s%s%s",
		    hangs, trials, watchdog, why[0] ? "; " : "", why);
	else if (failed)
		msg("%ld of %ld trials failed: %s", failed, trials,
		    why[0] ? why : "unknown");
}

int main(int argc, char **argv)
{
	long n = 64, ring = 64, trials = 5, i, ok = 0, hangs = 0, slots = 0;
	uint64_t rec = 65536, *sorted, sum = 0;
	double watchdog = 10;
	bool kill_mode = false;
	struct trial *tr;
	struct json j;
	aio_context_t probe;
	char what[80];
	const char *rec_arg = "64k";
	int c, fd, ret;
	off_t size;

	prog_name = "aio-exit";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:n:q:r:t:w:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "kill"))
				kill_mode = true;
			else if (strcmp(optarg, "exit"))
				goto bad;
			break;
		case 'n':
			if (parse_long(optarg, 0, 1 << 20, &n))
				goto bad;
			break;
		case 'q':
			if (parse_long(optarg, 0, 1 << 20, &ring))
				goto bad;
			break;
		case 'r':
			if (parse_size(optarg, 1, &rec) || !rec || rec % 512 ||
			    rec > (1ull << 30))
				goto bad;
			rec_arg = optarg;
			break;
		case 't':
			if (parse_long(optarg, 1, 100000, &trials))
				goto bad;
			break;
		case 'w':
			if (parse_seconds(optarg, &watchdog) || watchdog <= 0 ||
			    watchdog > MAX_WATCHDOG_S)
				goto bad;
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
	if (!ring)
		n = 0;
	/* The target, as the children will open it: only read. */
	fd = tool_open_target(argv[optind], O_RDONLY | O_DIRECT, false);
	if (fd < 0)
		return -fd;
	size = target_size(fd);
	close(fd);
	if (size < (off_t)rec) {
		msg("%s holds %lld bytes, less than one record (-r %s): nothing to read",
		    argv[optind], (long long)size, rec_arg);
		return 1;
	}
	if (ring) {
		snprintf(what, sizeof(what), "-q %ld", ring);
		ret = tool_io_setup((unsigned int)ring, &probe, what);
		if (ret)
			return ret;
		/* The kernel's ring size: never more requests in flight. */
		slots = aio_ring_of(probe)->nr;
		sys_io_destroy(probe);
	}
	if (slots > n)
		slots = n;
	/* What each child allocates: a record per slot, n iocbs. */
	snprintf(what, sizeof(what), "-n %ld -q %ld with -r %s", n, ring,
		 rec_arg);
	ret = tool_check_memory(tool_mul((uint64_t)slots + 1, rec) +
					tool_mul((uint64_t)n + 1,
						 sizeof(struct iocb) + 8),
				what);
	if (ret)
		return ret;
	tr = calloc((size_t)trials, sizeof(*tr));
	sorted = calloc((size_t)trials, sizeof(*sorted));
	if (!tr || !sorted) {
		msg("out of memory for %ld trials", trials);
		return 1;
	}
	for (i = 0; i < trials; i++) {
		run_trial(argv[optind], n, slots, ring, rec, kill_mode,
			  watchdog, &tr[i]);
		if (!strcmp(tr[i].status, "ok")) {
			sorted[ok++] = tr[i].reap_ns;
			sum += tr[i].reap_ns;
		} else if (!strcmp(tr[i].status, "hang")) {
			hangs++;
		}
	}
	qsort(sorted, (size_t)ok, sizeof(*sorted), cmp_u64);

	json_init(&j, stdout, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "schema", "aio-exit/1");
	json_str(&j, "file", argv[optind]);
	json_str(&j, "mode", kill_mode ? "kill" : "exit");
	json_int(&j, "requested", n);
	json_int(&j, "ring", ring);
	json_uint(&j, "record_bytes", rec);
	json_double(&j, "watchdog_s", watchdog);
	json_int(&j, "hangs", hangs);
	json_int(&j, "ok", ok);
	json_obj_begin(&j, "reap_ns");
	json_uint(&j, "min", ok ? sorted[0] : 0);
	json_uint(&j, "p50", ok ? sorted[ok / 2] : 0);
	json_uint(&j, "max", ok ? sorted[ok - 1] : 0);
	json_double(&j, "mean", ok ? (double)sum / (double)ok : 0);
	json_obj_end(&j);
	json_arr_begin(&j, "trials");
	for (i = 0; i < trials; i++) {
		json_obj_begin(&j, NULL);
		json_str(&j, "status", tr[i].status);
		json_int(&j, "submitted", tr[i].submitted);
		json_uint(&j, "reap_ns", tr[i].reap_ns);
		json_str(&j, "error",
			 tr[i].why[0] ? tr[i].why :
			 tr[i].err    ? strerror(tr[i].err) :
					"");
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	putchar('\n');
	fflush(stdout);
	summarize(tr, trials, hangs, ok, watchdog);
	return ok == trials ? 0 : 1;
bad:
	msg("bad value '%s' for -%c (see --help)", optarg, c);
	return 2;
}
