/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the pieces of a FUSE daemon that aio-conform's tests share
 * (meta.c's mount that never answers a lookup, poll_fuse.c's file whose
 * readiness the test decides): a reply, the answer to FUSE_INIT, and a
 * poll wake-up notification.
 */
#ifndef AIO_CONFORM_FUSE_SRV_H
#define AIO_CONFORM_FUSE_SRV_H

#include <limits.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdint.h>

struct tctx;

struct t_fuse {
	int fd; /* /dev/fuse: the daemon reads requests here */
	char mnt[PATH_MAX]; /* <test dir>/fuse; "" until mounted */
};

/*
 * Mount a FUSE filesystem named name at <t->dir>/fuse, served through
 * f->fd, in a mount namespace of the test's own (nothing else sees it):
 * T_PASS, a skip with its reason (why: what the test needs FUSE for) when
 * this target cannot (not root, no /dev/fuse, the mount refused), or a
 * failure.  t_fuse_unmount() undoes it on every way out; the last close of
 * f->fd aborts the connection and ends requests nobody answered.
 */
int t_fuse_mount(struct tctx *t, struct t_fuse *f, const char *name,
		 const char *why);
void t_fuse_unmount(struct t_fuse *f);

/* Answer request unique with err (0 or -errno) and data: 0 or -errno. */
int t_fuse_reply(int fd, uint64_t unique, int err, const void *data,
		 size_t len);
/* Answer FUSE_INIT h: this kernel's protocol, nothing optional asked. */
int t_fuse_init_reply(int fd, const struct fuse_in_header *h);
/*
 * FUSE_NOTIFY_POLL: wake those polling the file of kernel handle kh (a
 * wake-up without an event mask): 0 or -errno.
 */
int t_fuse_notify_poll(int fd, uint64_t kh);

#endif
