/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-stress: set-up and the per-thread state machine.
 *
 * Each file is opened once per context (-c); each (file, context) pair is
 * an "oper", a stream of I/O over [context * -C, -s) of that file.  Opers
 * are dealt to the threads (-t) round robin; each thread has one engine
 * (one AIO context) and a pool of depth I/O units per oper.  A thread
 * takes up to -i I/Os from each of its opers in turn until it has -b of
 * them, submits them with one call, and reaps when it runs out of units.
 *
 * One clock read before and after each submit call serves every iocb of the
 * call; one clock read after each reap serves every completion it returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "clock.h"
#include "stress.h"
#include "util.h"

struct iou {
	struct io_req req;
	struct oper *oper;
	struct iovec *iov;
	uint64_t submit_ns;
	struct iou *next;
};

const char *stage_name(enum stage s)
{
	static const char *const names[] = { "write", "read", "random write",
					     "random read" };

	return s < NR_STAGES ? names[s] : "unknown";
}

static bool stage_writes(enum stage s)
{
	return s == STAGE_WRITE || s == STAGE_RWRITE;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull +
	       (uint64_t)tv->tv_usec * 1000ull;
}

static void fail(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first failure of the run: its reason is kept and said once. */
static void fail(struct run *r, const char *fmt, ...)
{
	char reason[sizeof(r->fail_reason)];
	bool first;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->fail_lock);
	first = !r->failed;
	if (first) {
		r->failed = true;
		memcpy(r->fail_reason, reason, sizeof(reason));
	}
	pthread_mutex_unlock(&r->fail_lock);
	if (first)
		msg("%s", reason);
}

static bool run_failed(struct run *r)
{
	bool failed;

	pthread_mutex_lock(&r->fail_lock);
	failed = r->failed;
	pthread_mutex_unlock(&r->fail_lock);
	return failed;
}

/* ---- completions ---- */

/* --verify: record a write's blocks, check a read's (verify_io.c). */
static void verify_completion(struct run *r, struct thread *t, struct iou *io,
			      int64_t res)
{
	const char *buf = io->req.buf;
	uint64_t off = (uint64_t)io->req.offset;

	if (io->req.vectored)
		buf = io->iov[0].iov_base; /* segments are contiguous */
	if (io->req.op == IO_OP_WRITE)
		verify_mark_written(r, &t->st, io->oper->file_idx, off,
				    res == (int64_t)r->o->rec_len);
	else
		verify_check_read(r, &t->st, io->oper->file_idx, buf, off, res);
}

/*
 * A stage stops, in every thread, at the first request that failed for
 * want of space (the next ones would fail the same way) and after
 * STAGE_MAX_ERRORS failed or empty requests: the errors are counted and
 * named, not submitted again for every remaining record.
 */
#define STAGE_MAX_ERRORS 32

static bool err_is_space(int64_t err)
{
	return err == -ENOSPC || err == -EDQUOT || err == -EFBIG;
}

/* What the kernel's answer means for this run, or "". */
static const char *err_hint(const struct options *o, int64_t err)
{
	if (o->iopoll && err == -EOPNOTSUPP)
		return o->o_direct ?
			       " (--iopoll: the target does not support polled I/O)" :
			       " (--iopoll: polled I/O needs O_DIRECT, -O)";
	if (err == -EINVAL && o->o_direct)
		return " (O_DIRECT: the record size, alignment or offset does not suit the target)";
	return "";
}

static void stop_stage(struct run *r, struct thread *t, struct iou *io,
		       int64_t res)
{
	const char *what = stage_name(r->cur_stage);
	const char *file = r->vfiles[io->oper->file_idx].name;

	if (atomic_exchange(&r->stage_stop, 1))
		return;
	if (res < 0 && err_is_space(res))
		fail(r, "%s stopped: %s at offset %llu of %s", what,
		     strerror((int)-res), (unsigned long long)io->req.offset,
		     file);
	else if (res < 0)
		fail(r, "%s stopped after %llu failed requests: %s%s", what,
		     (unsigned long long)(t->st.errors + t->st.empty_ios),
		     strerror((int)-res), err_hint(r->o, res));
	else
		fail(r,
		     "%s stopped after %llu requests that moved no data (end of %s at offset %llu)",
		     what, (unsigned long long)(t->st.errors + t->st.empty_ios),
		     file, (unsigned long long)io->req.offset);
}

/*
 * Count a completion as what it did: a full transfer is an I/O (IOPS), a
 * failed one an error, a read that returned nothing an empty one, any
 * other partial transfer a short one; only the bytes moved are bytes.
 */
static void count_result(struct run *r, struct thread *t, struct iou *io,
			 int64_t res)
{
	struct oper *op = io->oper;
	const char *what = io->req.op == IO_OP_WRITE ? "write" : "read";

	if (res > 0) {
		t->st.bytes += (uint64_t)res;
		op->done_bytes += (uint64_t)res;
		atomic_fetch_add_explicit(&t->progress_bytes, (uint64_t)res,
					  memory_order_relaxed);
	}
	if (res == (int64_t)r->o->rec_len) {
		t->st.ios++;
		op->done_ios++;
		return;
	}
	if (res < 0) {
		t->st.errors++;
		op->errors++;
		op->last_err = res;
		if (!t->st.first_err) {
			t->st.first_err = res;
			t->st.first_err_offset = (uint64_t)io->req.offset;
			t->st.first_err_file = op->file_idx;
		}
		if (t->st.errors <= 10 && !atomic_load(&r->stage_stop))
			msg("%s of %llu bytes at offset %llu of %s failed: %s",
			    what, (unsigned long long)r->o->rec_len,
			    (unsigned long long)io->req.offset,
			    r->vfiles[op->file_idx].name, strerror((int)-res));
	} else if (res == 0 && io->req.op == IO_OP_READ) {
		t->st.empty_ios++;
	} else {
		t->st.short_ios++;
	}
	if (err_is_space(res) ||
	    t->st.errors + t->st.empty_ios >= STAGE_MAX_ERRORS)
		stop_stage(r, t, io, res);
}

