/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: helpers of the tests that reproduce the peers' cases
 * (poll_race.c, lastref.c, ring_map.c, libaio_cases.c, lifetime.c): what a
 * test's own contexts did to the machine-wide /proc/sys/fs/aio-nr, told
 * apart from what other processes did meanwhile.
 */
#ifndef AIO_CONFORM_PEERS_H
#define AIO_CONFORM_PEERS_H

#include <stdbool.h>

#include "harness.h"

#define AIO_NR_PATH "/proc/sys/fs/aio-nr"

/*
 * aio-nr counts every process's contexts, so another process's io_setup or
 * io_destroy moves it while a test reads it.  A test that wants to know
 * whether its own contexts were given back makes them with an nr no other
 * test uses (a prime), so that a leak of its own is an exact, recognisable
 * amount, and reads aio-nr in short windows:
 *
 *  - CLEAN: aio-nr read the expected value at least once (a leak can only
 *    raise it by the leaked amount, which no reading then shows);
 *  - LEAKED: it never did, and at least half of the readings were
 *    exactly expected + leak: where aio-nr rests between other processes'
 *    short-lived contexts (a leak is permanent; another process's
 *    contexts of exactly that odd size, held that long, are not to be
 *    expected);
 *  - UNSURE: other processes moved it every time: no verdict (the test
 *    says so).
 */
enum aio_nr_verdict {
	AIO_NR_CLEAN,
	AIO_NR_LEAKED,
	AIO_NR_UNSURE,
};

/*
 * After this test's contexts are gone: sample aio-nr for up to ms (every
 * millisecond; it stops at the first reading of base) and judge it against base
 * and the amount a leak would add.  *last is the last reading.
 */
enum aio_nr_verdict aio_nr_settle(long base, long leak, unsigned int ms,
				  long *last);

/*
 * How big a race loop is: default_n by default, full_n (the peers' own
 * counts) with aio-conform --long, either times --scale N; never 0.  The
 * harness defines it where it has those options; this file's weak
 * definition (peers.c) answers default_n where it does not.
 */
unsigned int t_scaled(unsigned int default_n, unsigned int full_n);

/*
 * When a test that waits for the kernel should give up and say why: the
 * watchdog's limit for this test, less a margin (now_ns() time), counted
 * from now: call it when the test starts.  A wait bounded so is bounded by
 * the watchdog, not by a guess of how long the kernel may take.
 */
uint64_t t_watchdog_end(struct tctx *t);

/* The ring's tail, as the kernel last published it. */
static inline unsigned int ring_tail(aio_context_t ctx)
{
	return __atomic_load_n(&aio_ring_of(ctx)->tail, __ATOMIC_ACQUIRE);
}

/* Events in the ring, completed and not yet reaped. */
static inline unsigned int ring_pending(aio_context_t ctx)
{
	struct aio_ring_hdr *r = aio_ring_of(ctx);
	unsigned int head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	unsigned int tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return (tail + r->nr - head) % r->nr;
}

#endif
