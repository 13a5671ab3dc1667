/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw Linux native AIO system calls and the completion ring's layout.
 *
 * Nothing here goes through libaio: the hot path and the conformance tests
 * see exactly what the kernel returns (-1 and errno, as syscall(2) gives).
 */
#ifndef AIO_SUITE_AIO_SYS_H
#define AIO_SUITE_AIO_SYS_H

#include <linux/aio_abi.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_io_pgetevents
#define __NR_io_pgetevents 333
#endif

#define AIO_RING_MAGIC 0xa10a10a1u
#define AIO_RING_COMPAT_FEATURES 1u
#define AIO_RING_INCOMPAT_FEATURES 0u

/* The header at the start of the mapped ring (fs/aio.c, struct aio_ring). */
struct aio_ring_hdr {
	uint32_t id;
	uint32_t nr;
	uint32_t head;
	uint32_t tail;
	uint32_t magic;
	uint32_t compat_features;
	uint32_t incompat_features;
	uint32_t header_length;
	struct io_event io_events[];
};

/* io_pgetevents' last argument. */
struct aio_sigset {
	const sigset_t *sigmask;
	size_t sigsetsize;
};

static inline int sys_io_setup(unsigned int nr, aio_context_t *ctxp)
{
	return (int)syscall(__NR_io_setup, nr, ctxp);
}

static inline int sys_io_destroy(aio_context_t ctx)
{
	return (int)syscall(__NR_io_destroy, ctx);
}

static inline int sys_io_submit(aio_context_t ctx, long nr,
				struct iocb **iocbpp)
{
	return (int)syscall(__NR_io_submit, ctx, nr, iocbpp);
}

static inline int sys_io_getevents(aio_context_t ctx, long min_nr, long nr,
				   struct io_event *events,
				   struct timespec *timeout)
{
	return (int)syscall(__NR_io_getevents, ctx, min_nr, nr, events,
			    timeout);
}

static inline int sys_io_pgetevents(aio_context_t ctx, long min_nr, long nr,
				    struct io_event *events,
				    struct timespec *timeout,
				    const struct aio_sigset *sig)
{
	return (int)syscall(__NR_io_pgetevents, ctx, min_nr, nr, events,
			    timeout, sig);
}

static inline int sys_io_cancel(aio_context_t ctx, struct iocb *iocb,
				struct io_event *result)
{
	return (int)syscall(__NR_io_cancel, ctx, iocb, result);
}

static inline struct aio_ring_hdr *aio_ring_of(aio_context_t ctx)
{
	return (struct aio_ring_hdr *)(uintptr_t)ctx;
}

/* A read or write iocb (op IOCB_CMD_*); aio_data points at the iocb. */
static inline void prep_rw(struct iocb *cb, int op, int fd, void *buf,
			   size_t len, int64_t off)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = (uint16_t)op;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uint64_t)(uintptr_t)buf;
	cb->aio_nbytes = len;
	cb->aio_offset = off;
	cb->aio_data = (uint64_t)(uintptr_t)cb;
}

#endif
