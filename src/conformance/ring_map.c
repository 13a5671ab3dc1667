/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: io_setup when the completion ring cannot be mapped
 * (fstests' aio-free-ring-with-bogus-nr-pages: in 2006 the error path of
 * aio_setup_ring freed a page array it had not filled, and any user could
 * crash the machine).  The test's own process is made unable to map
 * anything more, in its own child only, never machine-wide: by filling its
 * map count up to vm.max_map_count (setup.ring_mmap_fails_map_count), or
 * by lowering its RLIMIT_AS to what it already uses
 * (setup.ring_mmap_fails_rlimit_as).  It proves that a one-page shared
 * mapping now fails with ENOMEM, then io_setup of a ring of many pages
 * (more than the kernel keeps inline) must fail with ENOMEM, leave *ctxp
 * zero and not keep its share of /proc/sys/fs/aio-nr; given the room
 * back, the same io_setup succeeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "peers.h"

/*
 * A prime no other test asks for, so that a leak of it is recognisable,
 * and a ring of 9 pages: more than the 8 the kernel keeps inline, so its
 * page array is allocated, and freed on the error path.
 */
#define RM_NR 521
#define RM_ATTEMPTS 10
#define RM_LEAKS 3
#define RM_EXTRA 16

struct rm_state {
	char *region;
	size_t region_len;
	void *extra[RM_EXTRA];
	int nr_extra;
};

static void rm_release(struct rm_state *s)
{
	int i;

	if (s->region)
		munmap(s->region, s->region_len);
	s->region = NULL;
	for (i = 0; i < s->nr_extra; i++)
		munmap(s->extra[i], (size_t)sysconf(_SC_PAGESIZE));
	s->nr_extra = 0;
}

/*
 * Map single shared pages (they never merge with a neighbour) until the
 * kernel refuses one: true when it refused with ENOMEM.
 */
static bool rm_map_until_refused(struct rm_state *s, int *err)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	while (s->nr_extra < RM_EXTRA) {
		p = mmap(NULL, (size_t)page, PROT_READ,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			*err = errno;
			return errno == ENOMEM;
		}
		s->extra[s->nr_extra++] = p;
	}
	*err = 0;
	return false;
}

/*
 * The failed io_setup, attempt after attempt until one shows aio-nr
 * unmoved around it.  T_PASS, or a failure recorded.
 */
static int rm_check_setup(struct tctx *t)
{
	int ret = T_PASS, i, leaks = 0, clean = 0;
	long before, after, last_delta = 0;
	aio_context_t ctx;

	for (i = 0; i < RM_ATTEMPTS && !clean && leaks < RM_LEAKS; i++) {
		ctx = 0;
		CHECK(!read_proc_long(AIO_NR_PATH, &before), "read %s",
		      AIO_NR_PATH);
		errno = 0;
		if (sys_io_setup(RM_NR, &ctx) == -1 && errno == EAGAIN &&
		    t_aio_limit(t, RM_NR)) {
			ret = T_SKIP;
			goto out;
		}
		CHECK(errno == ENOMEM,
		      "io_setup(%d) with no room to map the ring: expected "
		      "-1 ENOMEM, got %s",
		      RM_NR, errno ? errno_name(errno) : "success");
		CHECK(!read_proc_long(AIO_NR_PATH, &after), "read %s",
		      AIO_NR_PATH);
		CHECK(ctx == 0, "*ctxp set to 0x%llx by the failed io_setup",
		      (unsigned long long)ctx);
		last_delta = after - before;
		if (!last_delta)
			clean = 1;
		else if (last_delta == RM_NR)
			leaks++;
	}
	CHECK(leaks < RM_LEAKS,
	      "aio-nr grew by exactly %d (the failed io_setup's nr) in %d "
	      "attempts: the failed call kept its share",
	      RM_NR, leaks);
	if (!clean)
		t_diag(t,
		       "aio-nr moved around every failed io_setup (by %ld the "
		       "last time): other processes' contexts; not judged",
		       last_delta);
out:
	return ret;
}

/* With the room back, the same io_setup works. */
static int rm_check_after(struct tctx *t)
{
	aio_context_t ctx = 0;
	int ret = T_PASS;

	if (t_setup(t, RM_NR, &ctx))
		return T_FAIL; /* or a skip, below aio-max-nr */
	CHECK(aio_ring_of(ctx)->magic == AIO_RING_MAGIC,
	      "no ring at the context once the room was given back");
	CHECK_RET(sys_io_destroy(ctx), 0);
out:
	return ret;
}

