// SPDX-License-Identifier: GPL-2.0
/*
 * Description: run a command as if this kernel lacked some system calls.
 *
 *	nosys [-e ERRNO] SYSCALL[,SYSCALL...] -- COMMAND [ARG...]
 *
 * A seccomp filter makes each named system call fail with ERRNO (default
 * ENOSYS, as on a kernel built with CONFIG_AIO=n or CONFIG_IO_URING=n;
 * EPERM is what kernel.io_uring_disabled=2 answers) and lets every other
 * call through; then COMMAND is executed with the filter in place, and so
 * are its children.  The tests use it to prove that a missing feature is a
 * skip, not a failure, without booting another kernel.  Needs no root: the
 * filter is installed after PR_SET_NO_NEW_PRIVS.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#else
#define NATIVE_ARCH 0 /* no arch check */
#endif

static const struct {
	const char *name;
	long nr;
} calls[] = {
	{ "io_setup", SYS_io_setup },
	{ "io_destroy", SYS_io_destroy },
	{ "io_submit", SYS_io_submit },
	{ "io_cancel", SYS_io_cancel },
	{ "io_getevents", SYS_io_getevents },
	{ "io_pgetevents", SYS_io_pgetevents },
	{ "io_uring_setup", SYS_io_uring_setup },
	{ "io_uring_enter", SYS_io_uring_enter },
	{ "io_uring_register", SYS_io_uring_register },
	/* aio-machine's syscall loop (tests/bats/aio-machine.bats) */
	{ "getppid", SYS_getppid },
};

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "ENOSYS", ENOSYS }, { "EPERM", EPERM },   { "EINVAL", EINVAL },
	{ "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES },
};

#define MAX_CALLS 16

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nosys [-e ERRNO] SYSCALL[,SYSCALL...] -- "
		   "COMMAND [ARG...]\n  SYSCALL:");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		fprintf(f, " %s", calls[i].name);
	fprintf(f, "\n  ERRNO:");
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		fprintf(f, " %s", errnos[i].name);
	fprintf(f, " (default ENOSYS)\n");
}

static long syscall_nr(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(calls[i].name, name))
			return calls[i].nr;
	return -1;
}

static int errno_value(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].err;
	return -1;
}

/* Fail each of nrs[0..n) with err, allow the rest (and other arches). */
static int install(const long *nrs, int n, int err)
{
	struct sock_filter prog[8 + 2 * MAX_CALLS];
	struct sock_fprog fprog;
	int len = 0, i;

	prog[len++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	if (NATIVE_ARCH) {
		prog[len++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
		prog[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							   SECCOMP_RET_ALLOW);
	}
	prog[len++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++) {
		prog[len++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nrs[i], 0, 1);
		prog[len++] = (struct sock_filter)BPF_STMT(
			BPF_RET | BPF_K,
			SECCOMP_RET_ERRNO | ((unsigned int)err & 0xffff));
	}
	prog[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						   SECCOMP_RET_ALLOW);
	fprog.len = (unsigned short)len;
	fprog.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	long nrs[MAX_CALLS];
	int err = ENOSYS, n = 0, i = 1, ret;
	char *list, *tok, *save = NULL;

	if (argc > 1 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (i + 1 < argc && !strcmp(argv[i], "-e")) {
		err = errno_value(argv[i + 1]);
		if (err < 0) {
			fprintf(stderr, "nosys: unknown errno name '%s'\n",
				argv[i + 1]);
			return 2;
		}
		i += 2;
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--")) {
		usage(stderr);
		return 2;
	}
	list = argv[i];
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_CALLS) {
			fprintf(stderr, "nosys: too many system calls\n");
			return 2;
		}
		nrs[n] = syscall_nr(tok);
		if (nrs[n] < 0) {
			fprintf(stderr, "nosys: unknown system call '%s'\n",
				tok);
			return 2;
		}
		n++;
	}
	ret = install(nrs, n, err);
	if (ret) {
		fprintf(stderr,
			"nosys: cannot install the seccomp filter: %s\n",
			strerror(-ret));
		return 1;
	}
	execvp(argv[i + 2], argv + i + 2);
	fprintf(stderr, "nosys: cannot run %s: %s\n", argv[i + 2],
		strerror(errno));
	return 127;
}
