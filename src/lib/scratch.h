/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scratch directories the suite owns, and the sweep of what a killed run
 * left behind (docs/SCRATCH.md).
 *
 * A scratch directory holds SCRATCH_OWNER_FILE, written before anything
 * else, naming the process that made it ("pid=1 start=2 prog=aio-conform
 * pidns=4026531836 boot=<boot_id>", start being field 22 of /proc/PID/stat
 * so that a reused pid is not taken for the owner; a directory made in
 * another pid namespace is never judged, one made before a reboot is
 * abandoned).  The sweep, at the start of a run, finds the directories
 * whose owner is gone (in the scratch parent, and those holding a mount
 * point or a loop device's backing file anywhere), unmounts the mounts in
 * them, detaches the loop devices over files in them and removes them,
 * saying what it removed.  A directory without an owner file, or whose
 * owner is alive, is never touched.
 */
#ifndef AIO_SUITE_SCRATCH_H
#define AIO_SUITE_SCRATCH_H

#include <stddef.h>
#include <sys/types.h>

#define SCRATCH_OWNER_FILE ".aio-suite-owner"

/*
 * Make parent/prefix.XXXXXX with this process's owner file in it; the
 * directory's real path goes to out.  0 or -errno.
 */
int scratch_create(const char *parent, const char *prefix, char *out,
		   size_t len);
/* Write dir's owner file (O_EXCL): 0 or -errno. */
int scratch_write_owner(const char *dir);
/*
 * Who owns dir: 1 when the owner is alive, 0 when the directory is
 * abandoned (or was made before this boot; one made in another pid
 * namespace counts as alive), -ENOENT without an owner file, -EINVAL for one that does not
 * parse.  pid and prog (either may be NULL) are filled when known.
 */
int scratch_owner(const char *dir, pid_t *pid, char *prog, size_t len);
/*
 * Remove what killed runs left in parent and, machine-wide, the mounts and
 * loop devices in abandoned scratch directories; one line per directory on
 * stderr (msg()).  The number of directories removed, or -errno.
 */
int scratch_sweep(const char *parent);
/*
 * Remove a directory tree without following symbolic links and without
 * crossing into another filesystem: 0 or -errno.
 */
int scratch_rm_tree(const char *path);
#endif