static void complete(struct run *r, struct thread *t, struct iou *io,
		     uint64_t now)
{
	struct oper *op = io->oper;
	int64_t res = io->req.res;

	op->pending--;
	t->inflight--;
	count_result(r, t, io, res);
	if (r->o->verify)
		verify_completion(r, t, io, res);
	io->next = t->free_list;
	t->free_list = io;
	if (op->finished && !op->pending && !op->reported) {
		op->end_ns = now;
		op->reported = true;
		report_oper_text(r, t, op, r->cur_stage);
	}
}

/* Reap at least min completions; 0 or -errno. */
static int reap(struct run *r, struct thread *t, unsigned int min)
{
	uint64_t t0, t1;
	int n, i;

	if (min > t->inflight)
		min = t->inflight;
	t0 = now_ns();
	n = engine_reap(&t->eng, min, t->nr_ious, -1, t->done);
	t1 = now_ns();
	if (n == -EINTR)
		return 0;
	if (n < 0) {
		fail(r, "reaping completions failed: %s",
		     t->eng.reason[0] ? t->eng.reason : strerror(-n));
		t->error = n;
		return n;
	}
	t->st.reap_calls++;
	t->st.reap_ns += t1 - t0;
	for (i = 0; i < n; i++) {
		struct iou *io = t->done[i]->priv;

		hist_add(&t->st.clat, t1 - io->submit_ns);
		complete(r, t, io, t1);
	}
	return 0;
}

/* Submit everything built; reap and retry when the engine is full. */
static int submit_batch(struct run *r, struct thread *t)
{
	uint64_t t0, t1, d;
	int n, i, inl;

	while (t->batch_len) {
		t0 = now_ns();
		n = engine_submit(&t->eng);
		t1 = now_ns();
		if (n == -EAGAIN || n == 0) {
			t->st.submit_eagain++;
			if (!t->inflight) {
				fail(r,
				     "io_submit: no room with nothing in flight");
				return -EAGAIN;
			}
			if (reap(r, t, 1))
				return t->error;
			continue;
		}
		if (n < 0) {
			struct oper *op =
				((struct iou *)t->batch[0]->priv)->oper;

			fail(r, "submitting I/O to %s failed: %s",
			     r->vfiles[op->file_idx].name, strerror(-n));
			t->error = n;
			return n;
		}
		/* This call's own requests, not earlier ones done meanwhile. */
		inl = engine_inline_done(&t->eng);
		if (inl < 0)
			inl = 0;
		if (inl > n)
			inl = n;
		d = t1 - t0;
		t->st.submit_calls++;
		t->st.submit_iocbs += (uint64_t)n;
		t->st.submit_ns += d;
		t->st.inline_iocbs += (uint64_t)inl;
		hist_add(&t->st.submit_call, d);
		hist_add_n(&t->st.submit_iocb, d / (uint64_t)n, (uint64_t)n);
		for (i = 0; i < n; i++) {
			struct iou *io = t->batch[i]->priv;

			io->submit_ns = t1;
			io->oper->pending++;
		}
		t->inflight += (unsigned int)n;
		t->batch_len -= (unsigned int)n;
		if (t->batch_len) {
			memmove(t->batch, t->batch + n,
				t->batch_len * sizeof(*t->batch));
			if (reap(r, t, 1))
				return t->error;
		}
	}
	return 0;
}

static struct iou *get_iou(struct run *r, struct thread *t)
{
	struct iou *io;

	while (!t->free_list) {
		if (t->batch_len && submit_batch(r, t))
			return NULL;
		if (!t->free_list && reap(r, t, r->o->io_iter))
			return NULL;
	}
	io = t->free_list;
	t->free_list = io->next;
	return io;
}

static uint64_t next_offset(struct run *r, struct thread *t, struct oper *op,
			    enum stage s)
{
	uint64_t rec = r->o->rec_len, off, slots;

	if (s == STAGE_WRITE || s == STAGE_READ) {
		if (op->last_offset + rec > op->end) {
			op->last_offset = op->start; /* --runtime wraps */
			op->wrapped = true;
		}
		off = op->last_offset;
		op->last_offset += rec;
		return off;
	}
	if (op->end - op->start < rec)
		return op->start;
	slots = (op->end - op->start - rec) / r->o->align + 1;
	return op->start + (rng_next(&t->rng) % slots) * r->o->align;
}

static int build_one(struct run *r, struct thread *t, struct oper *op,
		     enum stage s)
{
	struct iou *io = get_iou(r, t);
	struct io_req *req;
	int ret;

	if (!io)
		return t->error ? t->error : -EIO;
	req = &io->req;
	io->oper = op;
	req->op = stage_writes(s) ? IO_OP_WRITE : IO_OP_READ;
	req->fd = op->fd;
	req->offset = (int64_t)next_offset(r, t, op, s);
	req->res = 0;
	if (r->o->verify && req->op == IO_OP_WRITE)
		verify_fill_write(r, op->file_idx,
				  io->iov ? io->iov[0].iov_base : req->buf,
				  (uint64_t)req->offset);
	ret = engine_prep(&t->eng, req);
	if (ret) {
		fail(r, "preparing a request failed: %s", strerror(-ret));
		t->error = ret;
		return ret;
	}
	t->batch[t->batch_len++] = req;
	op->started_ios++;
	if (!r->o->runtime_s && op->started_ios >= op->total_ios)
		op->finished = true;
	return 0;
}

