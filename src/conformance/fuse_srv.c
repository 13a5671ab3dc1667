/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the FUSE daemon pieces tests share (fuse_srv.h): replies
 * and notifications written to /dev/fuse, the FUSE_INIT answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse_srv.h"
#include "harness.h"

int t_fuse_mount(struct tctx *t, struct t_fuse *f, const char *name,
		 const char *why)
{
	char opts[128];
	int ret = T_PASS;

	f->fd = -1;
	f->mnt[0] = 0;
	if (!is_root())
		SKIP("not root: %s", why);
	if (access("/dev/fuse", R_OK | W_OK))
		SKIP("no /dev/fuse (%s): %s", errno_name(errno), why);
	CHECK(!unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS): %s",
	      errno_name(errno));
	CHECK(!mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
	      "make / private: %s", errno_name(errno));
	CHECK(snprintf(f->mnt, sizeof(f->mnt), "%s/fuse", t->dir) <
		      (int)sizeof(f->mnt),
	      "path too long");
	CHECK(!mkdir(f->mnt, 0755), "mkdir %s: %s", f->mnt, errno_name(errno));
	f->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	CHECK(f->fd >= 0, "open /dev/fuse: %s", errno_name(errno));
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", f->fd);
	if (mount(name, f->mnt, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		f->mnt[0] = 0;
		SKIP("cannot mount a FUSE filesystem (%s): %s",
		     errno_name(errno), why);
	}
	return T_PASS;
out:
	f->mnt[0] = 0;
	return ret;
}

void t_fuse_unmount(struct t_fuse *f)
{
	/* The last close of /dev/fuse aborts the connection. */
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->mnt[0])
		umount2(f->mnt, MNT_DETACH);
	f->mnt[0] = 0;
}

int t_fuse_reply(int fd, uint64_t unique, int err, const void *data, size_t len)
{
	struct fuse_out_header h = {
		.len = (uint32_t)(sizeof(h) + len),
		.error = err,
		.unique = unique,
	};
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, len } };

	/* ENOENT: the request was interrupted, nobody waits for the answer */
	if (writev(fd, iov, len ? 2 : 1) < 0)
		return -errno;
	return 0;
}

int t_fuse_init_reply(int fd, const struct fuse_in_header *h)
{
	const struct fuse_init_in *in = (const void *)(h + 1);
	struct fuse_init_out out;

	memset(&out, 0, sizeof(out));
	out.major = FUSE_KERNEL_VERSION;
	out.minor = in->minor < FUSE_KERNEL_MINOR_VERSION ?
			    in->minor :
			    FUSE_KERNEL_MINOR_VERSION;
	out.max_readahead = in->max_readahead;
	/* Lookups in one directory do not wait for each other. */
	out.flags = in->flags & FUSE_PARALLEL_DIROPS;
	out.max_background = 16;
	out.congestion_threshold = 12;
	out.max_write = 4096;
	out.time_gran = 1;
	return t_fuse_reply(fd, h->unique, 0, &out, sizeof(out));
}

int t_fuse_notify_poll(int fd, uint64_t kh)
{
	struct fuse_notify_poll_wakeup_out out = { .kh = kh };

	/* A notification is a reply to no request: unique 0, error the code */
	return t_fuse_reply(fd, 0, FUSE_NOTIFY_POLL, &out, sizeof(out));
}
