/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small readers of /proc and /sys: a short text file, the fields of
 * /proc/PID/stat that the suite uses, and this process's pid as the
 * mounted /proc sees it.
 */
#ifndef AIO_SUITE_PROC_H
#define AIO_SUITE_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Read up to len - 1 bytes of path, NUL-terminated: the length or -errno. */
ssize_t read_text(const char *path, char *buf, size_t len);

struct proc_stat {
	char state; /* R, S, D, Z, ... */
	int ppid;
	int pgrp;
	unsigned long long start; /* field 22: clock ticks since boot */
};

/* The stat fields of pid: 0 or -errno. */
int proc_stat(pid_t pid, struct proc_stat *st);
/* Field 22 of /proc/PID/stat (start time in clock ticks): 0 or -errno. */
int proc_start_time(pid_t pid, unsigned long long *start);
/*
 * This process's pid as the mounted /proc sees it (readlink /proc/self),
 * or -1: in a pid namespace without its own /proc it is not getpid().
 */
pid_t proc_self_pid(void);

#endif
