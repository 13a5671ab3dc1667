/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: reads kept in flight, and what the ring says of them.  On the filesystems of a test machine
 * an O_DIRECT read is often complete when io_submit returns, so a test of
 * what happens to I/O in flight (io_cancel of a read, io_destroy waiting)
 * would pass without any.  blk-throttle holds a cgroup's bios to a block
 * device at a rate: the test's process moves into a cgroup of its own with
 * a read limit on the device, and its reads stay queued in the block layer
 * long enough to be caught there, while nobody else's I/O is slowed.  The
 * cgroup (v1 blkio, or v2 with the io controller enabled at its root) is
 * removed by the runner after the test; a blkio hierarchy is mounted for
 * the test only with --system-wide, since binding the controller to it is
 * felt machine-wide.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "target.h"
#include "util.h"

/* Write s to path: 0 or -errno. */
static int write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

/* Whether word is one of the comma- or space-separated words of list. */
static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ',' || p[len] == ' ' ||
		     p[len] == '\n'))
			return true;
	return false;
}

/*
 * Where blk-throttle can be set: a v1 hierarchy with blkio (v2 false), or
 * a v2 one whose root has io in cgroup.subtree_control.  0 or -ENOENT.
 */
static int find_hierarchy(char *mnt, size_t len, bool *v2)
{
	char line[4096], ctl[PATH_MAX + 32], on[256];
	int ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f)) {
		char point[PATH_MAX], fstype[64], super[1024], *sep;

		/* id parent dev root point opts [optional...] - fs src super */
		sep = strstr(line, " - ");
		if (!sep ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		if (!strcmp(fstype, "cgroup") && has_word(super, "blkio")) {
			snprintf(mnt, len, "%s", point);
			*v2 = false;
			ret = 0;
		} else if (!strcmp(fstype, "cgroup2")) {
			snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control",
				 point);
			if (read_text(ctl, on, sizeof(on)) > 0 &&
			    has_word(on, "io")) {
				snprintf(mnt, len, "%s", point);
				*v2 = true;
				ret = 0;
			}
		}
	}
	fclose(f);
	return ret;
}

/* --system-wide: a blkio hierarchy mounted in the test's directory. */
static int mount_hierarchy(struct tctx *t, char *mnt, size_t len)
{
	if (snprintf(mnt, len, "%s/.blkio", t->dir) >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(mnt, 0755) && errno != EEXIST)
		return -errno;
	if (t_undo_umount(t, mnt))
		return -ENOSPC;
	if (mount("aio-conform", mnt, "cgroup", 0, "blkio"))
		return -errno;
	return 0;
}

/*
 * Remove the empty cgroups of runs that are gone: the runner removes a
 * test's after it, but a runner that a second signal ends at once cannot.
 * Named <scratch directory>.<pid of the test's child>: a child that is
 * not alive left it (its runner died, and it with it).  Only empty ones
 * go (rmdir), so a live test's is never taken from under it.
 */
static void sweep_stale(const char *mnt)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	const char *dot;
	DIR *d;
	long pid;

	d = opendir(mnt);
	while (d && (de = readdir(d))) {
		dot = strrchr(de->d_name, '.');
		if (strncmp(de->d_name, "aio-conform.", 12) || !dot ||
		    dot == de->d_name + 11 ||
		    parse_long(dot + 1, 1, INT_MAX, &pid))
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", mnt, de->d_name);
		rmdir(path);
	}
	if (d)
		closedir(d);
}

