/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the meta group proves the harness.  The raw meta tests
 * (--meta-raw) pass, fail, skip, expect a failure, hang past their watchdog,
 * crash with SIGSEGV and SIGABRT, and (only with --inject-warning, as root)
 * leave a WARNING line in the kernel log.  The meta group (--meta) runs them
 * once in an inner aio-conform, then checks, one test per path, that each
 * was reported as what it did: in the JSON results, in the exit status and
 * in the KTAP stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define META_MSG "deliberate failure from meta.raw.fail"

static int raw_pass(struct tctx *t)
{
	return T_PASS;
}
CONFORM_TEST(raw_pass, "meta.raw.pass", T_META_RAW)

static int raw_fail(struct tctx *t)
{
	int ret = T_PASS;

	CHECK(1 + 1 == 3, META_MSG);
out:
	return ret;
}
CONFORM_TEST(raw_fail, "meta.raw.fail", T_META_RAW)

static int raw_skip(struct tctx *t)
{
	return t_skip(t, "deliberate skip from meta.raw.skip");
}
CONFORM_TEST(raw_skip, "meta.raw.skip", T_META_RAW)

static int raw_xfail(struct tctx *t)
{
	return t_xfail(t, "deliberate expected failure (meta.raw.xfail)");
}
CONFORM_TEST(raw_xfail, "meta.raw.xfail", T_META_RAW)

static int raw_hang(struct tctx *t)
{
	for (;;)
		pause();
	return T_PASS;
}
CONFORM_TEST_FULL(raw_hang, "meta.raw.timeout", T_META_RAW, 1)

static volatile uintptr_t segv_addr = 16;

static int raw_segv(struct tctx *t)
{
	volatile int *p = (volatile int *)segv_addr;

	signal(SIGSEGV, SIG_DFL);
	*p = 1;
	return T_PASS;
}
CONFORM_TEST(raw_segv, "meta.raw.segv", T_META_RAW)

static int raw_abort(struct tctx *t)
{
	abort();
	return T_PASS;
}
CONFORM_TEST(raw_abort, "meta.raw.abort", T_META_RAW)

/* Its grandchild hangs too: the whole process group must go. */
static int raw_grandchild(struct tctx *t)
{
	pid_t pid = fork();

	if (pid == 0)
		for (;;)
			pause();
	for (;;)
		pause();
	return T_PASS;
}
CONFORM_TEST_FULL(raw_grandchild, "meta.raw.grandchild_timeout", T_META_RAW, 1)

static int raw_dmesg(struct tctx *t)
{
	int fd, n, ret = T_PASS;
	char line[128];
	ssize_t w;

	if (!conform_opts.inject_warning)
		SKIP("kernel log injection not asked for (--inject-warning)");
	if (!is_root() || !kmsg_usable())
		SKIP("kernel log scan needs root and /dev/kmsg");
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open /dev/kmsg: %s", errno_name(errno));
	n = snprintf(line, sizeof(line),
		     "<4>aio-conform meta: WARNING: "
		     "injected on request by --inject-warning\n");
	w = write(fd, line, (size_t)n);
	close(fd);
	CHECK(w == n, "write /dev/kmsg: %s", errno_name(errno));
out:
	return ret;
}
CONFORM_TEST(raw_dmesg, "meta.raw.dmesg_warning", T_META_RAW)

static int raw_variants(struct tctx *t)
{
	int fd = t_open(t, "f", O_RDWR | O_CREAT);

	if (fd < 0)
		return t_fail(t, __FILE__, __LINE__, "create: %s",
			      errno_name(-fd));
	close(fd);
	return T_PASS;
}
CONFORM_TEST(raw_variants, "meta.raw.variants", T_FILE | T_META_RAW)

/* The inner run, made once by meta_prepare() in the parent. */
static char meta_json[PATH_MAX], meta_out[PATH_MAX];
static int meta_status = -1;
static bool meta_injected;

