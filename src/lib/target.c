/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Targets: probing, the write-safety check for block devices, loop devices
 * over backing files, and the cleanup list that undoes what a run created,
 * on every exit path including SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "target.h"
#include "util.h"

#ifndef BLKGETSIZE64
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif
#ifndef BLKSSZGET
#define BLKSSZGET _IO(0x12, 104)
#endif

static const struct {
	unsigned long magic;
	const char *name;
} fs_magics[] = {
	{ 0xEF53, "ext4" },	   { 0x58465342, "xfs" },
	{ 0x9123683E, "btrfs" },   { 0x01021994, "tmpfs" },
	{ 0x794c7630, "overlay" }, { 0x6969, "nfs" },
	{ 0xF2F52010, "f2fs" },	   { 0x65735546, "fuse" },
	{ 0x858458f6, "ramfs" },   { 0x62656572, "sysfs" },
	{ 0x9fa0, "proc" },	   { 0x1021994, "tmpfs" },
	{ 0x01021997, "9p" },	   { 0x5346544e, "ntfs" },
	{ 0x4d44, "vfat" },	   { 0xca451a4e, "bcachefs" },
	{ 0x2fc12fc1, "zfs" },	   { 0x73717368, "squashfs" },
};

int target_fstype(const char *path, char *buf, size_t len)
{
	struct statfs sfs;
	size_t i;

	if (statfs(path, &sfs))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(fs_magics); i++) {
		if ((unsigned long)sfs.f_type == fs_magics[i].magic) {
			snprintf(buf, len, "%s", fs_magics[i].name);
			return 0;
		}
	}
	snprintf(buf, len, "0x%lx", (unsigned long)sfs.f_type);
	return 0;
}

/* Is major:minor (or a partition of it) mounted or used as swap? */
static bool dev_mounted(dev_t rdev, char *where, size_t len)
{
	char line[4096], path[64];
	unsigned int ma, mi;
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (f) {
		while (!found && fgets(line, sizeof(line), f)) {
			char mnt[2048];

			if (sscanf(line, "%*u %*u %u:%u %*s %2047s", &ma, &mi,
				   mnt) != 3)
				continue;
			if (makedev(ma, mi) == rdev) {
				snprintf(where, len, "mounted on %.48s", mnt);
				found = true;
			}
		}
		fclose(f);
	}
	if (found)
		return true;
	f = fopen("/proc/swaps", "r");
	if (f) {
		while (!found && fgets(line, sizeof(line), f)) {
			struct stat st;

			if (sscanf(line, "%63s", path) == 1 &&
			    !stat(path, &st) && S_ISBLK(st.st_mode) &&
			    st.st_rdev == rdev) {
				snprintf(where, len, "in use as swap");
				found = true;
			}
		}
		fclose(f);
	}
	return found;
}

/* Does /sys/dev/block/M:m/holders list anything (dm, md)? */
static bool dev_held(dev_t rdev)
{
	char path[128];
	struct dirent *de;
	bool held = false;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
		 major(rdev), minor(rdev));
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.') {
			held = true;
			break;
		}
	}
	closedir(d);
	return held;
}

int target_probe(const char *path, struct target_info *info,
		 struct target_signature *sig)
{
	struct stat st;
	int fd, ret = 0;

