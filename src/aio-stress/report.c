/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-stress: the classic human-readable lines and the JSON results.
 * The JSON is the interface for tools: units are in the key names and the
 * schema is versioned ("schema": "aio-stress/1").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "stress.h"
#include "util.h"

void merge_stats(struct stage_stats *d, const struct stage_stats *s)
{
	d->ios += s->ios;
	d->bytes += s->bytes;
	d->errors += s->errors;
	d->short_ios += s->short_ios;
	d->empty_ios += s->empty_ios;
	d->planned_bytes += s->planned_bytes;
	d->unwritten_bytes += s->unwritten_bytes;
	if (s->first_err && !d->first_err) {
		d->first_err = s->first_err;
		d->first_err_offset = s->first_err_offset;
		d->first_err_file = s->first_err_file;
	}
	d->submit_calls += s->submit_calls;
	d->submit_iocbs += s->submit_iocbs;
	d->submit_ns += s->submit_ns;
	d->inline_iocbs += s->inline_iocbs;
	d->submit_eagain += s->submit_eagain;
	d->reap_calls += s->reap_calls;
	d->reap_ns += s->reap_ns;
	if (s->elapsed_ns > d->elapsed_ns)
		d->elapsed_ns = s->elapsed_ns;
	d->thread_ns += s->elapsed_ns;
	d->fsync_ns += s->fsync_ns;
	d->utime_ns += s->utime_ns;
	d->stime_ns += s->stime_ns;
	d->nvcsw += s->nvcsw;
	d->nivcsw += s->nivcsw;
	verify_merge(&d->v, &s->v);
	hist_merge(&d->submit_call, &s->submit_call);
	hist_merge(&d->submit_iocb, &s->submit_iocb);
	hist_merge(&d->clat, &s->clat);
}

void report_oper_text(struct run *r, struct thread *t, struct oper *op,
		      enum stage s)
{
	double sec = (op->end_ns - op->start_ns) / 1e9;
	double mb = op->done_bytes / 1048576.0;

	if (r->o->quiet)
		return;
	fprintf(stderr, "%s on %s (%.2f MB/s) %.2f MB in %.2fs\n",
		stage_name(s), r->vfiles[op->file_idx].name,
		sec > 0 ? mb / sec : 0, mb, sec);
}

/* The classic latency line: ms, and counts below 100..10000 ms. */
static void print_classic_lat(const char *what, const struct hist *h)
{
	static const unsigned int limits_ms[] = { 100,	250,  500,
						  1000, 5000, 10000 };
	uint64_t below[ARRAY_SIZE(limits_ms) + 1] = { 0 };
	unsigned int b, k;

	if (!h->count)
		return;
	for (b = 0; b < HIST_BUCKETS; b++) {
		uint64_t lo, hi;

		if (!h->buckets[b])
			continue;
		hist_bucket_range(b, &lo, &hi);
		for (k = 0; k < ARRAY_SIZE(limits_ms); k++)
			if (lo < limits_ms[k] * 1000000ull)
				break;
		below[k] += h->buckets[b];
	}
	fprintf(stderr, "%s min %.2f avg %.2f max %.2f\n\t", what, h->min / 1e6,
		hist_mean(h) / 1e6, h->max / 1e6);
	for (k = 0; k < ARRAY_SIZE(limits_ms); k++)
		fprintf(stderr, " %llu < %u", (unsigned long long)below[k],
			limits_ms[k]);
	if (below[k])
		fprintf(stderr, " %llu >= %u", (unsigned long long)below[k],
			limits_ms[k - 1]);
	fputc('\n', stderr);
}

static double mib(uint64_t bytes)
{
	return bytes / 1048576.0;
}

/*
 * What a stage did not do, said after its figures: requests that failed,
 * moved nothing or less than a record (none of them counts in the IOPS),
 * what the stonewall cut, and the part of the range a read stage left out
 * because the write stage before it did not write it.
 */
void report_cuts_text(struct run *r, enum stage s)
{
	const struct stage_stats *st = &r->results[s];
	const char *name = stage_name(s);

	if (r->o->quiet)
		return;
	if (st->errors || st->empty_ios || st->short_ios) {
		fprintf(stderr,
			"%s: %llu requests failed, %llu moved no data, %llu were short; not counted as I/Os",
			name, (unsigned long long)st->errors,
			(unsigned long long)st->empty_ios,
			(unsigned long long)st->short_ios);
		if (st->first_err)
			fprintf(stderr,
				"; the first error: %s at offset %llu of %s",
				strerror((int)-st->first_err),
				(unsigned long long)st->first_err_offset,
				r->vfiles[st->first_err_file].name);
		fputc('\n', stderr);
	}
	if (r->stage_stonewalled[s] && st->planned_bytes)
		fprintf(stderr,
			"%s: stonewalled: %.2f of %.2f MB done (the first thread to finish ends the stage; -x turns this off)\n",
			name, mib(st->bytes), mib(st->planned_bytes));
	else if (r->stage_stonewalled[s])
		fprintf(stderr,
			"%s: stonewalled (the first thread to finish ends the stage; -x turns this off)\n",
			name);
	if (st->unwritten_bytes)
		fprintf(stderr,
			"%s: left out %.2f MB of the range that the write stage did not write\n",
			name, mib(st->unwritten_bytes));
}