void meta_prepare(void)
{
	char timeout[] = "--timeout=2";
	char *argv[12];
	int status, fd, n = 0;
	pid_t pid;

	if (snprintf(meta_json, sizeof(meta_json), "%s/meta.json",
		     conform_opts.scratch) >= (int)sizeof(meta_json) ||
	    snprintf(meta_out, sizeof(meta_out), "%s/meta.ktap",
		     conform_opts.scratch) >= (int)sizeof(meta_out))
		return;
	meta_injected = is_root() && kmsg_usable();
	argv[n++] = "aio-conform";
	argv[n++] = "--meta-raw";
	argv[n++] = timeout;
	argv[n++] = "--json";
	argv[n++] = meta_json;
	argv[n++] = "-d";
	argv[n++] = conform_opts.scratch;
	argv[n++] = "--variant";
	argv[n++] = "scratch,tmpfs";
	if (meta_injected)
		argv[n++] = "--inject-warning";
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		fd = open(meta_out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		execv(conform_opts.self, argv);
		_exit(127);
	}
	if (!wait_child(pid, &status, 60000)) {
		kill(pid, SIGKILL);
		wait_child(pid, &status, 5000);
		return;
	}
	if (WIFEXITED(status))
		meta_status = WEXITSTATUS(status);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	ssize_t n;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	if (buf) {
		n = (ssize_t)fread(buf, 1, (1 << 20) - 1, f);
		len = n > 0 ? (size_t)n : 0;
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Copy the JSON string starting at s (after its quote), unescaped. */
static void json_string(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && *s != '"' && n + 1 < len; s++) {
		if (*s == '\\' && s[1])
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
}

/*
 * The inner result of a raw test (and variant, or NULL) from the JSON: its
 * "result" and "reason" strings.  0 or -ENOENT.
 */
static int inner_result(const char *name, const char *variant, char *res,
			size_t rlen, char *reason, size_t slen)
{
	char key[128], *json = slurp(meta_json), *p, *q;
	int ret = -ENOENT;

	if (!json)
		return -ENOENT;
	snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
	for (p = strstr(json, key); p; p = strstr(p + 1, key)) {
		char *end = strchr(p, '}');

		if (!end)
			break;
		*end = '\0';
		if (variant) {
			char vkey[64];

			snprintf(vkey, sizeof(vkey), "\"variant\":\"%s\"",
				 variant);
			if (!strstr(p, vkey)) {
				*end = '}';
				continue;
			}
		}
		q = strstr(p, "\"result\":\"");
		if (q)
			json_string(q + 10, res, rlen);
		q = strstr(p, "\"reason\":\"");
		if (q)
			json_string(q + 10, reason, slen);
		ret = 0;
		break;
	}
	free(json);
	return ret;
}

static int expect_inner(struct tctx *t, const char *name, const char *want,
			const char *reason_has)
{
	char res[32] = "", reason[512] = "";
	int ret = T_PASS;

	CHECK(meta_status >= 0,
	      "the inner aio-conform --meta-raw did not finish");
	CHECK(!inner_result(name, NULL, res, sizeof(res), reason,
			    sizeof(reason)),
	      "%s is missing from the inner JSON results", name);
	CHECK(!strcmp(res, want), "%s: expected result %s, got %s (%s)", name,
	      want, res, reason);
	if (reason_has)
		CHECK(strstr(reason, reason_has),
		      "%s: reason \"%s\" does not mention \"%s\"", name, reason,
		      reason_has);
out:
	return ret;
}

static int meta_pass(struct tctx *t)
{
	return expect_inner(t, "meta.raw.pass", "pass", NULL);
}
CONFORM_TEST(meta_pass, "meta.pass_is_reported", T_META)

static int meta_fail(struct tctx *t)
{
	return expect_inner(t, "meta.raw.fail", "fail", META_MSG);
}
CONFORM_TEST(meta_fail, "meta.fail_is_reported", T_META)

static int meta_skip(struct tctx *t)
{
	return expect_inner(t, "meta.raw.skip", "skip", "deliberate skip");
}
CONFORM_TEST(meta_skip, "meta.skip_is_reported", T_META)

static int meta_xfail(struct tctx *t)
{
	return expect_inner(t, "meta.raw.xfail", "xfail", "deliberate");
}
CONFORM_TEST(meta_xfail, "meta.xfail_is_reported", T_META)

static int meta_timeout(struct tctx *t)
{
	return expect_inner(t, "meta.raw.timeout", "timeout", "killed");
}
CONFORM_TEST(meta_timeout, "meta.timeout_is_reported", T_META)

static int meta_grandchild(struct tctx *t)
{
	return expect_inner(t, "meta.raw.grandchild_timeout", "timeout",
			    "killed");
}
CONFORM_TEST(meta_grandchild, "meta.grandchild_timeout_is_reported", T_META)

static int meta_segv(struct tctx *t)
{
	return expect_inner(t, "meta.raw.segv", "crash", "SIGSEGV");
}
CONFORM_TEST(meta_segv, "meta.segv_is_reported", T_META)

static int meta_abort(struct tctx *t)
{
	return expect_inner(t, "meta.raw.abort", "crash", "SIGABRT");
}
CONFORM_TEST(meta_abort, "meta.abort_is_reported", T_META)

static int meta_dmesg(struct tctx *t)
{
	if (!meta_injected)
		return t_skip(t, "kernel log scan needs root and /dev/kmsg");
	return expect_inner(t, "meta.raw.dmesg_warning", "fail", "WARNING");
}
CONFORM_TEST(meta_dmesg, "meta.dmesg_warning_is_reported", T_META)

static int meta_variants(struct tctx *t)
{
	char res[32] = "", reason[512] = "";
	int ret = T_PASS;

	CHECK(!inner_result("meta.raw.variants", "scratch", res, sizeof(res),
			    reason, sizeof(reason)),
	      "no result for variant scratch");
	CHECK(!strcmp(res, "pass"), "scratch: expected pass, got %s", res);
	CHECK(!inner_result("meta.raw.variants", "tmpfs", res, sizeof(res),
			    reason, sizeof(reason)),
	      "no result for variant tmpfs");
	CHECK(is_root() ? !strcmp(res, "pass") :
			  !strcmp(res, "skip") && strstr(reason, "not root"),
	      "tmpfs: unexpected %s (%s)", res, reason);
out:
	return ret;
}
CONFORM_TEST(meta_variants, "meta.variants_are_reported", T_META)

static int meta_exit(struct tctx *t)
{
	int ret = T_PASS;

	CHECK(meta_status == 1, "inner run: expected exit status 1, got %d",
	      meta_status);
out:
	return ret;
}
CONFORM_TEST(meta_exit, "meta.exit_status_on_failure", T_META)

/* The KTAP stream: version, a plan matching the top-level results. */
static int meta_ktap(struct tctx *t)
{
	char *out = slurp(meta_out), *line, *save;
	int ret = T_PASS, plan = -1, results = 0, n = 0, passed = -1;
	int failed = -1, skipped = -1, ok = 0, notok = 0, skips = 0;

	CHECK(out, "cannot read the inner KTAP output");
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0)
			CHECK(!strcmp(line, "KTAP version 1"),
			      "first line: \"%s\"", line);
		if (plan < 0 && sscanf(line, "1..%d", &plan) == 1)
			continue;
		if (!strncmp(line, "ok ", 3)) {
			results++;
			if (strstr(line, " # SKIP "))
				skips++;
			else
				ok++;
		} else if (!strncmp(line, "not ok ", 7)) {
			results++;
			notok++;
		}
		sscanf(line, "%d passed, %d failed, %d skipped", &passed,
		       &failed, &skipped);
	}
	CHECK(plan > 0 && plan == results, "plan 1..%d but %d results", plan,
	      results);
	CHECK(passed == ok && failed == notok && skipped == skips,
	      "summary %d/%d/%d but the lines say %d/%d/%d", passed, failed,
	      skipped, ok, notok, skips);
out:
	free(out);
	return ret;
}
CONFORM_TEST(meta_ktap, "meta.ktap_is_well_formed", T_META)

/* Usage errors: exit status 2 and one line naming the bad argument. */
static int meta_usage(struct tctx *t)
{
	char *argv[] = { "aio-conform", "--no-such-option", NULL };
	char path[PATH_MAX], *err = NULL;
	int ret = T_PASS, status = 0, fd;
	pid_t pid;

	CHECK(snprintf(path, sizeof(path), "%s/stderr", t->dir) <
		      (int)sizeof(path),
	      "path too long");
	pid = fork();
	CHECK(pid >= 0, "fork: %s", errno_name(errno));
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(conform_opts.self, argv);
		_exit(127);
	}
	CHECK(wait_child(pid, &status, 10000), "aio-conform did not exit");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2,
	      "expected exit status 2, got 0x%x", status);
	err = slurp(path);
	CHECK(err && !strcmp(err, "aio-conform: unknown option "
				  "'--no-such-option'\n"),
	      "unexpected message: \"%s\"", err ? err : "");
out:
	free(err);
	return ret;
}
CONFORM_TEST(meta_usage, "meta.usage_error_exit_2", T_META)
