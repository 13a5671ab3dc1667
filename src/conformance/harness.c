/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the runner.  Each test runs in its own forked child, in its
 * own process group, with a watchdog; the parent turns the child's exit
 * status (or the lack of one) into a KTAP line, scans the kernel log the
 * test produced, and keeps the results for the JSON file.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "errname.h"
#include "harness.h"
#include "json.h"
#include "target.h"
#include "util.h"

struct conform_opts conform_opts = {
	.timeout_s = 30,
};

enum r_kind { R_PASS, R_FAIL, R_SKIP, R_XFAIL, R_TIMEOUT, R_CRASH, R_STUCK };

static const char *const r_names[] = {
	[R_PASS] = "pass",   [R_FAIL] = "fail",	      [R_SKIP] = "skip",
	[R_XFAIL] = "xfail", [R_TIMEOUT] = "timeout", [R_CRASH] = "crash",
	[R_STUCK] = "stuck",
};

struct result {
	const char *name;
	const char *variant; /* NULL without variants */
	enum r_kind kind;
	char reason[512];
	uint64_t duration_ns;
};

static struct conform_test *tests_head, **tests_tail = &tests_head;
static struct result *results;
static int nr_results, max_results;
static volatile int stop_sig;
static const char *diag_indent = "";

#define REASON_LEN 4096

void conform_register(struct conform_test *ct)
{
	ct->next = NULL;
	*tests_tail = ct;
	tests_tail = &ct->next;
}

