/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The log-linear latency histogram (see hist.h).
 *
 * Bucket layout, with S = HIST_SUB = 128:
 *
 *	values [0, 2S)              one bucket per value (exact)
 *	values [2^m, 2^(m+1)), m>7  S buckets of width 2^(m-7) each
 *
 * A value v >= S with most significant bit m goes to bucket
 * (m - 7) * S + (v >> (m - 7)): the shifted value lies in [S, 2S), so the
 * buckets of consecutive powers of two follow each other without a gap.
 * OR-ing S into v before finding m makes values below S land on m = 7 and
 * shift 0, so one formula covers every value with no branch and no loop.
 */
#include <string.h>

#include "hist.h"

/* Largest value kept in its own bucket; anything above clamps to it. */
#define HIST_TOP ((1ull << HIST_MAX_BITS) - 1)

static inline unsigned int bucket_of(uint64_t v)
{
	unsigned int shift;

	v = v > HIST_TOP ? HIST_TOP : v;
	shift = 63 - __builtin_clzll(v | HIST_SUB) - HIST_SUB_BITS;
	return (shift << HIST_SUB_BITS) + (unsigned int)(v >> shift);
}

unsigned int hist_bucket(uint64_t v)
{
	return bucket_of(v);
}

void hist_bucket_range(unsigned int idx, uint64_t *lo, uint64_t *hi)
{
	unsigned int shift;

	if (idx >= HIST_BUCKETS)
		idx = HIST_BUCKETS - 1;
	if (idx < 2 * HIST_SUB) {
		*lo = idx;
		*hi = idx;
		return;
	}
	shift = (idx >> HIST_SUB_BITS) - 1;
	*lo = (uint64_t)(HIST_SUB + (idx & (HIST_SUB - 1))) << shift;
	*hi = *lo + (1ull << shift) - 1;
}

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_add_n(struct hist *h, uint64_t v, uint64_t n)
{
	if (__builtin_expect(n == 0, 0))
		return;
	h->buckets[bucket_of(v)] += n;
	if (v < h->min || h->count == 0)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count += n;
	h->sum += v * n;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

/*
 * Nearest rank: the smallest recorded value such that at least p% of the
 * values are at or below it, reported as the midpoint of its bucket.  The
 * lowest and highest ranks are known exactly (min and max), and every
 * answer lies within [min, max].
 */
uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, lo, hi, mid;
	double r;
	unsigned int i;

	if (h->count == 0)
		return 0;
	if (!(p > 0.0))
		return h->min;
	if (p >= 100.0)
		return h->max;

	/*
	 * rank = ceil(p * count / 100), ignoring the rounding noise of p
	 * itself (0.07 * 200 is 14.000000000000002 in binary).
	 */
	r = p * (double)h->count / 100.0;
	rank = (uint64_t)r;
	if (r - (double)rank > 1e-9 * r)
		rank++;
	if (rank <= 1)
		return h->min;
	if (rank >= h->count)
		return h->max;

	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return h->max; /* buckets and count disagree */

	hist_bucket_range(i, &lo, &hi);
	mid = lo + (hi - lo) / 2;
	if (mid < h->min)
		return h->min;
	if (mid > h->max)
		return h->max;
	return mid;
}

double hist_mean(const struct hist *h)
{
	if (h->count == 0)
		return 0.0;
	return (double)h->sum / (double)h->count;
}
