/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the runner.  Each test runs in its own forked child, in its
 * own process group, with a watchdog; the parent turns the child's exit
 * status (or the lack of one) into a KTAP line, scans the kernel log and
 * the taint flags the test left, and keeps the results for the JSON file.
 *
 * The run stops early on SIGINT, SIGTERM or SIGHUP (the running test is
 * "interrupted", the exit status 128 + the signal), at --deadline (the
 * rest are listed as not run) and when --bail-after tests in a row left a
 * process the kernel will not let go of (KTAP "Bail out!"); each time the
 * JSON says the run is incomplete, and why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "errname.h"
#include "harness.h"
#include "json.h"
#include "proc.h"
#include "scratch.h"
#include "target.h"
#include "util.h"

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif

#define AIO_NR "/proc/sys/fs/aio-nr"
#define AIO_MAX_NR "/proc/sys/fs/aio-max-nr"

struct conform_opts conform_opts = {
	.timeout_s = 30,
	.bail_after = 3,
	.kill_wait_s = 5,
	.scale = 1,
};

enum r_kind {
	R_PASS,
	R_FAIL,
	R_SKIP,
	R_XFAIL,
	R_TIMEOUT,
	R_CRASH,
	R_STUCK,
	R_INTERRUPTED,
};

static const char *const r_names[] = {
	[R_PASS] = "pass",	 [R_FAIL] = "fail",
	[R_SKIP] = "skip",	 [R_XFAIL] = "xfail",
	[R_TIMEOUT] = "timeout", [R_CRASH] = "crash",
	[R_STUCK] = "stuck",	 [R_INTERRUPTED] = "interrupted",
};

struct result {
	const char *name;
	const char *variant; /* NULL without variants */
	enum r_kind kind;
	char reason[512];
	uint64_t duration_ns;
	struct wd_report *wd; /* what the watchdog saw, or NULL */
};

static struct conform_test *tests_head, **tests_tail = &tests_head;
static struct result *results;
static int nr_results, max_results;
static volatile int stop_sig;
static const char *diag_indent = "";

/* Why the run stopped early, besides a signal. */
static uint64_t deadline_ns;
static bool deadline_hit;
static char deadline_why[80]; /* what a test the deadline cut says */
static char bail_reason[1024];

/* What this kernel lacks ("" when present), probed once. */
static char no_aio[128], no_uring[192];

/* Processes SIGKILL could not end, and how many tests in a row left one. */
#define STUCK_MAX 64
static struct {
	pid_t pid;
	const char *test;
	const char *variant;
} stuck[STUCK_MAX];
static int nr_stuck;
static unsigned int stuck_in_row;
static int streak_from; /* the first of stuck[] in this row of tests */

void conform_register(struct conform_test *ct)
{
	ct->next = NULL;
	*tests_tail = ct;
	tests_tail = &ct->next;
}

static bool deadline_passed(void)
{
	if (deadline_ns && !deadline_hit && now_ns() >= deadline_ns)
		deadline_hit = true;
	return deadline_hit;
}

bool conform_stopped(void)
{
	return stop_sig != 0 || deadline_passed() || bail_reason[0];
}

/* The signals target_install_signals() catches. */
static const char *stop_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	case SIGPIPE:
		return "SIGPIPE";
	default:
		return "a signal";
	}
}

/* Child side: verdicts and diagnostics. */

