/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The symbolic names of errno values and signals ("EINVAL", "SEGV"),
 * from a table of our own so that they do not depend on the C library:
 * glibc has strerrorname_np() and sigabbrev_np() only from 2.32, which
 * Debian 11, Ubuntu 20.04 and RHEL 8 do not ship.
 */
#ifndef AIO_SUITE_ERRNAME_H
#define AIO_SUITE_ERRNAME_H

/*
 * "EINVAL" for EINVAL, also for the kernel-internal values (512 and up,
 * "ENOTSUPP", "EIOCBQUEUED") that a buggy kernel may let out; NULL for 0,
 * a negative or an unknown value.  Like strerrorname_np().
 */
const char *errno_abbrev(int err);

/* "SEGV" for SIGSEGV; NULL for an unknown or real-time one.  Like sigabbrev_np(). */
const char *signal_abbrev(int sig);

#endif
