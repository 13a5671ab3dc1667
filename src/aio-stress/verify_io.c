/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: aio-stress --verify and --verify-state.  Write stages fill
 * every block with a self-describing block (src/lib/verify.h) of this
 * run's file id and generation and record the generation per block; read
 * stages check every block they read:
 *
 *  - against its file id and generation when the run knows them (a write
 *    stage of this run, or the --verify-state file, recorded the file):
 *    every kind of damage is found, stale and foreign blocks included;
 *    a block such a run knows it never wrote is counted as not checked;
 *  - on its own when nothing is known (a new process without a state
 *    file): zeroed, garbage, bad-header, wrong-length, torn and misplaced
 *    blocks are found; any file id and generation is accepted.
 *
 * A read stage that could check no block says so and fails.  After every
 * write stage the data files are synced and the state file, if asked for,
 * is rewritten (atomically) with every block's generation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "stress.h"
#include "util.h"

#define MAX_PRINTED 10 /* bad blocks printed per stage */

static _Atomic unsigned int printed;

static bool writes(enum stage s)
{
	return s == STAGE_WRITE || s == STAGE_RWRITE;
}

static bool any_writes(const struct options *o)
{
	return o->stages & ((1u << STAGE_WRITE) | (1u << STAGE_RWRITE));
}

/* The largest block (4096 down to 64) every I/O of the run starts on. */
static bool block_fits(const struct options *o, uint64_t b)
{
	return b && !(o->rec_len % b) && !(o->align % b) &&
	       !(o->context_offset % b);
}

static size_t block_size(const struct options *o)
{
	size_t b;

	for (b = 4096; b >= VERIFY_MIN_BLOCK; b /= 2)
		if (block_fits(o, b))
			return b;
	return 0;
}

static int alloc_gens(struct vfile *vf, uint64_t nr)
{
	vf->nr_blocks = nr;
	vf->gen = calloc(nr ? nr : 1, sizeof(*vf->gen));
	return vf->gen ? 0 : -ENOMEM;
}

/* Take file i's record from the state file: 0, or -EINVAL (message). */
static int adopt(struct run *r, int i, const struct verify_state_file *sf,
		 uint64_t *max_gen)
{
	const struct options *o = r->o;
	struct vfile *vf = &r->vfiles[i];
	uint64_t nr, b;

	if (!block_fits(o, sf->block_bytes)) {
		if (any_writes(o)) {
			msg("--verify-state %s: %s was written in blocks of %u bytes, which -r, -a and -C of this run do not keep whole: its record starts anew",
			    o->verify_state, o->files[i], sf->block_bytes);
			return 1;
		}
		msg("--verify-state %s: %s was written in blocks of %u bytes; the records of this run (-r %llu, -a %llu, -C %llu) do not cover whole blocks",
		    o->verify_state, o->files[i], sf->block_bytes,
		    (unsigned long long)o->rec_len,
		    (unsigned long long)o->align,
		    (unsigned long long)o->context_offset);
		return -EINVAL;
	}
	vf->vblock = sf->block_bytes;
	nr = o->file_size / vf->vblock;
	if (alloc_gens(vf, nr > sf->nr_blocks ? nr : sf->nr_blocks))
		return -ENOMEM;
	for (b = 0; b < sf->nr_blocks; b++) {
		vf->gen[b] = sf->gen[b];
		if (sf->gen[b] > *max_gen)
			*max_gen = sf->gen[b];
	}
	vf->file_id = sf->file_id;
	vf->tracked = true;
	return 0;
}