static void vrecord(struct tctx *t, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vrecord(struct tctx *t, const char *fmt, va_list ap)
{
	if (t->reason && !t->reason[0])
		vsnprintf(t->reason, t->reason_len, fmt, ap);
}

void t_diag(struct tctx *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("%s# %s\n", diag_indent, buf);
	fflush(stdout);
}

int t_fail(struct tctx *t, const char *file, int line, const char *fmt, ...)
{
	char buf[768];
	const char *base = strrchr(file, '/');
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t_diag(t, "%s: %s:%d: %s", t->test->name, base ? base + 1 : file, line,
	       buf);
	if (t->reason && !t->reason[0])
		snprintf(t->reason, t->reason_len, "%s:%d: %s",
			 base ? base + 1 : file, line, buf);
	t->failed = true;
	return T_FAIL;
}

int t_skip(struct tctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(t, fmt, ap);
	va_end(ap);
	return T_SKIP;
}

int t_xfail(struct tctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(t, fmt, ap);
	va_end(ap);
	return T_XFAIL;
}

bool t_aio_limit(struct tctx *t, unsigned int nr)
{
	long max, used;

	if (read_proc_long(AIO_MAX_NR, &max) || read_proc_long(AIO_NR, &used))
		return false;
	/* The kernel's rule (ioctx_alloc): aio-nr + nr must fit in max. */
	if ((long)nr <= max && used + (long)nr <= max)
		return false;
	t_skip(t,
	       "a low limit: io_setup(%u) is EAGAIN with "
	       "/proc/sys/fs/aio-max-nr %ld and aio-nr %ld in use "
	       "(raise aio-max-nr)",
	       nr, max, used);
	t->limited = true;
	return true;
}

bool t_fd_limit(struct tctx *t, int err)
{
	struct rlimit rl = { 0, 0 };

	if (err == EMFILE) {
		getrlimit(RLIMIT_NOFILE, &rl);
		t_skip(t,
		       "a low limit: out of file descriptors (EMFILE) with "
		       "the open-file limit at %llu (ulimit -n)",
		       (unsigned long long)rl.rlim_cur);
	} else if (err == ENFILE) {
		t_skip(t, "a low limit: the system's file table is full "
			  "(ENFILE, /proc/sys/fs/file-max)");
	} else {
		return false;
	}
	t->limited = true;
	return true;
}

const char *errno_name(int err)
{
	static char buf[32];
	const char *s = err ? errno_abbrev(err) : "no error";

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* The kernel log scan (blktests' habit). */

static int kmsg_rd = -1, kmsg_wr = -1;

static void kmsg_init(void)
{
	if (geteuid() != 0)
		return;
	kmsg_rd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	kmsg_wr = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (kmsg_rd < 0 || kmsg_wr < 0) {
		if (kmsg_rd >= 0)
			close(kmsg_rd);
		if (kmsg_wr >= 0)
			close(kmsg_wr);
		kmsg_rd = kmsg_wr = -1;
	}
}

/* What the kernel logged since the last mark. */
static struct {
	bool found;
	char bad[400]; /* the first bad line */
	int nr_hung;
	char hung[4][256]; /* hung-task lines, for the watchdog */
} klog;

static void kmsg_mark(const char *name, const char *variant)
{
	char line[256];
	int n;

	memset(&klog, 0, sizeof(klog));
	if (kmsg_rd < 0)
		return;
	lseek(kmsg_rd, 0, SEEK_END);
	/* One write(2) per record: /dev/kmsg rejects a split line. */
	n = snprintf(line, sizeof(line), "<5>aio-conform: running %s%s%s\n",
		     name, variant ? " on " : "", variant ? variant : "");
	if (write(kmsg_wr, line, (size_t)n) < 0) {
		/* rate limited or refused: the scan still works */
	}
}

static const char *const kmsg_bad[] = {
	"BUG:",
	"WARNING:",
	"Oops",
	"general protection fault",
	"lockdep",
	"possible circular locking",
	"possible recursive locking",
	"blocked for more than",
	"hung task",
	"hung_task",
	"detected stall",
	"RCU stall",
};

static const char *const kmsg_hung[] = {
	"blocked for more than",
	"hung task",
	"hung_task",
};

static bool has_any(const char *text, const char *const *pats, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(text, pats[i]))
			return true;
	return false;
}

/*
 * A warning that meta.raw.dmesg_warning of another aio-conform run wrote
 * on purpose ("aio-conform meta (run PID): WARNING: ..."): not this run's.
 */
static bool injected_elsewhere(const char *text)
{
	char mine[64];

	if (!strstr(text, "injected on request by --inject-warning"))
		return false;
	snprintf(mine, sizeof(mine),
		 "aio-conform meta (run %d):", (int)getpid());
	return !strstr(text, mine);
}

/* Read what was logged since the last read into klog. */
static void kmsg_collect(void)
{
	char buf[8192];
	ssize_t n;

	if (kmsg_rd < 0)
		return;
	for (;;) {
		char *text, *end;

		n = read(kmsg_rd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten: go on */
		if (n <= 0)
			break;
		buf[n] = '\0';
		text = strchr(buf, ';');
		if (!text)
			continue;
		text++;
		end = strchr(text, '\n');
		if (end)
			*end = '\0';
		if (injected_elsewhere(text))
			continue;
		if (!klog.found &&
		    has_any(text, kmsg_bad, ARRAY_SIZE(kmsg_bad))) {
			snprintf(klog.bad, sizeof(klog.bad), "%s", text);
			klog.found = true;
		}
		if (klog.nr_hung < (int)ARRAY_SIZE(klog.hung) &&
		    has_any(text, kmsg_hung, ARRAY_SIZE(kmsg_hung)))
			snprintf(klog.hung[klog.nr_hung++],
				 sizeof(klog.hung[0]), "%s", text);
	}
}

bool kmsg_usable(void)
{
	return kmsg_rd >= 0;
}

/* The taint flags (kernel/panic.c), for a taint a test left. */
static const char taint_letters[] = "PFSRMBUDAWCIOELKXTNJ";

static const char *const taint_what[] = {
	"proprietary module",
	"module force-loaded",
	"out-of-spec system",
	"module force-unloaded",
	"machine check",
	"bad page",
	"user request",
	"kernel died",
	"ACPI table overridden",
	"kernel warning",
	"staging driver",
	"firmware workaround",
	"out-of-tree module",
	"unsigned module",
	"soft lockup",
	"live patched",
	"auxiliary",
	"struct randomization",
	"in-kernel test",
	"fwctl",
};

static bool read_taint(unsigned long *val)
{
	const char *path = conform_opts.taint_file ? conform_opts.taint_file :
						     "/proc/sys/kernel/tainted";
	long v;

	if (read_proc_long(path, &v))
		return false;
	*val = (unsigned long)v;
	return true;
}

/* "W (kernel warning), D (kernel died)" for bits. */
static void taint_names(unsigned long bits, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < 8 * sizeof(bits) && used < len; i++) {
		if (!(bits & (1ul << i)))
			continue;
		if (i < ARRAY_SIZE(taint_what))
			used += (size_t)snprintf(buf + used, len - used,
						 "%s%c (%s)", used ? ", " : "",
						 taint_letters[i],
						 taint_what[i]);
		else
			used += (size_t)snprintf(buf + used, len - used,
						 "%sbit %u", used ? ", " : "",
						 i);
	}
}

bool t_misbehave(const char *name)
{
	const char *list = getenv("AIO_CONFORM_MISBEHAVE");
	size_t len = strlen(name);
	const char *p;

	for (p = list; p && (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
	return false;
}

int rm_tree(const char *path)
{
	return scratch_rm_tree(path);
}

/* What the kernel lacks, probed once: a reason in no_aio and no_uring. */
static void probe_features(void)
{
	unsigned char params[128] = { 0 }; /* struct io_uring_params */
	aio_context_t ctx = 0;
	long disabled = 0;
	int fd;

	if (sys_io_setup(1, &ctx) == 0)
		sys_io_destroy(ctx);
	else if (errno == ENOSYS)
		snprintf(no_aio, sizeof(no_aio),
			 "native AIO is not in this kernel (CONFIG_AIO=n)");
	fd = (int)syscall(__NR_io_uring_setup, 1, params);
	if (fd >= 0) {
		close(fd);
	} else if (errno == ENOSYS) {
		snprintf(no_uring, sizeof(no_uring),
			 "io_uring is not available: io_uring_setup: ENOSYS "
			 "(not in this kernel, CONFIG_IO_URING=n)");
	} else if (errno == EPERM) {
		read_proc_long("/proc/sys/kernel/io_uring_disabled", &disabled);
		snprintf(no_uring, sizeof(no_uring),
			 "io_uring is not available: io_uring_setup: EPERM "
			 "(kernel.io_uring_disabled is %ld)",
			 disabled);
	}
}

/* Why ct cannot run on this kernel, or NULL. */
static const char *missing(const struct conform_test *ct)
{
	bool meta = ct->flags & (T_META | T_META_RAW);

	if (no_aio[0] && (!meta || (ct->flags & T_AIO)))
		return no_aio;
	if (no_uring[0] && (ct->flags & T_URING))
		return no_uring;
	return NULL;
}

static void child_run(const struct conform_test *ct, const struct variant *v,
		      const char *dir, struct wd_table *tab, pid_t parent)
{
	struct tctx t = {
		.test = ct,
		.var = v,
		.reason = wd_reason(tab),
		.reason_len = wd_reason_len(),
		.fd = -1,
		.pipe = { -1, -1 },
		.efd = -1,
		.zfd = -1,
	};
	int verdict;

	setpgid(0, 0);
	/* Should the runner die (a second SIGINT), the test goes too. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* It may have died before that: its pid, saved before the fork. */
	if (getppid() != parent)
		_exit(T_FAIL);
	/* A test that calls exit() must not undo the runner's mounts. */
	target_forget_all();
	wd_attach(tab);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	diag_indent = v ? "    " : "";
	snprintf(t.dir, sizeof(t.dir), "%s", dir);
	if (chdir(dir)) {
		t_fail(&t, __FILE__, __LINE__, "cannot enter %s: %m", dir);
		_exit(T_FAIL);
	}
	/* The fixtures, made and released here: the test runs if made. */
	verdict = t_fixtures_setup(&t, &ct->needs);
	if (verdict == T_PASS)
		verdict = ct->fn(&t);
	t_fixtures_teardown(&t, &ct->needs);
	if (t.failed)
		verdict = T_FAIL;
	else if (t.limited)
		verdict = T_SKIP;
	if (verdict != T_PASS && verdict != T_FAIL && verdict != T_SKIP &&
	    verdict != T_XFAIL)
		verdict = T_FAIL;
	fflush(stdout);
	_exit(verdict);
}

enum watch { W_EXITED, W_TIMEOUT, W_SIGNAL, W_DEADLINE };

/*
 * A test that is slow, not stuck, gets more time: at the end of each
 * timeout_s window in which its child still took iocbs or reaped events,
 * the watchdog waits one more window, up to WATCH_CAP windows in all.  A
 * child in a system call that never returns moves nothing and is killed
 * after one window, as before; a busy machine does not make a TIMEOUT.
 */
#define WATCH_CAP 4

struct watched {
	unsigned int waited_s; /* how long the child had */
	bool moving; /* it still moved in its last window */
};

/* Wait for the child for up to timeout_s, watching for a stop. */
static enum watch watch_child(pid_t pid, int *status, unsigned int timeout_s,
			      struct wd_table *tab, struct watched *wt)
{
	uint64_t start = now_ns(), win = (uint64_t)timeout_s * 1000000000ull;
	uint64_t end = start + win, now;
	unsigned long seen = wd_progress(tab), p;
	unsigned int windows = 1;

	for (;;) {
		if (wait_child(pid, status, 100))
			return W_EXITED;
		if (stop_sig)
			return W_SIGNAL;
		if (deadline_passed())
			return W_DEADLINE;
		now = now_ns();
		if (now < end)
			continue;
		p = wd_progress(tab);
		wt->moving = p != seen;
		wt->waited_s = (unsigned int)((now - start) / 1000000000ull);
		if (!wt->moving || windows >= WATCH_CAP)
			return W_TIMEOUT;
		seen = p;
		windows++;
		end = now + win;
	}
}

static bool is_stuck(pid_t pid)
{
	int i;

	for (i = 0; i < nr_stuck; i++)
		if (stuck[i].pid == pid)
			return true;
	return false;
}

/*
 * This process's children: from /proc/self/task/PID/children, else a scan;
 * none when /proc is not this pid namespace's (its pids are not ours).
 */
static int list_children(pid_t *pids, int max)
{
	char path[64], buf[4096], *tok, *save;
	struct proc_stat st;
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (proc_self_pid() != getpid())
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	if (read_text(path, buf, sizeof(buf)) >= 0) {
		for (tok = strtok_r(buf, " \n", &save); tok && n < max;
		     tok = strtok_r(NULL, " \n", &save))
			pids[n++] = atoi(tok);
		return n;
	}
	d = opendir("/proc");
	while (d && (de = readdir(d)) && n < max) {
		int p = atoi(de->d_name);

		if (p > 0 && !proc_stat(p, &st) && st.ppid == (int)getpid())
			pids[n++] = p;
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * Kill what a test left: its process group, and (the runner being a child
 * subreaper) every descendant that left the group and came to the runner
 * when its parent died, until none is left or 2 s have passed.  Those that
 * are still there go to left[]: their number.
 */
static int kill_strays(pid_t pgrp, pid_t *left, int max)
{
	struct timespec ts = { 0, 20000000 };
	pid_t pids[256];
	int round, n, i, live = 0;

	kill(-pgrp, SIGKILL);
	for (round = 0; round < 100; round++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		n = list_children(pids, (int)ARRAY_SIZE(pids));
		for (i = live = 0; i < n; i++) {
			if (is_stuck(pids[i]))
				continue;
			kill(pids[i], SIGKILL);
			if (live < max)
				left[live] = pids[i];
			live++;
		}
		if (!live)
			break;
		nanosleep(&ts, NULL);
	}
	return live < max ? live : max;
}

static bool failed_kind(enum r_kind k)
{
	return k == R_FAIL || k == R_TIMEOUT || k == R_CRASH || k == R_STUCK ||
	       k == R_INTERRUPTED;
}

/* A process the kernel would not let go of: remember it for a bail-out. */
static void left_behind(pid_t pid, const struct conform_test *ct,
			const struct variant *v, struct result *r)
{
	struct wd_report *wd = r->wd;

	if (nr_stuck < STUCK_MAX) {
		stuck[nr_stuck].pid = pid;
		stuck[nr_stuck].test = ct->name;
		stuck[nr_stuck].variant = v ? v->name : NULL;
		nr_stuck++;
	}
	if (wd && wd->nr_left < WD_SHOW)
		wd_proc_read(pid, &wd->left[wd->nr_left++]);
}

static void run_one(const struct conform_test *ct, const struct variant *v,
		    struct result *r)
{
	unsigned int timeout = ct->timeout_s ? ct->timeout_s :
					       conform_opts.timeout_s;
	unsigned long taint0 = 0, taint1 = 0;
	bool long_name, tainted;
	struct wd_table *tab;
	char dir[PATH_MAX];
	pid_t pid, self = getpid(), left[WD_SHOW];
	struct watched wt = { 0, false };
	enum watch w;
	uint64_t start;
	int status, nleft, i;
	char *shm;

	memset(r, 0, sizeof(*r));
	r->name = ct->name;
	r->variant = v ? v->name : NULL;
	long_name = snprintf(dir, sizeof(dir), "%s/%s%s%s",
			     v ? v->dir : conform_opts.scratch, ct->name,
			     v ? "." : "",
			     v ? v->name : "") >= (int)sizeof(dir);
	if (!long_name)
		rm_tree(dir);
	if (long_name || mkdir(dir, 0755)) {
		r->kind = R_FAIL;
		snprintf(r->reason, sizeof(r->reason),
			 "cannot create %.300s: %s", dir, strerror(errno));
		return;
	}
	tab = wd_table_new();
	if (!tab) {
		r->kind = R_FAIL;
		snprintf(r->reason, sizeof(r->reason), "mmap: %s",
			 strerror(errno));
		return;
	}
	shm = wd_reason(tab);
	tainted = read_taint(&taint0);
	kmsg_mark(ct->name, r->variant);
	fflush(stdout);
	fflush(stderr);
	start = now_ns();
	pid = fork();
	if (pid < 0) {
		r->kind = R_FAIL;
		snprintf(r->reason, sizeof(r->reason), "fork: %s",
			 strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_run(ct, v, dir, tab, self);
	setpgid(pid, pid);
	w = watch_child(pid, &status, timeout, tab, &wt);
	if (w == W_EXITED) {
		if (WIFEXITED(status)) {
			switch (WEXITSTATUS(status)) {
			case T_PASS:
				r->kind = R_PASS;
				break;
			case T_SKIP:
				r->kind = R_SKIP;
				break;
			case T_XFAIL:
				r->kind = R_XFAIL;
				break;
			case T_FAIL:
				r->kind = R_FAIL;
				break;
			default:
				r->kind = R_FAIL;
				snprintf(shm, wd_reason_len(),
					 "child exited with status %d",
					 WEXITSTATUS(status));
			}
			snprintf(r->reason, sizeof(r->reason), "%.500s", shm);
		} else {
			int sig = WTERMSIG(status);

			r->kind = R_CRASH;
			snprintf(r->reason, sizeof(r->reason),
				 "killed by signal %d (SIG%s)", sig,
				 signal_abbrev(sig) ? signal_abbrev(sig) : "?");
		}
		kill(-pid, SIGKILL); /* grandchildren left in its group */
	} else {
		/* Say what was stuck before the kill changes it. */
		r->wd = calloc(1, sizeof(*r->wd));
		if (r->wd && w == W_TIMEOUT) {
			kmsg_collect();
			wd_collect(tab, pid, r->wd);
		}
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		if (wait_child(pid, &status, conform_opts.kill_wait_s * 1000)) {
			r->kind = w == W_TIMEOUT ? R_TIMEOUT : R_INTERRUPTED;
			if (w == W_TIMEOUT && wt.moving)
				snprintf(r->reason, sizeof(r->reason),
					 "no verdict within %u s, still taking "
					 "or reaping iocbs at the cap of %u x "
					 "%u s: killed",
					 wt.waited_s, WATCH_CAP, timeout);
			else if (w == W_TIMEOUT)
				snprintf(
					r->reason, sizeof(r->reason),
					"no verdict within %u s, no iocb taken "
					"or reaped in the last %u s: killed",
					wt.waited_s, timeout);
			else if (w == W_SIGNAL)
				snprintf(r->reason, sizeof(r->reason),
					 "interrupted by %s",
					 stop_name(stop_sig));
			else
				snprintf(r->reason, sizeof(r->reason),
					 "stopped at the run's --deadline of "
					 "%u s",
					 conform_opts.deadline_s);
		} else {
			struct wd_proc p;

			wd_proc_read(pid, &p);
			r->kind = R_STUCK;
			snprintf(
				r->reason, sizeof(r->reason),
				"pid %d cannot be reaped (state %c): left behind",
				(int)pid, p.state);
			left_behind(pid, ct, v, r);
		}
		if (r->wd && w != W_TIMEOUT && !r->wd->nr_left) {
			free(r->wd); /* nothing to say */
			r->wd = NULL;
		}
	}
	nleft = kill_strays(pid, left, (int)ARRAY_SIZE(left));
	for (i = 0; i < nleft; i++) {
		/* A process the test started that SIGKILL does not end. */
		if (!r->wd)
			r->wd = calloc(1, sizeof(*r->wd));
		if (r->kind != R_STUCK) {
			struct wd_proc p;

			wd_proc_read(left[i], &p);
			r->kind = R_STUCK;
			snprintf(r->reason, sizeof(r->reason),
				 "pid %d, started by the test, cannot be "
				 "killed (state %c): left behind",
				 (int)left[i], p.state);
		}
		left_behind(left[i], ct, v, r);
	}
	r->duration_ns = now_ns() - start;
	kmsg_collect();
	if (r->wd) {
		for (i = 0; i < klog.nr_hung; i++)
			snprintf(r->wd->hung[i], sizeof(r->wd->hung[i]), "%s",
				 klog.hung[i]);
		r->wd->nr_hung = klog.nr_hung;
	}
	if (klog.found) {
		if (failed_kind(r->kind)) {
			/* Already failing: say what the kernel logged too. */
			printf("%s# %s: kernel log: \"%s\"\n", v ? "    " : "",
			       ct->name, klog.bad);
		} else {
			r->kind = R_FAIL;
			snprintf(r->reason, sizeof(r->reason),
				 "kernel log: \"%s\"", klog.bad);
		}
	}
	if (tainted && read_taint(&taint1) && (taint1 & ~taint0)) {
		char names[300];

		taint_names(taint1 & ~taint0, names, sizeof(names));
		if (failed_kind(r->kind)) {
			printf("%s# %s: kernel taint: %s\n", v ? "    " : "",
			       ct->name, names);
		} else {
			r->kind = R_FAIL;
			snprintf(r->reason, sizeof(r->reason),
				 "kernel taint: the test left %s "
				 "(/proc/sys/kernel/tainted %lu, was %lu)",
				 names, taint1, taint0);
		}
	}
	/* What the test changed machine-wide, put back now it is gone. */
	undo_run(v ? "    " : "", ct->name, false);
out:
	wd_table_free(tab);
	if (r->kind != R_STUCK)
		rm_tree(dir);
}

/*
 * The totals count results: one per test, and one per variant of a test
 * that has variants (as KUnit counts a parameterised test's cases), so that
 * a skip on one variant is counted as a skip and not hidden in its
 * parent's ok.  They are what the JSON "results" list holds.
 */
static struct {
	int pass, fail, xfail, skip, error;
} totals;

static void keep(const struct result *r)
{
	switch (r->kind) {
	case R_PASS:
		totals.pass++;
		break;
	case R_XFAIL:
		totals.xfail++;
		break;
	case R_SKIP:
		totals.skip++;
		break;
	case R_FAIL:
		totals.fail++;
		break;
	default:
		totals.error++;
	}
	if (nr_results == max_results) {
		int n = max_results ? max_results * 2 : 256;
		struct result *nr = realloc(results, n * sizeof(*nr));

		if (!nr)
			return;
		results = nr;
		max_results = n;
	}
	results[nr_results++] = *r;
}

/*
 * After a test ran: count the tests in a row that left a process behind,
 * and bail out when they reach --bail-after.
 */
static void count_stuck(enum r_kind kind)
{
	size_t used;
	int i, from;

	if (kind != R_STUCK) {
		stuck_in_row = 0;
		streak_from = nr_stuck;
		return;
	}
	stuck_in_row++;
	if (!conform_opts.bail_after || stuck_in_row < conform_opts.bail_after)
		return;
	from = streak_from;
	used = (size_t)snprintf(bail_reason, sizeof(bail_reason),
				"the kernel left %d processes unkillable "
				"(%u tests in a row):",
				nr_stuck - from, stuck_in_row);
	for (i = from; i < nr_stuck && used < sizeof(bail_reason); i++) {
		struct wd_proc p;

		wd_proc_read(stuck[i].pid, &p);
		used += (size_t)snprintf(
			bail_reason + used, sizeof(bail_reason) - used,
			"%s pid %d state %c%s%s in %s%s%s", i > from ? "," : "",
			(int)stuck[i].pid, p.state, p.wchan[0] ? " wchan " : "",
			p.wchan, stuck[i].test, stuck[i].variant ? " on " : "",
			stuck[i].variant ? stuck[i].variant : "");
	}
}

/* One KTAP result line; diagnostics for failures first. */
static void report(const char *indent, int n, const char *name,
		   const char *test_name, enum r_kind kind, const char *reason,
		   const struct wd_report *wd)
{
	if (wd)
		wd_print(wd, indent, test_name);
	if ((kind == R_TIMEOUT || kind == R_CRASH || kind == R_STUCK ||
	     kind == R_INTERRUPTED ||
	     (kind == R_FAIL && reason[0] &&
	      (!strncmp(reason, "kernel log", 10) ||
	       !strncmp(reason, "kernel taint", 12)))))
		printf("%s# %s: %s\n", indent, test_name, reason);
	switch (kind) {
	case R_PASS:
		printf("%sok %d %s\n", indent, n, name);
		break;
	case R_SKIP:
		printf("%sok %d %s # SKIP %s\n", indent, n, name,
		       reason[0] ? reason : "no reason given");
		break;
	case R_XFAIL:
		printf("%sok %d %s # XFAIL %s\n", indent, n, name, reason);
		break;
	case R_TIMEOUT:
	case R_STUCK:
		printf("%snot ok %d %s # TIMEOUT\n", indent, n, name);
		break;
	case R_INTERRUPTED:
		printf("%snot ok %d %s # interrupted\n", indent, n, name);
		break;
	default:
		printf("%snot ok %d %s\n", indent, n, name);
	}
	fflush(stdout);
}

bool conform_selected(const struct conform_test *ct)
{
	bool in = conform_opts.nr_include == 0;
	int i;

	if (conform_opts.meta_raw) {
		if (!(ct->flags & T_META_RAW))
			return false;
	} else if (conform_opts.meta) {
		if (!(ct->flags & T_META))
			return false;
	} else if (ct->flags & (T_META | T_META_RAW)) {
		return false;
	}
	for (i = 0; i < conform_opts.nr_include; i++)
		if (!fnmatch(conform_opts.include[i], ct->name, 0))
			in = true;
	for (i = 0; i < conform_opts.nr_exclude; i++)
		if (!fnmatch(conform_opts.exclude[i], ct->name, 0))
			in = false;
	return in;
}

const char *conform_unmatched(void)
{
	const struct conform_test *ct;
	bool any = false;
	int i;

	for (i = 0; i < conform_opts.nr_include; i++) {
		struct conform_test *match = NULL;

		for (ct = tests_head; ct && !match; ct = ct->next) {
			const char *save = conform_opts.include[0];
			int nr = conform_opts.nr_include;
			bool sel;

			/* Selected by this pattern alone (and the -T ones). */
			conform_opts.include[0] = conform_opts.include[i];
			conform_opts.nr_include = 1;
			sel = conform_selected(ct);
			conform_opts.include[0] = save;
			conform_opts.nr_include = nr;
			if (sel)
				match = (struct conform_test *)ct;
		}
		if (!match)
			return conform_opts.include[i];
	}
	for (ct = tests_head; ct; ct = ct->next)
		any |= conform_selected(ct);
	return any ? NULL : "";
}

void conform_list(void)
{
	const struct conform_test *ct;

	for (ct = tests_head; ct; ct = ct->next)
		if (conform_selected(ct))
			printf("%s%s\n", ct->name,
			       ct->flags & T_FILE ? " [per variant]" : "");
}

static void json_str_or_null(struct json *j, const char *key, const char *s)
{
	if (s && s[0])
		json_str(j, key, s);
	else
		json_null(j, key);
}

static int write_json(const char *path, int pass, int fail, int skip,
		      bool complete)
{
	struct utsname u;
	struct json j;
	FILE *f;
	int i, ret;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	uname(&u);
	json_init(&j, f, false);
	json_obj_begin(&j, NULL);
	json_str(&j, "tool", "aio-conform");
	json_str(&j, "kernel", u.release);
	json_bool(&j, "root", geteuid() == 0);
	json_bool(&j, "kmsg_scan", kmsg_rd >= 0);
	json_bool(&j, "complete", complete);
	json_str_or_null(&j, "interrupted_by",
			 stop_sig ? stop_name(stop_sig) : NULL);
	json_str_or_null(&j, "bail_out", bail_reason);
	if (conform_opts.deadline_s)
		json_uint(&j, "deadline_s", conform_opts.deadline_s);
	else
		json_null(&j, "deadline_s");
	json_bool(&j, "deadline_reached", deadline_hit);
	json_uint(&j, "scale", conform_opts.scale);
	json_bool(&j, "long", conform_opts.long_counts);
	json_str_or_null(&j, "aio_missing", no_aio);
	json_str_or_null(&j, "io_uring_missing", no_uring);
	json_arr_begin(&j, "results");
	for (i = 0; i < nr_results; i++) {
		const struct result *r = &results[i];

		json_obj_begin(&j, NULL);
		json_str(&j, "name", r->name);
		if (r->variant)
			json_str(&j, "variant", r->variant);
		else
			json_null(&j, "variant");
		json_str(&j, "result", r_names[r->kind]);
		json_str(&j, "reason", r->reason);
		json_uint(&j, "duration_ns", r->duration_ns);
		if (r->wd)
			wd_json(&j, "watchdog", r->wd);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_begin(&j, "totals");
	json_int(&j, "passed", pass);
	json_int(&j, "failed", fail);
	json_int(&j, "skipped", skip);
	json_obj_end(&j);
	json_obj_end(&j);
	ret = json_finish(&j);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

int conform_json_start(void)
{
	if (!conform_opts.json_path)
		return 0;
	return write_json(conform_opts.json_path, 0, 0, 0, false);
}

/* A result that was not run, with its reason. */
static void not_run(struct result *r, const struct conform_test *ct,
		    const struct variant *v, const char *why)
{
	memset(r, 0, sizeof(*r));
	r->name = ct->name;
	r->variant = v ? v->name : NULL;
	r->kind = R_SKIP;
	if (snprintf(r->reason, sizeof(r->reason), "%s", why) >=
	    (int)sizeof(r->reason))
		r->reason[sizeof(r->reason) - 2] = '~';
}

/* A test with variants: a KTAP subtest, one line per variant. */
static enum r_kind run_variants(const struct conform_test *ct, char *why,
				size_t len)
{
	int i, k = 0, nv = 0, npass = 0, nxfail = 0, nskip = 0, nfail = 0;
	char first_skip[512] = "no variant selected";
	const char *lacks = missing(ct);
	bool mixed = false, timeout = false, interrupted = false;
	struct result r;

	for (i = 0; i < variants_count(); i++)
		nv += variant_at(i)->selected;
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", ct->name,
	       nv);
	why[0] = '\0';
	for (i = 0; i < variants_count(); i++) {
		const struct variant *v = variant_at(i);

		if (!v->selected)
			continue;
		if (conform_stopped() && (stop_sig || bail_reason[0]))
			break;
		k++;
		if (conform_stopped()) {
			/* Past the deadline: the rest are listed. */
			not_run(&r, ct, v, deadline_why);
		} else if (lacks || v->skip[0]) {
			not_run(&r, ct, v, lacks ? lacks : v->skip);
		} else {
			run_one(ct, v, &r);
			count_stuck(r.kind);
		}
		keep(&r);
		report("    ", k, v->name, ct->name, r.kind, r.reason, r.wd);
		if (failed_kind(r.kind)) {
			nfail++;
			timeout |= r.kind == R_TIMEOUT || r.kind == R_STUCK;
			interrupted |= r.kind == R_INTERRUPTED;
		} else if (r.kind == R_PASS) {
			npass++;
		} else if (r.kind == R_XFAIL) {
			nxfail++;
			if (!why[0])
				snprintf(why, len, "%s", r.reason);
		} else {
			nskip++;
			if (nskip == 1)
				snprintf(first_skip, sizeof(first_skip), "%s",
					 r.reason);
			else if (strcmp(first_skip, r.reason))
				mixed = true;
		}
	}
	if (interrupted) {
		if (stop_sig)
			snprintf(why, len, "interrupted by %s",
				 stop_name(stop_sig));
		else
			snprintf(why, len,
				 "stopped at the run's --deadline of %u s",
				 conform_opts.deadline_s);
		return R_INTERRUPTED;
	}
	if (nfail)
		return timeout ? R_TIMEOUT : R_FAIL;
	if (npass)
		return R_PASS;
	if (nxfail)
		return R_XFAIL;
	if (mixed)
		snprintf(why, len, "skipped on every variant (%.300s, ...)",
			 first_skip);
	else
		snprintf(why, len, "%s", first_skip);
	return R_SKIP;
}

static bool any_file_test(void)
{
	const struct conform_test *ct;

	for (ct = tests_head; ct; ct = ct->next)
		if (conform_selected(ct) && (ct->flags & T_FILE) &&
		    !missing(ct))
			return true;
	return false;
}

int conform_run(void)
{
	int n = 0, nr = 0, passed, failed, err;
	const struct conform_test *ct;
	bool complete;
	char why[512];

	target_install_signals(&stop_sig);
	/* Orphans of a test come to the runner, which kills and reaps them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (conform_opts.deadline_s)
		deadline_ns = now_ns() +
			      (uint64_t)conform_opts.deadline_s * 1000000000ull;
	snprintf(deadline_why, sizeof(deadline_why),
		 "not run: the run's --deadline of %u s passed",
		 conform_opts.deadline_s);
	kmsg_init();
	probe_features();
	err = undo_init();
	if (err)
		msg("cannot map the registry of system-wide changes: %s",
		    strerror(-err));
	for (ct = tests_head; ct; ct = ct->next)
		nr += conform_selected(ct);
	printf("KTAP version 1\n1..%d\n", nr);
	printf("# aio-conform: scratch %s, %s, kernel log scan %s\n",
	       conform_opts.scratch, geteuid() ? "not root" : "root",
	       kmsg_rd >= 0 ? "on" : "off (needs root and /dev/kmsg)");
	if (conform_opts.scale != 1 || conform_opts.long_counts)
		printf("# aio-conform: race loops at %s counts, scale %u\n",
		       conform_opts.long_counts ? "full (--long)" : "default",
		       conform_opts.scale);
	if (no_aio[0])
		printf("# aio-conform: %s: every AIO test is skipped\n",
		       no_aio);
	if (no_uring[0])
		printf("# aio-conform: %s\n", no_uring);
	fflush(stdout);
	if (any_file_test())
		variants_setup(conform_opts.scratch);
	if (conform_opts.meta && !conform_stopped())
		meta_prepare();
	for (ct = tests_head; ct; ct = ct->next) {
		struct result r;
		enum r_kind kind;

		if (!conform_selected(ct))
			continue;
		if (conform_stopped()) {
			/* Past the deadline the rest are listed; else stop. */
			if (stop_sig || bail_reason[0])
				break;
			n++;
			not_run(&r, ct, NULL, deadline_why);
			keep(&r);
			report("", n, ct->name, ct->name, R_SKIP, deadline_why,
			       NULL);
			continue;
		}
		n++;
		if (ct->flags & T_FILE) {
			kind = run_variants(ct, why, sizeof(why));
			if (kind == R_FAIL || kind == R_TIMEOUT)
				printf("# %s: failed on at least one variant\n",
				       ct->name);
			if (kind == R_TIMEOUT)
				snprintf(why, sizeof(why),
					 "a variant timed out");
			report("", n, ct->name, ct->name, kind, why, NULL);
		} else if (missing(ct)) {
			not_run(&r, ct, NULL, missing(ct));
			keep(&r);
			kind = r.kind;
			report("", n, ct->name, ct->name, kind, r.reason, NULL);
		} else {
			run_one(ct, NULL, &r);
			keep(&r);
			count_stuck(r.kind);
			kind = r.kind;
			report("", n, ct->name, ct->name, kind, r.reason, r.wd);
		}
	}
	if (stop_sig)
		printf("# interrupted by %s: stopping\n", stop_name(stop_sig));
	else if (deadline_hit)
		printf("# the run's --deadline of %u s passed: stopped\n",
		       conform_opts.deadline_s);
	if (bail_reason[0]) {
		int i;

		for (i = streak_from; i < nr_stuck; i++) {
			struct wd_proc p;
			char *line, *save;

			wd_proc_read(stuck[i].pid, &p);
			printf("# pid %d (%s) state %c%s%s\n",
			       (int)stuck[i].pid, stuck[i].test, p.state,
			       p.wchan[0] ? " wchan " : "", p.wchan);
			for (line = strtok_r(p.stack, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				printf("#   %s\n", line);
		}
		printf("Bail out! %s\n", bail_reason);
	}
	undo_run("", "aio-conform", true);
	variants_teardown();
	complete = !stop_sig && !deadline_hit && !bail_reason[0];
	if (!complete)
		printf("# run incomplete: %d of %d tests reported\n", n, nr);
	printf("# Totals: pass:%d fail:%d xfail:%d xpass:0 skip:%d error:%d\n",
	       totals.pass, totals.fail, totals.xfail, totals.skip,
	       totals.error);
	passed = totals.pass + totals.xfail;
	failed = totals.fail + totals.error;
	printf("%d passed, %d failed, %d skipped\n", passed, failed,
	       totals.skip);
	fflush(stdout);
	if (conform_opts.json_path) {
		int ret = write_json(conform_opts.json_path, passed, failed,
				     totals.skip, complete);

		if (ret) {
			msg("cannot write %s: %s", conform_opts.json_path,
			    strerror(-ret));
			return stop_sig ? 128 + stop_sig : 1;
		}
	}
	if (stop_sig)
		return 128 + stop_sig;
	return failed || !complete ? 1 : 0;
}
