/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "sync" engine: the baseline.  submit() does each queued request in
 * the calling thread with pread/pwrite (preadv2/pwritev2 for vectored
 * requests or RWF_* flags, fsync/fdatasync), so every request has
 * completed when submit() returns.
 *
 * reap() never blocks: when fewer than min requests have completed it
 * returns those it has (there is nothing in flight to wait for).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine_impl.h"

struct sync_engine {
	struct req_queue queue; /* prepped, not yet done */
	struct req_queue done; /* done, not yet reaped */
};

static void sync_free(struct sync_engine *s)
{
	req_queue_free(&s->queue);
	req_queue_free(&s->done);
	free(s);
}

static int sync_init(struct engine *e, const struct engine_opts *o)
{
	struct sync_engine *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (req_queue_init(&s->queue, o->depth) ||
	    req_queue_init(&s->done, o->depth)) {
		sync_free(s);
		return -ENOMEM;
	}
	e->priv = s;
	return 0;
}

static void sync_cleanup(struct engine *e)
{
	sync_free(e->priv);
}

static int sync_prep(struct engine *e, struct io_req *req)
{
	struct sync_engine *s = e->priv;

	return engine_prep_queue(e, &s->queue, req);
}

/* Bytes done or -errno. */
static int64_t sync_do(const struct io_req *r)
{
	struct iovec one = { .iov_base = r->buf, .iov_len = r->len };
	const struct iovec *iov = r->vectored ? r->iov : &one;
	int nr = r->vectored ? r->nr_iov : 1;
	ssize_t ret;

	switch (r->op) {
	case IO_OP_READ:
		if (!r->vectored && !r->rw_flags)
			ret = pread(r->fd, r->buf, r->len, r->offset);
		else
			ret = preadv2(r->fd, iov, nr, r->offset, r->rw_flags);
		break;
	case IO_OP_WRITE:
		if (!r->vectored && !r->rw_flags)
			ret = pwrite(r->fd, r->buf, r->len, r->offset);
		else
			ret = pwritev2(r->fd, iov, nr, r->offset, r->rw_flags);
		break;
	case IO_OP_FSYNC:
		ret = fsync(r->fd);
		break;
	default:
		ret = fdatasync(r->fd);
		break;
	}
	return ret < 0 ? -errno : ret;
}

/* Do up to depth - inflight queued requests, in order; all are accepted. */
static int sync_submit(struct engine *e)
{
	struct sync_engine *s = e->priv;
	struct io_req **reqs = req_queue_first(&s->queue);
	unsigned int i, n;
	int ret = engine_submit_room(e, &s->queue, 0, &n);

	if (ret <= 0)
		return ret;
	e->submit_seq++;
	for (i = 0; i < n; i++) {
		ret = req_queue_push(&s->done, reqs[i]);
		if (ret)
			break;
		reqs[i]->submit_seq = e->submit_seq;
		reqs[i]->res = sync_do(reqs[i]);
	}
	if (!i)
		return ret;
	req_queue_drop(&s->queue, i);
	e->queued -= i;
	e->inflight += i;
	return (int)i;
}

static int sync_ready(struct engine *e)
{
	struct sync_engine *s = e->priv;

	return (int)req_queue_len(&s->done);
}

/* Every request a submit accepts is done when it returns: unreaped ones. */
static int sync_inline_done(struct engine *e)
{
	struct sync_engine *s = e->priv;
	unsigned int i, n = 0;

	for (i = s->done.head; i < s->done.tail; i++)
		n += s->done.slot[i]->submit_seq == e->submit_seq;
	return (int)n;
}

static int sync_reap(struct engine *e, unsigned int min, unsigned int max,
		     int64_t timeout_ns, struct io_req **out)
{
	struct sync_engine *s = e->priv;
	unsigned int n = req_queue_take(&s->done, max, out);

	e->inflight -= n;
	return (int)n;
}

const struct engine_ops sync_engine = {
	.name = "sync",
	.help = "pread/pwrite/preadv2/pwritev2 in the calling thread (the baseline)",
	.caps = ENG_CAP_VECTORED | ENG_CAP_RW_FLAGS | ENG_CAP_FSYNC,
	.init = sync_init,
	.prep = sync_prep,
	.submit = sync_submit,
	.ready = sync_ready,
	.inline_done = sync_inline_done,
	.reap = sync_reap,
	.cleanup = sync_cleanup,
};