/* Load --verify-state: 0, -EINVAL (usage: exit 2) or -errno. */
static int load_state(struct run *r, bool *have)
{
	const struct options *o = r->o;
	int ret = verify_state_load(o->verify_state, &r->vstate);

	*have = !ret;
	if (!ret)
		return 0;
	if (ret == -EBADMSG) {
		msg("--verify-state %s is not an aio-stress verify state file (or it is damaged)%s",
		    o->verify_state,
		    any_writes(o) ? ": not overwriting it" : "");
		return -EINVAL;
	}
	if ((ret == -ENOENT || ret == -ENODATA) && any_writes(o))
		return 0; /* a write stage makes a new one */
	msg("cannot read --verify-state %s: %s", o->verify_state,
	    ret == -ENODATA ? "it is empty" : strerror(-ret));
	return ret == -ENODATA ? -EINVAL : ret;
}

int verify_setup(struct run *r)
{
	struct options *o = r->o;
	size_t vb = block_size(o);
	uint64_t max_gen = 0;
	bool have = false;
	int i, ret;

	if (!vb) {
		msg("--verify: record size, alignment and context offset have no common block of 64 bytes or more");
		return -EINVAL;
	}
	if (o->verify_state) {
		ret = load_state(r, &have);
		if (ret)
			return ret;
	}
	for (i = 0; i < o->nr_files; i++) {
		struct vfile *vf = &r->vfiles[i];
		struct verify_state_file *sf =
			have ? verify_state_find(&r->vstate, o->files[i]) :
			       NULL;

		if (sf) {
			ret = adopt(r, i, sf, &max_gen);
			if (ret < 0)
				return ret;
			if (!ret)
				continue;
		} else if (have && !any_writes(o)) {
			msg("--verify-state %s has no record of %s (it records %u file%s, the first %s)",
			    o->verify_state, o->files[i], r->vstate.nr_files,
			    r->vstate.nr_files == 1 ? "" : "s",
			    r->vstate.nr_files ? r->vstate.files[0].path :
						 "none");
			return -EINVAL;
		}
		vf->vblock = vb;
		vf->file_id = verify_new_file_id();
		vf->tracked = false;
		if (alloc_gens(vf, o->file_size / vb))
			return -ENOMEM;
	}
	/* The first write stage writes generation max + 1 (at least 2). */
	r->generation = max_gen > 1 ? max_gen : 1;
	return 0;
}

void verify_fill_write(struct run *r, int file_idx, void *buf, uint64_t off)
{
	const struct vfile *vf = &r->vfiles[file_idx];

	verify_fill_range(buf, r->o->rec_len, vf->vblock, off, vf->file_id,
			  r->generation);
}

void verify_mark_written(struct run *r, struct stage_stats *st, int file_idx,
			 uint64_t off, bool ok)
{
	struct vfile *vf = &r->vfiles[file_idx];
	uint64_t b = off / vf->vblock, n = r->o->rec_len / vf->vblock, i;

	/* A failed write leaves the block unknown: not written, as far as
	 * any later check can tell. */
	for (i = 0; i < n && b + i < vf->nr_blocks; i++)
		atomic_store_explicit(&vf->gen[b + i],
				      ok ? (uint32_t)r->generation : 0,
				      memory_order_relaxed);
	if (ok)
		st->v.written += n;
}

static void report_bad(struct run *r, struct stage_stats *st, int file_idx,
		       const struct verify_report *rep)
{
	char what[256];

	if (!st->v.failures++) {
		st->v.first_bad = *rep;
		st->v.first_bad_file = file_idx;
	}
	if (atomic_fetch_add(&printed, 1) >= MAX_PRINTED)
		return;
	msg("verify error on %s at offset %llu: %s", r->vfiles[file_idx].name,
	    (unsigned long long)rep->offset,
	    verify_describe(rep, what, sizeof(what)));
}

