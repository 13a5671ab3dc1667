/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_setup.  A context is created and its handle is the
 * address of the mapped completion ring; nr 0, a huge nr and a non-zero
 * *ctxp are EINVAL; a bad ctxp is EFAULT without an oops and without a
 * leaked context; past /proc/sys/fs/aio-max-nr it is EAGAIN, and aio-nr
 * grows by exactly what was asked for and returns to its baseline after
 * io_destroy and after a failed call (the ioctx_alloc error path).
 * Lowering aio-max-nr to see EAGAIN is felt machine-wide: that test runs
 * only with --system-wide.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#define AIO_NR "/proc/sys/fs/aio-nr"
#define AIO_MAX_NR "/proc/sys/fs/aio-max-nr"
/*
 * aio-nr is the machine's: an io_setup or io_destroy of another process
 * between two reads spoils an attempt, so an exact count is tried again.
 */
#define AIO_NR_TRIES 20

static int test_basic(struct tctx *t)
{
	aio_context_t ctx = 0;
	int ret = T_PASS;

	if (sys_io_setup(1, &ctx) && errno == EAGAIN && t_aio_limit(t, 1))
		return T_SKIP; /* other processes hold all of aio-max-nr */
	CHECK(ctx != 0, "io_setup(1) failed or left *ctxp zero: %s",
	      errno_name(errno));
	CHECK_RET(sys_io_destroy(ctx), 0);
out:
	return ret;
}
CONFORM_TEST(test_basic, "setup.basic", 0)

static int test_sizes(struct tctx *t)
{
	static const unsigned int sizes[] = { 1, 2, 3, 128, 1000, 4096 };
	aio_context_t ctx;
	int ret = T_PASS;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (t_setup(t, sizes[i], &ctx))
			return T_FAIL; /* or a skip, below aio-max-nr */
		CHECK(aio_ring_of(ctx)->nr >= sizes[i],
		      "ring of %u events for nr %u", aio_ring_of(ctx)->nr,
		      sizes[i]);
		CHECK_RET(sys_io_destroy(ctx), 0);
	}
out:
	return ret;
}
CONFORM_TEST(test_sizes, "setup.sizes", 0)

static int test_nr_zero(struct tctx *t)
{
	aio_context_t ctx = 0;
	int ret = T_PASS;

	CHECK_ERR(sys_io_setup(0, &ctx), EINVAL);
	CHECK(ctx == 0, "*ctxp changed on failure");
out:
	return ret;
}
CONFORM_TEST(test_nr_zero, "setup.nr_zero", 0)

static int test_nr_negative(struct tctx *t)
{
	aio_context_t ctx = 0;
	int ret = T_PASS;

	/* nr is unsigned: -1 overflows the ring size check. */
	CHECK_ERR(sys_io_setup((unsigned int)-1, &ctx), EINVAL);
	CHECK(ctx == 0, "*ctxp changed on failure");
out:
	return ret;
}
CONFORM_TEST(test_nr_negative, "setup.nr_negative", 0)

static int test_ctx_not_zero(struct tctx *t)
{
	aio_context_t ctx = 1;
	int ret = T_PASS;

	CHECK_ERR(sys_io_setup(1, &ctx), EINVAL);
out:
	return ret;
}
CONFORM_TEST(test_ctx_not_zero, "setup.ctx_not_zero", 0)