void report_stage_text(struct run *r, enum stage s)
{
	const struct options *o = r->o;
	const struct stage_stats *st = &r->results[s];
	double wall = r->stage_wall_ns[s] / 1e9;
	unsigned int i;

	if (o->quiet)
		return;
	for (i = 0; i < o->threads; i++) {
		const struct stage_stats *ts = &r->threads[i].st;
		double sec = (ts->elapsed_ns + ts->fsync_ns) / 1e9;
		double mb = ts->bytes / 1048576.0;

		if (!ts->ios)
			continue;
		fprintf(stderr,
			"thread %u %s totals (%.2f MB/s) %.2f MB in %.2fs\n", i,
			stage_name(s), sec > 0 ? mb / sec : 0, mb, sec);
	}
	if (o->threads > 1 && st->bytes) {
		double min_mb = 0;

		for (i = 0; i < o->threads; i++) {
			double mb = r->threads[i].st.bytes / 1048576.0;

			if (!i || mb < min_mb)
				min_mb = mb;
		}
		fprintf(stderr, "%s throughput (%.2f MB/s) %.2f MB in %.2fs",
			stage_name(s),
			wall > 0 ? st->bytes / 1048576.0 / wall : 0,
			st->bytes / 1048576.0, wall);
		if (o->stonewall)
			fprintf(stderr, " min transfer %.2fMB", min_mb);
		fputc('\n', stderr);
	}
	if (o->latency_stats)
		print_classic_lat("latency", &st->submit_call);
	if (o->completion_latency_stats)
		print_classic_lat("completion latency", &st->clat);
	if (st->ios)
		fprintf(stderr,
			"%s: %.0f IOPS, io_submit %.0f ns/iocb (p99 %llu), inline %.1f%%, completion p50 %.1f us p99 %.1f us, cpu %.0f ns/io%s\n",
			stage_name(s),
			st->elapsed_ns ? st->ios * 1e9 / st->elapsed_ns : 0,
			st->submit_iocbs ?
				(double)st->submit_ns / st->submit_iocbs :
				0,
			(unsigned long long)hist_percentile(&st->submit_iocb,
							    99),
			st->submit_iocbs ?
				100.0 * st->inline_iocbs / st->submit_iocbs :
				0,
			hist_percentile(&st->clat, 50) / 1e3,
			hist_percentile(&st->clat, 99) / 1e3,
			(double)(st->utime_ns + st->stime_ns) / st->ios,
			r->interrupted ? " (interrupted)" : "");
}

