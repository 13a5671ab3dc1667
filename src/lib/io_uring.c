/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "io_uring" engine, through liburing (built only when liburing links;
 * engine.c lists it under HAVE_LIBURING).  Options: SQPOLL (a kernel thread
 * polls the submission queue), IOPOLL (polled completions, O_DIRECT only),
 * registered files and one registered buffer.  An option the kernel
 * refuses makes init() fail with the kernel's errno and a reason naming the
 * option, which the caller reports as a skip.
 *
 * Requests wait in a queue until submit() turns them into SQEs, so that
 * no more than depth are ever in the kernel's hands.  Without SQPOLL the
 * SQEs that io_uring_enter did not consume are still queued (e->queued)
 * and go with the next submit.  An IOPOLL ring is reaped in its own loop
 * (ur_iopoll_reap) that fails with a reason when nothing completes.
 */
#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "engine_impl.h"
#include "uring_compat.h"

#define UR_SQ_THREAD_IDLE_MS 50
/*
 * An IOPOLL reap gives up after this long without a single completion:
 * far beyond the latency of any device that polls, and what a target that
 * cannot poll (or a kernel that then never completes the requests) looks
 * like.
 */
#define UR_IOPOLL_STALL_NS (10ull * 1000 * 1000 * 1000)

struct uring {
	struct io_uring ring;
	bool ring_up;
	bool sqpoll;
	bool iopoll;
	bool fixed_bufs;
	struct req_queue queue; /* prepped, no SQE yet */
	unsigned int sq_unsub; /* SQEs not yet consumed (no SQPOLL) */
	struct io_uring_cqe **cqes; /* depth of them, for reap */
	int *fd_index; /* fd -> registered index, or -1 */
	int nr_fd_index;
	uintptr_t buf_lo, buf_hi; /* the registered buffer */
	bool stalled; /* the last IOPOLL reap gave up waiting */
};

static void ur_free(struct uring *ur)
{
	if (ur->ring_up)
		io_uring_queue_exit(&ur->ring);
	req_queue_free(&ur->queue);
	free(ur->cqes);
	free(ur->fd_index);
	free(ur);
}

/* Set up and tear down a ring with these flags: 0 or the kernel's -errno. */
static int ur_probe(unsigned int depth, unsigned int flags)
{
	struct io_uring_params p = { .flags = flags };
	struct io_uring ring;
	int ret;

	if (flags & IORING_SETUP_SQPOLL)
		p.sq_thread_idle = UR_SQ_THREAD_IDLE_MS;
	ret = io_uring_queue_init_params(depth, &ring, &p);
	if (!ret)
		io_uring_queue_exit(&ring);
	return ret;
}