void verify_check_read(struct run *r, struct stage_stats *st, int file_idx,
		       const char *buf, uint64_t off, int64_t res)
{
	struct vfile *vf = &r->vfiles[file_idx];
	uint64_t want = r->o->rec_len / vf->vblock, got, done, b;
	struct verify_report rep;

	got = res > 0 ? (uint64_t)res / vf->vblock : 0;
	st->v.unread += want - got;
	for (done = 0; done < got * vf->vblock; done += vf->vblock) {
		b = (off + done) / vf->vblock;
		if (!vf->tracked) {
			st->v.checked_self++;
			verify_check(buf + done, vf->vblock, off + done, 0, 0,
				     &rep);
		} else {
			uint32_t gen = b < vf->nr_blocks ?
					       atomic_load_explicit(
						       &vf->gen[b],
						       memory_order_relaxed) :
					       0;

			if (!gen) {
				st->v.unwritten++;
				continue;
			}
			st->v.checked_gen++;
			verify_check(buf + done, vf->vblock, off + done,
				     vf->file_id, gen, &rep);
		}
		st->v.kinds[rep.result]++;
		if (rep.result != VERIFY_OK)
			report_bad(r, st, file_idx, &rep);
	}
}

void verify_stage_begin(struct run *r, enum stage s)
{
	int i;

	atomic_store(&printed, 0);
	if (!writes(s))
		return;
	/* From here on the run knows which blocks it wrote. */
	for (i = 0; i < r->o->nr_files; i++)
		r->vfiles[i].tracked = true;
}

void verify_merge(struct verify_stats *d, const struct verify_stats *s)
{
	int k;

	d->written += s->written;
	d->checked_gen += s->checked_gen;
	d->checked_self += s->checked_self;
	d->unwritten += s->unwritten;
	d->unread += s->unread;
	for (k = 0; k < VERIFY_NR_RESULTS; k++)
		d->kinds[k] += s->kinds[k];
	if (s->failures && !d->failures) {
		d->first_bad = s->first_bad;
		d->first_bad_file = s->first_bad_file;
	}
	d->failures += s->failures;
}

/* Sync the data and record every block's generation: 0 or -errno. */
static int save_state(struct run *r)
{
	const struct options *o = r->o;
	struct verify_state *st = &r->vstate;
	unsigned int i;
	int k, ret;

	for (i = 0; i < r->nr_fds; i++)
		if (fsync(r->fds[i]) && errno != EINVAL)
			return -errno;
	for (k = 0; k < o->nr_files; k++) {
		const struct vfile *vf = &r->vfiles[k];
		struct verify_state_file *sf =
			verify_state_find(st, o->files[k]);
		uint64_t b;

		if (!sf) {
			struct verify_state_file *n = realloc(
				st->files, (st->nr_files + 1) * sizeof(*n));

			if (!n)
				return -ENOMEM;
			st->files = n;
			sf = &st->files[st->nr_files++];
			memset(sf, 0, sizeof(*sf));
			sf->path = strdup(o->files[k]);
			if (!sf->path)
				return -ENOMEM;
		}
		free(sf->gen);
		sf->gen = malloc((vf->nr_blocks ? vf->nr_blocks : 1) *
				 sizeof(*sf->gen));
		if (!sf->gen) {
			sf->nr_blocks = 0;
			return -ENOMEM;
		}
		sf->block_bytes = (uint32_t)vf->vblock;
		sf->nr_blocks = vf->nr_blocks;
		sf->file_id = vf->file_id;
		for (b = 0; b < vf->nr_blocks; b++)
			sf->gen[b] = atomic_load(&vf->gen[b]);
	}
	ret = verify_state_save(o->verify_state, st);
	return ret;
}

