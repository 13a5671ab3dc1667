/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: scratch ownership and the sweep (docs/SCRATCH.md), and the
 * /proc readers under them.  A created directory names this process as
 * its owner; an owner file with another start time, or a pid that is
 * gone, makes the directory abandoned; the sweep removes abandoned
 * directories, never one whose owner is alive or that has no owner file,
 * and never follows a symbolic link out of what it removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "scratch.h"
#include "unit.h"

/* A fresh directory for one test, under $TMPDIR or /tmp. */
static void fresh_dir(char *out, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(out, len, "%s/test_scratch.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(out))
		out[0] = '\0';
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[2 * PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static bool exists(const char *dir, const char *name)
{
	char path[2 * PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "",
		 name ? name : "");
	return !lstat(path, &st);
}

/* A pid that has exited (and been reaped). */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

UNIT_TEST(proc_stat_of_self)
{
	struct proc_stat st;

	ASSERT_EQ(0, proc_stat(getpid(), &st));
	EXPECT_EQ('R', st.state);
	EXPECT_EQ(getppid(), st.ppid);
	EXPECT_EQ(getpgrp(), st.pgrp);
	EXPECT_TRUE(st.start > 0);
	EXPECT_EQ(getpid(), proc_self_pid());
}

UNIT_TEST(read_text_of_a_missing_file_is_enoent)
{
	char buf[16] = "x";

	EXPECT_EQ(-ENOENT, read_text("/nonexistent/file", buf, sizeof(buf)));
}

UNIT_TEST(created_directory_names_this_process)
{
	char dir[PATH_MAX], sd[PATH_MAX], prog[64] = "";
	pid_t pid = 0;

	fresh_dir(dir, sizeof(dir));
	ASSERT_TRUE(dir[0]);
	ASSERT_EQ(0, scratch_create(dir, "unit", sd, sizeof(sd)));
	EXPECT_TRUE(exists(sd, SCRATCH_OWNER_FILE));
	EXPECT_EQ(1, scratch_owner(sd, &pid, prog, sizeof(prog)));
	EXPECT_EQ(getpid(), pid);
	EXPECT_TRUE(!strcmp(prog, "aio-suite"));
	/* Alive: the sweep leaves it. */
	EXPECT_EQ(0, scratch_sweep(dir));
	EXPECT_TRUE(exists(sd, NULL));
	scratch_rm_tree(dir);
}

UNIT_TEST(owner_states)
{
	unsigned long long start = 0;
	char dir[PATH_MAX], line[128];

	fresh_dir(dir, sizeof(dir));
	ASSERT_TRUE(dir[0]);
	EXPECT_EQ(-ENOENT, scratch_owner(dir, NULL, NULL, 0));
	write_file(dir, SCRATCH_OWNER_FILE, "garbage\n");
	EXPECT_EQ(-EINVAL, scratch_owner(dir, NULL, NULL, 0));
	ASSERT_EQ(0, proc_start_time(getpid(), &start));
	snprintf(line, sizeof(line), "pid=%d start=%llu prog=x\n",
		 (int)getpid(), start + 1);
	write_file(dir, SCRATCH_OWNER_FILE, line);
	EXPECT_EQ(0, scratch_owner(dir, NULL, NULL, 0)); /* a reused pid */
	snprintf(line, sizeof(line), "pid=%d start=%llu prog=x\n",
		 (int)gone_pid(), start);
	write_file(dir, SCRATCH_OWNER_FILE, line);
	EXPECT_EQ(0, scratch_owner(dir, NULL, NULL, 0)); /* gone */
	/* A gone pid of another pid namespace: not judged, kept. */
	snprintf(line, sizeof(line),
		 "pid=%d start=%llu prog=x pidns=1 boot=-\n", (int)gone_pid(),
		 start);
	write_file(dir, SCRATCH_OWNER_FILE, line);
	EXPECT_EQ(1, scratch_owner(dir, NULL, NULL, 0));
	/* This process, but written before another boot: gone. */
	snprintf(line, sizeof(line),
		 "pid=%d start=%llu prog=x boot=00000000-not-this-boot\n",
		 (int)getpid(), start);
	write_file(dir, SCRATCH_OWNER_FILE, line);
	EXPECT_EQ(0, scratch_owner(dir, NULL, NULL, 0));
	scratch_rm_tree(dir);
}

UNIT_TEST(sweep_removes_only_the_abandoned)
{
	char dir[PATH_MAX], sub[PATH_MAX + 16], line[128], outside[PATH_MAX];
	char link[PATH_MAX + 32];

	fresh_dir(dir, sizeof(dir));
	fresh_dir(outside, sizeof(outside));
	ASSERT_TRUE(dir[0] && outside[0]);
	write_file(outside, "keep", "keep\n");
	snprintf(sub, sizeof(sub), "%s/dead", dir);
	ASSERT_EQ(0, mkdir(sub, 0755));
	snprintf(line, sizeof(line), "pid=%d start=1 prog=study\n",
		 (int)gone_pid());
	write_file(sub, SCRATCH_OWNER_FILE, line);
	write_file(sub, "data", "x\n");
	snprintf(link, sizeof(link), "%s/link", sub);
	ASSERT_EQ(0, symlink(outside, link));
	snprintf(sub, sizeof(sub), "%s/plain", dir);
	ASSERT_EQ(0, mkdir(sub, 0755));
	write_file(sub, "data", "x\n");
	EXPECT_EQ(1, scratch_sweep(dir));
	EXPECT_TRUE(!exists(dir, "dead"));
	EXPECT_TRUE(exists(dir, "plain"));
	EXPECT_TRUE(exists(outside, "keep"));
	scratch_rm_tree(dir);
	scratch_rm_tree(outside);
}

UNIT_MAIN()
