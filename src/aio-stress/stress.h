/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-stress: shared definitions between option parsing (main.c), the
 * per-thread state machine (run.c) and the reports (report.c).
 */
#ifndef AIO_STRESS_H
#define AIO_STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine.h"
#include "hist.h"
#include "target.h"
#include "verify.h"

#define AIO_STRESS_VERSION "0.21-aio-suite"
#define AIO_STRESS_SCHEMA "aio-stress/1"

/* Bounds of the command line (main.c refuses what is beyond them). */
#define RUNTIME_MAX_S 1e9 /* --runtime: 31 years, in ns well within 64 bits */
#define MAX_RECORD 0x7ffff000u /* -r: the most one read or write moves */
#define MAX_ALIGN (1u << 30) /* -a */
#define MAX_IOUS (1u << 22) /* requests in flight per thread */
#define MAX_IO_SUBMIT (1u << 20) /* -b */

enum stage { STAGE_WRITE, STAGE_READ, STAGE_RWRITE, STAGE_RREAD, NR_STAGES };

enum buf_mem { BUF_MALLOC, BUF_SHM, BUF_SHMFS };

struct options {
	uint64_t file_size; /* -s */
	uint64_t rec_len; /* -r */
	uint64_t align; /* -a */
	unsigned int depth; /* -d, per file and context */
	unsigned int io_iter; /* -i */
	long long iterations; /* -I, -1 = until done */
	unsigned int max_io_submit; /* -b */
	unsigned int threads; /* -t */
	unsigned int contexts; /* -c */
	uint64_t context_offset; /* -C */
	unsigned int stages; /* -o bits */
	bool o_direct, o_sync, fsync_stages, latency_stats;
	bool completion_latency_stats, unlink_files, stonewall, verify;
	enum buf_mem buf_mem; /* -m */
	/* long options */
	const struct engine_ops *engine; /* NULL: io_uring, not built in */
	const char *engine_name;
	const char *json_path;
	double runtime_s; /* 0: until the range is done */
	unsigned int iovecs; /* 0: scalar */
	int rw_flags;
	const char *rw_flags_str;
	bool user_reap, sqpoll, iopoll, fixed_files, fixed_bufs;
	bool quiet, force;
	int cpu; /* -1: no pinning */
	const char *verify_state; /* --verify-state FILE */
	/* --inject KIND:OFFSET (testing the verifier) */
	int inject_kind; /* enum verify_result, 0 = none */
	uint64_t inject_offset;
	/* --loop buffered|dio: each file becomes a loop device over it */
	int loop_mode; /* 0 none, 1 buffered, 2 direct I/O */
	char **io_paths; /* what is opened: files[] or loop devices */
	bool *loop_dio; /* the kernel's answer for each loop device */
	/* files */
	int nr_files;
	char **files;
	int argc;
	char **argv;
	/* what announce() says */
	bool dropped_iter, dropped_threads, stages_given;
};

/* One file's verification state, shared by its contexts and threads. */
struct vfile {
	const char *name;
	size_t vblock; /* verify block size */
	uint64_t nr_blocks;
	_Atomic uint32_t *gen; /* generation of each block, 0 not written */
	uint64_t file_id; /* in every block header this run writes */
	/*
	 * Whether gen[] says what was written: a write stage of this run or
	 * the --verify-state file recorded the file.  When not, every block
	 * read is checked on its own (any file id and generation).
	 */
	bool tracked;
	struct target_info info;
};

/* What --verify saw in one stage (verify_io.c). */
struct verify_stats {
	uint64_t written; /* blocks written (write stages) */
	uint64_t checked_gen; /* checked against their file id and generation */
	uint64_t checked_self; /* checked on their own: nothing was known */
	uint64_t unwritten; /* not checked: never written, says the run */
	uint64_t unread; /* not checked: the read did not return them */
	uint64_t kinds[VERIFY_NR_RESULTS]; /* checked blocks by result */
	uint64_t failures; /* checked blocks that were not ok */
	bool nothing_checked; /* a read stage that could check no block */
	struct verify_report first_bad;
	int first_bad_file;
};

/* A stream of I/O over [start, end) of one file: a file x context. */
struct oper {
	int fd;
	int file_idx;
	uint64_t start, end; /* this stage's range */
	uint64_t range_end; /* -s: where every write stage's range ends */
	uint64_t written_end; /* reads end here: what the write stage wrote */
	bool wrapped; /* --runtime went round the range */
	uint64_t total_ios; /* per pass */
	uint64_t started_ios;
	uint64_t done_ios, done_bytes;
	uint64_t last_offset;
	uint64_t start_ns, end_ns;
	unsigned int pending;
	bool finished; /* all its I/O for this stage was issued */
	bool stonewalled;
	bool reported;
	long errors;
	int64_t last_err;
	struct oper *next; /* in the thread's list */
};

