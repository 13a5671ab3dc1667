/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: small readers of /proc and /sys (see proc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

ssize_t read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

int proc_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024], *p, *save = NULL, *tok;
	int field;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_text(path, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? (int)n : -EIO;
	/* The command name may hold spaces and ')': fields follow the last. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	memset(st, 0, sizeof(*st));
	for (tok = strtok_r(p + 1, " ", &save), field = 3; tok;
	     tok = strtok_r(NULL, " ", &save), field++) {
		if (field == 3)
			st->state = tok[0];
		else if (field == 4)
			st->ppid = atoi(tok);
		else if (field == 5)
			st->pgrp = atoi(tok);
		else if (field == 22) {
			st->start = strtoull(tok, NULL, 10);
			return 0;
		}
	}
	return -EIO;
}

int proc_start_time(pid_t pid, unsigned long long *start)
{
	struct proc_stat st;
	int ret = proc_stat(pid, &st);

	if (!ret)
		*start = st.start;
	return ret;
}

pid_t proc_self_pid(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}