	memset(info, 0, sizeof(*info));
	if (sig)
		memset(sig, 0, sizeof(*sig));
	if (stat(path, &st))
		return -errno;
	if (S_ISCHR(st.st_mode)) {
		info->kind = TARGET_CHAR;
		snprintf(info->fstype, sizeof(info->fstype), "chardev");
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		char dir[PATH_MAX];
		char *slash;

		info->kind = TARGET_FILE;
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (S_ISDIR(st.st_mode))
			;
		else if (slash && slash != dir)
			*slash = 0;
		else if (slash)
			dir[1] = 0;
		else
			snprintf(dir, sizeof(dir), ".");
		target_fstype(dir, info->fstype, sizeof(info->fstype));
		return 0;
	}
	info->kind = TARGET_BLOCK;
	snprintf(info->fstype, sizeof(info->fstype), "blockdev");
	{
		char link[128], buf[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/sys/dev/block/%u:%u",
			 major(st.st_rdev), minor(st.st_rdev));
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			snprintf(info->device, sizeof(info->device), "%.63s",
				 strrchr(buf, '/') ? strrchr(buf, '/') + 1 :
						     buf);
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		uint64_t size = 0;
		int lbs = 0;

		if (!ioctl(fd, BLKGETSIZE64, &size))
			info->size_bytes = size;
		if (!ioctl(fd, BLKSSZGET, &lbs))
			info->logical_block_bytes = (unsigned int)lbs;
		close(fd);
	}
	if (!sig)
		return 0;
	if (dev_mounted(st.st_rdev, sig->what, sizeof(sig->what)))
		sig->mounted = true;
	else if (dev_held(st.st_rdev)) {
		sig->holders = true;
		snprintf(sig->what, sizeof(sig->what),
			 "held by another device (see holders/ in sysfs)");
	} else {
		ret = blkid_signature(path, sig->what, sizeof(sig->what));
		if (ret == 0)
			sig->what[0] = 0;
		else if (ret > 0)
			ret = 0;
	}
	return ret;
}

int target_check_writable(const char *path, bool force,
			  struct target_signature *sig)
{
	struct target_info info;
	int ret;

	memset(sig, 0, sizeof(*sig));
	ret = target_probe(path, &info, sig);
	if (ret == -ENOENT)
		return 0; /* a file to be created */
	if (force)
		return 0;
	if (ret == -EOPNOTSUPP)
		return -EBUSY; /* cannot tell what is on it: refuse */
	if (ret)
		return ret;
	if (info.kind != TARGET_BLOCK)
		return 0;
	if (sig->mounted || sig->holders || sig->what[0])
		return -EBUSY;
	return 0;
}

/* The cleanup list: fixed size so the signal handler needs no malloc. */
enum track_kind { TRACK_FILE, TRACK_DIR, TRACK_MOUNT, TRACK_LOOP };

#define TRACK_MAX 64

static struct {
	enum track_kind kind;
	bool live;
	int held_fd; /* TRACK_LOOP: the descriptor that keeps it attached */
	char path[PATH_MAX];
} tracked[TRACK_MAX];
static volatile int nr_tracked;

static int track(enum track_kind kind, const char *path)
{
	int i = nr_tracked;

	if (i >= TRACK_MAX)
		return -ENOSPC;
	tracked[i].kind = kind;
	tracked[i].held_fd = -1;
	snprintf(tracked[i].path, sizeof(tracked[i].path), "%s", path);
	tracked[i].live = true;
	nr_tracked = i + 1;
	return 0;
}

int target_track_file(const char *path)
{
	return track(TRACK_FILE, path);
}

int target_track_dir(const char *path)
{
	return track(TRACK_DIR, path);
}

int target_track_mount(const char *path)
{
	return track(TRACK_MOUNT, path);
}

void target_untrack(const char *path)
{
	int i;

	for (i = nr_tracked - 1; i >= 0; i--) {
		if (tracked[i].live && !strcmp(tracked[i].path, path)) {
			tracked[i].live = false;
			if (tracked[i].held_fd >= 0)
				close(tracked[i].held_fd);
			tracked[i].held_fd = -1;
			return;
		}
	}
}

void target_forget_all(void)
{
	int i;

	for (i = 0; i < nr_tracked; i++)
		tracked[i].live = false;
	nr_tracked = 0;
}