struct stage_stats {
	uint64_t ios, bytes, errors, short_ios;
	uint64_t empty_ios; /* reads that returned no data (end of file) */
	uint64_t planned_bytes; /* what the stage set out to do (no --runtime) */
	uint64_t unwritten_bytes; /* of the range, left out: never written */
	int64_t first_err; /* -errno of the first failed request, 0 none */
	uint64_t first_err_offset;
	int first_err_file;
	uint64_t submit_calls, submit_iocbs, submit_ns, inline_iocbs;
	uint64_t submit_eagain;
	uint64_t reap_calls, reap_ns;
	uint64_t elapsed_ns; /* this thread's stage wall time */
	uint64_t thread_ns; /* merged: elapsed_ns summed over threads */
	uint64_t fsync_ns;
	uint64_t utime_ns, stime_ns, nvcsw, nivcsw;
	struct verify_stats v;
	struct hist submit_call; /* ns per io_submit call */
	struct hist submit_iocb; /* ns per iocb (call / iocbs) */
	struct hist clat; /* submit return to reap */
};

struct iou;

struct thread {
	int idx;
	pthread_t tid;
	struct engine eng;
	struct oper *opers; /* all of this thread's opers */
	unsigned int nr_opers;
	struct iou *ious;
	unsigned int nr_ious;
	struct iou *free_list;
	struct io_req **batch; /* prepared, not yet accepted */
	unsigned int batch_len;
	struct io_req **done; /* reap output */
	unsigned int inflight;
	uint64_t rng;
	struct stage_stats st; /* current stage */
	_Atomic uint64_t progress_bytes;
	int error; /* fatal error (-errno) */
};

struct run {
	struct options *o;
	struct thread *threads;
	struct vfile *vfiles;
	struct verify_state vstate; /* --verify-state as loaded */
	int *fds;
	unsigned int nr_fds;
	bool *created; /* files[i] was created by this run */
	char *buf_base; /* all I/O buffers */
	size_t buf_len;
	size_t padded_rec;
	pthread_barrier_t barrier;
	_Atomic int stonewall_hit; /* a thread finished its stage */
	_Atomic int threads_done;
	uint64_t generation; /* of the current write stage */
	uint64_t stage_start_ns;
	enum stage cur_stage;
	/* Per stage results, merged over threads. */
	struct stage_stats results[NR_STAGES];
	bool ran[NR_STAGES];
	bool stage_stonewalled[NR_STAGES];
	uint64_t stage_wall_ns[NR_STAGES];
	int stage_order[NR_STAGES];
	int nr_ran;
	volatile int stop; /* signal number that asked us to stop */
	bool interrupted;
	/*
	 * Whether the threads go on with the next stage: decided once, by
	 * thread 0 between two barriers, and read by every thread after the
	 * second, so that a signal or a failure arriving in between cannot
	 * send some threads home and leave the others at the next barrier.
	 */
	bool go_on;
	_Atomic int stage_stop; /* a thread met ENOSPC or too many errors */
	pthread_mutex_t fail_lock; /* failed and fail_reason */
	bool failed;
	bool skipped; /* exit 77: the engine is not in this kernel */
	char fail_reason[256];
};

extern struct run g_run;

/* CPUs the system has (--cpu N pins thread i to CPU (N + i) modulo this). */
static inline unsigned int nr_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (unsigned int)n : 1;
}

const char *stage_name(enum stage s);
int run_all(struct run *r);
void report_stage_text(struct run *r, enum stage s);
void report_cuts_text(struct run *r, enum stage s);
void report_oper_text(struct run *r, struct thread *t, struct oper *op,
		      enum stage s);
int report_json(struct run *r, const char *path);
void merge_stats(struct stage_stats *dst, const struct stage_stats *src);

/* --verify (verify_io.c): 0, or -errno with a message printed. */
struct json;
int verify_setup(struct run *r);
void verify_fill_write(struct run *r, int file_idx, void *buf, uint64_t off);
void verify_mark_written(struct run *r, struct stage_stats *st, int file_idx,
			 uint64_t off, bool ok);
void verify_check_read(struct run *r, struct stage_stats *st, int file_idx,
		       const char *buf, uint64_t off, int64_t res);
void verify_stage_begin(struct run *r, enum stage s);
int verify_stage_end(struct run *r, enum stage s, char *why, size_t len);
int verify_inject(struct run *r, char *why, size_t len);
void verify_merge(struct verify_stats *d, const struct verify_stats *s);
/* A bad block, or a read stage that checked none. */
bool verify_stats_failed(const struct verify_stats *v);
void verify_json(struct json *j, struct run *r, enum stage s);

#endif
