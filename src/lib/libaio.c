/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "libaio" engine: Linux native AIO through the raw system calls in
 * aio_sys.h (io_setup, io_submit, io_getevents, io_destroy), not through
 * the libaio library.  With opts.user_reap, completions are read straight
 * from the completion ring the kernel maps at the context's address.
 *
 * The hot path is one io_submit per submit() and at most one io_getevents
 * per reap(): no allocation, no clock, no other system call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aio_sys.h"
#include "clock.h"
#include "engine_impl.h"

struct libaio {
	aio_context_t ctx;
	struct aio_ring_hdr *ring; /* NULL when its header is not one we know */
	uint32_t ring_nr;
	struct req_queue queue; /* prepped, not yet accepted */
	struct req_queue failed; /* refused by io_submit, not yet reaped */
	struct iocb *iocbs; /* depth of them, filled at submit */
	struct iocb **iocbp;
	struct io_event *events; /* depth of them, for io_getevents */
};

/* Opcodes by [vectored][op]. */
static const uint16_t la_opcode[2][4] = {
	{ IOCB_CMD_PREAD, IOCB_CMD_PWRITE, IOCB_CMD_FSYNC, IOCB_CMD_FDSYNC },
	{ IOCB_CMD_PREADV, IOCB_CMD_PWRITEV, IOCB_CMD_FSYNC, IOCB_CMD_FDSYNC },
};

static bool la_ring_known(const struct aio_ring_hdr *ring)
{
	return ring->magic == AIO_RING_MAGIC &&
	       ring->incompat_features == AIO_RING_INCOMPAT_FEATURES &&
	       ring->header_length == sizeof(*ring) && ring->nr;
}

static void la_free(struct libaio *la)
{
	if (la->ctx)
		sys_io_destroy(la->ctx);
	req_queue_free(&la->queue);
	req_queue_free(&la->failed);
	free(la->iocbs);
	free(la->iocbp);
	free(la->events);
	free(la);
}

static void la_setup_reason(struct engine *e, unsigned int depth, int err)
{
	if (err == -ENOSYS) {
		engine_set_reason(
			e, "native AIO is not in this kernel (CONFIG_AIO=n)");
		e->absent = true;
	} else if (err == -EAGAIN)
		engine_set_reason(
			e,
			"libaio: io_setup(%u) refused: %s (fs.aio-max-nr reached?)",
			depth, strerror(-err));
	else
		engine_set_reason(e, "libaio: io_setup(%u) failed: %s", depth,
				  strerror(-err));
}

static int la_init(struct engine *e, const struct engine_opts *o)
{
	unsigned int i, depth = o->depth;
	struct libaio *la;
	int ret = -ENOMEM;

	la = calloc(1, sizeof(*la));
	if (!la)
		return -ENOMEM;
	if (req_queue_init(&la->queue, depth) || req_queue_init(&la->failed, 4))
		goto err;
	la->iocbs = calloc(depth, sizeof(*la->iocbs));
	la->iocbp = calloc(depth, sizeof(*la->iocbp));
	la->events = calloc(depth, sizeof(*la->events));
	if (!la->iocbs || !la->iocbp || !la->events)
		goto err;
	for (i = 0; i < depth; i++)
		la->iocbp[i] = &la->iocbs[i];

	if (sys_io_setup(depth, &la->ctx) < 0) {
		ret = -errno;
		la->ctx = 0;
		la_setup_reason(e, depth, ret);
		goto err;
	}
	la->ring = aio_ring_of(la->ctx);
	if (!la_ring_known(la->ring)) {
		if (o->user_reap) {
			engine_set_reason(
				e,
				"libaio: the completion ring cannot be read from user space (magic 0x%x, incompat_features %u)",
				la->ring->magic, la->ring->incompat_features);
			ret = -EOPNOTSUPP;
			goto err;
		}
		la->ring = NULL;
	} else {
		la->ring_nr = la->ring->nr;
	}
	e->priv = la;
	return 0;
err:
	la_free(la);
	return ret;
}

static void la_cleanup(struct engine *e)
{
	la_free(e->priv);
}

static int la_prep(struct engine *e, struct io_req *req)
{
	struct libaio *la = e->priv;

	return engine_prep_queue(e, &la->queue, req);
}

static inline void la_fill(struct iocb *cb, struct io_req *r)
{
	*cb = (struct iocb){
		.aio_data = (uint64_t)(uintptr_t)r,
		.aio_lio_opcode = la_opcode[r->vectored][r->op],
		.aio_fildes = (uint32_t)r->fd,
	};
	if (r->op > IO_OP_WRITE)
		return;
	cb->aio_rw_flags = r->rw_flags;
	cb->aio_offset = r->offset;
	if (r->vectored) {
		cb->aio_buf = (uint64_t)(uintptr_t)r->iov;
		cb->aio_nbytes = (uint64_t)r->nr_iov;
	} else {
		cb->aio_buf = (uint64_t)(uintptr_t)r->buf;
		cb->aio_nbytes = r->len;
	}
}

/*
 * One io_submit for everything queued that fits in the depth.  The kernel
 * copies each iocb while accepting it, so the iocb array is reused on the
 * next call; the requests not accepted stay queued and are filled again.
 * When the first iocb is refused with anything but EAGAIN, its request
 * completes with that error (reap returns it) and counts as accepted.
 */
