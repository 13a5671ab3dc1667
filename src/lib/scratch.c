/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: scratch directories with an owner file, and the sweep that
 * removes what a killed run left behind (docs/SCRATCH.md): the mounts in
 * an abandoned scratch directory, the loop devices over files in it, and
 * the directory itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "scratch.h"
#include "util.h"

/*
 * Where this process's pids mean something: its pid namespace
 * ("pid:[4026531836]" -> 4026531836) and the boot (the kernel's boot_id).
 * 0 / "" when unknown.
 */
static unsigned long long pid_ns(void)
{
	char buf[64];
	ssize_t n = readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
	unsigned long long ino = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "pid:[%llu]", &ino) != 1)
		return 0;
	return ino;
}

static void boot_id(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	buf[0] = '\0';
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n ")] = '\0';
}

int scratch_write_owner(const char *dir)
{
	unsigned long long start = 0;
	char path[PATH_MAX], line[256], boot[64];
	pid_t self = proc_self_pid();
	int fd, n, ret = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SCRATCH_OWNER_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	/* As /proc knows it: in a pid namespace, getpid() is another pid. */
	if (self <= 0)
		self = getpid();
	ret = proc_start_time(self, &start);
	if (ret)
		return ret;
	boot_id(boot, sizeof(boot));
	n = snprintf(line, sizeof(line),
		     "pid=%d start=%llu prog=%s pidns=%llu boot=%s\n",
		     (int)self, start, prog_name ? prog_name : "aio-suite",
		     pid_ns(), boot[0] ? boot : "-");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n)
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int scratch_create(const char *parent, const char *prefix, char *out,
		   size_t len)
{
	char tmpl[PATH_MAX];
	int ret;

	if (snprintf(tmpl, sizeof(tmpl), "%s/%s.XXXXXX", parent, prefix) >=
	    (int)sizeof(tmpl))
		return -ENAMETOOLONG;
	if (!mkdtemp(tmpl))
		return -errno;
	ret = scratch_write_owner(tmpl);
	if (ret) {
		scratch_rm_tree(tmpl);
		return ret;
	}
	if (!realpath(tmpl, out) && snprintf(out, len, "%s", tmpl) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int scratch_owner(const char *dir, pid_t *pid, char *prog, size_t len)
{
	unsigned long long start, now, ns = 0;
	char path[PATH_MAX], buf[512], name[64] = "", boot[64] = "";
	char here[64];
	const char *w;
	int fd, p;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SCRATCH_OWNER_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	if (sscanf(buf, "pid=%d start=%llu prog=%63s", &p, &start, name) < 2 ||
	    p <= 0)
		return -EINVAL;
	if (pid)
		*pid = p;
	if (prog)
		snprintf(prog, len, "%s", name[0] ? name : "?");
	/*
	 * Written before a reboot: gone.  Written in another pid namespace
	 * (a run in a container or chroot with its own /proc): its pid means
	 * nothing here, so it counts as alive and is never touched.  An
	 * owner file without these fields is from this namespace.
	 */
	w = strstr(buf, " boot=");
	if (w)
		sscanf(w, " boot=%63s", boot);
	boot_id(here, sizeof(here));
	if (boot[0] && strcmp(boot, "-") && here[0] && strcmp(boot, here))
		return 0;
	w = strstr(buf, " pidns=");
	if (w && sscanf(w, " pidns=%llu", &ns) == 1 && ns && pid_ns() &&
	    ns != pid_ns())
		return 1;
	return !proc_start_time(p, &now) && now == start;
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

int scratch_rm_tree(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

/* The sweep. */

#define SWEEP_MAX 64

struct abandoned {
	char dir[PATH_MAX];
	pid_t pid;
	char prog[64];
	char said[1024]; /* what was removed, comma-separated */
};

struct sweep {
	struct abandoned a[SWEEP_MAX];
	int n;
	struct {
		char name[32]; /* loopN */
		int owner; /* index in a[] */
	} loop[SWEEP_MAX];
	int nr_loops;
};

/* Add "prefix what" to what a's message lists. */
static void say(struct abandoned *a, const char *prefix, const char *what)
{
	size_t used = strlen(a->said);

	snprintf(a->said + used, sizeof(a->said) - used, "%s%s%s",
		 used ? ", " : "", prefix, what);
}

/* Index of dir among the abandoned, added when its owner is gone; or -1. */
static int consider(struct sweep *s, const char *dir)
{
	char prog[64];
	pid_t pid;
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->a[i].dir, dir))
			return i;
	if (s->n == SWEEP_MAX || scratch_owner(dir, &pid, prog, sizeof(prog)))
		return -1;
	snprintf(s->a[s->n].dir, sizeof(s->a[s->n].dir), "%s", dir);
	s->a[s->n].pid = pid;
	snprintf(s->a[s->n].prog, sizeof(s->a[s->n].prog), "%s", prog);
	s->a[s->n].said[0] = '\0';
	return s->n++;
}

/*
 * The abandoned scratch directory that path lies in, or -1: the nearest
 * ancestor with an owner file decides (path itself is not looked into: a
 * mount point's inside belongs to the mounted filesystem).
 */
static int owner_of(struct sweep *s, const char *path)
{
	char buf[PATH_MAX], *slash;
	int r;

	if (path[0] != '/' ||
	    snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (;;) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return -1; /* never "/" itself */
		*slash = '\0';
		r = scratch_owner(buf, NULL, NULL, 0);
		if (r == 1)
			return -1; /* a live run's */
		if (r == 0)
			return consider(s, buf);
	}
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* Unmount, deepest (latest) first, every mount in an abandoned directory. */
static void sweep_mounts(struct sweep *s)
{
	char line[8192], mnt[PATH_MAX], **list = NULL;
	int n = 0, max = 0, i, k;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape(mnt);
		if (n == max) {
			char **nl = realloc(list,
					    (size_t)(max + 64) * sizeof(*list));

			if (!nl)
				break;
			list = nl;
			max += 64;
		}
		list[n] = strdup(mnt);
		if (list[n])
			n++;
	}
	fclose(f);
	for (i = n - 1; i >= 0; i--) {
		k = owner_of(s, list[i]);
		if (k < 0)
			continue;
		if (umount2(list[i], 0) && umount2(list[i], MNT_DETACH))
			msg("cannot unmount %s, left by a killed run: %s",
			    list[i], strerror(errno));
		else
			say(&s->a[k], "mount ", list[i]);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Find the loop devices backed by files in abandoned directories. */
static void find_loops(struct sweep *s)
{
	char path[PATH_MAX + 64], back[PATH_MAX], *p;
	struct dirent *de;
	DIR *d;
	int k;

	d = opendir("/sys/block");
	if (!d)
		return;
	while ((de = readdir(d)) && s->nr_loops < SWEEP_MAX) {
		if (strncmp(de->d_name, "loop", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		if (read_text(path, back, sizeof(back)) <= 0)
			continue; /* not bound */
		p = strchr(back, '\n');
		if (p)
			*p = '\0';
		p = strstr(back, " (deleted)");
		if (p && !p[10])
			*p = '\0';
		k = owner_of(s, back);
		if (k < 0)
			continue;
		snprintf(s->loop[s->nr_loops].name,
			 sizeof(s->loop[s->nr_loops].name), "%.31s",
			 de->d_name);
		s->loop[s->nr_loops++].owner = k;
	}
	closedir(d);
}

/*
 * Detach them, once their mounts are gone; with autoclear the kernel may
 * have done so already.
 */
static void detach_loops(struct sweep *s)
{
	char path[PATH_MAX];
	int i, fd;

	for (i = 0; i < s->nr_loops; i++) {
		snprintf(path, sizeof(path), "/dev/%s", s->loop[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (ioctl(fd, LOOP_CLR_FD, 0) && errno != ENXIO))
			msg("cannot detach %s, left by a killed run: %s", path,
			    strerror(errno));
		else
			say(&s->a[s->loop[i].owner], "", s->loop[i].name);
		if (fd >= 0)
			close(fd);
	}
}

int scratch_sweep(const char *parent)
{
	struct sweep *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int i, removed = 0;
	DIR *d;

	if (!s)
		return -ENOMEM;
	d = opendir(parent);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' &&
			    (!de->d_name[1] ||
			     (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", parent,
				     de->d_name) >= (int)sizeof(path) ||
			    lstat(path, &st) || !S_ISDIR(st.st_mode))
				continue;
			if (path[0] != '/') {
				char real[PATH_MAX];

				if (!realpath(path, real))
					continue;
				snprintf(path, sizeof(path), "%s", real);
			}
			consider(s, path);
		}
		closedir(d);
	}
	/* Loops first, to learn of directories only a loop device names. */
	find_loops(s);
	sweep_mounts(s);
	detach_loops(s);
	for (i = 0; i < s->n; i++) {
		struct abandoned *a = &s->a[i];

		scratch_rm_tree(a->dir);
		if (access(a->dir, F_OK)) {
			say(a, "", a->dir);
			removed++;
		} else if (!a->said[0]) {
			msg("cannot remove %s, left by a killed run (pid %d, %s)",
			    a->dir, (int)a->pid, a->prog);
			continue;
		}
		msg("removed what a killed run (pid %d, %s) left: %s",
		    (int)a->pid, a->prog, a->said);
	}
	free(s);
	return removed;
}