static int loop_clear(const char *dev)
{
	int fd, ret = 0, tries;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* EBUSY right after an unmount: the last opener may still be going. */
	for (tries = 0; tries < 50; tries++) {
		struct timespec ts = { 0, 20000000 }; /* signal-safe sleep */

		ret = ioctl(fd, LOOP_CLR_FD, 0) ? -errno : 0;
		if (ret != -EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	close(fd);
	return ret == -ENXIO ? 0 : ret;
}

/* Async-signal-safe enough: umount2, unlink, rmdir, open, ioctl, close. */
void target_cleanup_all(void)
{
	int i;

	for (i = nr_tracked - 1; i >= 0; i--) {
		if (!tracked[i].live)
			continue;
		tracked[i].live = false;
		switch (tracked[i].kind) {
		case TRACK_FILE:
			unlink(tracked[i].path);
			break;
		case TRACK_DIR:
			rmdir(tracked[i].path);
			break;
		case TRACK_MOUNT:
			if (umount2(tracked[i].path, 0))
				umount2(tracked[i].path, MNT_DETACH);
			break;
		case TRACK_LOOP:
			if (tracked[i].held_fd >= 0)
				close(tracked[i].held_fd);
			tracked[i].held_fd = -1;
			loop_clear(tracked[i].path);
			break;
		}
	}
}

int target_loop_attach(const char *backing, bool direct_io, char *dev,
		       size_t len, bool *dio_set)
{
	struct loop_config cfg;
	int ctl = -1, bfd = -1, lfd = -1, nr, ret, tries;
	char path[64], sys[128], val[8] = "";
	FILE *f;

	*dio_set = false;
	if (geteuid() != 0)
		return -EPERM;
	bfd = open(backing, O_RDWR | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		ret = -errno;
		goto out;
	}
	for (tries = 0; tries < 16; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			ret = -errno;
			goto out;
		}
		snprintf(path, sizeof(path), "/dev/loop%d", nr);
		lfd = open(path, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			ret = -errno;
			goto out;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned int)bfd;
		/*
		 * Autoclear: the device goes when its last opener does, lfd
		 * (kept until target_loop_detach()) or a mount on it, so a
		 * SIGKILL leaks none.
		 */
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR |
				    (direct_io ? LO_FLAGS_DIRECT_IO : 0);
		ret = ioctl(lfd, LOOP_CONFIGURE, &cfg) ? -errno : 0;
		if (ret == -EINVAL && direct_io) {
			/* The backing file refuses O_DIRECT: attach without. */
			cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
			ret = ioctl(lfd, LOOP_CONFIGURE, &cfg) ? -errno : 0;
		}
		if (ret == -ENOTTY || ret == -EINVAL) {
			/*
			 * Before 5.8: LOOP_SET_FD, then autoclear and
			 * LOOP_SET_DIRECT_IO.
			 */
			ret = ioctl(lfd, LOOP_SET_FD, bfd) ? -errno : 0;
			if (!ret)
				ret = target_loop_autoclear(lfd);
			if (!ret && direct_io)
				ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL);
		}
		if (ret != -EBUSY)
			break;
		close(lfd);
		lfd = -1; /* lost a race for that device: take another */
	}
	if (ret)
		goto out;
	if (!track(TRACK_LOOP, path)) {
		tracked[nr_tracked - 1].held_fd = lfd;
		lfd = -1;
	}
	snprintf(dev, len, "%s", path);
	snprintf(sys, sizeof(sys), "/sys/block/loop%d/loop/dio", nr);
	f = fopen(sys, "r");
	if (f) {
		if (fgets(val, sizeof(val), f))
			*dio_set = val[0] == '1';
		fclose(f);
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (ctl >= 0)
		close(ctl);
	if (bfd >= 0)
		close(bfd);
	return ret;
}

int target_loop_autoclear(int fd)
{
	struct loop_info64 info;

	if (ioctl(fd, LOOP_GET_STATUS64, &info))
		return -errno;
	info.lo_flags |= LO_FLAGS_AUTOCLEAR;
	return ioctl(fd, LOOP_SET_STATUS64, &info) ? -errno : 0;
}

int target_loop_detach(const char *dev)
{
	/* Close the held descriptor first: autoclear may detach it now. */
	target_untrack(dev);
	return loop_clear(dev);
}

static volatile int *stop_flag;
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	signals_seen++;
	if (stop_flag && signals_seen == 1) {
		*stop_flag = sig;
		return;
	}
	target_cleanup_all();
	signal(sig, SIG_DFL);
	_exit(128 + sig);
}

static void at_exit_cleanup(void)
{
	target_cleanup_all();
}

void target_install_signals(volatile int *flag)
{
	static bool installed;
	struct sigaction sa;

	stop_flag = flag;
	if (installed)
		return;
	installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	atexit(at_exit_cleanup);
}
