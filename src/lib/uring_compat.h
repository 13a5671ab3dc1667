/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What io_uring.c uses from liburing that older liburing lacks (Debian 11
 * and Ubuntu 20.04 ship 0.7 or older): build/config.h says, from compile
 * probes of the Makefile's config step, which calls liburing offers; the
 * rest is filled in here with the system call.  Only the library is
 * probed at build time: the kernel's features are still read at run time
 * from io_uring_params.features.
 */
#ifndef AIO_SUITE_URING_COMPAT_H
#define AIO_SUITE_URING_COMPAT_H

#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"

/* Kernel 5.11 flags, absent from the headers of liburing before 2.0. */
#ifndef IORING_FEAT_SQPOLL_NONFIXED
#define IORING_FEAT_SQPOLL_NONFIXED (1U << 7)
#endif
#ifndef IORING_FEAT_EXT_ARG
#define IORING_FEAT_EXT_ARG (1U << 8)
#endif

/*
 * A fallback has a name of its own, which the call sites reach through a
 * macro: so that it also builds beside a liburing that declares the call
 * (make CONFIG_WITHOUT=..., to test the fallbacks on a new system).
 */
#if !HAVE_IO_URING_ENTER
/* liburing 2.2 exports it; before, the system call itself: 0+ or -errno. */
#define io_uring_enter compat_io_uring_enter
static inline int compat_io_uring_enter(unsigned int fd, unsigned int to_submit,
					unsigned int min_complete,
					unsigned int flags, sigset_t *sig)
{
	long ret = syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			   flags, sig, _NSIG / 8);

	return ret < 0 ? -errno : (int)ret;
}
#endif

#if !HAVE_IO_URING_GET_EVENTS
/* liburing 2.3 has it: flush the completions (and poll, with IOPOLL). */
#define io_uring_get_events compat_io_uring_get_events
static inline int compat_io_uring_get_events(struct io_uring *ring)
{
	return io_uring_enter((unsigned int)ring->ring_fd, 0, 0,
			      IORING_ENTER_GETEVENTS, NULL);
}
#endif

/*
 * Whether liburing's timed waits on this ring pass the timeout with
 * IORING_ENTER_EXT_ARG (liburing 2.0 and later, which keep the kernel's
 * features in the ring, on a kernel that has it) rather than as a timeout
 * SQE, which an IOPOLL ring refuses.
 */
#if HAVE_IO_URING_RING_FEATURES
static inline bool ur_waits_with_ext_arg(const struct io_uring *ring)
{
	return ring->features & IORING_FEAT_EXT_ARG;
}
#else
static inline bool ur_waits_with_ext_arg(const struct io_uring *ring)
{
	return false;
}
#endif

#endif