static void text_summary(struct run *r, enum stage s)
{
	const struct verify_stats *v = &r->results[s].v;
	uint64_t checked = v->checked_gen + v->checked_self;
	char kinds[512] = "", *p = kinds;
	int k;

	if (writes(s)) {
		if (!r->o->quiet)
			fprintf(stderr,
				"%s: verify: %llu blocks written, generation %llu%s%s\n",
				stage_name(s), (unsigned long long)v->written,
				(unsigned long long)r->generation,
				r->o->verify_state ? ", recorded in " : "",
				r->o->verify_state ? r->o->verify_state : "");
		return;
	}
	if (r->o->quiet && !v->failures)
		return;
	for (k = 1; k < VERIFY_NR_RESULTS; k++)
		if (v->kinds[k])
			p += snprintf(p, (size_t)(kinds + sizeof(kinds) - p),
				      "%s%s %llu", p == kinds ? " (" : ", ",
				      verify_result_name((enum verify_result)k),
				      (unsigned long long)v->kinds[k]);
	if (p != kinds)
		snprintf(p, (size_t)(kinds + sizeof(kinds) - p), ")");
	fprintf(stderr, "%s: verify: %llu blocks checked, %llu bad%s",
		stage_name(s), (unsigned long long)checked,
		(unsigned long long)v->failures, kinds);
	if (v->unwritten || v->unread)
		fprintf(stderr,
			", %llu not checked (%llu never written by this run, %llu not read)\n",
			(unsigned long long)(v->unwritten + v->unread),
			(unsigned long long)v->unwritten,
			(unsigned long long)v->unread);
	else
		fprintf(stderr, ", 0 not checked\n");
	if (v->checked_self && !r->o->quiet)
		fprintf(stderr,
			"%s: verify: %llu of them without their generation (no write stage or --verify-state recorded it): a stale block would pass\n",
			stage_name(s), (unsigned long long)v->checked_self);
	if (v->failures) {
		char what[256];

		fprintf(stderr,
			"%s: %llu bad blocks, the first at offset %llu of %s: %s\n",
			stage_name(s), (unsigned long long)v->failures,
			(unsigned long long)v->first_bad.offset,
			r->vfiles[v->first_bad_file].name,
			verify_describe(&v->first_bad, what, sizeof(what)));
	}
}

int verify_stage_end(struct run *r, enum stage s, char *why, size_t len)
{
	struct verify_stats *v = &r->results[s].v;
	int ret;

	text_summary(r, s);
	if (writes(s)) {
		if (!r->o->verify_state)
			return 0;
		ret = save_state(r);
		if (ret) {
			snprintf(why, len, "cannot write --verify-state %s: %s",
				 r->o->verify_state, strerror(-ret));
			msg("%s", why);
			return ret;
		}
		return 0;
	}
	if (v->checked_gen + v->checked_self || r->stop)
		return 0;
	snprintf(
		why, len,
		"%s: --verify checked no block: %llu were not written by this run%s, %llu were not read (short reads or errors)",
		stage_name(s), (unsigned long long)v->unwritten,
		r->o->verify_state ? " or its --verify-state" : "",
		(unsigned long long)v->unread);
	msg("%s", why);
	v->nothing_checked = true;
	return -ENODATA;
}

bool verify_stats_failed(const struct verify_stats *v)
{
	return v->failures || v->nothing_checked;
}