static int la_submit(struct engine *e)
{
	struct libaio *la = e->priv;
	struct io_req **reqs = req_queue_first(&la->queue);
	unsigned int i, n;
	int ret = engine_submit_room(e, &la->queue, 0, &n);

	if (ret <= 0)
		return ret;
	e->submit_seq++;
	for (i = 0; i < n; i++) {
		la_fill(&la->iocbs[i], reqs[i]);
		reqs[i]->submit_seq = e->submit_seq;
	}

	ret = sys_io_submit(la->ctx, n, la->iocbp);
	if (__builtin_expect(ret < 0, 0)) {
		ret = -errno;
		if (ret == -EAGAIN)
			return ret;
		reqs[0]->res = ret;
		ret = req_queue_push(&la->failed, reqs[0]);
		if (ret)
			return ret;
		ret = 1;
	}
	req_queue_drop(&la->queue, (unsigned int)ret);
	e->queued -= (unsigned int)ret;
	e->inflight += (unsigned int)ret;
	return ret;
}

static int la_ready(struct engine *e)
{
	struct libaio *la = e->priv;
	uint32_t head, tail;

	if (!la->ring)
		return (int)req_queue_len(&la->failed);
	head = __atomic_load_n(&la->ring->head, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&la->ring->tail, __ATOMIC_ACQUIRE);
	if (tail < head)
		tail += la->ring_nr;
	return (int)(tail - head + req_queue_len(&la->failed));
}

/*
 * The completions there now (not taken) of requests the last submit
 * accepted: refused ones, and the mapped ring's events when its format is
 * known.  Each event's request is alive until reaped, so its stamp can be
 * read.
 */
static int la_inline_done(struct engine *e)
{
	struct libaio *la = e->priv;
	uint64_t seq = e->submit_seq;
	unsigned int i, n = 0;
	uint32_t head, tail;

	for (i = la->failed.head; i < la->failed.tail; i++)
		n += la->failed.slot[i]->submit_seq == seq;
	if (!la->ring)
		return (int)n;
	head = __atomic_load_n(&la->ring->head, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&la->ring->tail, __ATOMIC_ACQUIRE);
	if (head >= la->ring_nr || tail >= la->ring_nr)
		return (int)n;
	for (; head != tail; head = head + 1 == la->ring_nr ? 0 : head + 1) {
		const struct io_req *r =
			(const struct io_req *)(uintptr_t)la->ring
				->io_events[head]
				.data;

		n += r->submit_seq == seq;
	}
	return (int)n;
}

static inline unsigned int la_convert(const struct io_event *ev, unsigned int n,
				      struct io_req **out)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct io_req *r = (struct io_req *)(uintptr_t)ev[i].data;

		r->res = ev[i].res;
		out[i] = r;
	}
	return n;
}

/*
 * Consume up to max events from the mapped ring: [head, tail) modulo nr,
 * tail read with acquire so the events are seen complete, head written
 * back with release once they are copied out.
 */
static unsigned int la_ring_take(struct libaio *la, unsigned int max,
				 struct io_req **out)
{
	struct aio_ring_hdr *ring = la->ring;
	uint32_t nr = la->ring_nr;
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	if (head >= nr || tail >= nr)
		return 0;
	while (head != tail && n < max) {
		const struct io_event *ev = &ring->io_events[head];
		struct io_req *r = (struct io_req *)(uintptr_t)ev->data;

		r->res = ev->res;
		out[n++] = r;
		if (++head == nr)
			head = 0;
	}
	if (n)
		__atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
	return n;
}

static int la_getevents(struct libaio *la, unsigned int min, unsigned int max,
			int64_t timeout_ns, struct io_req **out)
{
	struct timespec ts, *tsp = NULL;
	int ret;

	if (timeout_ns >= 0) {
		ts = ns_to_timespec((uint64_t)timeout_ns);
		tsp = &ts;
	}
	ret = sys_io_getevents(la->ctx, min, max, la->events, tsp);
	if (ret < 0)
		return -errno;
	return (int)la_convert(la->events, (unsigned int)ret, out);
}

/*
 * Requests refused at submission first, then (with user_reap) the mapped
 * ring, then io_getevents for whatever is still missing to reach min.
 */
static int la_reap(struct engine *e, unsigned int min, unsigned int max,
		   int64_t timeout_ns, struct io_req **out)
{
	struct libaio *la = e->priv;
	unsigned int got = 0;
	int ret;

	if (!engine_reap_bounds(e, &min, &max))
		return 0;
	if (__builtin_expect(req_queue_len(&la->failed) != 0, 0))
		got = req_queue_take(&la->failed, max, out);
	if (e->opts.user_reap) {
		if (got < max)
			got += la_ring_take(la, max - got, out + got);
		if (got >= min || !timeout_ns)
			goto out;
	} else if (got && got >= min) {
		goto out;
	}

	ret = la_getevents(la, min - got, max - got, timeout_ns, out + got);
	if (ret < 0) {
		if (!got)
			return ret;
		ret = 0;
	}
	got += (unsigned int)ret;
out:
	e->inflight -= got;
	return (int)got;
}

const struct engine_ops libaio_engine = {
	.name = "libaio",
	.help = "Linux native AIO, raw io_submit/io_getevents (user_reap: read the completion ring)",
	.caps = ENG_CAP_ASYNC | ENG_CAP_VECTORED | ENG_CAP_RW_FLAGS |
		ENG_CAP_USER_REAP | ENG_CAP_FSYNC,
	.init = la_init,
	.prep = la_prep,
	.submit = la_submit,
	.ready = la_ready,
	.inline_done = la_inline_done,
	.reap = la_reap,
	.cleanup = la_cleanup,
};
