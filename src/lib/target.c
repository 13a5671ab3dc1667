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

#include "compat.h"
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

/* A block device and its partitions: device numbers and names ("loop3p1"). */
#define MAX_PARTS 64

struct blk_family {
	int n;
	dev_t dev[MAX_PARTS + 1];
	char name[MAX_PARTS + 1][32];
};

static void blk_family(dev_t rdev, struct blk_family *fam)
{
	char dir[64], path[PATH_MAX];
	struct dirent *de;
	unsigned int ma, mi;
	DIR *d;
	FILE *f;

	fam->n = 1;
	fam->dev[0] = rdev;
	fam->name[0][0] = 0;
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(rdev),
		 minor(rdev));
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && fam->n <= MAX_PARTS) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/partition", dir,
			 de->d_name);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "%s/%s/dev", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%u:%u", &ma, &mi) == 2) {
			fam->dev[fam->n] = makedev(ma, mi);
			snprintf(fam->name[fam->n], sizeof(fam->name[0]),
				 "%.31s", de->d_name);
			fam->n++;
		}
		fclose(f);
	}
	closedir(d);
}

/* Index of rdev in fam, or -1. */
static int blk_member(const struct blk_family *fam, dev_t rdev)
{
	int i;

	for (i = 0; i < fam->n; i++)
		if (fam->dev[i] == rdev)
			return i;
	return -1;
}

/* Index in fam of the block device that path names, or -1. */
static int blk_member_path(const struct blk_family *fam, const char *path)
{
	struct stat st;

	if (path[0] != '/' || stat(path, &st) || !S_ISBLK(st.st_mode))
		return -1;
	return blk_member(fam, st.st_rdev);
}

/* Undo mountinfo's and /proc/swaps' octal escapes ("\040" is a space). */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/*
 * A member of fam mounted: by its number (mountinfo's third field) or as
 * the mount's source (btrfs reports an anonymous number).  Index or -1,
 * the mount point in where.
 */
static int fam_mounted(const struct blk_family *fam, char *where, size_t len)
{
	char line[8192], mnt[4096], src[4096];
	unsigned int ma, mi;
	int idx = -1;
	char *sep;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (idx < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, mnt) !=
		    3)
			continue;
		idx = blk_member(fam, makedev(ma, mi));
		sep = strstr(line, " - ");
		if (idx < 0 && sep && sscanf(sep + 3, "%*s %4095s", src) == 1) {
			unescape(src);
			idx = blk_member_path(fam, src);
		}
		if (idx >= 0) {
			unescape(mnt);
			snprintf(where, len, "%s", mnt);
		}
	}
	fclose(f);
	return idx;
}

/* A member of fam in /proc/swaps: index or -1. */
static int fam_swap(const struct blk_family *fam)
{
	char line[4096], path[4096];
	int idx = -1;
	FILE *f;

	f = fopen("/proc/swaps", "r");
	if (!f)
		return -1;
	while (idx < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%4095s", path) != 1)
			continue;
		unescape(path);
		idx = blk_member_path(fam, path);
	}
	fclose(f);
	return idx;
}

/* A member of fam with an entry in holders/ (dm, md): index or -1. */
static int fam_held(const struct blk_family *fam, char *holder, size_t len)
{
	char path[128];
	struct dirent *de;
	int i, idx = -1;
	DIR *d;

	for (i = 0; idx < 0 && i < fam->n; i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
			 major(fam->dev[i]), minor(fam->dev[i]));
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_name[0] != '.') {
				snprintf(holder, len, "%s", de->d_name);
				idx = i;
				break;
			}
		}
		closedir(d);
	}
	return idx;
}

#define EXCL_PHRASE                                                        \
	"is in use: claimed exclusively by another program or by a mount " \
	"(perhaps in another mount namespace)"

/*
 * Is the block device path (number rdev) in use?  Mounted, swap or held,
 * itself or a partition of it; or (unless the caller holds it with O_EXCL
 * itself) refusing an O_EXCL open, which the kernel answers with EBUSY
 * whatever claimed it.  Fills sig and returns true when it is.
 */
static bool block_in_use(const char *path, dev_t rdev, bool held_by_us,
			 struct target_signature *sig)
{
	struct blk_family fam;
	char where[4096];
	int idx, fd;