static void run_stage(struct run *r, struct thread *t, enum stage s)
{
	const struct options *o = r->o;
	uint64_t deadline = 0;
	unsigned int cursor = 0;
	long rounds = 0;

	if (o->runtime_s)
		deadline = r->stage_start_ns + (uint64_t)(o->runtime_s * 1e9);
	while (!r->stop && !t->error && !atomic_load(&r->stage_stop)) {
		unsigned int built = 0, k, active = 0;

		if (o->stonewall && o->threads > 1 &&
		    atomic_load(&r->stonewall_hit)) {
			for (k = 0; k < t->nr_opers; k++) {
				if (!t->opers[k].finished) {
					t->opers[k].stonewalled = true;
					t->opers[k].finished = true;
				}
			}
			break;
		}
		for (k = 0; k < t->nr_opers && built < o->max_io_submit; k++) {
			struct oper *op = &t->opers[(cursor + k) % t->nr_opers];
			unsigned int n = o->io_iter, i;

			if (op->finished)
				continue;
			active++;
			if (!o->runtime_s &&
			    op->total_ios - op->started_ios < n)
				n = (unsigned int)(op->total_ios -
						   op->started_ios);
			if (n > o->max_io_submit - built)
				n = o->max_io_submit - built;
			for (i = 0;
			     i < n && !t->error && !atomic_load(&r->stage_stop);
			     i++)
				if (build_one(r, t, op, s))
					break;
			built += i;
			if (built + o->io_iter > o->max_io_submit)
				break;
		}
		cursor++;
		if (t->error || (!built && !active))
			break;
		if (submit_batch(r, t))
			break;
		if (o->iterations > 0 && ++rounds >= o->iterations)
			break;
		if (deadline && now_ns() >= deadline)
			break;
	}
	/* Drain: whatever was built but not accepted goes first. */
	if (t->batch_len && !t->error)
		submit_batch(r, t);
	while (t->inflight && !t->error)
		reap(r, t, t->inflight);
	for (unsigned int k = 0; k < t->nr_opers; k++) {
		struct oper *op = &t->opers[k];

		op->finished = true;
		if (!op->reported) {
			op->end_ns = now_ns();
			op->reported = true;
			if (op->started_ios)
				report_oper_text(r, t, op, s);
		}
	}
	/* A thread that had nothing to do (an empty range) cuts no one. */
	if (o->stonewall && !r->stop && (t->st.planned_bytes || o->runtime_s))
		atomic_store(&r->stonewall_hit, 1);
}

static void cpu_now(uint64_t *user, uint64_t *sys, uint64_t *nv, uint64_t *niv)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	*user = tv_ns(&ru.ru_utime);
	*sys = tv_ns(&ru.ru_stime);
	*nv = (uint64_t)ru.ru_nvcsw;
	*niv = (uint64_t)ru.ru_nivcsw;
}

static void reset_stats(struct stage_stats *st)
{
	memset(st, 0, offsetof(struct stage_stats, submit_call));
	hist_init(&st->submit_call);
	hist_init(&st->submit_iocb);
	hist_init(&st->clat);
}

/*
 * A stage whose every request failed met something the kernel or the
 * target refuses, not an I/O error here and there: name it as the run's
 * failure (no later stage runs).  A stage where only some failed or were
 * short gives the JSON its reason, when it has none yet (exit status 1,
 * the run goes on).
 */
static void explain_failed_stage(struct run *r, enum stage s)
{
	const struct stage_stats *st = &r->results[s];
	uint64_t bad = st->errors + st->empty_ios + st->short_ios;
	int64_t err = st->first_err;

	if (!bad || run_failed(r))
		return;
	if (!st->ios && err) {
		fail(r, "every %s request failed: %s%s", stage_name(s),
		     strerror((int)-err), err_hint(r->o, err));
		return;
	}
	if (!st->ios) {
		fail(r,
		     "every %s request was short: %llu moved no data, %llu part of it",
		     stage_name(s), (unsigned long long)st->empty_ios,
		     (unsigned long long)st->short_ios);
		return;
	}
	pthread_mutex_lock(&r->fail_lock);
	if (!r->fail_reason[0])
		snprintf(r->fail_reason, sizeof(r->fail_reason),
			 "%s: %llu of %llu requests failed or were short%s%s",
			 stage_name(s), (unsigned long long)bad,
			 (unsigned long long)(bad + st->ios), err ? ": " : "",
			 err ? strerror((int)-err) : "");
	pthread_mutex_unlock(&r->fail_lock);
}

/*
 * An oper's range for stage s: a write stage covers the whole -s range, a
 * read stage what this run's (sequential) write stage wrote of it, all of
 * it when no write stage ran.
 */
static void start_oper(struct run *r, struct thread *t, struct oper *op,
		       enum stage s)
{
	uint64_t rec = r->o->rec_len, full;

	op->end = stage_writes(s) ? op->range_end : op->written_end;
	op->total_ios = op->end > op->start ? (op->end - op->start) / rec : 0;
	full = (op->range_end - op->start) / rec;
	op->started_ios = op->done_ios = op->done_bytes = 0;
	op->last_offset = op->start;
	op->wrapped = op->stonewalled = op->reported = false;
	/* Nothing to do: done before it starts (also with --runtime). */
	op->finished = !op->total_ios;
	op->start_ns = r->stage_start_ns;
	if (!r->o->runtime_s)
		t->st.planned_bytes += op->total_ios * rec;
	t->st.unwritten_bytes += (full - op->total_ios) * rec;
}