static int test_map_count(struct tctx *t)
{
	long page = sysconf(_SC_PAGESIZE), max = 0, i;
	struct rm_state s = { .region = NULL };
	int ret = T_PASS, err = 0;

	CHECK(!read_proc_long("/proc/sys/vm/max_map_count", &max),
	      "read /proc/sys/vm/max_map_count");
	if (max > (1L << 20))
		SKIP("vm.max_map_count is %ld: filling it would take too long",
		     max);
	/*
	 * One reservation, split into a mapping per page by giving every
	 * other page another protection: one munmap gives it all back.
	 */
	s.region_len = (size_t)(max + 64) * 2 * (size_t)page;
	s.region = mmap(NULL, s.region_len, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s.region == MAP_FAILED) {
		s.region = NULL;
		SKIP("cannot reserve %zu bytes of address space: %s",
		     s.region_len, errno_name(errno));
	}
	for (i = 1; i < (max + 64) * 2; i += 2)
		if (mprotect(s.region + i * page, (size_t)page, PROT_READ)) {
			err = errno;
			break;
		}
	CHECK(err == ENOMEM,
	      "mprotect of page %ld of %ld: %s (expected ENOMEM at "
	      "vm.max_map_count %ld)",
	      i, (max + 64) * 2, err ? errno_name(err) : "never refused", max);
	if (!rm_map_until_refused(&s, &err)) {
		rm_release(&s);
		SKIP("a shared page could still be mapped after %ld mappings "
		     "(%s): vm.max_map_count does not bind here",
		     max, err ? errno_name(err) : "no refusal");
	}
	ret = rm_check_setup(t);
	rm_release(&s);
	if (ret == T_PASS)
		ret = rm_check_after(t);
out:
	rm_release(&s);
	return ret;
}
CONFORM_TEST(test_map_count, "setup.ring_mmap_fails_map_count", 0)

/* The stack this test may use while the limit binds, touched before. */
static void __attribute__((noinline)) rm_touch_stack(void)
{
	volatile char pad[256 << 10];

	memset((char *)pad, 0, sizeof(pad));
}

/* VmSize of this process in bytes, or 0. */
static unsigned long rm_vm_size(void)
{
	char buf[4096], *p;
	unsigned long kb;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	kb = 0;
	while (fgets(buf, sizeof(buf), f)) {
		p = buf;
		if (!strncmp(p, "VmSize:", 7)) {
			kb = strtoul(p + 7, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb * 1024;
}

static int test_rlimit_as(struct tctx *t)
{
	struct rm_state s = { .region = NULL };
	struct rlimit saved, low;
	int ret = T_PASS, err = 0;
	bool lowered = false;
	unsigned long vm;

	CHECK(!getrlimit(RLIMIT_AS, &saved), "getrlimit: %s",
	      errno_name(errno));
	rm_touch_stack();
	vm = rm_vm_size();
	CHECK(vm, "VmSize not in /proc/self/status");
	if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < vm)
		SKIP("RLIMIT_AS's hard limit %llu is below VmSize %lu",
		     (unsigned long long)saved.rlim_max, vm);
	low = saved;
	low.rlim_cur = vm;
	CHECK(!setrlimit(RLIMIT_AS, &low), "setrlimit: %s", errno_name(errno));
	lowered = true;
	if (!rm_map_until_refused(&s, &err)) {
		setrlimit(RLIMIT_AS, &saved);
		lowered = false;
		rm_release(&s);
		SKIP("a shared page could still be mapped under RLIMIT_AS "
		     "%lu (%s)",
		     vm, err ? errno_name(err) : "no refusal");
	}
	ret = rm_check_setup(t);
	CHECK(!setrlimit(RLIMIT_AS, &saved), "restore RLIMIT_AS: %s",
	      errno_name(errno));
	lowered = false;
	rm_release(&s);
	if (ret == T_PASS)
		ret = rm_check_after(t);
out:
	if (lowered)
		setrlimit(RLIMIT_AS, &saved);
	rm_release(&s);
	return ret;
}
CONFORM_TEST(test_rlimit_as, "setup.ring_mmap_fails_rlimit_as", 0)
