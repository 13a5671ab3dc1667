/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the engine files only (engine.c, libaio.c, io_uring.c, sync.c): the
 * engines' tables, the reason helper and the request queue they share.
 * Users of the engines include engine.h, not this.
 *
 * The rules every engine follows are at the top of engine.h.
 */
#ifndef AIO_SUITE_ENGINE_IMPL_H
#define AIO_SUITE_ENGINE_IMPL_H

#include <errno.h>
#include <stdbool.h>

#include "engine.h"

extern const struct engine_ops libaio_engine;
extern const struct engine_ops sync_engine;
/* io_uring.c, or io_uring_stub.c in a build without liburing. */
extern const struct engine_ops io_uring_engine;
/* Its capabilities, the stub's too: its options reach init(). */
#define IO_URING_CAPS                                            \
	(ENG_CAP_ASYNC | ENG_CAP_VECTORED | ENG_CAP_RW_FLAGS |   \
	 ENG_CAP_SQPOLL | ENG_CAP_IOPOLL | ENG_CAP_FIXED_FILES | \
	 ENG_CAP_FIXED_BUFS | ENG_CAP_FSYNC)

/* Write e->reason (truncated to fit). */
void engine_set_reason(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The common start of a reap(): clamp max to the depth and min to what is
 * in flight and to max.  Returns false when there is nothing to reap.
 */
static inline bool engine_reap_bounds(const struct engine *e, unsigned int *min,
				      unsigned int *max)
{
	if (!e->inflight || !*max)
		return false;
	if (*max > e->opts.depth)
		*max = e->opts.depth;
	if (*min > e->inflight)
		*min = e->inflight;
	if (*min > *max)
		*min = *max;
	return true;
}

/*
 * A FIFO of requests in one array: live entries are [head, tail).  Pushing
 * onto a full array compacts it or doubles it, so the hot path allocates
 * nothing once the array has reached the working depth.
 */
struct req_queue {
	struct io_req **slot;
	unsigned int head;
	unsigned int tail;
	unsigned int cap;
};

int req_queue_init(struct req_queue *q, unsigned int cap);
void req_queue_free(struct req_queue *q);
int req_queue_make_room(struct req_queue *q);

static inline unsigned int req_queue_len(const struct req_queue *q)
{
	return q->tail - q->head;
}

static inline struct io_req **req_queue_first(const struct req_queue *q)
{
	return q->slot + q->head;
}

static inline int req_queue_push(struct req_queue *q, struct io_req *r)
{
	if (__builtin_expect(q->tail == q->cap, 0)) {
		int ret = req_queue_make_room(q);

		if (ret)
			return ret;
	}
	q->slot[q->tail++] = r;
	return 0;
}

/* Forget the first n entries. */
static inline void req_queue_drop(struct req_queue *q, unsigned int n)
{
	q->head += n;
	if (q->head == q->tail)
		q->head = q->tail = 0;
}

/* Move up to max entries from the front of q to out[]; returns how many. */
static inline unsigned int req_queue_take(struct req_queue *q, unsigned int max,
					  struct io_req **out)
{
	unsigned int i, n = req_queue_len(q);

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		out[i] = q->slot[q->head + i];
	req_queue_drop(q, n);
	return n;
}

/* The check every prep() makes: 0 or -EINVAL for an unknown op. */
static inline int io_req_check(const struct io_req *r)
{
	return __builtin_expect(r->op > IO_OP_FDSYNC, 0) ? -EINVAL : 0;
}

/*
 * The start of every submit() (the rule in engine.h): *n of q's requests
 * fit under the depth, counting pending ones the engine holds but has not
 * passed to the kernel yet.  1: go on and submit; 0: nothing to do;
 * -EAGAIN: nothing fits.
 */
static inline int engine_submit_room(const struct engine *e,
				     const struct req_queue *q,
				     unsigned int pending, unsigned int *n)
{
	unsigned int room = e->opts.depth - e->inflight - pending;

	*n = req_queue_len(q);
	if (!*n && !pending)
		return 0;
	if (*n > room)
		*n = room;
	if (!*n && !pending)
		return -EAGAIN;
	return 1;
}

/*
 * What every prep() does once its own checks pass: check the op, queue the
 * request on q and count it in e->queued.  0 or -errno.
 */
static inline int engine_prep_queue(struct engine *e, struct req_queue *q,
				    struct io_req *r)
{
	int ret = io_req_check(r);

	if (!ret)
		ret = req_queue_push(q, r);
	if (!ret)
		e->queued++;
	return ret;
}

#endif
