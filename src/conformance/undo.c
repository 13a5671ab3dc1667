/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the registry of what a test changed outside its own
 * process: /proc/sys values (t_sysctl_write()), cgroup directories and
 * mounts (t_undo_rmdir(), t_undo_umount()).  It lives in memory shared by
 * the runner and every test child, made once before the first fork; a
 * test records each change before it makes it, and the runner undoes them,
 * newest first, once the test's child is gone, however it ended: its
 * verdict, a crash, the watchdog's SIGKILL, an interrupted run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define UNDO_MAX 16

enum undo_kind {
	U_FREE,
	U_BUSY, /* being filled by a test */
	U_SYSCTL,
	U_RMDIR,
	U_UMOUNT,
};

struct undo {
	int kind; /* set last, with a release store */
	long saved; /* U_SYSCTL: the value before the test's first write */
	long set; /* U_SYSCTL: the test's last write */
	char path[256];
};

static struct undo *undo_tab;

int undo_init(void)
{
	void *p;

	if (undo_tab)
		return 0;
	p = mmap(NULL, UNDO_MAX * sizeof(*undo_tab), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	undo_tab = p;
	return 0;
}

/* A free slot, claimed (U_BUSY), or NULL. */
static struct undo *claim(const char *path)
{
	int i, free_kind;

	if (!undo_tab || strlen(path) >= sizeof(undo_tab[0].path))
		return NULL;
	for (i = 0; i < UNDO_MAX; i++) {
		free_kind = U_FREE;
		if (__atomic_compare_exchange_n(&undo_tab[i].kind, &free_kind,
						U_BUSY, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			snprintf(undo_tab[i].path, sizeof(undo_tab[i].path),
				 "%s", path);
			return &undo_tab[i];
		}
	}
	return NULL;
}

static void publish(struct undo *u, int kind)
{
	__atomic_store_n(&u->kind, kind, __ATOMIC_RELEASE);
}

int t_sysctl_write(struct tctx *t, const char *path, long val)
{
	struct undo *u = NULL;
	long old;
	int i, r;

	for (i = 0; undo_tab && i < UNDO_MAX; i++)
		if (__atomic_load_n(&undo_tab[i].kind, __ATOMIC_ACQUIRE) ==
			    U_SYSCTL &&
		    !strcmp(undo_tab[i].path, path))
			u = &undo_tab[i];
	if (!u) {
		r = read_proc_long(path, &old);
		if (r)
			return r;
		u = claim(path);
		if (!u)
			return -ENOSPC; /* nothing changed */
		u->saved = old;
		u->set = val;
		publish(u, U_SYSCTL);
	} else {
		__atomic_store_n(&u->set, val, __ATOMIC_RELEASE);
	}
	return write_proc_long(path, val);
}

static int add(const char *path, int kind)
{
	struct undo *u = claim(path);

	if (!u)
		return -ENOSPC;
	publish(u, kind);
	return 0;
}

int t_undo_rmdir(struct tctx *t, const char *path)
{
	return add(path, U_RMDIR);
}

int t_undo_umount(struct tctx *t, const char *path)
{
	return add(path, U_UMOUNT);
}

/* A cgroup empties a moment after its last task is reaped: retry. */
static int rmdir_retry(const char *path)
{
	struct timespec ts = { 0, 10000000 };
	int i;

	for (i = 0; i < 50; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

/* Undo one entry: true when done (or nothing is left to do). */
static bool undo_one(struct undo *u, const char *indent, const char *test,
		     bool last)
{
	long now;
	int r;

	switch (u->kind) {
	case U_SYSCTL:
		if (read_proc_long(u->path, &now) || now == u->saved)
			return true;
		if (now != u->set) {
			printf("%s# %s: %s is %ld, neither the %ld before the "
			       "test nor its %ld: another process changed it, "
			       "left\n",
			       indent, test, u->path, now, u->saved, u->set);
			return true;
		}
		r = write_proc_long(u->path, u->saved);
		if (r)
			printf("%s# %s: cannot put %s back to %ld: %s\n",
			       indent, test, u->path, u->saved, errno_name(-r));
		else
			printf("%s# %s: %s put back to %ld (the test left "
			       "%ld)\n",
			       indent, test, u->path, u->saved, now);
		return true;
	case U_RMDIR:
		r = rmdir_retry(u->path);
		/* EBUSY: a process left behind holds it; tried again later. */
		if (r && (r != -EBUSY || last))
			printf("%s# %s: cannot remove %s: %s\n", indent, test,
			       u->path, errno_name(-r));
		return r != -EBUSY || last;
	case U_UMOUNT:
		if (umount2(u->path, MNT_DETACH) && errno != EINVAL &&
		    errno != ENOENT)
			printf("%s# %s: cannot unmount %s: %s\n", indent, test,
			       u->path, errno_name(errno));
		return true;
	default:
		return true; /* U_BUSY: the child died while filling it */
	}
}

void undo_run(const char *indent, const char *test, bool last)
{
	int i, kind;

	if (!undo_tab)
		return;
	for (i = UNDO_MAX - 1; i >= 0; i--) {
		kind = __atomic_load_n(&undo_tab[i].kind, __ATOMIC_ACQUIRE);
		if (kind == U_FREE)
			continue;
		if (undo_one(&undo_tab[i], indent, test, last))
			memset(&undo_tab[i], 0, sizeof(undo_tab[i]));
	}
	fflush(stdout);
}