/*
 * After a write stage.  The sequential one: what it wrote, for the read
 * stages to read.  The random one writes records here and there: a file
 * it left shorter than the range is extended to it, so that the random
 * read stage after it reads holes where nothing was written, not past the
 * end of the file (the classic seed command, -o 2 -o 3 on a new file).
 */
static void end_write_oper(struct run *r, struct oper *op, enum stage s)
{
	struct stat st;

	if (s == STAGE_WRITE) {
		op->written_end = op->wrapped ? op->range_end : op->last_offset;
		return;
	}
	if (!r->stop && !fstat(op->fd, &st) && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < op->range_end &&
	    ftruncate(op->fd, (off_t)op->range_end))
		fail(r, "cannot extend %s to %llu bytes: %s",
		     r->vfiles[op->file_idx].name,
		     (unsigned long long)op->range_end, strerror(errno));
}

/* After a stage: --verify's summary, state file and --inject. */
static void verify_end(struct run *r, enum stage s, bool *injected)
{
	char why[256];

	if (verify_stage_end(r, s, why, sizeof(why)) && !r->fail_reason[0])
		snprintf(r->fail_reason, sizeof(r->fail_reason), "%s", why);
	if (r->o->inject_kind && !*injected && stage_writes(s) && !r->stop) {
		*injected = true;
		if (verify_inject(r, why, sizeof(why)))
			fail(r, "%s", why);
	}
}

static void *worker(void *arg)
{
	struct thread *t = arg;
	struct run *r = &g_run;
	const struct options *o = r->o;
	bool injected = false;
	int s;

	if (o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((o->cpu + t->idx) % (unsigned int)nr_cpus(), &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	for (s = 0; s < NR_STAGES; s++) {
		uint64_t u0, s0, v0, i0, u1, s1, v1, i1, t0, t1;
		unsigned int k;

		if (!(o->stages & (1u << s)))
			continue;
		pthread_barrier_wait(&r->barrier);
		if (t->idx == 0) {
			/* The one decision every thread follows. */
			r->go_on = !r->stop && !run_failed(r);
		}
		if (t->idx == 0 && r->go_on) {
			r->cur_stage = (enum stage)s;
			atomic_store(&r->stonewall_hit, 0);
			atomic_store(&r->stage_stop, 0);
			if (stage_writes((enum stage)s))
				r->generation++;
			if (o->verify)
				verify_stage_begin(r, (enum stage)s);
			r->stage_start_ns = now_ns();
		}
		pthread_barrier_wait(&r->barrier);
		if (!r->go_on)
			break;
		reset_stats(&t->st);
		for (k = 0; k < t->nr_opers; k++)
			start_oper(r, t, &t->opers[k], (enum stage)s);
		cpu_now(&u0, &s0, &v0, &i0);
		t0 = now_ns();
		run_stage(r, t, (enum stage)s);
		t1 = now_ns();
		for (k = 0; stage_writes((enum stage)s) && k < t->nr_opers; k++)
			end_write_oper(r, &t->opers[k], (enum stage)s);
		cpu_now(&u1, &s1, &v1, &i1);
		t->st.elapsed_ns = t1 - t0;
		t->st.utime_ns = u1 - u0;
		t->st.stime_ns = s1 - s0;
		t->st.nvcsw = v1 - v0;
		t->st.nivcsw = i1 - i0;
		if (o->fsync_stages) {
			for (k = 0; k < t->nr_opers; k++)
				fsync(t->opers[k].fd);
			t->st.fsync_ns = now_ns() - t1;
		}
		pthread_barrier_wait(&r->barrier);
		if (t->idx == 0) {
			unsigned int i;

			reset_stats(&r->results[s]);
			for (i = 0; i < o->threads; i++)
				merge_stats(&r->results[s], &r->threads[i].st);
			r->ran[s] = true;
			r->stage_order[r->nr_ran++] = s;
			r->stage_wall_ns[s] =
				now_ns() - r->stage_start_ns -
				r->results[s].fsync_ns / o->threads;
			for (i = 0; i < o->threads; i++)
				for (k = 0; k < r->threads[i].nr_opers; k++)
					if (r->threads[i].opers[k].stonewalled)
						r->stage_stonewalled[s] = true;
			if (r->stop)
				r->interrupted = true;
			report_stage_text(r, (enum stage)s);
			report_cuts_text(r, (enum stage)s);
			explain_failed_stage(r, (enum stage)s);
			if (o->verify)
				verify_end(r, (enum stage)s, &injected);
		}
		/* Thread 0's merge reads every thread's stats: wait for it. */
		pthread_barrier_wait(&r->barrier);
	}
	return NULL;
}

/* The memory character devices aio-stress accepts: null, zero, full. */
static bool mem_chardev(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 &&
	       (minor(st->st_rdev) == 3 || minor(st->st_rdev) == 5 ||
		minor(st->st_rdev) == 7);
}

static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode)  ? "directory" :
	       S_ISFIFO(mode) ? "FIFO" :
	       S_ISSOCK(mode) ? "socket" :
	       S_ISCHR(mode)  ? "character device" :
				"special file";
}

/*
 * Before anything is opened: a target is a regular file, a block device or
 * one of /dev/null, /dev/zero and /dev/full (a FIFO or a terminal would
 * block the run where no signal reaches it).  A missing file is created
 * by a run that writes it, and never for a run that only reads.  With
 * --loop the file is the backing file and must be a regular one.  0, or
 * -errno once said why.
 */
