/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel headers of older distributions lack (Ubuntu 20.04 has
 * those of Linux 5.4, RHEL 8 those of 4.18): the definitions of the
 * kernel's ABI, used when the headers have none.  Whether the running
 * kernel has the feature is still found out at run time (ENOTTY, EINVAL,
 * ENOSYS).  Not for liburing: uring_compat.h.
 */
#ifndef AIO_SUITE_COMPAT_H
#define AIO_SUITE_COMPAT_H

#include <linux/loop.h>
#include <linux/types.h>
#include <sys/syscall.h>

#ifndef LOOP_CONFIGURE
/* Linux 5.8: set the backing file and the status in one ioctl. */
#define LOOP_CONFIGURE 0x4C0A
struct loop_config {
	__u32 fd;
	__u32 block_size;
	struct loop_info64 info;
	__u64 __reserved[8];
};
#endif

#ifndef SYS_pidfd_open
/* Linux 5.3; one number on every architecture but alpha. */
#define SYS_pidfd_open 434
#endif

#endif
