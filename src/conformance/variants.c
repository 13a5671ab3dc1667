/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the targets that file I/O tests run on.  The scratch
 * directory's own filesystem always; as root also a tmpfs mount and ext4,
 * xfs and btrfs made on sparse images attached to loop devices, mounted
 * under the scratch directory.  Every image, loop device, directory and
 * mount is recorded with target_track_*() as it is made, so that
 * target_cleanup_all() undoes it on any exit path (SIGINT included), and
 * variants_teardown() undoes it in order at the end of a run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "target.h"
#include "util.h"

#define IMAGE_BYTES (512ull << 20) /* xfs wants at least 300 MiB */

static struct variant vtab[] = {
	{ .name = "scratch", .selected = true },
	{ .name = "tmpfs", .selected = true },
	{ .name = "ext4", .selected = true },
	{ .name = "xfs", .selected = true },
	{ .name = "btrfs", .selected = true },
};

int variants_count(void)
{
	return (int)ARRAY_SIZE(vtab);
}

struct variant *variant_at(int i)
{
	return &vtab[i];
}

int variants_select(const char *names, const char **bad)
{
	static char copy[256];
	bool want[ARRAY_SIZE(vtab)] = { false };
	char *save, *tok;
	size_t i;

	snprintf(copy, sizeof(copy), "%s", names);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(vtab); i++)
			if (!strcmp(tok, vtab[i].name))
				break;
		if (i == ARRAY_SIZE(vtab)) {
			*bad = tok;
			return -EINVAL;
		}
		want[i] = true;
	}
	for (i = 0; i < ARRAY_SIZE(vtab); i++)
		vtab[i].selected = want[i];
	return 0;
}

/* mkfs.NAME in PATH or the sbin directories: true with the path. */
static bool find_tool(const char *tool, char *path, size_t len)
{
	const char *env = getenv("PATH");
	char dirs[1024], *save, *d;

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin:/usr/local/sbin",
		 env ? env : "/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(path, len, "%s/%s", d, tool);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

/* Run argv quietly with a watchdog: 0, or -errno / a positive status. */
static int run_quiet(char *const argv[])
{
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (!wait_child(pid, &status, 120000)) {
		kill(pid, SIGKILL);
		wait_child(pid, &status, 5000);
		return -ETIMEDOUT;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static void setup_tmpfs(struct variant *v, const char *scratch)
{
	snprintf(v->dir, sizeof(v->dir), "%s/tmpfs", scratch);
	if (mkdir(v->dir, 0755)) {
		snprintf(v->skip, sizeof(v->skip), "cannot create %s: %s",
			 v->dir, strerror(errno));
		return;
	}
	target_track_dir(v->dir);
	if (mount("tmpfs", v->dir, "tmpfs", 0, "size=512m,mode=0755")) {
		snprintf(v->skip, sizeof(v->skip), "cannot mount tmpfs: %s",
			 strerror(errno));
		return;
	}
	target_track_mount(v->dir);
	v->mounted = true;
}

static void setup_loop_fs(struct variant *v, const char *scratch)
{
	char tool[PATH_MAX], mkfs[32];
	char *argv[6];
	bool dio;
	int fd, ret;

	snprintf(mkfs, sizeof(mkfs), "mkfs.%s", v->name);
	if (!find_tool(mkfs, tool, sizeof(tool))) {
		snprintf(v->skip, sizeof(v->skip), "%s not installed", mkfs);
		return;
	}
	snprintf(v->image, sizeof(v->image), "%s/%s.img", scratch, v->name);
	fd = open(v->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(v->skip, sizeof(v->skip), "cannot create %s: %s",
			 v->image, strerror(errno));
		return;
	}
	target_track_file(v->image);
	ret = ftruncate(fd, (off_t)IMAGE_BYTES) ? -errno : 0;
	close(fd);
	if (ret) {
		snprintf(v->skip, sizeof(v->skip), "cannot size %s: %s",
			 v->image, strerror(-ret));
		return;
	}
	argv[0] = tool;
	argv[1] = "-q";
	argv[2] = strcmp(v->name, "ext4") ? "-f" : "-F";
	argv[3] = v->image;
	argv[4] = NULL;
	ret = run_quiet(argv);
	if (ret) {
		snprintf(v->skip, sizeof(v->skip), "%s failed (%s %d)", mkfs,
			 ret < 0 ? "error" : "status", ret < 0 ? -ret : ret);
		return;
	}
	ret = target_loop_attach(v->image, false, v->loopdev,
				 sizeof(v->loopdev), &dio);
	if (ret) {
		snprintf(v->skip, sizeof(v->skip),
			 "cannot attach a loop device: %s", strerror(-ret));
		v->loopdev[0] = '\0';
		return;
	}
	snprintf(v->dir, sizeof(v->dir), "%s/%s", scratch, v->name);
	if (mkdir(v->dir, 0755)) {
		snprintf(v->skip, sizeof(v->skip), "cannot create %s: %s",
			 v->dir, strerror(errno));
		return;
	}
	target_track_dir(v->dir);
	if (mount(v->loopdev, v->dir, v->name, 0, NULL)) {
		snprintf(
			v->skip, sizeof(v->skip),
			"cannot mount %s on %s: %s (filesystem not in this kernel?)",
			v->name, v->loopdev, strerror(errno));
		return;
	}
	target_track_mount(v->dir);
	v->mounted = true;
}

void variants_setup(const char *scratch)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vtab); i++) {
		struct variant *v = &vtab[i];

		if (!v->selected || conform_stopped())
			continue;
		if (i == 0) {
			snprintf(v->dir, sizeof(v->dir), "%s", scratch);
		} else if (geteuid() != 0) {
			snprintf(v->skip, sizeof(v->skip),
				 "not root: the %s variant needs %s", v->name,
				 strcmp(v->name, "tmpfs") ?
					 "a loop device and mount(2)" :
					 "mount(2)");
		} else if (!strcmp(v->name, "tmpfs")) {
			setup_tmpfs(v, scratch);
		} else {
			setup_loop_fs(v, scratch);
		}
		if (!v->skip[0])
			target_fstype(v->dir, v->fstype, sizeof(v->fstype));
		printf("# variant %s: %s%s%s\n", v->name,
		       v->skip[0] ? "skipped: " : v->dir,
		       v->skip[0] ? v->skip : " on ",
		       v->skip[0] ? "" : v->fstype);
	}
	fflush(stdout);
}

void variants_teardown(void)
{
	int i;

	for (i = (int)ARRAY_SIZE(vtab) - 1; i > 0; i--) {
		struct variant *v = &vtab[i];

		if (v->mounted) {
			if (umount2(v->dir, 0))
				umount2(v->dir, MNT_DETACH);
			target_untrack(v->dir); /* the mount */
			v->mounted = false;
		}
		if (v->dir[0] && i > 0) {
			rmdir(v->dir);
			target_untrack(v->dir); /* the directory */
		}
		if (v->loopdev[0]) {
			target_loop_detach(v->loopdev);
			v->loopdev[0] = '\0';
		}
		if (v->image[0]) {
			unlink(v->image);
			target_untrack(v->image);
			v->image[0] = '\0';
		}
		v->dir[0] = '\0';
	}
}