	blk_family(rdev, &fam);
	idx = fam_mounted(&fam, where, sizeof(where));
	if (idx == 0)
		snprintf(sig->what, sizeof(sig->what), "is mounted on %.200s",
			 where);
	else if (idx > 0)
		snprintf(sig->what, sizeof(sig->what),
			 "has a partition mounted: %s on %.180s", fam.name[idx],
			 where);
	if (idx >= 0) {
		sig->mounted = true;
		return true;
	}
	idx = fam_swap(&fam);
	if (idx == 0)
		snprintf(sig->what, sizeof(sig->what), "is in use as swap");
	else if (idx > 0)
		snprintf(sig->what, sizeof(sig->what),
			 "has a partition in use as swap: %s", fam.name[idx]);
	if (idx >= 0) {
		sig->mounted = true;
		return true;
	}
	idx = fam_held(&fam, where, sizeof(where));
	if (idx == 0)
		snprintf(sig->what, sizeof(sig->what), "is held by %.64s",
			 where);
	else if (idx > 0)
		snprintf(sig->what, sizeof(sig->what),
			 "has a partition held by %.64s: %s", where,
			 fam.name[idx]);
	if (idx >= 0) {
		sig->holders = true;
		return true;
	}
	if (held_by_us)
		return false;
	fd = open(path, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	if (errno != EBUSY)
		return false;
	snprintf(sig->what, sizeof(sig->what), EXCL_PHRASE);
	return true;
}

/*
 * The check itself: 0 when writing the block device path is safe, -EBUSY
 * with sig filled when it is not (see target_check_writable()).
 */
static int check_block(const char *path, dev_t rdev, bool force,
		       bool held_by_us, struct target_signature *sig)
{
	int ret;

	memset(sig, 0, sizeof(*sig));
	if (block_in_use(path, rdev, held_by_us, sig)) {
		sig->in_use = true;
		return -EBUSY;
	}
	if (force)
		return 0;
	ret = blkid_signature(path, sig->what, sizeof(sig->what));
	if (ret == 0) {
		sig->what[0] = 0;
		return 0;
	}
	if (ret < 0)
		snprintf(sig->what, sizeof(sig->what),
			 "could not be probed for signatures (%s)",
			 ret == -EOPNOTSUPP ? "built without libblkid" :
					      strerror(-ret));
	return -EBUSY;
}

/*
 * Is the regular file st the backing file of a loop device that is in
 * use (a mounted image)?  Writing to it would damage that filesystem as
 * surely as writing to the device.  Fills sig and returns -EBUSY if so.
 */
static int check_backing(const struct stat *st, struct target_signature *sig)
{
	char path[PATH_MAX], dev[64];
	struct target_signature in;
	unsigned int ma, mi;
	struct dirent *de;
	struct stat bst;
	int ret = 0;
	size_t n;
	DIR *d;
	FILE *f;

	d = opendir("/sys/block");
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		if (strncmp(de->d_name, "loop", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(path, sizeof(path), f))
			path[0] = 0;
		fclose(f);
		n = strcspn(path, "\n");
		path[n] = 0;
		if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
			path[n - 10] = 0;
		if (stat(path, &bst) || bst.st_dev != st->st_dev ||
		    bst.st_ino != st->st_ino)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dev", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%u:%u", &ma, &mi) == 2) {
			snprintf(dev, sizeof(dev), "/dev/%.32s", de->d_name);
			memset(&in, 0, sizeof(in));
			if (block_in_use(dev, makedev(ma, mi), false, &in)) {
				snprintf(
					sig->what, sizeof(sig->what),
					"is the backing file of %s, which %.160s",
					dev, in.what);
				sig->in_use = true;
				ret = -EBUSY;
			}
		}
		fclose(f);
	}
	closedir(d);
	return ret;
}

int target_probe(const char *path, struct target_info *info,
		 struct target_signature *sig)
{
	struct stat st;
	int fd;

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
	if (sig)
		check_block(path, st.st_rdev, false, false, sig);
	return 0;
}

int target_check_writable(const char *path, bool force,
			  struct target_signature *sig)
{
	struct stat st;

	memset(sig, 0, sizeof(*sig));
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno; /* ENOENT: to be created */
	if (S_ISREG(st.st_mode))
		return check_backing(&st, sig);
	if (!S_ISBLK(st.st_mode))
		return 0;
	return check_block(path, st.st_rdev, force, false, sig);
}

int target_open_writable(const char *path, int flags, unsigned int mode,
			 bool force, struct target_signature *sig)
{
	struct stat st, fst;
	int fd, ret, tries;
	bool exists;

	memset(sig, 0, sizeof(*sig));
	/* Twice at most: the path may turn into a block device meanwhile. */
	for (tries = 0; tries < 2; tries++) {
		exists = !stat(path, &st);
		if (!exists || !S_ISBLK(st.st_mode)) {
			if (exists && S_ISREG(st.st_mode) &&
			    check_backing(&st, sig))
				return -EBUSY;
			fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
			if (fd < 0)
				return -errno;
			if (fstat(fd, &fst) || !S_ISBLK(fst.st_mode))
				return fd;
			close(fd);
			continue;
		}
		ret = check_block(path, st.st_rdev, force, false, sig);
		if (ret)
			return ret;
		fd = open(path, (flags & ~O_CREAT) | O_EXCL | O_CLOEXEC);
		if (fd < 0 && errno == EBUSY) {
			sig->in_use = true;
			snprintf(sig->what, sizeof(sig->what), EXCL_PHRASE);
			return -EBUSY;
		}
		if (fd < 0)
			return -errno;
		if (fstat(fd, &fst) || !S_ISBLK(fst.st_mode) ||
		    fst.st_rdev != st.st_rdev) {
			close(fd);
			continue;
		}
		/* Held now: nobody can mount it or mkfs it; look again. */
		ret = check_block(path, st.st_rdev, force, true, sig);
		if (ret) {
			close(fd);
			return ret;
		}
		return fd;
	}
	return -EAGAIN;
}

void target_refuse_msg(const char *path, const struct target_signature *sig)
{
	msg("refusing to write to %s: it %s (%s)", path,
	    sig->what[0] ? sig->what : "could not be checked",
	    sig->in_use ? "a device in use is not written, even with --force" :
			  "use --force to overwrite it");
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
