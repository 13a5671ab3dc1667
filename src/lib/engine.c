/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine table, engine set-up and tear-down, and the helpers every
 * engine shares: request sizes, RWF_* names and the request queue.
 */
#include <errno.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_impl.h"

/* RWF_* values from include/uapi/linux/fs.h, for older headers. */
#ifndef RWF_HIPRI
#define RWF_HIPRI 0x00000001
#endif
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x00000002
#endif
#ifndef RWF_SYNC
#define RWF_SYNC 0x00000004
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x00000010
#endif
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x00000040
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x00000080
#endif

const struct engine_ops *const engine_list[] = {
	&libaio_engine,
	&io_uring_engine, /* or its stub, without liburing */
	&sync_engine,
	NULL,
};

const struct engine_ops *engine_find(const char *name)
{
	const struct engine_ops *const *ops;

	if (!name)
		return NULL;
	for (ops = engine_list; *ops; ops++)
		if (!strcmp((*ops)->name, name))
			return *ops;
	return NULL;
}

void engine_set_reason(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

/* 0, or -EOPNOTSUPP with the reason when an option needs a missing cap. */
static int engine_check_opts(struct engine *e)
{
	const struct engine_opts *o = &e->opts;
	unsigned int caps = e->ops->caps;
	const char *opt = NULL;

	if (o->user_reap && !(caps & ENG_CAP_USER_REAP))
		opt = "user_reap";
	else if (o->sqpoll && !(caps & ENG_CAP_SQPOLL))
		opt = "sqpoll";
	else if (o->iopoll && !(caps & ENG_CAP_IOPOLL))
		opt = "iopoll";
	else if (o->fixed_files && !(caps & ENG_CAP_FIXED_FILES))
		opt = "fixed_files";
	else if (o->fixed_bufs && !(caps & ENG_CAP_FIXED_BUFS))
		opt = "fixed_bufs";
	if (!opt)
		return 0;
	engine_set_reason(e,
			  "%s: the %s option is not supported by this engine",
			  e->ops->name, opt);
	return -EOPNOTSUPP;
}

int engine_init(struct engine *e, const struct engine_ops *ops,
		const struct engine_opts *o)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->ops = ops;
	if (o)
		e->opts = *o;
	if (!ops) {
		engine_set_reason(e, "no such engine");
		ret = -ENOENT;
		goto out;
	}
	if (!e->opts.depth) {
		engine_set_reason(e, "%s: depth must be at least 1", ops->name);
		ret = -EINVAL;
		goto out;
	}
	ret = engine_check_opts(e);
	if (ret)
		goto out;
	ret = ops->init(e, &e->opts);
out:
	if (ret < 0) {
		e->priv = NULL;
		if (!e->reason[0])
			engine_set_reason(e, "%s: cannot set up: %s",
					  ops ? ops->name : "engine",
					  strerror(-ret));
	}
	return ret;
}

void engine_cleanup(struct engine *e)
{
	if (e->ops && e->priv)
		e->ops->cleanup(e);
	e->priv = NULL;
	e->queued = 0;
	e->inflight = 0;
}

size_t io_req_bytes(const struct io_req *r)
{
	size_t bytes = 0;
	int i;

	if (r->op == IO_OP_FSYNC || r->op == IO_OP_FDSYNC)
		return 0;
	if (!r->vectored)
		return r->len;
	for (i = 0; i < r->nr_iov; i++)
		bytes += r->iov[i].iov_len;
	return bytes;
}

static const struct {
	const char *name;
	int flag;
} rw_flag_names[] = {
	{ "hipri", RWF_HIPRI },
	{ "dsync", RWF_DSYNC },
	{ "sync", RWF_SYNC },
	{ "nowait", RWF_NOWAIT },
	{ "append", RWF_APPEND },
	{ "noappend", RWF_NOAPPEND },
	{ "atomic", RWF_ATOMIC },
	{ "dontcache", RWF_DONTCACHE },
	{ "none", 0 },
};

/*
 * "nowait,dsync" -> RWF_NOWAIT | RWF_DSYNC.  NULL, "" and "none" are 0.
 * Names are matched without regard to case; an empty name between commas
 * is refused.  On -EINVAL, *bad points at the refused name (a copy, valid
 * until the next call from this thread) and *flags is left alone.
 */
int rw_flags_parse(const char *list, int *flags, const char **bad)
{
	static __thread char bad_name[32];
	const char *p = list, *end;
	int acc = 0;
	size_t i, len;

	if (!list || !*list) {
		*flags = 0;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0;
		     i < sizeof(rw_flag_names) / sizeof(rw_flag_names[0]); i++)
			if (strlen(rw_flag_names[i].name) == len &&
			    !strncasecmp(rw_flag_names[i].name, p, len))
				break;
		if (i == sizeof(rw_flag_names) / sizeof(rw_flag_names[0]))
			goto bad;
		acc |= rw_flag_names[i].flag;
		if (!end)
			break;
		p = end + 1;
	}
	*flags = acc;
	return 0;
bad:
	if (bad) {
		snprintf(bad_name, sizeof(bad_name), "%.*s", (int)len, p);
		*bad = bad_name;
	}
	return -EINVAL;
}

int req_queue_init(struct req_queue *q, unsigned int cap)
{
	q->head = q->tail = 0;
	q->cap = cap ? cap : 1;
	q->slot = calloc(q->cap, sizeof(*q->slot));
	return q->slot ? 0 : -ENOMEM;
}

void req_queue_free(struct req_queue *q)
{
	free(q->slot);
	q->slot = NULL;
	q->head = q->tail = q->cap = 0;
}

/*
 * Called when tail reached cap.  Compact when at least half the array is
 * free at the front (so each entry moves at most once per lap), else
 * double the array.
 */
int req_queue_make_room(struct req_queue *q)
{
	unsigned int len = req_queue_len(q);
	struct io_req **slot;

	if (q->head >= q->cap / 2 && q->head) {
		memmove(q->slot, q->slot + q->head, len * sizeof(*q->slot));
		q->head = 0;
		q->tail = len;
		return 0;
	}
	if (q->cap > (~0u >> 1))
		return -ENOMEM;
	slot = realloc(q->slot, (size_t)q->cap * 2 * sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	q->slot = slot;
	q->cap *= 2;
	return 0;
}