/* Damage one block of the first file the way --inject asked. */
int verify_inject(struct run *r, char *why, size_t len)
{
	const struct options *o = r->o;
	struct vfile *vf = &r->vfiles[0];
	uint64_t off = o->inject_offset / vf->vblock * vf->vblock;
	uint64_t b = off / vf->vblock, gen, rng = 0x9e3779b97f4a7c15ull, id;
	size_t bs = vf->vblock, i;
	unsigned char *blk, *tmp;
	int fd, ret = 0;

	if (b >= vf->nr_blocks || !(gen = atomic_load(&vf->gen[b]))) {
		snprintf(why, len,
			 "--inject: nothing was written at offset %llu of %s",
			 (unsigned long long)off, vf->name);
		return -ENODATA;
	}
	id = vf->file_id;
	blk = calloc(2, bs);
	if (!blk) {
		snprintf(why, len, "--inject: out of memory");
		return -ENOMEM;
	}
	tmp = blk + bs;
	switch (o->inject_kind) {
	case VERIFY_ZERO:
		break;
	case VERIFY_MISPLACED:
		verify_fill(blk, bs, off >= bs ? off - bs : off + bs, id, gen);
		break;
	case VERIFY_FOREIGN:
		verify_fill(blk, bs, off, id ^ 0x5a5a5a5a5a5a5a5aull, gen);
		break;
	case VERIFY_STALE:
		verify_fill(blk, bs, off, id, gen - 1);
		break;
	case VERIFY_FUTURE:
		verify_fill(blk, bs, off, id, gen + 1);
		break;
	case VERIFY_TORN:
		verify_fill(blk, bs, off, id, gen);
		verify_fill(tmp, bs, off, id, gen - 1);
		memcpy(blk + bs / 2, tmp + bs / 2, bs / 2);
		break;
	case VERIFY_BAD_HEADER:
		verify_fill(blk, bs, off, id, gen);
		blk[32] ^= 0x01; /* the generation, without its CRC */
		break;
	case VERIFY_WRONG_LENGTH:
		verify_fill_range(blk, bs, bs / 2, off, id, gen);
		break;
	default:
		for (i = 0; i < bs; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			blk[i] = (unsigned char)(rng | 1);
		}
		break;
	}
	fd = open(vf->name, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, blk, bs, (off_t)off) != (ssize_t)bs ||
	    fsync(fd)) {
		ret = errno ? -errno : -EIO;
		snprintf(why, len, "--inject: cannot write %s: %s", vf->name,
			 strerror(-ret));
	} else {
		posix_fadvise(fd, (off_t)off, (off_t)bs, POSIX_FADV_DONTNEED);
	}
	if (fd >= 0)
		close(fd);
	free(blk);
	return ret;
}

static void json_hex(struct json *j, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%016llx", (unsigned long long)v);
	json_str(j, key, s);
}

void verify_json(struct json *j, struct run *r, enum stage s)
{
	const struct verify_stats *v = &r->results[s].v;
	int k;

	json_obj_begin(j, "verify");
	json_uint(j, "blocks_written", v->written);
	json_uint(j, "blocks_checked", v->checked_gen + v->checked_self);
	json_uint(j, "blocks_checked_with_generation", v->checked_gen);
	json_uint(j, "blocks_checked_without_generation", v->checked_self);
	json_uint(j, "blocks_ok", v->kinds[VERIFY_OK]);
	json_uint(j, "blocks_bad", v->failures);
	json_uint(j, "blocks_not_checked", v->unwritten + v->unread);
	json_uint(j, "blocks_unwritten", v->unwritten);
	json_uint(j, "blocks_unread", v->unread);
	json_bool(j, "checked_nothing", v->nothing_checked);
	json_uint(j, "failures", v->failures);
	json_obj_begin(j, "bad_blocks_by_kind");
	for (k = 1; k < VERIFY_NR_RESULTS; k++)
		json_uint(j, verify_result_name((enum verify_result)k),
			  v->kinds[k]);
	json_obj_end(j);
	if (v->failures) {
		const struct verify_report *b = &v->first_bad;
		char what[256];

		json_obj_begin(j, "first_bad");
		json_str(j, "file", r->vfiles[v->first_bad_file].name);
		json_uint(j, "offset_bytes", b->offset);
		json_str(j, "kind", verify_result_name(b->result));
		json_str(j, "detail", verify_describe(b, what, sizeof(what)));
		json_uint(j, "found_offset_bytes", b->found_offset);
		json_uint(j, "found_generation", b->found_gen);
		json_uint(j, "expected_generation", b->expected_gen);
		json_hex(j, "found_file_id", b->found_id);
		json_hex(j, "expected_file_id", b->expected_id);
		json_uint(j, "found_block_bytes", b->found_bytes);
		json_uint(j, "expected_block_bytes", b->expected_bytes);
		json_obj_end(j);
	} else {
		json_null(j, "first_bad");
	}
	json_obj_end(j);
}