bool conform_stopped(void)
{
	return stop_sig != 0;
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

static void kmsg_mark(const char *name, const char *variant)
{
	char line[256];
	int n;

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

/* The first bad line logged since the mark, into line; true if found. */
static bool kmsg_scan(char *line, size_t len)
{
	char buf[8192];
	bool found = false;
	ssize_t n;
	size_t i;

	if (kmsg_rd < 0)
		return false;
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
		for (i = 0; i < ARRAY_SIZE(kmsg_bad) && !found; i++) {
			if (strstr(text, kmsg_bad[i])) {
				snprintf(line, len, "%s", text);
				found = true;
			}
		}
	}
	return found;
}

bool kmsg_usable(void)
{
	return kmsg_rd >= 0;
}

/* The aio-max-nr guard: tests may lower it; the parent restores it. */
static long aio_max_nr_saved = -1;

static void aio_max_nr_restore(void)
{
	long now;

	if (aio_max_nr_saved < 0)
		return;
	if (!read_proc_long("/proc/sys/fs/aio-max-nr", &now) &&
	    now != aio_max_nr_saved)
		write_proc_long("/proc/sys/fs/aio-max-nr", aio_max_nr_saved);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int rm_tree(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

static void child_run(const struct conform_test *ct, const struct variant *v,
		      const char *dir, char *shm)
{
	struct tctx t = {
		.test = ct,
		.var = v,
		.reason = shm,
		.reason_len = REASON_LEN,
	};
	int verdict;

	setpgid(0, 0);
	/* Should the runner die (a second SIGINT), the test goes too. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(T_FAIL);
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
	verdict = ct->fn(&t);
	if (t.failed)
		verdict = T_FAIL;
	if (verdict != T_PASS && verdict != T_FAIL && verdict != T_SKIP &&
	    verdict != T_XFAIL)
		verdict = T_FAIL;
	fflush(stdout);
	_exit(verdict);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/* Wait for the child for up to timeout_s, watching for a stop signal. */
static bool watch_child(pid_t pid, int *status, unsigned int timeout_s)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;

	while (now_ns() < deadline) {
		if (wait_child(pid, status, 100))
			return true;
		if (stop_sig)
			return false;
	}
	return false;
}

static bool failed_kind(enum r_kind k)
{
	return k == R_FAIL || k == R_TIMEOUT || k == R_CRASH || k == R_STUCK;
}

static void run_one(const struct conform_test *ct, const struct variant *v,
		    struct result *r)
{
	unsigned int timeout = ct->timeout_s ? ct->timeout_s :
					       conform_opts.timeout_s;
	char dir[PATH_MAX], line[400];
	bool long_name;
	uint64_t start;
	char *shm;
	int status;
	pid_t pid;

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
	shm = mmap(NULL, REASON_LEN, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		r->kind = R_FAIL;
		snprintf(r->reason, sizeof(r->reason), "mmap: %s",
			 strerror(errno));
		return;
	}
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
		child_run(ct, v, dir, shm);
	setpgid(pid, pid);
	if (watch_child(pid, &status, timeout)) {
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
				snprintf(shm, REASON_LEN,
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
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		if (wait_child(pid, &status, 5000)) {
			r->kind = R_TIMEOUT;
			snprintf(r->reason, sizeof(r->reason),
				 stop_sig ? "interrupted by signal %d" :
					    "no verdict within %u s: killed",
				 stop_sig ? (unsigned int)stop_sig : timeout);
		} else {
			r->kind = R_STUCK;
			snprintf(
				r->reason, sizeof(r->reason),
				"pid %d cannot be reaped (state %c): left behind",
				(int)pid, proc_state(pid));
		}
	}
	r->duration_ns = now_ns() - start;
	if (kmsg_scan(line, sizeof(line))) {
		if (failed_kind(r->kind)) {
			/* Already failing: say what the kernel logged too. */
			printf("%s# %s: kernel log: \"%s\"\n", v ? "    " : "",
			       ct->name, line);
		} else {
			r->kind = R_FAIL;
			snprintf(r->reason, sizeof(r->reason),
				 "kernel log: \"%s\"", line);
		}
	}
	aio_max_nr_restore();
out:
	munmap(shm, REASON_LEN);
	if (r->kind != R_STUCK)
		rm_tree(dir);
}

static void keep(const struct result *r)
{
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

/* One KTAP result line; diagnostics for failures first. */
static void report(const char *indent, int n, const char *name,
		   const char *test_name, enum r_kind kind, const char *reason)
{
	if ((kind == R_TIMEOUT || kind == R_CRASH || kind == R_STUCK ||
	     (kind == R_FAIL && reason[0] &&
	      !strncmp(reason, "kernel log", 10))))
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

void conform_list(void)
{
	const struct conform_test *ct;

	for (ct = tests_head; ct; ct = ct->next)
		if (conform_selected(ct))
			printf("%s%s\n", ct->name,
			       ct->flags & T_FILE ? " [per variant]" : "");
}

static int write_json(const char *path, int pass, int fail, int skip)
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

/* A test with variants: a KTAP subtest, one line per variant. */
static enum r_kind run_variants(const struct conform_test *ct, char *why,
				size_t len)
{
	int i, k = 0, nv = 0, npass = 0, nxfail = 0, nskip = 0, nfail = 0;
	char first_skip[512] = "no variant selected";
	bool mixed = false;
	bool timeout = false;
	struct result r;

	for (i = 0; i < variants_count(); i++)
		nv += variant_at(i)->selected;
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", ct->name,
	       nv);
	why[0] = '\0';
	for (i = 0; i < variants_count() && !stop_sig; i++) {
		const struct variant *v = variant_at(i);

		if (!v->selected)
			continue;
		k++;
		if (v->skip[0]) {
			memset(&r, 0, sizeof(r));
			r.name = ct->name;
			r.variant = v->name;
			r.kind = R_SKIP;
			if (snprintf(r.reason, sizeof(r.reason), "%s",
				     v->skip) >= (int)sizeof(r.reason))
				r.reason[sizeof(r.reason) - 2] = '~';
		} else {
			run_one(ct, v, &r);
		}
		keep(&r);
		report("    ", k, v->name, ct->name, r.kind, r.reason);
		if (failed_kind(r.kind)) {
			nfail++;
			timeout |= r.kind == R_TIMEOUT || r.kind == R_STUCK;
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
		if (conform_selected(ct) && (ct->flags & T_FILE))
			return true;
	return false;
}

int conform_run(void)
{
	int n = 0, nr = 0, pass = 0, fail = 0, skip = 0, xfail = 0, error = 0;
	const struct conform_test *ct;
	char why[512];
	long saved;

	target_install_signals(&stop_sig);
	kmsg_init();
	if (geteuid() == 0 &&
	    !read_proc_long("/proc/sys/fs/aio-max-nr", &saved))
		aio_max_nr_saved = saved;
	for (ct = tests_head; ct; ct = ct->next)
		nr += conform_selected(ct);
	printf("KTAP version 1\n1..%d\n", nr);
	printf("# aio-conform: scratch %s, %s, kernel log scan %s\n",
	       conform_opts.scratch, geteuid() ? "not root" : "root",
	       kmsg_rd >= 0 ? "on" : "off (needs root and /dev/kmsg)");
	fflush(stdout);
	if (any_file_test())
		variants_setup(conform_opts.scratch);
	if (conform_opts.meta)
		meta_prepare();
	for (ct = tests_head; ct && !stop_sig; ct = ct->next) {
		struct result r;
		enum r_kind kind;

		if (!conform_selected(ct))
			continue;
		n++;
		if (ct->flags & T_FILE) {
			kind = run_variants(ct, why, sizeof(why));
			if (kind == R_FAIL || kind == R_TIMEOUT)
				printf("# %s: failed on at least one variant\n",
				       ct->name);
			if (kind == R_TIMEOUT)
				snprintf(why, sizeof(why),
					 "a variant timed out");
			report("", n, ct->name, ct->name, kind, why);
			if (kind == R_TIMEOUT)
				kind = R_FAIL;
		} else {
			run_one(ct, NULL, &r);
			keep(&r);
			kind = r.kind;
			report("", n, ct->name, ct->name, kind, r.reason);
		}
		switch (kind) {
		case R_PASS:
			pass++;
			break;
		case R_XFAIL:
			xfail++;
			break;
		case R_SKIP:
			skip++;
			break;
		case R_FAIL:
			fail++;
			break;
		default:
			error++;
		}
	}
	if (stop_sig)
		printf("# interrupted by signal %d: stopping\n", stop_sig);
	variants_teardown();
	printf("# Totals: pass:%d fail:%d xfail:%d xpass:0 skip:%d error:%d\n",
	       pass, fail, xfail, skip, error);
	printf("%d passed, %d failed, %d skipped\n", pass + xfail, fail + error,
	       skip);
	fflush(stdout);
	if (conform_opts.json_path) {
		int ret = write_json(conform_opts.json_path, pass + xfail,
				     fail + error, skip);

		if (ret) {
			msg("cannot write %s: %s", conform_opts.json_path,
			    strerror(-ret));
			return 1;
		}
	}
	return fail + error || stop_sig ? 1 : 0;
}