static int check_target(struct run *r, unsigned int i, bool writes)
{
	const char *path = r->o->files[i];
	struct stat st;
	int err;

	if (stat(path, &st)) {
		err = errno;
		if (err == ENOENT && writes)
			return 0;
		msg("cannot open %s: %s%s", path, strerror(err),
		    err == ENOENT ?
			    " (a run without a write stage reads an existing file)" :
			    "");
		return -err;
	}
	if (S_ISREG(st.st_mode) ||
	    (!r->o->loop_mode && (S_ISBLK(st.st_mode) || mem_chardev(&st))))
		return 0;
	if (r->o->loop_mode)
		msg("--loop needs a regular file as backing, not %s (%s)", path,
		    S_ISBLK(st.st_mode) ? "block device" :
					  file_kind(st.st_mode));
	else
		msg("refusing %s: a %s (aio-stress does I/O to regular files, block devices, /dev/null, /dev/zero and /dev/full)",
		    path, file_kind(st.st_mode));
	return -EINVAL;
}

/*
 * Have a regular file removed by target_cleanup_all (at exit and from the
 * signal handler); never a device node.  Best effort: beyond the list's
 * room only a second Ctrl-C, which ends the run at once, misses it.
 */
static void track_regular(const char *path)
{
	struct stat st;

	if (!stat(path, &st) && S_ISREG(st.st_mode))
		target_track_file(path);
}

/*
 * Create file i when it is missing (only for a run that writes).  Until
 * the stages start, a created file is removed on every way out, also on a
 * second Ctrl-C (target_cleanup_all from the signal handler); from then
 * on -u decides (files_in_use).
 */