/* The value of kernel.io_uring_disabled, or -1 when it cannot be read. */
static int ur_disabled_sysctl(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int val = -1;

	if (f) {
		if (fscanf(f, "%d", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

/*
 * io_uring_queue_init_params failed with err: find out whether io_uring
 * itself or one of the options was refused, and say so in e->reason.
 */
static int ur_setup_reason(struct engine *e, unsigned int depth,
			   unsigned int flags, int err)
{
	int plain = flags ? ur_probe(depth, 0) : err;
	int sysctl, sq = 0, io = 0;

	if (plain == -ENOSYS || plain == -EPERM) {
		sysctl = ur_disabled_sysctl();
		if (plain == -ENOSYS)
			engine_set_reason(
				e,
				"io_uring is not available: not in this kernel (CONFIG_IO_URING=n)");
		else if (sysctl > 0)
			engine_set_reason(
				e,
				"io_uring is not available: %s (kernel.io_uring_disabled=%d)",
				strerror(-plain), sysctl);
		else
			engine_set_reason(e, "io_uring is not available: %s",
					  strerror(-plain));
		e->absent = true;
		return plain;
	}
	if (plain) {
		engine_set_reason(
			e, "io_uring: io_uring_queue_init(%u) failed: %s",
			depth, strerror(-plain));
		return plain;
	}
	if (flags & IORING_SETUP_SQPOLL)
		sq = ur_probe(depth, IORING_SETUP_SQPOLL);
	if (!sq && (flags & IORING_SETUP_IOPOLL))
		io = ur_probe(depth, IORING_SETUP_IOPOLL);
	if (sq) {
		engine_set_reason(e,
				  "io_uring: SQPOLL refused by the kernel: %s",
				  strerror(-sq));
		return sq;
	}
	if (io) {
		engine_set_reason(e,
				  "io_uring: IOPOLL refused by the kernel: %s",
				  strerror(-io));
		return io;
	}
	engine_set_reason(
		e, "io_uring: SQPOLL with IOPOLL refused by the kernel: %s",
		strerror(-err));
	return err;
}

static int ur_register_files(struct engine *e, struct uring *ur,
			     const struct engine_opts *o)
{
	unsigned int i;
	int max_fd = -1, ret;

	if (!o->fds || !o->nr_fds) {
		engine_set_reason(e,
				  "io_uring: fixed_files needs a list of fds");
		return -EINVAL;
	}
	ret = io_uring_register_files(&ur->ring, o->fds, o->nr_fds);
	if (ret < 0) {
		engine_set_reason(
			e,
			"io_uring: registered files refused by the kernel: %s",
			strerror(-ret));
		return ret;
	}
	for (i = 0; i < o->nr_fds; i++)
		if (o->fds[i] > max_fd)
			max_fd = o->fds[i];
	ur->nr_fd_index = max_fd + 1;
	ur->fd_index = malloc((size_t)ur->nr_fd_index * sizeof(int));
	if (!ur->fd_index)
		return -ENOMEM;
	memset(ur->fd_index, 0xff, (size_t)ur->nr_fd_index * sizeof(int));
	for (i = o->nr_fds; i-- > 0;)
		if (o->fds[i] >= 0)
			ur->fd_index[o->fds[i]] = (int)i;
	return 0;
}

static int ur_register_bufs(struct engine *e, struct uring *ur,
			    const struct engine_opts *o)
{
	struct iovec iov = { .iov_base = o->buf_base, .iov_len = o->buf_len };
	int ret;

	if (!o->buf_base || !o->buf_len) {
		engine_set_reason(
			e, "io_uring: fixed_bufs needs buf_base and buf_len");
		return -EINVAL;
	}
	ret = io_uring_register_buffers(&ur->ring, &iov, 1);
	if (ret < 0) {
		engine_set_reason(
			e,
			"io_uring: registered buffers refused by the kernel: %s",
			strerror(-ret));
		return ret;
	}
	ur->fixed_bufs = true;
	ur->buf_lo = (uintptr_t)o->buf_base;
	ur->buf_hi = ur->buf_lo + o->buf_len;
	return 0;
}

static int ur_init(struct engine *e, const struct engine_opts *o)
{
	struct io_uring_params p = { 0 };
	struct uring *ur;
	int ret = -ENOMEM;

	ur = calloc(1, sizeof(*ur));
	if (!ur)
		return -ENOMEM;
	if (req_queue_init(&ur->queue, o->depth))
		goto err;
	ur->cqes = calloc(o->depth, sizeof(*ur->cqes));
	if (!ur->cqes)
		goto err;

	if (o->sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = UR_SQ_THREAD_IDLE_MS;
	}
	if (o->iopoll)
		p.flags |= IORING_SETUP_IOPOLL;
	ret = io_uring_queue_init_params(o->depth, &ur->ring, &p);
	if (ret < 0) {
		ret = ur_setup_reason(e, o->depth, p.flags, ret);
		goto err;
	}
	ur->ring_up = true;
	ur->sqpoll = o->sqpoll;
	ur->iopoll = o->iopoll;

	if (o->sqpoll && !o->fixed_files &&
	    !(p.features & IORING_FEAT_SQPOLL_NONFIXED)) {
		engine_set_reason(
			e,
			"io_uring: SQPOLL on this kernel needs fixed_files (no IORING_FEAT_SQPOLL_NONFIXED)");
		ret = -EOPNOTSUPP;
		goto err;
	}
	if (o->fixed_files) {
		ret = ur_register_files(e, ur, o);
		if (ret)
			goto err;
	}
	if (o->fixed_bufs) {
		ret = ur_register_bufs(e, ur, o);
		if (ret)
			goto err;
	}
	e->priv = ur;
	return 0;
err:
	ur_free(ur);
	return ret;
}

static void ur_cleanup(struct engine *e)
{
	ur_free(e->priv);
}

static int ur_prep(struct engine *e, struct io_req *req)
{
	struct uring *ur = e->priv;

	/* One SQE carries a 32-bit length. */
	if (!req->vectored && req->len > UINT_MAX)
		return -EINVAL;
	return engine_prep_queue(e, &ur->queue, req);
}

static inline void ur_fill(struct uring *ur, struct io_uring_sqe *sqe,
			   struct io_req *r)
{
	bool write = r->op == IO_OP_WRITE;

	switch (r->op) {
	case IO_OP_READ:
	case IO_OP_WRITE:
		if (r->vectored) {
			io_uring_prep_rw(
				write ? IORING_OP_WRITEV : IORING_OP_READV, sqe,
				r->fd, r->iov, (unsigned int)r->nr_iov,
				(uint64_t)r->offset);
		} else if (ur->fixed_bufs && (uintptr_t)r->buf >= ur->buf_lo &&
			   (uintptr_t)r->buf + r->len <= ur->buf_hi) {
			io_uring_prep_rw(write ? IORING_OP_WRITE_FIXED :
						 IORING_OP_READ_FIXED,
					 sqe, r->fd, r->buf,
					 (unsigned int)r->len,
					 (uint64_t)r->offset);
		} else {
			io_uring_prep_rw(
				write ? IORING_OP_WRITE : IORING_OP_READ, sqe,
				r->fd, r->buf, (unsigned int)r->len,
				(uint64_t)r->offset);
		}
		sqe->rw_flags = r->rw_flags;
		break;
	case IO_OP_FSYNC:
		io_uring_prep_fsync(sqe, r->fd, 0);
		break;
	default:
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (ur->fd_index && r->fd >= 0 && r->fd < ur->nr_fd_index &&
	    ur->fd_index[r->fd] >= 0) {
		sqe->fd = ur->fd_index[r->fd];
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	io_uring_sqe_set_data(sqe, r);
}

/*
 * Wake the SQPOLL thread if it went to sleep with SQEs in the ring.  The
 * thread sets IORING_SQ_NEED_WAKEUP and then looks at the SQ tail once
 * more; the tail's writer must look at the flag only after a full barrier,
 * or both miss each other and the SQEs wait for ever.  liburing before 2.0
 * (Debian 11's 0.7) reads the flag without that barrier: io_uring_submit
 * may leave the thread asleep ("nothing within 10 s, 3 in flight"), so
 * look again here, after one.
 */
static void ur_sqpoll_kick(struct uring *ur)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (io_uring_sq_ready(&ur->ring) &&
	    (__atomic_load_n(ur->ring.sq.kflags, __ATOMIC_RELAXED) &
	     IORING_SQ_NEED_WAKEUP))
		io_uring_enter((unsigned int)ur->ring.ring_fd, 0, 0,
			       IORING_ENTER_SQ_WAKEUP, NULL);
}

/*
 * Turn queued requests into SQEs up to the depth, then one
 * io_uring_submit.  With SQPOLL every SQE in the ring is the kernel
 * thread's, so all count as accepted; without it, io_uring_enter says how
 * many it consumed and the rest stay in the ring, still queued.
 */
static int ur_submit(struct engine *e)
{
	struct uring *ur = e->priv;
	struct io_req **reqs = req_queue_first(&ur->queue);
	struct io_uring_sqe *sqe;
	unsigned int i, n;
	int ret = engine_submit_room(e, &ur->queue, ur->sq_unsub, &n);

	if (ret <= 0)
		return ret;
	e->submit_seq++;
	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(&ur->ring);
		if (!sqe)
			break;
		ur_fill(ur, sqe, reqs[i]);
		reqs[i]->submit_seq = e->submit_seq;
	}
	req_queue_drop(&ur->queue, i);

	ret = io_uring_submit(&ur->ring);
	if (ur->sqpoll) {
		ur_sqpoll_kick(ur);
		e->queued -= i;
		e->inflight += i;
		return (int)i;
	}
	ur->sq_unsub += i;
	if (ret < 0)
		return ret;
	if ((unsigned int)ret > ur->sq_unsub)
		ret = (int)ur->sq_unsub;
	ur->sq_unsub -= (unsigned int)ret;
	e->queued -= (unsigned int)ret;
	e->inflight += (unsigned int)ret;
	return ret;
}

static int ur_ready(struct engine *e)
{
	struct uring *ur = e->priv;

	return (int)io_uring_cq_ready(&ur->ring);
}

/*
 * The CQEs there now (not taken) of requests the last submit stamped.
 * SQEs a short submit left in the ring and a later submit passed on carry
 * the earlier call's stamp: they count for neither call.
 */
static int ur_inline_done(struct engine *e)
{
	struct uring *ur = e->priv;
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&ur->ring, head, cqe)
	{
		const struct io_req *r = io_uring_cqe_get_data(cqe);

		if (cqe->user_data != LIBURING_UDATA_TIMEOUT &&
		    r->submit_seq == e->submit_seq)
			n++;
	}
	return (int)n;
}

/*
 * Before IORING_FEAT_EXT_ARG (5.11) liburing waits with a timeout by
 * submitting a timeout SQE, which also submits SQEs left over from a short
 * submit: count those as accepted.
 */
static void ur_resync_sq(struct engine *e, struct uring *ur)
{
	unsigned int left = io_uring_sq_ready(&ur->ring);

	if (left < ur->sq_unsub) {
		e->queued -= ur->sq_unsub - left;
		e->inflight += ur->sq_unsub - left;
		ur->sq_unsub = left;
	}
}

/*
 * Wait until the CQ holds at least min CQEs: 0 or -errno (-ETIME).  Not
 * for IOPOLL rings (ur_iopoll_reap).
 */
static int ur_wait(struct engine *e, struct uring *ur, unsigned int min,
		   int64_t timeout_ns)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	int ret;

	if (timeout_ns < 0) {
		do
			ret = io_uring_wait_cqe_nr(&ur->ring, &cqe, min);
		while (!ret && io_uring_cq_ready(&ur->ring) < min);
		return ret;
	}
	ts.tv_sec = timeout_ns / 1000000000;
	ts.tv_nsec = timeout_ns % 1000000000;
	ret = io_uring_wait_cqes(&ur->ring, &cqe, min, &ts, NULL);
	if (ur->sq_unsub)
		ur_resync_sq(e, ur);
	return ret;
}

/*
 * Take up to max CQEs off the ring into out[] (liburing's own timeout CQEs
 * are dropped): how many requests.
 */
static unsigned int ur_harvest(struct engine *e, struct uring *ur,
			       unsigned int max, struct io_req **out)
{
	unsigned int i, n, got = 0;

	n = io_uring_peek_batch_cqe(&ur->ring, ur->cqes, max);
	for (i = 0; i < n; i++) {
		struct io_uring_cqe *cqe = ur->cqes[i];
		struct io_req *r = io_uring_cqe_get_data(cqe);

		if (cqe->user_data == LIBURING_UDATA_TIMEOUT)
			continue;
		r->res = cqe->res;
		out[got++] = r;
	}
	io_uring_cq_advance(&ur->ring, n);
	e->inflight -= got;
	return got;
}

/*
 * One step of an IOPOLL reap that wants `want` more CQEs.  Without SQPOLL
 * this task polls: one pass when there is a deadline, else the kernel
 * spins until want or until it must reschedule.  With SQPOLL the kernel
 * thread polls and this task sleeps for up to wait_ns, or, before
 * IORING_FEAT_EXT_ARG (whose absence makes liburing wait with a timeout
 * SQE, which an IOPOLL ring refuses), only looks.  0 or -errno.
 */
static int ur_iopoll_step(struct uring *ur, unsigned int want, bool deadline,
			  uint64_t wait_ns)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int ret;

	if (!ur->sqpoll)
		return io_uring_enter((unsigned int)ur->ring.ring_fd, 0,
				      deadline ? 0 : want,
				      IORING_ENTER_GETEVENTS, NULL);
	if (!ur_waits_with_ext_arg(&ur->ring))
		return io_uring_get_events(&ur->ring);
	ts.tv_sec = (long long)(wait_ns / 1000000000);
	ts.tv_nsec = (long long)(wait_ns % 1000000000);
	ret = io_uring_wait_cqes(&ur->ring, &cqe, want, &ts, NULL);
	return ret == -ETIME ? 0 : ret;
}

/*
 * Nothing completed for UR_IOPOLL_STALL_NS.  With got requests already in
 * out[], hand those back and fail the next reap if its first poll brings
 * nothing; else -ETIMEDOUT with the reason.
 */
static int ur_iopoll_stalled(struct engine *e, struct uring *ur,
			     unsigned int got)
{
	if (got) {
		ur->stalled = true;
		return 0;
	}
	engine_set_reason(
		e,
		"io_uring IOPOLL: no completions in %llu s with %u requests in flight: the target does not support polled I/O",
		UR_IOPOLL_STALL_NS / 1000000000ull, e->inflight);
	return -ETIMEDOUT;
}

/*
 * Reap from an IOPOLL ring.  Completions appear only while someone polls:
 * this task in io_uring_enter, or the SQPOLL thread.  The kernel does not
 * apply a wait's timeout to a task's polling, and it does not poll at all
 * while the CQ holds a CQE (io_iopoll_check returns 0 at once, so asking
 * for min CQEs with fewer posted and not taken spins forever).  So take
 * the CQEs off the ring after every step, keep the deadline here, and
 * give up when UR_IOPOLL_STALL_NS passes without a single completion: a
 * target that cannot poll, or a kernel that never completes the requests.
 * *got counts what is already in out[]; 0 or -errno.
 */
static int ur_iopoll_reap(struct engine *e, struct uring *ur, unsigned int min,
			  unsigned int max, int64_t timeout_ns,
			  struct io_req **out, unsigned int *got)
{
	bool stalled = ur->stalled && !*got;
	uint64_t now = 0, deadline = 0, idle_since = 0;
	uint64_t wait_ns = UR_IOPOLL_STALL_NS;
	unsigned int n;
	int ret;

	ur->stalled = false;
	if (timeout_ns > 0 || ur->sqpoll)
		now = idle_since = now_ns();
	if (timeout_ns > 0)
		deadline = now + (uint64_t)timeout_ns;
	for (;;) {
		if (deadline && deadline - now < wait_ns)
			wait_ns = deadline - now;
		ret = ur_iopoll_step(ur, min - *got, deadline, wait_ns);
		n = ur_harvest(e, ur, max - *got, out + *got);
		*got += n;
		if (*got >= min || ret < 0)
			return ret;
		if (stalled && !*got)
			return ur_iopoll_stalled(e, ur, 0);
		now = now_ns();
		if (deadline && now >= deadline)
			return -ETIME;
		if (n || !idle_since)
			idle_since = now;
		else if (now - idle_since >= UR_IOPOLL_STALL_NS)
			return ur_iopoll_stalled(e, ur, *got);
	}
}

static int ur_reap(struct engine *e, unsigned int min, unsigned int max,
		   int64_t timeout_ns, struct io_req **out)
{
	struct uring *ur = e->priv;
	unsigned int got;
	int ret;

	if (!engine_reap_bounds(e, &min, &max))
		return 0;

	got = ur_harvest(e, ur, max, out);
	if (got >= min && (got || timeout_ns))
		return (int)got;
	if (!timeout_ns) {
		/* One non-blocking pass (with IOPOLL, one poll). */
		ret = io_uring_get_events(&ur->ring);
		got += ur_harvest(e, ur, max - got, out + got);
	} else if (ur->iopoll) {
		ret = ur_iopoll_reap(e, ur, min, max, timeout_ns, out, &got);
	} else {
		ret = ur_wait(e, ur, min - got, timeout_ns);
		got += ur_harvest(e, ur, max - got, out + got);
	}
	if (!got && ret < 0 && ret != -ETIME && ret != -EAGAIN)
		return ret;
	return (int)got;
}

const struct engine_ops io_uring_engine = {
	.name = "io_uring",
	.help = "io_uring through liburing (sqpoll, iopoll, fixed_files, fixed_bufs)",
	.caps = IO_URING_CAPS,
	.init = ur_init,
	.prep = ur_prep,
	.submit = ur_submit,
	.ready = ur_ready,
	.inline_done = ur_inline_done,
	.reap = ur_reap,
	.cleanup = ur_cleanup,
};
