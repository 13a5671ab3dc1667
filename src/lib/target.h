/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Targets: what a benchmark or a test does I/O to.
 *
 *	a regular file (created if missing), a block device, /dev/null and
 *	/dev/zero, a scratch file in a directory, and a loop device over a
 *	backing file with direct I/O on or off (root).
 *
 * Safety: target_check_writable() is the one check every program that
 * writes goes through.  It refuses a block device that is in use (mounted,
 * swap, held by another device, a partition of it in use, or claimed
 * exclusively by anyone, also from another mount namespace), even when
 * forced, and one that carries a filesystem, RAID, LVM or partition-table
 * signature unless forced.  target_open_writable() checks, opens a block
 * device O_EXCL for the run (so nobody can mount it meanwhile) and checks
 * again; target_refuse_msg() says why in one line.
 * Everything target_*() creates (scratch files, loop devices) is recorded
 * in a cleanup list that target_cleanup_all() undoes; the list is also
 * walked from the SIGINT/SIGTERM handler that target_install_signals()
 * sets up and at exit.
 */
#ifndef AIO_SUITE_TARGET_H
#define AIO_SUITE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum target_kind {
	TARGET_FILE,
	TARGET_BLOCK,
	TARGET_CHAR, /* /dev/null, /dev/zero */
};

struct target_info {
	enum target_kind kind;
	char fstype[32]; /* filesystem of a file's directory ("ext4") */
	char device[64]; /* block device name ("loop0"), if any */
	uint64_t size_bytes; /* block device size */
	unsigned int logical_block_bytes;
};

/* Why writing to a block device is refused, for target_refuse_msg(). */
struct target_signature {
	bool mounted; /* it, or a partition of it, is mounted or swap */
	bool holders; /* it, or a partition of it, is held (dm, md) */
	bool in_use; /* any of the above, or claimed exclusively: never forced */
	/* completes "it ...": "is mounted on /mnt", "carries a partition
	 * table (dos)"; empty when nothing was found */
	char what[256];
};

/*
 * Inspect path.  For a block device, fill sig (when not NULL) with what
 * writing to it would destroy.  Returns 0 or -errno.
 */
int target_probe(const char *path, struct target_info *info,
		 struct target_signature *sig);
/*
 * 0 when writing to path is safe: no such path, a regular file that is
 * not the backing file of a loop device in use (a mounted image), a block
 * device that is not in use and carries no signature, or carries one and
 * force is set.  -EBUSY with sig filled when it is not safe (a
 * device in use is refused even with force; so is one whose content could
 * not be probed, unless forced).
 */
int target_check_writable(const char *path, bool force,
			  struct target_signature *sig);
/*
 * open(path, flags, mode) for a run that writes.  A block device is checked
 * with target_check_writable(), opened with O_EXCL (O_CREAT dropped) and
 * checked again while held, so that it cannot be mounted or claimed between
 * the check and the I/O.  Returns the descriptor, -EBUSY with sig filled
 * when refused, or -errno when open failed.
 */
int target_open_writable(const char *path, int flags, unsigned int mode,
			 bool force, struct target_signature *sig);
/*
 * The one refusal line: "PROG: refusing to write to PATH: it is mounted on
 * /mnt (a device in use is not written, even with --force)" or "...: it
 * carries a filesystem signature (ext4) (use --force to overwrite it)".
 */
void target_refuse_msg(const char *path, const struct target_signature *sig);

/* Filesystem type name of the filesystem holding path ("tmpfs"). */
int target_fstype(const char *path, char *buf, size_t len);

/*
 * Attach a loop device over backing (losetup), direct I/O on or off.
 * Writes "/dev/loopN" to dev.  Root only: -EPERM otherwise.  The device
 * is attached with LO_FLAGS_AUTOCLEAR and this process keeps a descriptor
 * of it open until target_loop_detach() or target_cleanup_all(): should the
 * process die, even by SIGKILL, the kernel detaches the device as soon as
 * nothing else (a mount) holds it.  dio_set tells whether the kernel
 * accepted the direct-io setting.
 */
int target_loop_attach(const char *backing, bool direct_io, char *dev,
		       size_t len, bool *dio_set);
int target_loop_detach(const char *dev);
/* Set LO_FLAGS_AUTOCLEAR on an open, attached loop device: 0 or -errno. */
int target_loop_autoclear(int fd);

/* Record a scratch file to unlink, a directory to remove (rmdir, empty
 * only) or a mount point to unmount at cleanup. */
int target_track_file(const char *path);
int target_track_dir(const char *path);
int target_track_mount(const char *path);
/* Forget a tracked path (the caller removed it itself). */
void target_untrack(const char *path);
/* Undo everything recorded, newest first.  Safe to call twice. */
void target_cleanup_all(void);
/*
 * Forget everything recorded without undoing it: for a forked child, so
 * that its exit() cannot unmount or detach what its parent made.
 */
void target_forget_all(void);
/*
 * SIGINT/SIGTERM: set *flag (if not NULL) on the first signal so the run can
 * stop and report; the second signal (or if flag is NULL) cleans up and
 * exits with 128+sig.  Cleanup also runs at exit.
 */
void target_install_signals(volatile int *flag);

/*
 * Signature probe of a block device (blkid.c with libblkid, or a stub that
 * returns -EOPNOTSUPP when the suite was built without it): 1 and what[]
 * filled ("carries a filesystem signature (ext4)") when a filesystem, swap,
 * RAID or LVM member or partition table is found, 0 when none is, -errno
 * on failure.
 */
int blkid_signature(const char *dev, char *what, size_t len);

#endif
