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

static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->fail_reason, sizeof(r->fail_reason), fmt, ap);
	va_end(ap);
	msg("%s", r->fail_reason);
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

static bool short_read_ok(struct iou *io, int64_t res)
{
	struct stat st;

	if (io->req.op != IO_OP_READ || res < 0)
		return false;
	/* A short read is fine when it stops at end of file. */
	return !fstat(io->oper->fd, &st) &&
	       (!S_ISREG(st.st_mode) ||
		(int64_t)st.st_size <= io->req.offset + res);
}

static void complete(struct run *r, struct thread *t, struct iou *io,
		     uint64_t now)
{
	struct oper *op = io->oper;
	int64_t res = io->req.res;

	op->pending--;
	t->inflight--;
	if (res != (int64_t)r->o->rec_len) {
		if (short_read_ok(io, res)) {
			t->st.short_ios++;
		} else {
			t->st.errors++;
			op->errors++;
			op->last_err = res;
			if (t->st.errors <= 10)
				fprintf(stderr,
					"io err %lld (%s) op %d, off %llu size %llu\n",
					(long long)res,
					res < 0 ? strerror((int)-res) : "short",
					io->req.op,
					(unsigned long long)io->req.offset,
					(unsigned long long)r->o->rec_len);
		}
	}
	if (res > 0) {
		t->st.bytes += (uint64_t)res;
		op->done_bytes += (uint64_t)res;
		atomic_fetch_add_explicit(&t->progress_bytes, (uint64_t)res,
					  memory_order_relaxed);
	}
	t->st.ios++;
	op->done_ios++;
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
	int ready0, ready1, n, i, inl;

	while (t->batch_len) {
		ready0 = engine_ready(&t->eng);
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
		ready1 = engine_ready(&t->eng);
		inl = ready1 - ready0;
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
		if (op->last_offset + rec > op->end)
			op->last_offset = op->start; /* --runtime wraps */
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
	while (!r->stop && !t->error) {
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
			for (i = 0; i < n && !t->error; i++)
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
	if (o->stonewall && !r->stop)
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
 * target refuses, not an I/O error here and there: name it in the reason
 * (the result stays io_errors and the run goes on, as for any errors).
 * Opers keep the last error they saw, which is this stage's.
 */
static void explain_failed_stage(struct run *r, enum stage s)
{
	const struct stage_stats *st = &r->results[s];
	const char *hint = "";
	int64_t err = 0;
	unsigned int i, k;

	if (!st->ios || st->errors < st->ios || r->fail_reason[0])
		return;
	for (i = 0; i < r->o->threads && !err; i++)
		for (k = 0; k < r->threads[i].nr_opers && !err; k++)
			if (r->threads[i].opers[k].started_ios)
				err = r->threads[i].opers[k].last_err;
	if (r->o->iopoll && err == -EOPNOTSUPP)
		hint = r->o->o_direct ?
			       " (--iopoll: the target does not support polled I/O)" :
			       " (--iopoll: polled I/O needs O_DIRECT, -O)";
	snprintf(r->fail_reason, sizeof(r->fail_reason),
		 "every %s request failed: %s%s", stage_name(s),
		 err < 0 ? strerror((int)-err) : "short transfers", hint);
	msg("%s", r->fail_reason);
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
		CPU_SET((o->cpu + t->idx) % CPU_SETSIZE, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	for (s = 0; s < NR_STAGES; s++) {
		uint64_t u0, s0, v0, i0, u1, s1, v1, i1, t0, t1;
		unsigned int k;

		if (!(o->stages & (1u << s)))
			continue;
		pthread_barrier_wait(&r->barrier);
		if (t->idx == 0) {
			r->cur_stage = (enum stage)s;
			atomic_store(&r->stonewall_hit, 0);
			if (stage_writes((enum stage)s))
				r->generation++;
			if (o->verify)
				verify_stage_begin(r, (enum stage)s);
			r->stage_start_ns = now_ns();
		}
		pthread_barrier_wait(&r->barrier);
		if (r->stop || r->failed)
			break;
		reset_stats(&t->st);
		for (k = 0; k < t->nr_opers; k++) {
			struct oper *op = &t->opers[k];

			op->started_ios = op->done_ios = op->done_bytes = 0;
			op->last_offset = op->start;
			op->finished = op->stonewalled = op->reported = false;
			op->start_ns = r->stage_start_ns;
		}
		cpu_now(&u0, &s0, &v0, &i0);
		t0 = now_ns();
		run_stage(r, t, (enum stage)s);
		t1 = now_ns();
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
			explain_failed_stage(r, (enum stage)s);
			if (o->verify)
				verify_end(r, (enum stage)s, &injected);
		}
		pthread_barrier_wait(&r->barrier);
		if (r->stop || r->failed)
			break;
	}
	return NULL;
}

/* --loop: size the backing file and put a loop device over it. */
static int setup_loop(struct options *o, unsigned int i)
{
	char dev[64];
	struct stat st;
	int fd, ret;

	if (geteuid() != 0) {
		msg("--loop needs root (loop devices cannot be attached as uid %u)",
		    (unsigned int)geteuid());
		return -EPERM;
	}
	fd = open(o->files[i], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		msg("--loop needs a regular file as backing, not %s",
		    o->files[i]);
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < o->file_size &&
	    ftruncate(fd, (off_t)o->file_size)) {
		msg("cannot size %s: %s", o->files[i], strerror(errno));
		close(fd);
		return -errno;
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

static int open_files(struct run *r)
{
	struct options *o = r->o;
	bool writes = o->stages & ((1u << STAGE_WRITE) | (1u << STAGE_RWRITE));
	unsigned int nfd = 0, i, j, per;
	int flags = O_RDWR | O_CREAT | O_CLOEXEC |
		    (o->o_direct ? O_DIRECT : 0) | (o->o_sync ? O_SYNC : 0);

	r->nr_fds = (unsigned int)o->nr_files * o->contexts;
	r->fds = calloc(r->nr_fds, sizeof(int));
	r->vfiles = calloc((size_t)o->nr_files, sizeof(*r->vfiles));
	r->threads = calloc(o->threads, sizeof(*r->threads));
	if (!r->fds || !r->vfiles || !r->threads)
		return -ENOMEM;
	o->io_paths = calloc((size_t)o->nr_files, sizeof(char *));
	o->loop_dio = calloc((size_t)o->nr_files, sizeof(bool));
	if (!o->io_paths || !o->loop_dio)
		return -ENOMEM;
	for (i = 0; i < (unsigned int)o->nr_files; i++) {
		o->io_paths[i] = o->files[i];
		if (o->loop_mode && setup_loop(o, i))
			return -EIO;
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
		int ret;

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
			int fd = open(path, flags, 0600);

			if (fd < 0 && errno == EACCES && !writes)
				fd = open(path, flags & ~(O_RDWR | O_CREAT));
			if (fd < 0) {
				msg("cannot open %s%s: %s", path,
				    o->o_direct && errno == EINVAL ?
					    " with O_DIRECT" :
					    "",
				    strerror(errno));
				return -errno;
			}
			r->fds[nfd] = fd;
			op->fd = fd;
			op->file_idx = (int)i;
			op->start = j * o->context_offset;
			op->end = o->file_size;
			op->total_ios = (op->end - op->start) / o->rec_len;
		}
		target_probe(path, &vf->info, NULL);
	}
	return 0;
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
		o->engine->name, o->iovecs ? ", vectored" : "",
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

int run_all(struct run *r)
{
	struct options *o = r->o;
	pthread_t prog_tid;
	bool prog = false;
	unsigned int i;
	int ret, status;

	target_install_signals(&r->stop);
	ret = open_files(r);
	if (ret)
		return 1;
	r->generation = 1; /* older than this run (verify_setup may raise it) */
	if (o->verify) {
		ret = verify_setup(r);
		if (ret)
			return ret == -EINVAL ? 2 : 1;
	}
	if (setup_buffers(r))
		return 1;
	print_header(r);
	if (setup_engines(r)) {
		if (o->json_path)
			report_json(r, o->json_path);
		return 1;
	}
	pthread_barrier_init(&r->barrier, NULL, o->threads);
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
	for (i = 0; i < o->threads; i++)
		engine_cleanup(&r->threads[i].eng);
	for (i = 0; i < r->nr_fds; i++)
		close(r->fds[i]);
	for (i = 0; o->loop_mode && i < (unsigned int)o->nr_files; i++)
		target_loop_detach(o->io_paths[i]);
	if (o->unlink_files) {
		for (i = 0; i < (unsigned int)o->nr_files; i++) {
			struct stat st;

			if (!stat(o->files[i], &st) && S_ISREG(st.st_mode)) {
				if (!o->quiet)
					printf("Cleaning up file %s \n",
					       o->files[i]);
				unlink(o->files[i]);
			}
		}
	}
	status = 0;
	for (i = 0; i < NR_STAGES; i++)
		if (r->results[i].errors ||
		    verify_stats_failed(&r->results[i].v))
			status = 1;
	if (r->failed)
		status = 1;
	if (o->json_path && report_json(r, o->json_path))
		status = 1;
	if (r->interrupted || r->stop)
		status = 130;
	return status;
}