static void json_pcts(struct json *j, const char *key, const struct hist *h,
		      bool buckets)
{
	static const struct {
		const char *name;
		double p;
	} pcts[] = { { "p50", 50 },
		     { "p90", 90 },
		     { "p99", 99 },
		     { "p99_9", 99.9 },
		     { "p99_99", 99.99 } };
	unsigned int i;

	json_obj_begin(j, key);
	json_uint(j, "count", h->count);
	json_uint(j, "min", h->count ? h->min : 0);
	json_double(j, "mean", hist_mean(h));
	for (i = 0; i < ARRAY_SIZE(pcts); i++)
		json_uint(j, pcts[i].name, hist_percentile(h, pcts[i].p));
	json_uint(j, "max", h->max);
	if (buckets) {
		json_arr_begin(j, "buckets"); /* [low, high, count] */
		for (i = 0; i < HIST_BUCKETS; i++) {
			uint64_t lo, hi;

			if (!h->buckets[i])
				continue;
			hist_bucket_range(i, &lo, &hi);
			json_arr_begin(j, NULL);
			json_uint(j, NULL, lo);
			json_uint(j, NULL, hi);
			json_uint(j, NULL, h->buckets[i]);
			json_arr_end(j);
		}
		json_arr_end(j);
	}
	json_obj_end(j);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void json_stage(struct json *j, struct run *r, enum stage s)
{
	const struct stage_stats *st = &r->results[s];
	uint64_t wall = st->elapsed_ns, other;
	unsigned int i, k;

	json_obj_begin(j, NULL);
	json_str(j, "name", stage_name(s));
	json_bool(j, "interrupted", r->interrupted && s == r->cur_stage);
	json_bool(j, "stonewalled", r->stage_stonewalled[s]);
	json_uint(j, "ios", st->ios);
	json_uint(j, "bytes", st->bytes);
	json_uint(j, "elapsed_ns", wall);
	json_double(j, "iops", wall ? st->ios * 1e9 / wall : 0);
	json_double(j, "bytes_per_s", wall ? st->bytes * 1e9 / wall : 0);
	json_uint(j, "errors", st->errors);
	json_uint(j, "short_ios", st->short_ios);
	json_uint(j, "empty_ios", st->empty_ios);
	if (st->first_err) {
		json_obj_begin(j, "first_error");
		json_int(j, "errno", -st->first_err);
		json_str(j, "message", strerror((int)-st->first_err));
		json_str(j, "file", r->vfiles[st->first_err_file].name);
		json_uint(j, "offset_bytes", st->first_err_offset);
		json_obj_end(j);
	} else {
		json_null(j, "first_error");
	}
	json_uint(j, "planned_bytes", st->planned_bytes);
	json_uint(j, "unwritten_bytes_left_out", st->unwritten_bytes);
	json_uint(j, "fsync_ns", st->fsync_ns);

	json_obj_begin(j, "submit");
	json_uint(j, "calls", st->submit_calls);
	json_uint(j, "iocbs", st->submit_iocbs);
	json_uint(j, "total_ns", st->submit_ns);
	json_double(j, "iocbs_per_call",
		    ratio(st->submit_iocbs, st->submit_calls));
	json_uint(j, "eagain", st->submit_eagain);
	json_uint(j, "inline_iocbs", st->inline_iocbs);
	json_double(j, "inline_ratio",
		    ratio(st->inline_iocbs, st->submit_iocbs));
	json_pcts(j, "per_call_ns", &st->submit_call, false);
	json_pcts(j, "per_iocb_ns", &st->submit_iocb, true);
	json_obj_end(j);

	json_obj_begin(j, "reap");
	json_uint(j, "calls", st->reap_calls);
	json_uint(j, "total_ns", st->reap_ns);
	json_obj_end(j);

	json_pcts(j, "completion_latency_ns", &st->clat, true);

	/*
	 * Summed over threads: the split of every thread's stage time, from
	 * the stage's merged results (threads[].st holds the last stage only).
	 */
	{
		uint64_t total = st->thread_ns;

		other = total > st->submit_ns + st->reap_ns ?
				total - st->submit_ns - st->reap_ns :
				0;
		json_obj_begin(j, "wall_split");
		json_uint(j, "thread_time_ns", total);
		json_uint(j, "submit_ns", st->submit_ns);
		json_uint(j, "reap_ns", st->reap_ns);
		json_uint(j, "other_ns", other);
		json_double(j, "submit_fraction", ratio(st->submit_ns, total));
		json_double(j, "reap_fraction", ratio(st->reap_ns, total));
		json_double(j, "other_fraction", ratio(other, total));
		json_obj_end(j);
	}

	json_obj_begin(j, "cpu");
	json_uint(j, "user_ns", st->utime_ns);
	json_uint(j, "system_ns", st->stime_ns);
	json_double(j, "user_ns_per_io", ratio(st->utime_ns, st->ios));
	json_double(j, "system_ns_per_io", ratio(st->stime_ns, st->ios));
	json_double(j, "ns_per_io",
		    ratio(st->utime_ns + st->stime_ns, st->ios));
	json_uint(j, "voluntary_ctxsw", st->nvcsw);
	json_uint(j, "involuntary_ctxsw", st->nivcsw);
	json_obj_end(j);

	if (r->o->verify)
		verify_json(j, r, s);

	json_arr_begin(j, "per_file");
	for (i = 0; i < r->o->threads; i++) {
		struct thread *t = &r->threads[i];

		for (k = 0; k < t->nr_opers; k++) {
			const struct oper *op = &t->opers[k];
			uint64_t ns = op->end_ns - op->start_ns;

			json_obj_begin(j, NULL);
			json_str(j, "file", r->vfiles[op->file_idx].name);
			json_uint(j, "thread", i);
			json_uint(j, "start_bytes", op->start);
			json_uint(j, "ios", op->done_ios);
			json_uint(j, "bytes", op->done_bytes);
			json_uint(j, "elapsed_ns", ns);
			json_double(j, "bytes_per_s",
				    ns ? op->done_bytes * 1e9 / ns : 0);
			json_bool(j, "stonewalled", op->stonewalled);
			json_obj_end(j);
		}
	}
	json_arr_end(j);
	json_obj_end(j);
}

static const char *kind_name(enum target_kind k)
{
	return k == TARGET_BLOCK ? "block" : k == TARGET_CHAR ? "char" : "file";
}

int report_json(struct run *r, const char *path)
{
	const struct options *o = r->o;
	struct utsname u;
	struct json j;
	char stamp[32];
	time_t now = time(NULL);
	FILE *f;
	int i, ret;

	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		msg("cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	uname(&u);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_init(&j, f, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "schema", AIO_STRESS_SCHEMA);
	json_str(&j, "tool", "aio-stress");
	json_str(&j, "version", AIO_STRESS_VERSION);
	json_str(&j, "time_utc", stamp);
	json_arr_begin(&j, "command_line");
	for (i = 0; i < o->argc; i++)
		json_str(&j, NULL, o->argv[i]);
	json_arr_end(&j);
	json_obj_begin(&j, "kernel");
	json_str(&j, "release", u.release);
	json_str(&j, "version", u.version);
	json_str(&j, "machine", u.machine);
	json_str(&j, "host", u.nodename);
	json_obj_end(&j);
	json_uint(&j, "cpus_online", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));

	json_obj_begin(&j, "options");
	json_str(&j, "engine", o->engine_name);
	json_uint(&j, "file_size_bytes", o->file_size);
	json_uint(&j, "record_bytes", o->rec_len);
	json_uint(&j, "alignment_bytes", o->align);
	json_uint(&j, "depth", o->depth);
	json_uint(&j, "io_per_iteration", o->io_iter);
	json_uint(&j, "max_io_submit", o->max_io_submit);
	json_int(&j, "iterations", o->iterations);
	json_uint(&j, "threads", o->threads);
	json_uint(&j, "contexts", o->contexts);
	json_uint(&j, "context_offset_bytes", o->context_offset);
	json_bool(&j, "o_direct", o->o_direct);
	json_bool(&j, "o_sync", o->o_sync);
	json_bool(&j, "fsync_between_stages", o->fsync_stages);
	json_bool(&j, "stonewall", o->stonewall);
	json_uint(&j, "iovecs", o->iovecs);
	json_str(&j, "rw_flags", o->rw_flags_str ? o->rw_flags_str : "");
	json_bool(&j, "user_reap", o->user_reap);
	json_bool(&j, "sqpoll", o->sqpoll);
	json_bool(&j, "iopoll", o->iopoll);
	json_bool(&j, "fixed_files", o->fixed_files);
	json_bool(&j, "fixed_bufs", o->fixed_bufs);
	json_bool(&j, "verify", o->verify);
	if (o->verify_state)
		json_str(&j, "verify_state", o->verify_state);
	else
		json_null(&j, "verify_state");
	json_int(&j, "cpu", o->cpu);
	json_double(&j, "runtime_s", o->runtime_s);
	json_str(&j, "buffers",
		 o->buf_mem == BUF_SHM	 ? "shm" :
		 o->buf_mem == BUF_SHMFS ? "shmfs" :
					   "malloc");
	json_obj_end(&j);

	json_arr_begin(&j, "targets");
	for (i = 0; r->vfiles && i < o->nr_files; i++) {
		const struct target_info *ti = &r->vfiles[i].info;

		json_obj_begin(&j, NULL);
		json_str(&j, "path",
			 o->io_paths ? o->io_paths[i] : o->files[i]);
		if (o->loop_mode) {
			json_str(&j, "loop_backing", o->files[i]);
			json_bool(&j, "loop_direct_io", o->loop_dio[i]);
		}
		json_str(&j, "kind", kind_name(ti->kind));
		json_str(&j, "fstype", ti->fstype);
		json_str(&j, "device", ti->device);
		json_uint(&j, "size_bytes", ti->size_bytes);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_arr_begin(&j, "stages");
	for (i = 0; i < r->nr_ran; i++)
		json_stage(&j, r, (enum stage)r->stage_order[i]);
	json_arr_end(&j);

	{
		const char *res = "ok";
		bool verr = false, ioerr = false, shortio = false;

		for (i = 0; i < NR_STAGES; i++) {
			verr |= verify_stats_failed(&r->results[i].v);
			ioerr |= r->results[i].errors > 0;
			shortio |= r->results[i].short_ios > 0 ||
				   r->results[i].empty_ios > 0;
		}
		if (r->interrupted || r->stop)
			res = "interrupted";
		else if (r->skipped)
			res = "skipped";
		else if (verr)
			res = "verify_failed";
		else if (ioerr)
			res = "io_errors";
		else if (shortio)
			res = "short_io";
		else if (r->failed)
			res = "failed";
		json_str(&j, "result", res);
		json_str(&j, "reason", r->fail_reason);
	}
	json_obj_end(&j);
	ret = json_finish(&j);
	if (f != stdout && fclose(f) && !ret)
		ret = -errno;
	if (ret)
		msg("cannot write %s: %s", path, strerror(-ret));
	return ret;
}
