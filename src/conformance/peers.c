/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: helpers of the peers' cases (peers.h): judging aio-nr in
 * spite of other processes, and the default loop sizes.
 */
#include <time.h>

#include "clock.h"
#include "peers.h"

uint64_t t_watchdog_end(struct tctx *t)
{
	unsigned int limit = t->test->timeout_s ? t->test->timeout_s :
						  conform_opts.timeout_s;

	return now_ns() + (uint64_t)(limit > 6 ? limit - 4 : 2) * 1000000000ull;
}

enum aio_nr_verdict aio_nr_settle(long base, long leak, unsigned int ms,
				  long *last)
{
	struct timespec ts = { 0, 1000000 };
	unsigned int i, n = ms ? ms : 1, leaked = 0;
	long v = -1;

	for (i = 0; i < n; i++) {
		if (read_proc_long(AIO_NR_PATH, &v))
			return AIO_NR_UNSURE;
		*last = v;
		if (v == base)
			return AIO_NR_CLEAN;
		if (v == base + leak)
			leaked++;
		nanosleep(&ts, NULL);
	}
	/* Others' contexts come and go; a leak is where aio-nr rests. */
	return leak && leaked >= n / 2 ? AIO_NR_LEAKED : AIO_NR_UNSURE;
}

/* Until the harness has --long and --scale: the default counts. */
__attribute__((weak)) unsigned int t_scaled(unsigned int default_n,
					    unsigned int full_n)
{
	(void)full_n;
	return default_n ? default_n : 1;
}