static int test_ctxp_null(struct tctx *t)
{
	int ret = T_PASS;

	CHECK_ERR(sys_io_setup(1, NULL), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_ctxp_null, "setup.ctxp_null", 0)

static int test_ctxp_kernel(struct tctx *t)
{
	aio_context_t *kp = (aio_context_t *)(uintptr_t)0xffffffff81000000ull;
	int ret = T_PASS;

	CHECK_ERR(sys_io_setup(1, kp), EFAULT);
out:
	return ret;
}
CONFORM_TEST(test_ctxp_kernel, "setup.ctxp_kernel", 0)

/*
 * A read-only *ctxp reads as 0, so the context is made, then put_user()
 * fails: EFAULT, and the context must be gone again (aio-nr unchanged).
 */
static int test_ctxp_readonly(struct tctx *t)
{
	long before = 0, after = 0, r;
	int ret = T_PASS, tries, err;
	void *p;

	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", errno_name(errno));
	for (tries = 0; tries < AIO_NR_TRIES; tries++) {
		CHECK(!read_proc_long(AIO_NR, &before), "read %s", AIO_NR);
		/*
		 * The context is made before put_user(): with aio-max-nr
		 * full, EAGAIN comes first, and nothing about *ctxp is seen.
		 */
		errno = 0;
		r = sys_io_setup(64, (aio_context_t *)p);
		err = errno;
		if (r == -1 && err == EAGAIN && t_aio_limit(t, 64)) {
			ret = T_SKIP;
			goto out;
		}
		CHECK(r == -1 && err == EFAULT,
		      "io_setup(64, read-only ctxp): expected -1 EFAULT, got %ld %s",
		      r, r == -1 ? errno_name(err) : "");
		CHECK(!read_proc_long(AIO_NR, &after), "read %s", AIO_NR);
		if (after == before)
			break;
	}
	CHECK(after == before,
	      "aio-nr %ld before, %ld after the failed io_setup", before,
	      after);
out:
	return ret;
}
CONFORM_TEST(test_ctxp_readonly, "setup.ctxp_readonly", 0)

static int test_ring_header(struct tctx *t)
{
	long page = sysconf(_SC_PAGESIZE);
	struct aio_ring_hdr *ring = aio_ring_of(t->ctx);
	int ret = T_PASS;
	size_t bytes;

	CHECK(ring->magic == AIO_RING_MAGIC, "magic 0x%x", ring->magic);
	CHECK(ring->header_length == sizeof(*ring), "header_length %u",
	      ring->header_length);
	CHECK(ring->compat_features == AIO_RING_COMPAT_FEATURES,
	      "compat_features %u", ring->compat_features);
	CHECK(ring->incompat_features == AIO_RING_INCOMPAT_FEATURES,
	      "incompat_features %u", ring->incompat_features);
	CHECK(ring->nr >= 100, "nr %u for 100 asked", ring->nr);
	CHECK(ring->head == 0 && ring->tail == 0, "head %u tail %u", ring->head,
	      ring->tail);
	/* The events fill whole pages: one more would not fit. */
	bytes = sizeof(*ring) + (size_t)ring->nr * sizeof(struct io_event);
	CHECK(bytes + sizeof(struct io_event) >
		      ((bytes + (size_t)page - 1) / (size_t)page) *
			      (size_t)page,
	      "ring of %u events leaves a whole event unused", ring->nr);
out:
	return ret;
}
CONFORM_TEST(test_ring_header, "setup.ring_header", 0, .ctx = 100)

/* Past aio-max-nr on its own, without touching the sysctl. */
static int test_past_max_nr(struct tctx *t)
{
	aio_context_t ctx = 0;
	long max, before, after;
	int ret = T_PASS;

	CHECK(!read_proc_long(AIO_MAX_NR, &max), "read %s", AIO_MAX_NR);
	if (max + 1 > 0x10000000L / 64)
		SKIP("aio-max-nr %ld is above the ring size limit", max);
	CHECK(!read_proc_long(AIO_NR, &before), "read %s", AIO_NR);
	CHECK_ERR(sys_io_setup((unsigned int)max + 1, &ctx), EAGAIN);
	CHECK(!read_proc_long(AIO_NR, &after), "read %s", AIO_NR);
	CHECK(ctx == 0, "*ctxp changed on failure");
	CHECK(after <= before, "aio-nr grew from %ld to %ld on EAGAIN", before,
	      after);
out:
	return ret;
}
CONFORM_TEST(test_past_max_nr, "setup.past_aio_max_nr", 0)

/*
 * Seed 004: with aio-max-nr lowered to aio-nr + 64, io_setup(128) fails
 * with EAGAIN and leaves aio-nr where it was; io_setup(64) takes it to the
 * limit; io_destroy brings it back.  Other processes may use AIO at the
 * same time, so a sequence disturbed by them is retried.  aio-max-nr is
 * machine-wide: the test runs only with --system-wide, puts it back as
 * soon as it can, and the runner puts it back after the test whatever
 * happened (t_sysctl_write()).  misbehave "aio-max-nr-hang": the test
 * hangs with aio-max-nr lowered, for the watchdog to kill it.
 */
static int aio_nr_sequence(struct tctx *t, bool *clean)
{
	long base, max = -1, v1, v2, v3;
	aio_context_t ctx = 0;
	int ret = T_PASS, r;

	*clean = false;
	CHECK(!read_proc_long(AIO_MAX_NR, &max), "read %s", AIO_MAX_NR);
	CHECK(!read_proc_long(AIO_NR, &base), "read %s", AIO_NR);
	r = t_sysctl_write(t, AIO_MAX_NR, base + 64);
	CHECK(!r, "write %s: %s", AIO_MAX_NR, errno_name(-r));
	while (t_misbehave("aio-max-nr-hang"))
		pause();
	errno = 0;
	v1 = sys_io_setup(128, &ctx);
	if (v1 != -1 || errno != EAGAIN) {
		int e = errno;

		if (!v1)
			sys_io_destroy(ctx);
		FAIL("io_setup(128) past aio-max-nr: expected -1 EAGAIN, got %ld %s",
		     v1, v1 ? errno_name(e) : "");
	}
	CHECK(!read_proc_long(AIO_NR, &v1), "read %s", AIO_NR);
	ctx = 0;
	v2 = sys_io_setup(64, &ctx) ? -1 : 0;
	if (v2 == 0)
		CHECK(!read_proc_long(AIO_NR, &v2), "read %s", AIO_NR);
	t_sysctl_write(t, AIO_MAX_NR, max);
	if (ctx)
		sys_io_destroy(ctx);
	ctx = 0;
	CHECK(!read_proc_long(AIO_NR, &v3), "read %s", AIO_NR);
	if (v1 == base && v2 == base + 64 && v3 == base) {
		*clean = true;
		goto out;
	}
	t_diag(t,
	       "aio-nr %ld, after EAGAIN %ld, with 64 more %ld, after "
	       "io_destroy %ld",
	       base, v1, v2, v3);
out:
	/* Back at once on every path; the runner checks again after. */
	if (ctx)
		sys_io_destroy(ctx);
	if (max >= 0)
		t_sysctl_write(t, AIO_MAX_NR, max);
	return ret;
}

static int test_aio_nr_accounting(struct tctx *t)
{
	int ret = T_PASS, tries;
	bool clean = false;

	for (tries = 0; tries < 5 && !clean; tries++) {
		ret = aio_nr_sequence(t, &clean);
		if (ret != T_PASS)
			goto out;
	}
	CHECK(clean, "aio-nr accounting off in 5 attempts (see above)");
out:
	return ret;
}
CONFORM_TEST(test_aio_nr_accounting, "setup.aio_nr_accounting", 0,
	     .system_wide = "changes /proc/sys/fs/aio-max-nr machine-wide",
	     .root = "lowering /proc/sys/fs/aio-max-nr needs root")

/* Without root: aio-nr grows by what was asked and returns after destroy. */
static int test_aio_nr_baseline(struct tctx *t)
{
	long base, during, after;
	aio_context_t ctx;
	int ret = T_PASS, tries;

	for (tries = 0; tries < AIO_NR_TRIES; tries++) {
		CHECK(!read_proc_long(AIO_NR, &base), "read %s", AIO_NR);
		if (t_setup(t, 300, &ctx))
			return T_FAIL; /* or a skip, below aio-max-nr */
		CHECK(!read_proc_long(AIO_NR, &during), "read %s", AIO_NR);
		CHECK_RET(sys_io_destroy(ctx), 0);
		CHECK(!read_proc_long(AIO_NR, &after), "read %s", AIO_NR);
		if (during == base + 300 && after == base)
			break;
	}
	CHECK(during == base + 300 && after == base,
	      "aio-nr %ld, %ld with a context of 300, %ld after io_destroy",
	      base, during, after);
out:
	return ret;
}
CONFORM_TEST(test_aio_nr_baseline, "setup.aio_nr_baseline", 0)
