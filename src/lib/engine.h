/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One engine interface, one file per engine (libaio.c, io_uring.c, sync.c),
 * chosen by name at run time, in the manner of fio's struct ioengine_ops.
 *
 * The caller owns its requests (struct io_req) and keeps each alive from
 * prep() until reap() hands it back.  The life of a request:
 *
 *	prep(e, req)      queue it for the next submit; 0 or -errno
 *	submit(e)         pass every queued request to the kernel; returns how
 *	                  many were accepted (>= 0) or -errno when none was.
 *	                  Requests not accepted stay queued, in order, for the
 *	                  next submit (EAGAIN from a full ring, say).
 *	ready(e)          completions available now, without blocking
 *	inline_done(e)    how many of the requests the last submit() accepted
 *	                  have completed already (their completions are there,
 *	                  not taken), without blocking: the inline share of
 *	                  that call alone, whatever earlier requests completed
 *	                  during it
 *	reap(e, min, max, timeout_ns, out)
 *	                  wait for at least min completions (timeout_ns < 0:
 *	                  no limit; 0: one non-blocking pass), store up to max
 *	                  finished requests in out[] with req->res set (bytes
 *	                  or -errno) and return how many; -errno on failure
 *	                  (-EINTR when a signal arrived first; -ETIMEDOUT, with
 *	                  e->reason, when requests stopped completing, as on
 *	                  io_uring IOPOLL over a target that cannot poll).
 *
 * Functions return 0 or -errno.  init() returns -EOPNOTSUPP (or the
 * kernel's answer) with a reason in e->reason when the kernel or target
 * refuses an option: the caller reports that as a skip, with the reason.
 * When the kernel lacks the engine altogether (io_setup or io_uring_setup
 * answering ENOSYS, io_uring disabled with EPERM) init() also sets
 * e->absent, and the reason reads "native AIO is not in this kernel
 * (CONFIG_AIO=n)" or "io_uring is not available: <why>".
 *
 * What every engine also does: submit() passes at most opts.depth -
 * inflight requests (32 prepped on an engine of depth 4 go out 4 at a
 * time) and returns -EAGAIN when that leaves no room; a request the kernel
 * refuses at submission (a bad fd, say) counts as accepted and completes
 * with res = -errno; reap() lowers min to the number in flight, so it
 * never waits for requests that were not submitted (an idle engine
 * returns 0 at once).  One engine is used by one thread at a time.
 */
#ifndef AIO_SUITE_ENGINE_H
#define AIO_SUITE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum io_op {
	IO_OP_READ = 0,
	IO_OP_WRITE = 1,
	IO_OP_FSYNC = 2,
	IO_OP_FDSYNC = 3,
};

struct io_req {
	/* Set by the caller before prep(). */
	uint8_t op; /* enum io_op */
	bool vectored; /* iov/nr_iov instead of buf/len */
	int fd;
	int rw_flags; /* RWF_* */
	void *buf; /* scalar */
	size_t len; /* scalar: bytes */
	struct iovec *iov; /* vectored */
	int nr_iov;
	int64_t offset;
	void *priv; /* the caller's, untouched */
	/* Set by the engine. */
	int64_t res; /* bytes done or -errno */
	uint64_t issue_ns; /* free for the caller: when it was submitted */
	uint64_t submit_seq; /* the engine's: the submit() that took it */
};

/* Capability flags of an engine (struct engine_ops.caps). */
#define ENG_CAP_ASYNC (1u << 0) /* completions can come after submit */
#define ENG_CAP_VECTORED (1u << 1) /* PREADV/PWRITEV */
#define ENG_CAP_RW_FLAGS (1u << 2) /* per-request RWF_* */
#define ENG_CAP_USER_REAP (1u << 3) /* reaping from a user-mapped ring */
#define ENG_CAP_SQPOLL (1u << 4)
#define ENG_CAP_IOPOLL (1u << 5)
#define ENG_CAP_FIXED_FILES (1u << 6)
#define ENG_CAP_FIXED_BUFS (1u << 7)
#define ENG_CAP_FSYNC (1u << 8)

struct engine_opts {
	unsigned int depth; /* most requests in flight at once */
	bool user_reap; /* libaio: read completions from the ring */
	bool sqpoll; /* io_uring */
	bool iopoll; /* io_uring: polled completions (O_DIRECT) */
	bool fixed_files; /* io_uring: register fds[] */
	bool fixed_bufs; /* io_uring: register [buf_base, +buf_len) */
	const int *fds;
	unsigned int nr_fds;
	void *buf_base;
	size_t buf_len;
};

struct engine;

struct engine_ops {
	const char *name;
	const char *help; /* one line for --help */
	unsigned int caps;
	int (*init)(struct engine *e, const struct engine_opts *o);
	int (*prep)(struct engine *e, struct io_req *req);
	int (*submit)(struct engine *e);
	int (*ready)(struct engine *e);
	int (*inline_done)(struct engine *e);
	int (*reap)(struct engine *e, unsigned int min, unsigned int max,
		    int64_t timeout_ns, struct io_req **out);
	void (*cleanup)(struct engine *e);
};

struct engine {
	const struct engine_ops *ops;
	struct engine_opts opts;
	unsigned int queued; /* prepped, not yet accepted by submit */
	unsigned int inflight; /* accepted, not yet reaped */
	uint64_t submit_seq; /* submit() calls so far: stamps each request */
	char reason[160]; /* why init refused (a skip) or reap gave up */
	bool absent; /* init failed: the kernel has no such engine at all */
	void *priv; /* the engine's own state */
};

/* Every engine compiled in, NULL-terminated. */
extern const struct engine_ops *const engine_list[];

const struct engine_ops *engine_find(const char *name);
/* Allocates e->priv through ops->init; on failure e->reason says why. */
int engine_init(struct engine *e, const struct engine_ops *ops,
		const struct engine_opts *o);
void engine_cleanup(struct engine *e);

static inline int engine_prep(struct engine *e, struct io_req *r)
{
	return e->ops->prep(e, r);
}

static inline int engine_submit(struct engine *e)
{
	return e->ops->submit(e);
}

static inline int engine_ready(struct engine *e)
{
	return e->ops->ready(e);
}

static inline int engine_inline_done(struct engine *e)
{
	return e->ops->inline_done(e);
}

static inline int engine_reap(struct engine *e, unsigned int min,
			      unsigned int max, int64_t timeout_ns,
			      struct io_req **out)
{
	return e->ops->reap(e, min, max, timeout_ns, out);
}

/* Total bytes a request moves (its length or the sum of its segments). */
size_t io_req_bytes(const struct io_req *r);

/* RWF_* names: "nowait,dsync" -> flags; 0 or -EINVAL (bad is set). */
int rw_flags_parse(const char *list, int *flags, const char **bad);

#endif