int t_throttle_reads(struct tctx *t, dev_t dev, unsigned int iops,
		     unsigned long long bps, char *why, size_t len)
{
	char mnt[PATH_MAX], cg[PATH_MAX + 64], file[PATH_MAX + 96], rule[128];
	unsigned int maj = major(dev), min = minor(dev);
	const char *run;
	bool v2 = false;
	int r;

	if (!is_root()) {
		snprintf(why, len, "not root: blk-throttle needs root");
		return -EPERM;
	}
	r = find_hierarchy(mnt, sizeof(mnt), &v2);
	if (r && !conform_opts.system_wide) {
		snprintf(why, len,
			 "no blk-throttle: no cgroup v1 blkio hierarchy is "
			 "mounted, nor v2 with the io controller on (mounting "
			 "one is felt machine-wide: run with --system-wide)");
		return r;
	}
	if (r) {
		r = mount_hierarchy(t, mnt, sizeof(mnt));
		if (r) {
			snprintf(why, len,
				 "no blk-throttle: cannot mount a cgroup v1 "
				 "blkio hierarchy: %s",
				 errno_name(-r));
			return r;
		}
	}
	sweep_stale(mnt);
	/* Named after the run's scratch directory: whose it is, is plain. */
	run = strrchr(conform_opts.scratch, '/');
	snprintf(cg, sizeof(cg), "%s/%s.%d", mnt, run ? run + 1 : "aio-conform",
		 (int)getpid());
	if (mkdir(cg, 0755)) {
		r = -errno;
		snprintf(why, len, "no blk-throttle: mkdir %s: %s", cg,
			 errno_name(-r));
		return r;
	}
	if (t_undo_rmdir(t, cg)) {
		rmdir(cg);
		snprintf(why, len,
			 "the registry of system-wide changes is full");
		return -ENOSPC;
	}
	if (v2) {
		snprintf(rule, sizeof(rule), "%u:%u", maj, min);
		if (iops)
			snprintf(rule + strlen(rule),
				 sizeof(rule) - strlen(rule), " riops=%u",
				 iops);
		if (bps)
			snprintf(rule + strlen(rule),
				 sizeof(rule) - strlen(rule), " rbps=%llu",
				 bps);
		snprintf(file, sizeof(file), "%s/io.max", cg);
		r = write_str(file, rule);
	} else {
		r = 0;
		if (iops) {
			snprintf(rule, sizeof(rule), "%u:%u %u", maj, min,
				 iops);
			snprintf(file, sizeof(file),
				 "%s/blkio.throttle.read_iops_device", cg);
			r = write_str(file, rule);
		}
		if (!r && bps) {
			snprintf(rule, sizeof(rule), "%u:%u %llu", maj, min,
				 bps);
			snprintf(file, sizeof(file),
				 "%s/blkio.throttle.read_bps_device", cg);
			r = write_str(file, rule);
		}
	}
	if (r) {
		snprintf(why, len,
			 "no blk-throttle for %u:%u: write '%s' to %s: %s", maj,
			 min, rule, file, errno_name(-r));
		return r;
	}
	snprintf(file, sizeof(file), "%s/cgroup.procs", cg);
	snprintf(rule, sizeof(rule), "%d", (int)getpid());
	r = write_str(file, rule);
	if (r)
		snprintf(why, len, "no blk-throttle: move into %s: %s", cg,
			 errno_name(-r));
	return r;
}

/* The whole disk of block device dev (itself, or a partition's disk). */
static int whole_disk(dev_t dev, dev_t *disk)
{
	char sys[64], path[PATH_MAX], up[PATH_MAX + 16], buf[32];
	unsigned int maj, min;

	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(dev),
		 minor(dev));
	if (!realpath(sys, path))
		return -ENODEV;
	snprintf(up, sizeof(up), "%s/partition", path);
	if (access(up, F_OK)) {
		*disk = dev;
		return 0;
	}
	snprintf(up, sizeof(up), "%s/dev", dirname(path));
	if (read_text(up, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -ENODEV;
	*disk = makedev(maj, min);
	return 0;
}

int t_disk_of(struct tctx *t, int fd, dev_t *dev, char *why, size_t len)
{
	char fs[32] = "this filesystem";
	struct stat st;

	if (t->var && t->var->fstype[0])
		snprintf(fs, sizeof(fs), "%s", t->var->fstype);
	else
		target_fstype(t->dir, fs, sizeof(fs));

	if (t->var && t->var->loopdev[0]) {
		if (stat(t->var->loopdev, &st) || !S_ISBLK(st.st_mode)) {
			snprintf(why, len, "%s: %s", t->var->loopdev,
				 errno_name(errno));
			return -ENODEV;
		}
		*dev = st.st_rdev;
		return 0;
	}
	if (fstat(fd, &st)) {
		snprintf(why, len, "fstat: %s", errno_name(errno));
		return -ENODEV;
	}
	if (whole_disk(st.st_dev, dev)) {
		snprintf(why, len,
			 "%s has no block device of its own (st_dev %u:%u)", fs,
			 major(st.st_dev), minor(st.st_dev));
		return -ENODEV;
	}
	return 0;
}

unsigned int t_ring_pending(aio_context_t ctx)
{
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	unsigned int head, tail;

	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	return (tail + r->nr - head) % r->nr;
}

bool t_ring_has(aio_context_t ctx, const struct iocb *cb)
{
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	unsigned int head, tail;

	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	for (; head != tail; head = (head + 1) % r->nr)
		if (r->io_events[head].obj == (uint64_t)(uintptr_t)cb)
			return true;
	return false;
}

static void *late_write(void *arg)
{
	struct t_late_write *w = arg;

	usleep(w->usec);
	if (write(w->fd, "x", 1) != 1)
		return (void *)1;
	return NULL;
}

int t_late_write_start(struct t_late_write *w)
{
	int r = pthread_create(&w->th, NULL, late_write, w);

	w->started = !r;
	return -r;
}

int t_late_write_join(struct t_late_write *w)
{
	void *res = NULL;

	if (!w->started)
		return 0;
	pthread_join(w->th, &res);
	w->started = false;
	return res ? -EIO : 0;
}