static int create_file(struct run *r, unsigned int i)
{
	const char *path = r->o->files[i];
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		r->created[i] = true;
	} else if (errno != EEXIST) {
		msg("cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	if (r->created[i])
		track_regular(path);
	return 0;
}

/* --loop: size the backing file and put a loop device over it. */
static int setup_loop(struct options *o, unsigned int i, bool writes)
{
	char dev[64];
	struct stat st;
	int fd, ret;

	if (geteuid() != 0) {
		msg("--loop needs root (loop devices cannot be attached as uid %u)",
		    (unsigned int)geteuid());
		return -EPERM;
	}
	fd = open(o->files[i], (writes ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		msg("--loop needs a regular file as backing, not %s",
		    o->files[i]);
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	/* Only a run that writes grows it; a read-only one is checked. */
	if (writes && (uint64_t)st.st_size < o->file_size &&
	    ftruncate(fd, (off_t)o->file_size)) {
		ret = -errno;
		msg("cannot size %s: %s", o->files[i], strerror(-ret));
		close(fd);
		return ret;
	}
	close(fd);
	ret = target_loop_attach(o->files[i], o->loop_mode == 2, dev,
				 sizeof(dev), &o->loop_dio[i]);
	if (ret) {
		msg("cannot attach a loop device to %s: %s", o->files[i],
		    strerror(-ret));
		return ret;
	}
	o->io_paths[i] = strdup(dev);
	if (!o->quiet)
		fprintf(stderr, "loop device %s over %s, direct I/O %s\n", dev,
			o->files[i], o->loop_dio[i] ? "on" : "off");
	return o->io_paths[i] ? 0 : -ENOMEM;
}

/*
 * Up front, what the stages would meet: a block device smaller than the
 * range, a read stage on a file that holds less than it would read (with
 * no write stage of this run before it) or on /dev/null, and write stages
 * that need more space than the filesystem has free.  0 or -errno, said.
 */
static int check_sizes(struct run *r, bool writes)
{
	const struct options *o = r->o;
	unsigned int sg = o->stages;
	bool reads = sg & ((1u << STAGE_READ) | (1u << STAGE_RREAD));
	/* A read stage no write stage of this run comes before. */
	bool unwritten =
		(sg & (1u << STAGE_READ) && !(sg & (1u << STAGE_WRITE))) ||
		(sg & (1u << STAGE_RREAD) &&
		 !(sg & ((1u << STAGE_WRITE) | (1u << STAGE_RWRITE))));
	uint64_t *need = calloc((size_t)o->nr_files, sizeof(*need));
	struct stat *st = calloc((size_t)o->nr_files, sizeof(*st));
	unsigned int i, k;
	int ret = 0;

	if (!need || !st) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < (unsigned int)o->nr_files && !ret; i++) {
		const struct target_info *ti = &r->vfiles[i].info;
		struct stat dst;
		uint64_t used;

		if (fstat(r->fds[i * o->contexts], &dst) ||
		    stat(o->files[i], &st[i])) {
			ret = -errno;
			msg("cannot stat %s: %s", o->files[i], strerror(-ret));
		} else if (S_ISBLK(dst.st_mode) &&
			   ti->size_bytes < o->file_size) {
			ret = -ENOSPC;
			msg("%s holds %llu bytes, less than the %llu of -s",
			    o->io_paths[i], (unsigned long long)ti->size_bytes,
			    (unsigned long long)o->file_size);
		} else if (reads && S_ISCHR(dst.st_mode) &&
			   minor(dst.st_rdev) == 3) {
			ret = -ENODATA;
			msg("refusing to read %s: its reads return no data (use /dev/zero)",
			    o->io_paths[i]);
		} else if (unwritten && S_ISREG(dst.st_mode) &&
			   (uint64_t)dst.st_size < o->file_size) {
			ret = -ENODATA;
			msg("%s holds %llu bytes, less than the %llu of -s the read stage would read (write it first with -o 0, or give a smaller -s)",
			    o->files[i], (unsigned long long)dst.st_size,
			    (unsigned long long)o->file_size);
		} else if (writes && S_ISREG(st[i].st_mode)) {
			used = (uint64_t)st[i].st_blocks * 512;
			need[i] = o->file_size > used ? o->file_size - used : 0;
		}
	}
	/* What the files on one filesystem need, against its free space. */
	for (i = 0; i < (unsigned int)o->nr_files && !ret; i++) {
		uint64_t total = 0, avail;
		struct statvfs vfs;

		if (!need[i])
			continue;
		for (k = i; k < (unsigned int)o->nr_files; k++) {
			if (st[k].st_dev != st[i].st_dev)
				continue;
			total += need[k];
			if (k > i)
				need[k] = 0;
		}
		/* A filesystem that reports no size (some FUSE ones): no check. */
		if (statvfs(o->files[i], &vfs) || !vfs.f_blocks)
			continue;
		avail = (uint64_t)(geteuid() ? vfs.f_bavail : vfs.f_bfree) *
			vfs.f_frsize;
		if (total > avail) {
			ret = -ENOSPC;
			msg("not enough space for %s: the write stages need %llu bytes more, its filesystem has %llu free",
			    o->files[i], (unsigned long long)total,
			    (unsigned long long)avail);
		}
	}
out:
	free(need);
	free(st);
	return ret;
}

static int open_error(struct run *r, const char *path, int err)
{
	const struct options *o = r->o;
	struct rlimit rl;

	if (err == EMFILE && !getrlimit(RLIMIT_NOFILE, &rl))
		msg("cannot open %s: %s (-c %u over %d files needs %u descriptors, ulimit -n is %llu)",
		    path, strerror(err), o->contexts, o->nr_files, r->nr_fds,
		    (unsigned long long)rl.rlim_cur);
	else
		msg("cannot open %s%s: %s", path,
		    o->o_direct && err == EINVAL ? " with O_DIRECT" : "",
		    strerror(err));
	return -err;
}

static int open_files(struct run *r)
{
	struct options *o = r->o;
	bool writes = o->stages & ((1u << STAGE_WRITE) | (1u << STAGE_RWRITE));
	unsigned int nfd = 0, i, j, per;
	int ret, flags = (writes ? O_RDWR : O_RDONLY) | O_CLOEXEC |
			 (o->o_direct ? O_DIRECT : 0) |
			 (o->o_sync && writes ? O_SYNC : 0);

	r->nr_fds = (unsigned int)o->nr_files * o->contexts;
	r->fds = calloc(r->nr_fds, sizeof(int));
	r->vfiles = calloc((size_t)o->nr_files, sizeof(*r->vfiles));
	r->threads = calloc(o->threads, sizeof(*r->threads));
	r->created = calloc((size_t)o->nr_files, sizeof(bool));
	if (!r->fds || !r->vfiles || !r->threads || !r->created)
		return -ENOMEM;
	for (i = 0; i < r->nr_fds; i++)
		r->fds[i] = -1;
	if (o->loop_mode && geteuid() != 0) {
		msg("--loop needs root (loop devices cannot be attached as uid %u)",
		    (unsigned int)geteuid());
		return -EPERM;
	}
	o->io_paths = calloc((size_t)o->nr_files, sizeof(char *));
	o->loop_dio = calloc((size_t)o->nr_files, sizeof(bool));
	if (!o->io_paths || !o->loop_dio)
		return -ENOMEM;
	for (i = 0; i < (unsigned int)o->nr_files; i++) {
		ret = check_target(r, i, writes);
		if (ret)
			return ret;
	}
	for (i = 0; i < (unsigned int)o->nr_files; i++) {
		o->io_paths[i] = o->files[i];
		if (writes && (ret = create_file(r, i)))
			return ret;
		if (o->loop_mode && (ret = setup_loop(o, i, writes)))
			return ret;
	}
	per = (r->nr_fds + o->threads - 1) / o->threads;
	for (i = 0; i < o->threads; i++) {
		r->threads[i].idx = (int)i;
		r->threads[i].opers = calloc(per, sizeof(struct oper));
		if (!r->threads[i].opers)
			return -ENOMEM;
	}
	for (i = 0; i < (unsigned int)o->nr_files; i++) {
		const char *path = o->io_paths[i];
		struct vfile *vf = &r->vfiles[i];
		struct target_signature sig;

		vf->name = path;
		if (writes) {
			ret = target_check_writable(
				path, o->force || o->loop_mode, &sig);
			if (ret == -EBUSY) {
				target_refuse_msg(path, &sig);
				return -EBUSY;
			}
		}
		for (j = 0; j < o->contexts; j++, nfd++) {
			struct thread *t = &r->threads[nfd % o->threads];
			struct oper *op = &t->opers[t->nr_opers++];
			int fd = open(path, flags);

			if (fd < 0)
				return open_error(r, path, errno);
			r->fds[nfd] = fd;
			op->fd = fd;
			op->file_idx = (int)i;
			op->start = j * o->context_offset;
			op->end = op->range_end = op->written_end =
				o->file_size;
			op->total_ios = (op->end - op->start) / o->rec_len;
		}
		target_probe(path, &vf->info, NULL);
	}
	return check_sizes(r, writes);
}

static int setup_buffers(struct run *r)
{
	struct options *o = r->o;
	size_t total = 0, i, k;
	char *p = MAP_FAILED;

	r->padded_rec = (o->rec_len + o->align - 1) / o->align * o->align;
	for (i = 0; i < o->threads; i++)
		total += (size_t)r->threads[i].nr_opers * o->depth *
			 r->padded_rec;
	r->buf_len = total + o->align;
	if (o->buf_mem == BUF_SHM) {
		int id = shmget(IPC_PRIVATE, r->buf_len, IPC_CREAT | 0600);

		if (id < 0) {
			msg("shmget of %zu bytes failed: %s", r->buf_len,
			    strerror(errno));
			return -errno;
		}
		p = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL); /* gone once detached */
		if (p == (void *)-1) {
			msg("shmat failed: %s", strerror(errno));
			return -errno;
		}
		if (!o->quiet)
			fprintf(stderr, "using ipc shm\n");
	} else if (o->buf_mem == BUF_SHMFS) {
		char name[] = "/dev/shm/aio-stress.XXXXXX";
		int fd = mkstemp(name);

		if (fd < 0) {
			msg("cannot create a file in /dev/shm: %s",
			    strerror(errno));
			return -errno;
		}
		unlink(name);
		if (ftruncate(fd, (off_t)r->buf_len) == 0)
			p = mmap(NULL, r->buf_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED) {
			msg("cannot map a /dev/shm file: %s", strerror(errno));
			return -errno;
		}
		if (!o->quiet)
			fprintf(stderr, "using /dev/shm for buffers\n");
	} else {
		p = mmap(NULL, r->buf_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			msg("cannot allocate %zu bytes of buffers: %s",
			    r->buf_len, strerror(errno));
			return -ENOMEM;
		}
	}
	r->buf_base = (char *)(((uintptr_t)p + o->align - 1) &
			       ~(uintptr_t)(o->align - 1));
	memset(r->buf_base, 0, total);
	p = r->buf_base;
	for (i = 0; i < o->threads; i++) {
		struct thread *t = &r->threads[i];

		t->nr_ious = t->nr_opers * o->depth;
		t->ious = calloc(t->nr_ious, sizeof(*t->ious));
		t->batch = calloc(t->nr_ious + o->max_io_submit,
				  sizeof(*t->batch));
		t->done = calloc(t->nr_ious, sizeof(*t->done));
		if (!t->ious || !t->batch || !t->done)
			return -ENOMEM;
		t->rng = 0x9e3779b97f4a7c15ull ^
			 ((uint64_t)i + 1) * 0xbf58476d1ce4e5b9ull;
		for (k = 0; k < t->nr_ious; k++) {
			struct iou *io = &t->ious[k];

			io->req.priv = io;
			io->req.buf = p + k * r->padded_rec;
			io->req.len = o->rec_len;
			io->req.rw_flags = o->rw_flags;
			if (o->iovecs)
				io->req.vectored = true;
			io->next = t->free_list;
			t->free_list = io;
		}
		if (o->iovecs) {
			struct iovec *iov = calloc(
				(size_t)t->nr_ious * o->iovecs, sizeof(*iov));
			size_t seg = o->rec_len / o->iovecs;

			if (!iov)
				return -ENOMEM;
			if (o->o_direct && seg >= 512)
				seg &= ~(size_t)511;
			for (k = 0; k < t->nr_ious; k++) {
				struct iou *io = &t->ious[k];
				size_t left = o->rec_len, j;
				char *b = io->req.buf;

				io->iov = iov + k * o->iovecs;
				for (j = 0; j < o->iovecs; j++) {
					size_t n = j + 1 == o->iovecs ? left :
									seg;

					io->iov[j].iov_base = b;
					io->iov[j].iov_len = n;
					b += n;
					left -= n;
				}
				io->req.iov = io->iov;
				io->req.nr_iov = (int)o->iovecs;
			}
		}
		p += t->nr_ious * r->padded_rec;
	}
	return 0;
}

static int setup_engines(struct run *r)
{
	struct options *o = r->o;
	unsigned int i;

	for (i = 0; i < o->threads; i++) {
		struct thread *t = &r->threads[i];
		struct engine_opts eo = {
			.depth = t->nr_ious,
			.user_reap = o->user_reap,
			.sqpoll = o->sqpoll,
			.iopoll = o->iopoll,
			.fixed_files = o->fixed_files,
			.fixed_bufs = o->fixed_bufs,
			.fds = r->fds,
			.nr_fds = r->nr_fds,
			.buf_base = t->ious[0].req.buf,
			.buf_len = (size_t)t->nr_ious * r->padded_rec,
		};
		int ret = engine_init(&t->eng, o->engine, &eo);

		if (ret) {
			fail(r, "%s",
			     t->eng.reason[0] ? t->eng.reason : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void *progress(void *arg)
{
	struct run *r = arg;
	uint64_t last = 0, start = now_ns();

	for (;;) {
		uint64_t bytes = 0, now;
		unsigned int i;

		sleep(1);
		for (i = 0; i < r->o->threads; i++)
			bytes += atomic_load(&r->threads[i].progress_bytes);
		now = now_ns();
		fprintf(stderr, "\r%s: %.2f MB/s, %.1f MB in %.0fs \033[K",
			stage_name(r->cur_stage), (bytes - last) / 1048576.0,
			bytes / 1048576.0, (now - start) / 1e9);
		last = bytes;
	}
	return NULL;
}

/* The classic messages, once the run is known to go ahead. */
static void announce(const struct options *o)
{
	int i;

	if (o->quiet)
		return;
	if (o->dropped_iter)
		fprintf(stderr, "dropping io_iter to %d\n", o->io_iter);
	if (o->dropped_threads)
		fprintf(stderr,
			"dropping thread count to the number of contexts %d\n",
			o->threads);
	if (!o->stages_given)
		return;
	for (i = 0; i < NR_STAGES; i++)
		if (o->stages & (1u << i))
			fprintf(stderr, "adding stage %s\n", stage_name(i));
	for (i = 0; i < NR_STAGES; i++) {
		if (o->stages & (1u << i)) {
			fprintf(stderr, "starting with %s\n", stage_name(i));
			break;
		}
	}
}

static void print_header(struct run *r)
{
	const struct options *o = r->o;
	struct utsname u;
	int i;

	if (o->quiet)
		return;
	fprintf(stderr,
		"file size %lluMB, record size %lluKB, depth %u, I/O per iteration %u\n",
		(unsigned long long)(o->file_size >> 20),
		(unsigned long long)(o->rec_len >> 10), o->depth, o->io_iter);
	fprintf(stderr, "max io_submit %u, buffer alignment set to %lluKB\n",
		o->max_io_submit, (unsigned long long)(o->align >> 10));
	fprintf(stderr,
		"threads %u files %d contexts %u context offset %lluMB verification %s\n",
		o->threads, o->nr_files, o->contexts,
		(unsigned long long)(o->context_offset >> 20),
		o->verify ? "on" : "off");
	uname(&u);
	fprintf(stderr, "kernel %s, engine %s%s%s%s\n", u.release,
		o->engine_name, o->iovecs ? ", vectored" : "",
		o->rw_flags_str ? ", rw-flags " : "",
		o->rw_flags_str ? o->rw_flags_str : "");
	for (i = 0; i < o->nr_files; i++) {
		const struct target_info *ti = &r->vfiles[i].info;

		fprintf(stderr, "target %s: %s%s%s\n", o->io_paths[i],
			ti->kind == TARGET_BLOCK ? "block device " :
			ti->kind == TARGET_CHAR	 ? "character device" :
						   "file on ",
			ti->kind == TARGET_BLOCK ? ti->device :
			ti->kind == TARGET_FILE	 ? ti->fstype :
						   "",
			o->o_direct ? ", O_DIRECT" : "");
	}
}

/*
 * Close everything and detach the loop devices; remove the files -u asks
 * to remove once stages ran, and those this run created when its set-up
 * failed (a file a run made and never used is not left behind).
 */
static void teardown(struct run *r, bool ran)
{
	struct options *o = r->o;
	unsigned int i;

	for (i = 0; r->threads && i < o->threads; i++)
		engine_cleanup(&r->threads[i].eng);
	for (i = 0; r->fds && i < r->nr_fds; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	for (i = 0; o->io_paths && i < (unsigned int)o->nr_files; i++)
		if (o->io_paths[i] && o->io_paths[i] != o->files[i])
			target_loop_detach(o->io_paths[i]);
	for (i = 0; i < (unsigned int)o->nr_files; i++) {
		bool created = r->created && r->created[i];
		struct stat st;

		if (!(ran ? o->unlink_files : created) ||
		    stat(o->files[i], &st) || !S_ISREG(st.st_mode))
			continue;
		if (ran && !o->quiet)
			printf("Cleaning up file %s \n", o->files[i]);
		unlink(o->files[i]);
		target_untrack(o->files[i]);
	}
}

/* From here on the files hold the run's data: -u decides their fate. */
static void files_in_use(struct run *r)
{
	const struct options *o = r->o;
	int i;

	for (i = 0; i < o->nr_files; i++) {
		if (o->unlink_files)
			track_regular(o->files[i]);
		else if (r->created[i])
			target_untrack(o->files[i]);
	}
}

static int setup_failed(struct run *r)
{
	if (r->o->json_path)
		report_json(r, r->o->json_path);
	teardown(r, false);
	return r->skipped ? 77 : 1;
}

int run_all(struct run *r)
{
	struct options *o = r->o;
	pthread_t prog_tid;
	bool prog = false;
	unsigned int i;
	int status;

	pthread_mutex_init(&r->fail_lock, NULL);
	target_install_signals(&r->stop);
	if (open_files(r)) {
		teardown(r, false);
		return 1;
	}
	r->generation = 1; /* older than this run (verify_setup may raise it) */
	if (o->verify) {
		int ret = verify_setup(r);

		if (ret) {
			teardown(r, false);
			return ret == -EINVAL ? 2 : 1;
		}
	}
	if (setup_buffers(r)) {
		teardown(r, false);
		return 1;
	}
	if (setup_engines(r))
		return setup_failed(r);
	announce(o);
	print_header(r);
	if (r->stop) {
		teardown(r, false);
		return 128 + r->stop;
	}
	pthread_barrier_init(&r->barrier, NULL, o->threads);
	files_in_use(r);
	if (!o->quiet && !(o->json_path && !strcmp(o->json_path, "-"))) {
		if (o->threads > 1)
			printf("Running multi thread version num_threads:%u\n",
			       o->threads);
		else
			printf("Running single thread version \n");
		fflush(stdout);
	}
	if (!o->quiet && isatty(2))
		prog = !pthread_create(&prog_tid, NULL, progress, r);
	for (i = 1; i < o->threads; i++) {
		if (pthread_create(&r->threads[i].tid, NULL, worker,
				   &r->threads[i])) {
			msg("cannot start thread %u: %s", i, strerror(errno));
			exit(1);
		}
	}
	worker(&r->threads[0]);
	for (i = 1; i < o->threads; i++)
		pthread_join(r->threads[i].tid, NULL);
	if (prog) {
		pthread_cancel(prog_tid);
		pthread_join(prog_tid, NULL);
		fprintf(stderr, "\r\033[K");
	}
	teardown(r, true);
	status = 0;
	for (i = 0; i < NR_STAGES; i++)
		if (r->results[i].errors || r->results[i].short_ios ||
		    r->results[i].empty_ios ||
		    verify_stats_failed(&r->results[i].v))
			status = 1;
	if (run_failed(r))
		status = 1;
	if (o->json_path && report_json(r, o->json_path))
		status = 1;
	if (r->interrupted || r->stop)
		status = 128 + (r->stop ? r->stop : SIGINT);
	return status;
}
