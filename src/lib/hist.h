/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A log-linear latency histogram in the manner of HdrHistogram: fixed
 * memory, mergeable, values in nanoseconds.
 *
 * Values below 2^HIST_SUB_BITS are exact.  Above, each power of two is split
 * into 2^HIST_SUB_BITS linear buckets, so a bucket's width is at most
 * 1/2^HIST_SUB_BITS of its lower bound: with 7 sub-bits the relative error of
 * a reported percentile (the bucket's midpoint) is under 0.4%.
 */
#ifndef AIO_SUITE_HIST_H
#define AIO_SUITE_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
/* Values up to 2^HIST_MAX_BITS ns (about 78 hours) are kept; larger clamp. */
#define HIST_MAX_BITS 48
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum; /* sum of recorded values, for the mean */
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
/* Record value v, n times. */
void hist_add_n(struct hist *h, uint64_t v, uint64_t n);
static inline void hist_add(struct hist *h, uint64_t v)
{
	hist_add_n(h, v, 1);
}
/* dst += src */
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at percentile p (0 < p <= 100); 0 for an empty histogram. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

/* Bucket index of a value and the [lo, hi] range a bucket holds. */
unsigned int hist_bucket(uint64_t v);
void hist_bucket_range(unsigned int idx, uint64_t *lo, uint64_t *hi);

#endif
